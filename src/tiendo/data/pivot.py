"""The aggregated indicator table of a unit and period: what `tiendo pivot` prints and
what the programme page shows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from tiendo.core.formatting import format_date, format_number, format_percent
from tiendo.data.aggregation import Aggregator, Cell
from tiendo.data.qualifiers import qualified, word
from tiendo.programmes.models import (
    Aggregation,
    CategoryDisplay,
    CategoryOption,
    Indicator,
    Programme,
)
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.models import Unit
from tiendo.units.services import current_successors


@dataclass
class PivotRow:
    indicator: Indicator
    cell: Cell

    @property
    def value_text(self) -> str:
        return format_cell(self.cell)

    @property
    def target_text(self) -> str:
        return self.indicator.display_text(self.cell.target)

    @property
    def achieved_text(self) -> str:
        return format_percent(self.cell.achieved, 2)

    @property
    def target_label(self) -> str:
        """Which target "% đạt" used: ``kế hoạch 400 (năm 2020)``."""
        return target_label(self.cell)

    def as_dict(self) -> dict:
        cell = self.cell
        return {
            "programme": self.indicator.programme.code,
            "code": self.indicator.code,
            "indicator": self.indicator.name,
            "category": "",
            "category_name": "",
            "measure_unit": self.indicator.measure_unit,
            "value": _plain(_rounded(cell.value, self.indicator.decimals)),
            "display_unit": self.indicator.shown_unit,
            "low": _plain(cell.low),
            "high": _plain(cell.high),
            "value_text": self.value_text,
            "qualifier": word(cell.qualifier),
            "error": cell.error,
            "target": _plain(cell.target),
            "target_period": cell.target_period,
            "achieved_percent": _plain(_rounded(cell.achieved, 2)),
            "as_of": cell.as_of or "",
            "categories": {k: _plain(v) for k, v in sorted(cell.categories.items()) if k},
            "category_targets": {k: _plain(v) for k, v in sorted(cell.category_targets.items())},
        }

    @property
    def categories_as_columns(self) -> bool:
        return self.indicator.show_categories == CategoryDisplay.COLUMNS

    def category_columns(self) -> list[tuple[str, CategoryOption, Decimal]]:
        """An indicator shown with a column per category: ``(column, option, value)`` for
        each category with a figure; the column is ``DISAGGREGATION:OPTION``."""
        indicator, cell = self.indicator, self.cell
        if not (self.categories_as_columns and indicator.disaggregation_id and cell.categories):
            return []
        code = indicator.disaggregation.code
        return [
            (f"{code}:{option.code}", option, cell.categories[option.code])
            for option in indicator.disaggregation.options.all()
            if option.code in cell.categories
        ]

    def category_values(self) -> dict:
        """:meth:`category_columns` as plain numbers by column (the CSV's cells)."""
        decimals = self.indicator.decimals
        values = {c: _plain(_rounded(v, decimals)) for c, _o, v in self.category_columns()}
        return values | self.category_target_columns()

    def category_lines(self) -> list[dict]:
        """One line a category of a disaggregated indicator shown with sub-rows (the
        default), in the options' order, for the categories that have a figure (the
        table's sub-rows, the CSV's lines)."""
        indicator, cell = self.indicator, self.cell
        if not indicator.disaggregation_id or not cell.categories or self.categories_as_columns:
            return []
        lines = []
        for option in indicator.disaggregation.options.all():
            value = cell.categories.get(option.code)
            if value is None:
                continue
            lines.append(
                {
                    "programme": indicator.programme.code,
                    "code": indicator.code,
                    "indicator": indicator.name,
                    "category": option.code,
                    "category_name": option.name,
                    "measure_unit": indicator.measure_unit,
                    "value": _plain(_rounded(value, indicator.decimals)),
                    "display_unit": indicator.shown_unit,
                    "value_text": format_category(cell, option.code),
                    "qualifier": word(cell.category_qualifiers.get(option.code, "")),
                    **self._category_target(option.code),
                    "as_of": cell.as_of or "",
                }
            )
        return lines

    def _category_target(self, code: str) -> dict:
        """A category line's target (its own part of the plan) and "% đạt" against it."""
        target = self.cell.category_targets.get(code)
        return {
            "target": _plain(target),
            "target_period": self.cell.target_period if target is not None else "",
            "achieved_percent": _plain(_rounded(self.cell.category_achieved(code), 2)),
        }

    def category_target_columns(self) -> dict:
        """The CSV's target cells of an indicator shown with a column per category:
        ``DISAGGREGATION:OPTION:target``, in the stored unit."""
        targets = self.cell.category_targets
        return {
            f"{column}:target": _plain(targets[option.code])
            for column, option, _v in self.category_columns()
            if option.code in targets
        }


# The CSV is for machines: ``value``, ``target`` and the category columns are in the stored
# unit, which ``measure_unit`` names; ``value_text`` is as people read it, in the unit
# ``display_unit`` names (a multiple of the stored one, tỷ đồng for triệu đồng, or the same).
CSV_COLUMNS = [
    "programme",
    "code",
    "indicator",
    "category",
    "category_name",
    "measure_unit",
    "value",
    "display_unit",
    "value_text",
    "qualifier",
    "target",
    "target_period",
    "achieved_percent",
    "as_of",
]


def category_column_names(rows: list[PivotRow]) -> list[str]:
    """The CSV's extra columns: one a category of the indicators shown with columns."""
    names: list[str] = []
    for row in rows:
        targets = row.cell.category_targets
        for column, option, _value in row.category_columns():
            for name in (column, f"{column}:target") if option.code in targets else (column,):
                if name not in names:
                    names.append(name)
    return names


def csv_line(line: dict, extra: list[str] = (), values: dict | None = None) -> list:
    """A row of :meth:`PivotRow.as_dict` or :meth:`PivotRow.category_lines` as CSV cells,
    then the ``extra`` category columns from ``values``; empty cells for missing values."""
    cells = [line[column] for column in CSV_COLUMNS]
    cells += [(values or {}).get(column) for column in extra]
    return ["" if cell is None else cell for cell in cells]


def target_label(cell: Cell) -> str:
    """The target "% đạt" is measured against, with its period: ``kế hoạch 400 (năm
    2020)``; empty without a target."""
    if cell.target is None:
        return ""
    value = cell.indicator.display_text(cell.target)
    if not cell.target_period:
        return _("kế hoạch %(value)s") % {"value": value}
    try:
        period = Period.parse(cell.target_period).label
    except PeriodError:
        period = cell.target_period
    return _("kế hoạch %(value)s (%(period)s)") % {"value": value, "period": period}


def format_cell(cell: Cell) -> str:
    """The figure as officials write it, or why a formula could not be evaluated."""
    if cell.error:
        return cell.error
    indicator = cell.indicator
    if indicator.aggregation == Aggregation.RANGE:
        if cell.low is None:
            return ""
        low = indicator.display_text(cell.low)
        high = indicator.display_text(cell.high)
        return low if low == high else f"{low} - {high}"
    return qualified(indicator.display_text(cell.value), cell.qualifier)


def format_category(cell: Cell, code: str) -> str:
    """One category's figure of a cell, in the display unit, its qualifier before it
    (``khoảng 334``)."""
    value = cell.categories.get(code)
    text = cell.indicator.display_text(value) if value is not None else ""
    return qualified(text, cell.category_qualifiers.get(code, ""))


def _rounded(value, decimals):
    if value is None:
        return None
    from decimal import ROUND_HALF_UP

    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _plain(value):
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral() else float(value.normalize())


def pivot(
    unit: Unit,
    period: Period | str,
    *,
    programme: Programme | None = None,
    today: bool = False,
    on=None,
    with_empty: bool = False,
) -> tuple[list[PivotRow], Aggregator]:
    """The rows of ``unit`` for ``period``: history-true, or in the tree of the day ``on``
    (today's with ``today``), the older units' values mapped through their changes."""
    indicators = Indicator.objects.select_related(
        "programme", "disaggregation", "component"
    ).prefetch_related("disaggregation__options")
    if programme is not None:
        indicators = indicators.filter(programme=programme)
    indicators = list(indicators.order_by("programme__code", "order", "code"))
    aggregator = Aggregator(indicators, period, today=today, on=on)
    cells = aggregator.for_unit(unit)
    rows = [PivotRow(i, cells[i.code]) for i in indicators]
    if not with_empty:
        rows = [r for r in rows if r.cell.has_data or r.cell.error]
    return rows, aggregator


def unit_in_view(unit: Unit, day) -> tuple[Unit, list[str]]:
    """The unit a pivot shows for ``unit`` in the tree of ``day`` (``None``: history-true,
    the unit itself): the one unit it had become by then, and a note saying so. A unit
    that became several is refused with a ``ValueError`` naming them."""
    notes: list[str] = []
    if day is not None and not unit.is_valid_on(day):
        successors = current_successors(unit, day)
        if len(successors) != 1:
            names = ", ".join(s.name for s in successors) or "không có"
            raise ValueError(
                f"{unit.name} nay thuộc nhiều đơn vị ({names}); hãy chọn một đơn vị hiện nay."
            )
        notes.append(f"{unit.name} nay thuộc {successors[0].name}.")
        unit = successors[0]
    return unit, notes


def pivot_document(
    unit: Unit, period: Period, *, programme: Programme | None = None, day=None, notes=()
) -> dict:
    """What `tiendo pivot --format json` prints and ``GET /api/v1/pivot`` answers: the rows
    of ``unit`` (already :func:`unit_in_view`) for ``period``, with the notes on the tree
    shown and on the older units' values left out."""
    rows, aggregator = pivot(unit, period, programme=programme, on=day)
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "period": {"id": period.id, "label": period.label},
        "today": day is not None,
        "notes": pivot_notes(unit, aggregator, day, notes),
        "rows": [r.as_dict() for r in rows],
    }


def pivot_notes(unit: Unit, aggregator: Aggregator, day, notes=()) -> list[str]:
    """The notes of a pivot: the tree it is shown in, then ``notes``, then the older units
    whose values could not be counted."""
    lines = list(notes)
    if day is not None:
        lines.insert(0, f"Theo cây đơn vị ngày {format_date(day)}.")
    for old, reason, count in aggregator.left_out([unit]):
        lines.append(
            f"Không tính {old.name} ({old.code}), {format_number(count)} số liệu: {reason}."
        )
    return lines
