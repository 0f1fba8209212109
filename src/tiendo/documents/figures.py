"""Figures as a template sees them: ``{{ f.NQ05_DISBURSED }}`` → ``66.992``.

A :class:`FigureSet` aggregates the indicators of the report's programmes for one unit and
one period (through :class:`~tiendo.data.aggregation.Aggregator`, on first use) and records
every figure the template reads, so the generated document can say where each number came
from. Computed phrases — % of plan, % of the phase target, the change on the previous
period, the ratio to another figure — are methods of :class:`Figure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_number, format_percent
from tiendo.core.numbers import percent_of
from tiendo.data.aggregation import Aggregator, Cell
from tiendo.data.pivot import format_category, format_cell
from tiendo.programmes.models import Indicator, Target
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.models import Unit


class TemplateDataError(TiendoError, ValueError):
    """A template asks for something the data cannot give; the message is Vietnamese."""

    code = "template.data"


@dataclass
class Recorder:
    """Every figure a rendering read, in reading order, once each."""

    figures: dict[str, dict] = field(default_factory=dict)

    def record(self, figure: Figure) -> None:
        key = figure.key
        if key not in self.figures:
            self.figures[key] = figure.as_record()


class FigureSet:
    """The figures of one unit and one period; attribute access by indicator code."""

    def __init__(
        self,
        indicators: list[Indicator],
        unit: Unit,
        period: Period,
        *,
        recorder: Recorder | None = None,
        phase: Period | None = None,
        today: bool = False,
        sets=None,
    ):
        """``sets``: a callable giving the set of another period; the report shares one so
        ``fy[2021]`` and ``fy[2022].previous`` are aggregated once."""
        self._indicators = indicators
        self._sets = sets
        self._unit = unit
        self._period = period
        self._phase = phase
        self._today = today
        self._recorder = recorder
        self._cells: dict[str, Cell] | None = None
        self._previous: FigureSet | None = None

    # Template access ---------------------------------------------------------------------
    def __getattr__(self, code: str) -> Figure:
        if code.startswith("_"):
            raise AttributeError(code)
        return self[code]

    def __getitem__(self, code: str) -> Figure:
        cells = self._load()
        if code not in cells:
            raise TemplateDataError(
                _(
                    "Mẫu báo cáo dùng chỉ tiêu “%(indicator)s” nhưng chỉ tiêu này không thuộc các "
                    "chương trình của báo cáo (kỳ %(period)s, %(unit)s)."
                ),
                code="template.unknown_indicator",
                indicator=code,
                period=self._period.label,
                unit=self._unit.name,
            )
        figure = Figure(self, cells[code])
        if self._recorder is not None:
            self._recorder.record(figure)
        return figure

    def has(self, code: str) -> bool:
        cell = self._load().get(code)
        return cell is not None and cell.has_data

    @property
    def unit(self) -> Unit:
        return self._unit

    @property
    def period(self) -> Period:
        return self._period

    @property
    def previous(self) -> FigureSet:
        if self._previous is None and self._sets is not None:
            self._previous = self._sets(self._period.previous())
        elif self._previous is None:
            self._previous = FigureSet(
                self._indicators,
                self._unit,
                self._period.previous(),
                recorder=self._recorder,
                phase=self._phase,
                today=self._today,
            )
        return self._previous

    def all(self) -> list[Figure]:
        """Every indicator with data, in programme order (for generic loops)."""
        cells = self._load()
        out = []
        for indicator in self._indicators:
            cell = cells.get(indicator.code)
            if cell is not None and cell.has_data:
                out.append(self[indicator.code])
        return out

    # Internals ---------------------------------------------------------------------------
    def _load(self) -> dict[str, Cell]:
        if self._cells is None:
            aggregator = Aggregator(self._indicators, self._period, today=self._today)
            self._cells = aggregator.for_unit(self._unit)
        return self._cells

    def phase_target(self, indicator: Indicator) -> Decimal | None:
        """The target of the programme phase for this unit (own, else the sum below)."""
        phase = self._phase
        if phase is None:
            phase = indicator.programme.period
            if not isinstance(phase, Period):  # a stored text that names no period
                return None
        own = Target.objects.filter(indicator=indicator, unit=self._unit, period=phase.id).first()
        if own is not None:
            return own.value
        return Target.objects.filter(
            indicator=indicator,
            unit__ancestor_links__ancestor=self._unit,
            unit__ancestor_links__depth__gt=0,
            period=phase.id,
        ).aggregate(v=Sum("value"))["v"]


class Figure:
    """One aggregated figure; ``str()`` is its Vietnamese text (``66.992``, ``10 - 15``)."""

    def __init__(self, owner: FigureSet, cell: Cell):
        self._owner = owner
        self.cell = cell
        self.indicator = cell.indicator

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:  # noqa: PLW3201 - Jinja's markup protocol
        return self.text

    def __bool__(self) -> bool:
        return self.cell.has_data

    @property
    def key(self) -> str:
        return f"{self.indicator.code}@{self._owner.unit.code}@{self._owner.period.id}"

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def name(self) -> str:
        return self.indicator.name

    @property
    def value(self) -> Decimal | None:
        return self.cell.value

    @property
    def text(self) -> str:
        return format_cell(self.cell)

    @property
    def measure_unit(self) -> str:
        """The unit :attr:`text` is in: the indicator's display unit (tỷ đồng for a figure
        kept in triệu đồng), else its measure unit."""
        return self.indicator.shown_unit

    @property
    def with_unit(self) -> str:
        """``66.992 triệu đồng``; a percentage reads ``98,45%``."""
        if not self.text:
            return ""
        if self.measure_unit == "%":
            return f"{self.text}%"
        return f"{self.text} {self.measure_unit}"

    @property
    def period_label(self) -> str:
        return self._owner.period.label

    # Computed phrases ---------------------------------------------------------------------
    @property
    def target(self) -> str:
        return self.indicator.display_text(self.cell.target)

    def achieved(self, decimals: int = 1) -> str:
        """Percentage of the plan (target) of the same unit and period: ``48,8%``."""
        return format_percent(self.cell.achieved, decimals)

    def of_phase_target(self, decimals: int = 1) -> str:
        """Percentage of the target of the programme phase (``2021-2025``)."""
        target = self._owner.phase_target(self.indicator)
        return format_percent(percent_of(self.value, target), decimals)

    def percent_of(self, other: Figure, decimals: int = 1) -> str:
        return format_percent(percent_of(self.value, other.value), decimals)

    def change(self, decimals: int = 1) -> str:
        """``tăng 20,7% so với năm 2021`` (against the previous period of the same kind)."""
        previous = self._owner.previous[self.code]
        label = self._owner.previous.period.label
        if self.value is None or previous.value in (None, 0):
            return ""
        delta = percent_of(self.value - previous.value, previous.value)
        if round(abs(delta), decimals) == 0:
            return gettext("bằng %(period)s") % {"period": label}
        if delta > 0:
            text = gettext("tăng %(percent)s so với %(period)s")
        else:
            text = gettext("giảm %(percent)s so với %(period)s")
        return text % {"percent": format_percent(abs(delta), decimals), "period": label}

    def ratio_to(self, other: Figure, decimals: int = 1) -> str:
        """``gấp 2,2 lần`` (``bằng 0,8 lần`` when smaller)."""
        if self.value is None or other.value in (None, 0):
            return ""
        ratio = self.value / other.value
        word = "gấp" if ratio >= 1 else "bằng"
        return f"{word} {format_number(ratio, decimals)} lần"

    def category(self, code: str) -> str:
        return format_category(self.cell, code)

    def category_target(self, code: str) -> str:
        """The category's own target (the capital plan of a funding source), if set so."""
        return self.indicator.display_text(self.cell.category_targets.get(code))

    def category_achieved(self, code: str, decimals: int = 1) -> str:
        """Percentage of the category's own target: ``62,5%``."""
        return format_percent(self.cell.category_achieved(code), decimals)

    def breakdown(self) -> str:
        """``đào tạo, tập huấn 200 triệu đồng, xúc tiến thương mại 200 triệu đồng``."""
        disaggregation = self.indicator.disaggregation
        if disaggregation is None:
            return ""
        parts = []
        for option in disaggregation.options.order_by("order", "code"):
            value = self.cell.categories.get(option.code)
            if value is None:
                continue
            name = option.name[:1].lower() + option.name[1:]
            text = format_category(self.cell, option.code)
            parts.append(f"{name} {text} {self.measure_unit}")
        return ", ".join(parts)

    @property
    def as_of(self) -> str:
        """The date the figure stands at (``31/10/2020``) for a stock or a to-date value."""
        day = self._as_of_day()
        return format_date(day) if day else ""

    def _as_of_day(self):
        if self.cell.as_of:
            try:
                return Period.parse(self.cell.as_of).end
            except PeriodError:
                return None
        return None

    def as_record(self) -> dict:
        cell = self.cell
        return {
            "key": self.key,
            "indicator": self.indicator.code,
            "indicator_name": self.indicator.name,
            "measure_unit": self.indicator.measure_unit,  # of value, low, high, target
            "display_unit": self.measure_unit,  # of text
            "unit": self._owner.unit.code,
            "unit_name": self._owner.unit.name,
            "unit_id": self._owner.unit.pk,
            "period": self._owner.period.id,
            "period_label": self._owner.period.label,
            "value": _plain(cell.value),
            "low": _plain(cell.low),
            "high": _plain(cell.high),
            "text": self.text,
            "qualifier": cell.qualifier,
            "target": _plain(cell.target),
            "as_of": cell.as_of or "",
            "formula": self.indicator.formula,
        }


def _plain(value) -> str | None:
    return (
        None if value is None else str(value.normalize() if isinstance(value, Decimal) else value)
    )


class YearFigures:
    """``fy[2021].NQ05_DISBURSED``: the report's figures for another period."""

    def __init__(self, factory):
        self._factory = factory
        self._sets: dict[str, FigureSet] = {}

    def __getitem__(self, period) -> FigureSet:
        key = str(period)
        if key not in self._sets:
            try:
                parsed = Period.parse(key)
            except PeriodError as exc:
                raise TemplateDataError(
                    _("Mẫu báo cáo dùng kỳ không hợp lệ: %(error)s"),
                    code="template.bad_period",
                    error=exc,
                ) from exc
            self._sets[key] = self._factory(parsed)
        return self._sets[key]
