"""Annex tables: one row per unit below the report's unit, with plan, actual and % achieved.

A definition lists its annexes in ``options["annexes"]``::

    {"title": "Kết quả giải ngân Nghị quyết 05 theo xã", "level": "commune",
     "columns": [{"indicator": "NQ05_DISBURSED", "plan": "target"},
                 {"indicator": "NQ04_DISBURSED", "plan": "NQ04_CAPITAL_PLAN"}]}

``plan`` is ``"target"`` (the unit's target for the period), another indicator's code (a
capital plan entered as data), or absent (actual only). Figures are aggregated for every
unit at once (one :class:`Aggregator` pass), the total row is the report unit's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.core import exporters as ex
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number, format_percent
from tiendo.core.numbers import percent_of
from tiendo.data.aggregation import Aggregator
from tiendo.data.qualifiers import qualified
from tiendo.documents.definitions import (
    ANNEX_ROWS,
    ROWS_CHILDREN,
    ROWS_COMMUNES,
    ROWS_DISTRICTS,
    ROWS_UNITS,
    definition_annexes,
    normalise_annex,
)
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period
from tiendo.units.models import Level, Unit

LEVELS = {"district": Level.DISTRICT, "commune": Level.COMMUNE, "province": Level.PROVINCE}


class AnnexError(TiendoError, ValueError):
    """An annex of a definition that cannot be built; the message is Vietnamese."""

    code = "annex.invalid"


@dataclass
class AnnexColumn:
    indicator: Indicator
    plan: str = ""  # "", "target" or an indicator code
    category: str = ""  # one category of a disaggregated indicator ("columns" layout)
    category_name: str = ""

    @property
    def has_plan(self) -> bool:
        return bool(self.plan)

    @property
    def sub_headings(self) -> list[str]:
        """The headings under the column's own: plan, actual, % achieved (none without a plan)."""
        return ["Kế hoạch", "Thực hiện", "% đạt"] if self.has_plan else []

    @property
    def span(self) -> int:
        """Columns the indicator takes in the table."""
        return len(self.sub_headings) or 1

    @property
    def heading(self) -> str:
        name = self.indicator.name
        if self.category:
            name = f"{name} — {self.category_name}"
        return f"{name} ({self.indicator.shown_unit})"


@dataclass
class AnnexCell:
    """Plan and actual as stored (in the indicator's measure unit); shown (``*_shown``,
    ``*_text``) in its display unit, exactly."""

    plan: Decimal | None
    actual: Decimal | None
    decimals: int
    indicator: Indicator | None = None
    qualifier: str = ""  # of the actual figure: "khoảng 334" (tiendo.data.qualifiers)

    @property
    def percent(self) -> Decimal | None:
        return percent_of(self.actual, self.plan)

    @property
    def shown_decimals(self) -> int:
        return self.decimals + (self.indicator.display_places if self.indicator else 0)

    def _shown(self, value):
        return self.indicator.to_display(value) if self.indicator else value

    @property
    def plan_shown(self):
        return self._shown(self.plan)

    @property
    def actual_shown(self):
        return self._shown(self.actual)

    @property
    def plan_text(self) -> str:
        return format_number(self.plan_shown, self.shown_decimals)

    @property
    def actual_text(self) -> str:
        return qualified(format_number(self.actual_shown, self.shown_decimals), self.qualifier)

    @property
    def percent_text(self) -> str:
        return format_percent(self.percent, 1)


@dataclass
class AnnexRow:
    unit: Unit
    parent_name: str
    cells: list[AnnexCell]
    label: str = ""  # a category's sub-row under its unit ("rows" layout)

    @property
    def has_data(self) -> bool:
        return any(c.actual is not None or c.plan is not None for c in self.cells)


@dataclass
class AnnexTable:
    title: str
    level: str
    columns: list[AnnexColumn]
    rows: list[AnnexRow] = field(default_factory=list)
    total: AnnexRow | None = None

    @property
    def show_parent(self) -> bool:
        return self.level == "commune"

    @property
    def lead_headings(self) -> list[str]:
        """The headings of the columns before the figures."""
        return ["STT", "Đơn vị"] + (["Trực thuộc"] if self.show_parent else [])

    def sheet(self, number: int, title: list[ex.Row]) -> ex.Table:
        """The annex as the sheet "Phụ lục <number>" of a workbook."""
        lead = self.lead_headings
        widths = [6, 28] + ([22] if self.show_parent else [])
        widths += [14] * sum(c.span for c in self.columns)
        rows, index = [], 0
        for row in self.rows:
            index += 0 if row.label else 1
            rows.append(self._sheet_row(None if row.label else index, row))
        return ex.Table(
            f"Phụ lục {number}",
            widths,
            title=title,
            header=self._sheet_header(),
            body=[*rows, self._sheet_row(None, self.total)],
            frozen_columns=len(lead),
            wide=True,  # as the annexes of the Word document
        )

    def _sheet_header(self) -> list[ex.Row]:
        """A second row only when a column has sub-headings (plan, actual, %); a column
        without them then takes both rows."""
        down = 2 if any(c.has_plan for c in self.columns) else 1
        top = [ex.text(h, bold=True, down=down) for h in self.lead_headings]
        sub = []
        for column in self.columns:
            if column.has_plan:
                top.append(ex.text(column.heading, bold=True, span=column.span))
                sub += [ex.text(h, bold=True) for h in column.sub_headings]
            else:
                top.append(ex.text(column.heading, bold=True, down=down))
        return [ex.Row(top), ex.Row(sub)] if sub else [ex.Row(top)]

    def _sheet_row(self, index: int | None, row: AnnexRow) -> ex.Row:
        """A unit's row, or with no ``index`` the total row."""
        bold = index is None and not row.label
        name = f"- {row.label}" if row.label else "Tổng cộng" if bold else row.unit.name
        cells = [
            ex.blank() if index is None else ex.number(index, align="center"),
            ex.text(name, bold=bold, italic=bool(row.label)),
        ]
        if self.show_parent:
            cells.append(ex.text(row.parent_name, bold=bold))
        for cell, column in zip(row.cells, self.columns, strict=True):
            if column.has_plan:
                cells.append(ex.number(cell.plan_shown, cell.shown_decimals, bold=bold))
            if cell.qualifier and cell.actual is not None:  # a word and a number: text
                cells.append(ex.text(cell.actual_text, bold=bold, align="right"))
            else:
                cells.append(ex.number(cell.actual_shown, cell.shown_decimals, bold=bold))
            if column.has_plan:
                cells.append(ex.percent(cell.percent, bold=bold))
        return ex.Row(cells)


def units_below(unit: Unit, level: int, period: Period) -> list[Unit]:
    """Administrative units at ``level`` under ``unit`` that existed during the period."""
    return list(
        Unit.objects.subtree(unit, include_self=False)
        .administrative()
        .filter(level=level)
        .filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=period.end),
            Q(valid_to__isnull=True) | Q(valid_to__gte=period.start),
        )
        .select_related("parent")
        .order_by("path")
    )


def official_order(unit: Unit) -> tuple:
    """Where ``unit`` goes among its siblings in an official list (and the unit tree's
    page): administrative units first, by official code, then agencies."""
    return (unit.is_agency, unit.code, unit.name)


def row_order(top: Unit):
    """The order of an annex's rows below ``top``: the communes of a district together,
    under their districts in :func:`official_order`, each group in that order too;
    agencies after every administrative unit."""

    def key(unit: Unit):
        parent = unit.parent if unit.parent_id and unit.parent_id != top.pk else None
        group = official_order(parent) if parent is not None else ()
        return (unit.is_agency, group, official_order(unit))

    return key


def annex_units(definition, spec: dict, period: Period) -> list[Unit]:
    """The rows of an annex in the tree's order (:func:`row_order`): the units directly
    below, the districts or communes below, or a chosen list (in the order chosen)."""
    units = _annex_units(definition, spec, period)
    if spec["rows"] == ROWS_UNITS:
        return units
    return sorted(units, key=row_order(definition.unit))


def _annex_units(definition, spec: dict, period: Period) -> list[Unit]:
    rows = spec["rows"]
    if rows == ROWS_UNITS:
        chosen = spec.get("units") or []
        found = {
            u.code: u
            for u in Unit.objects.subtree(definition.unit)
            .filter(code__in=chosen)
            .select_related("parent")
        }
        return [found[c] for c in chosen if c in found]
    if rows == ROWS_CHILDREN:
        return list(
            Unit.objects.filter(parent=definition.unit)
            .filter(
                Q(valid_from__isnull=True) | Q(valid_from__lte=period.end),
                Q(valid_to__isnull=True) | Q(valid_to__gte=period.start),
            )
            .select_related("parent")
            .order_by("path")
        )
    level = Level.DISTRICT if rows == ROWS_DISTRICTS else Level.COMMUNE
    return units_below(definition.unit, level, period)


def build_annexes(definition, period: Period, indicators: dict[str, Indicator]) -> list[AnnexTable]:
    tables = []
    for number, raw in enumerate(definition_annexes(definition), start=1):
        if raw.get("level") and raw["level"] not in LEVELS:
            raise AnnexError(
                _("Phụ lục %(number)s: cấp “%(level)s” không hợp lệ."),
                code="annex.bad_level",
                number=number,
                level=raw["level"],
            )
        spec = normalise_annex(raw)
        if spec["rows"] not in ANNEX_ROWS:
            raise AnnexError(
                _("Phụ lục %(number)s: cấp “%(level)s” không hợp lệ."),
                code="annex.bad_level",
                number=number,
                level=spec["rows"],
            )
        columns = []
        sub_rows: list[AnnexColumn] = []  # columns whose categories go in sub-rows
        for col in spec["columns"]:
            code = col.get("indicator")
            plan = col.get("plan", "") or ""
            missing = [c for c in (code, plan) if c and c != "target" and c not in indicators]
            if missing or not code:
                raise AnnexError(
                    _(
                        "Phụ lục %(number)s: không có chỉ tiêu %(codes)s trong các chương trình "
                        "của báo cáo."
                    ),
                    code="annex.unknown_indicator",
                    number=number,
                    codes=", ".join(missing) or "?",
                )
            indicator = indicators[code]
            options = _options(indicator) if col.get("categories") else []
            if col.get("categories") == "columns" and options:
                # a plan per category is the category's own target (a plan by funding source)
                by_category = plan if plan == "target" else ""
                columns += [AnnexColumn(indicator, by_category, o.code, o.name) for o in options]
                continue
            column = AnnexColumn(indicator, plan)
            columns.append(column)
            if col.get("categories") == "rows" and options:
                sub_rows.append(column)
        level_name = "commune" if spec["rows"] == ROWS_COMMUNES else spec["rows"]
        table = AnnexTable(spec.get("title") or f"Phụ lục {number}", level_name, columns)
        needed = {c.indicator.code for c in columns} | {
            c.plan for c in columns if c.plan and c.plan != "target"
        }
        aggregator = Aggregator([indicators[c] for c in sorted(needed)], period)
        units = annex_units(definition, spec, period)
        cells_by_unit = aggregator.for_units([*units, definition.unit])
        for unit in units:
            row = _row(unit, unit.parent.name if unit.parent_id else "", columns, cells_by_unit)
            if row.has_data or not spec.get("only_with_data", False):
                table.rows.append(row)
                table.rows += _category_rows(unit, columns, sub_rows, cells_by_unit)
        table.total = _row(definition.unit, "", columns, cells_by_unit)
        tables.append(table)
    return tables


def _options(indicator: Indicator) -> list:
    if not indicator.disaggregation_id:
        return []
    return list(indicator.disaggregation.options.order_by("order", "code"))


def _category_rows(unit, columns, sub_rows, cells_by_unit) -> list[AnnexRow]:
    """One sub-row per category of the columns that show their categories in rows; the
    other columns stay empty on them."""
    rows = []
    seen = set()
    for column in sub_rows:
        for option in _options(column.indicator):
            if option.code in seen:
                continue
            seen.add(option.code)
            cells = []
            for other in columns:
                if other in sub_rows and any(
                    o.code == option.code for o in _options(other.indicator)
                ):
                    cells.append(_category_cell(other, option.code, cells_by_unit[unit.pk]))
                else:
                    cells.append(AnnexCell(None, None, other.indicator.decimals, other.indicator))
            rows.append(AnnexRow(unit, "", cells, label=option.name))
    return rows


def _category_cell(column: AnnexColumn, category: str, cells: dict) -> AnnexCell:
    """One category of a column: its figure, and its own part of the plan — the category's
    target, or the plan indicator's figure for the category."""
    actual = cells[column.indicator.code]
    if column.plan == "target":
        plan = actual.category_targets.get(category)
    elif column.plan:
        plan = cells[column.plan].categories.get(category)
    else:
        plan = None
    value = actual.categories.get(category)
    qualifier = actual.category_qualifiers.get(category, "")
    return AnnexCell(plan, value, column.indicator.decimals, column.indicator, qualifier)


def _row(unit, parent_name, columns, cells_by_unit) -> AnnexRow:
    cells = cells_by_unit[unit.pk]
    out = []
    for column in columns:
        actual = cells[column.indicator.code]
        if column.category:
            out.append(_category_cell(column, column.category, cells))
            continue
        if column.plan == "target":
            plan = actual.target
        elif column.plan:
            plan = cells[column.plan].value
        else:
            plan = None
        out.append(
            AnnexCell(
                plan, actual.value, column.indicator.decimals, column.indicator, actual.qualifier
            )
        )
    return AnnexRow(unit, parent_name, out)


def annex_records(tables: list[AnnexTable], period: Period) -> list[dict]:
    """The annexes as plain data for the document's snapshot."""
    records = []
    for table in tables:
        records.append(
            {
                "title": table.title,
                "level": table.level,
                "period": period.id,
                "columns": [
                    {
                        "indicator": c.indicator.code,
                        "name": c.indicator.name,
                        "plan": c.plan,
                        "category": c.category,
                    }
                    for c in table.columns
                ],
                "rows": [
                    {
                        "unit": row.unit.code,
                        "unit_name": row.unit.name,
                        "category": row.label,
                        "cells": [
                            [_s(cell.plan), _s(cell.actual), _s(cell.percent)] for cell in row.cells
                        ],
                    }
                    for row in [*table.rows, table.total]
                ],
            }
        )
    return records


def _s(value):
    return None if value is None else str(value)
