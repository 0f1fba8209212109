"""The aggregated indicator table of a unit and period: what `tiendo pivot` prints and
what the programme page shows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tiendo.core.formatting import format_number, format_percent
from tiendo.data.aggregation import Aggregator, Cell
from tiendo.programmes.models import Aggregation, Indicator, Programme
from tiendo.programmes.periods import Period
from tiendo.units.models import Unit


@dataclass
class PivotRow:
    indicator: Indicator
    cell: Cell

    @property
    def value_text(self) -> str:
        return format_cell(self.cell)

    @property
    def target_text(self) -> str:
        return format_number(self.cell.target, self.indicator.decimals)

    @property
    def achieved_text(self) -> str:
        return format_percent(self.cell.achieved, 2)

    def as_dict(self) -> dict:
        cell = self.cell
        return {
            "programme": self.indicator.programme.code,
            "code": self.indicator.code,
            "indicator": self.indicator.name,
            "measure_unit": self.indicator.measure_unit,
            "value": _plain(_rounded(cell.value, self.indicator.decimals)),
            "low": _plain(cell.low),
            "high": _plain(cell.high),
            "value_text": self.value_text,
            "target": _plain(cell.target),
            "achieved_percent": _plain(_rounded(cell.achieved, 2)),
            "as_of": cell.as_of or "",
            "categories": {k: _plain(v) for k, v in sorted(cell.categories.items()) if k},
        }


def format_cell(cell: Cell) -> str:
    """The figure as officials write it, or why a formula could not be evaluated."""
    if cell.error:
        return cell.error
    indicator = cell.indicator
    if indicator.aggregation == Aggregation.RANGE:
        if cell.low is None:
            return ""
        low = format_number(cell.low, indicator.decimals)
        high = format_number(cell.high, indicator.decimals)
        return low if low == high else f"{low} - {high}"
    return format_number(cell.value, indicator.decimals)


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
    with_empty: bool = False,
) -> tuple[list[PivotRow], Aggregator]:
    indicators = Indicator.objects.select_related("programme", "disaggregation", "component")
    if programme is not None:
        indicators = indicators.filter(programme=programme)
    indicators = list(indicators.order_by("programme__code", "order", "code"))
    aggregator = Aggregator(indicators, period, today=today)
    cells = aggregator.for_unit(unit)
    rows = [PivotRow(i, cells[i.code]) for i in indicators]
    if not with_empty:
        rows = [r for r in rows if r.cell.has_data or r.cell.error]
    return rows, aggregator
