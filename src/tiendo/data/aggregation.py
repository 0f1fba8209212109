"""Aggregation of data values up the unit tree and over periods.

History-true by default: a unit's figure is its own values plus the values of every unit
below it *in its own tree* (the tree valid when the data was entered), read from the
rollup table. ``today=True`` re-expresses a unit of today's tree: it adds the values of the
older units that became part of it, each by the factor :func:`map_to_today` gives, and
reports the units it had to leave out.

Per aggregation type, over all periods inside the requested one:

- ``sum``: the total; ``average``: total ÷ number of values;
- ``last``: the values of the latest period that has any (a cumulative stock such as
  "households implementing so far");
- ``range``: the lowest and highest value entered in the scope ("10 - 15 triệu đồng");
- ``none``: the unit's own value only.

Computed indicators are evaluated after aggregation, from the aggregated operands: a
disbursement rate is total disbursed ÷ total plan, never an average of rates.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, Max, Min, Sum, When

from tiendo.data.models import DataValue, Rollup
from tiendo.programmes import expressions
from tiendo.programmes.models import Aggregation, Indicator, Target
from tiendo.programmes.periods import Period
from tiendo.units.models import Unit
from tiendo.units.services import TodayMapping, map_to_today

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass
class Cell:
    """The aggregated figure of one indicator for one unit and period."""

    indicator: Indicator
    value: Decimal | None = None
    categories: dict[str, Decimal] = field(default_factory=dict)
    low: Decimal | None = None
    high: Decimal | None = None
    target: Decimal | None = None
    as_of: str | None = None
    count: int = 0

    @property
    def achieved(self) -> Decimal | None:
        """Percentage of the target reached."""
        if self.value is None or not self.target:
            return None
        return self.value / self.target * HUNDRED

    @property
    def has_data(self) -> bool:
        return self.value is not None or self.low is not None


class _Acc:
    """Running total and count of one indicator for one unit, also per category.

    Plain slots and dicts: a pivot adds tens of thousands of rows, one call each.
    """

    __slots__ = ("by_category", "by_period", "count", "total")

    def __init__(self) -> None:
        self.total = ZERO
        self.count = 0
        self.by_category: dict[str, list] = {}  # category -> [total, count]
        self.by_period: dict = {}  # period_end -> (period id, _Acc) for LAST

    def add(self, category: str, total, count, factor: Decimal | None = None) -> None:
        total = Decimal(total) if factor is None else Decimal(total) * factor
        self.total += total
        self.count += count
        slot = self.by_category.get(category)
        if slot is None:
            self.by_category[category] = [total, count]
        else:
            slot[0] += total
            slot[1] += count


@contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while a pivot is computed.

    A province pivot allocates a few hundred thousand small objects (rows, dicts, cells),
    none of them in a reference cycle; the cyclic collector would walk every live object of
    the process several times meanwhile, about a third of the pivot's time. Reference
    counting still frees everything; the collector resumes at the end (and is left alone
    if someone else had already paused it).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Sum(Sum):
    """SUM without Django's per-row ``Decimal(value)``: the drivers already return a Decimal
    (psycopg for numeric; SQLite through its backend converter) or an int for integers."""

    @property
    def convert_value(self):
        return self._convert_value_noop


class _Count(Count):
    """COUNT without Django's per-row ``int(value)``: every driver returns an int."""

    @property
    def convert_value(self):
        return self._convert_value_noop


def with_operands(indicators) -> list[Indicator]:
    """The indicators plus every indicator their formulas read, recursively."""
    found = {i.code: i for i in indicators}
    pending = [i for i in found.values() if i.formula]
    while pending:
        codes = set()
        for indicator in pending:
            codes |= expressions.references(expressions.parse(indicator.formula)) - set(found)
        if not codes:
            break
        new = list(Indicator.objects.filter(code__in=codes).select_related("disaggregation"))
        found.update({i.code: i for i in new})
        pending = [i for i in new if i.formula]
    return list(found.values())


class Aggregator:
    """Aggregates a set of indicators for a period; reusable for several units."""

    def __init__(
        self,
        indicators,
        period: Period | str,
        *,
        today: bool = False,
        mappings: dict[int, TodayMapping] | None = None,
    ):
        """``mappings`` caches today's mapping of each unit (by pk); pass the same dict to
        the aggregators of several periods so that a unit is mapped once per request."""
        self.period = Period.parse(period) if isinstance(period, str) else period
        self.requested = list(indicators)
        self.indicators = with_operands(self.requested)
        self.by_code = {i.code: i for i in self.indicators}
        self.stored = [i for i in self.indicators if not i.formula]
        self.today = today
        self.mappings: dict[int, TodayMapping] = {} if mappings is None else mappings
        self.flagged: list[tuple[Unit, str]] = []
        self._previous: Aggregator | None = None

    # -- public -------------------------------------------------------------------------
    def for_unit(self, unit: Unit) -> dict[str, Cell]:
        return self.for_units([unit])[unit.pk]

    def for_units(self, units) -> dict[int, dict[str, Cell]]:
        """The cells of each unit, by pk, in one batch of queries. In today's view
        ``flagged`` lists the older units left out of any of them (each once)."""
        units = list(units)
        if not self.today:
            return self._compute(units)
        extra, flagged = {}, {}
        for unit in units:
            mapping = self._mapping(unit)
            extra[unit.pk] = mapping.factors
            for old_unit, reason in mapping.flagged:
                flagged.setdefault(old_unit.pk, (old_unit, reason))
        self.flagged = list(flagged.values())
        return self._compute(units, extra=extra)

    def _mapping(self, unit: Unit) -> TodayMapping:
        mapping = self.mappings.get(unit.pk)
        if mapping is None:
            mapping = self.mappings[unit.pk] = map_to_today(unit)
        return mapping

    # -- internals ----------------------------------------------------------------------
    def _compute(self, units, extra=None) -> dict[int, dict[str, Cell]]:
        with _cyclic_gc_paused():
            return self._compute_cells(units, extra)

    def _compute_cells(self, units, extra=None) -> dict[int, dict[str, Cell]]:
        unit_ids = [u.pk for u in units]
        accs: dict[int, dict[int, _Acc]] = {pk: defaultdict(_Acc) for pk in unit_ids}
        by_id = {i.pk: i for i in self.stored}
        flat = [
            i.pk for i in self.stored if i.aggregation in (Aggregation.SUM, Aggregation.AVERAGE)
        ]
        last = [i.pk for i in self.stored if i.aggregation == Aggregation.LAST]
        own_only = [i.pk for i in self.stored if i.aggregation == Aggregation.NONE]
        ranged = [i for i in self.stored if i.aggregation == Aggregation.RANGE]
        window = {"period_start__gte": self.period.start, "period_end__lte": self.period.end}

        # The hot path of every pivot: one row per (unit, indicator, category), summed into
        # plain dicts of totals and counts per category. COUNT(*), not COUNT(id), so that
        # the value query is answered from the covering index alone.
        sums: dict[tuple[int, int], tuple[dict, dict]] = {}
        for model, total, count, ids in (
            (DataValue, _Sum("value"), _Count("*"), flat + own_only),
            (Rollup, _Sum("total"), _Sum("count"), flat),
        ):
            if not ids:
                continue
            rows = (
                model.objects.filter(unit_id__in=unit_ids, indicator_id__in=ids, **window)
                .values_list("unit_id", "indicator_id", "category")
                .annotate(t=total, c=count)
                .order_by()
            )
            for unit_id, indicator_id, category, t, c in rows:
                entry = sums.get((unit_id, indicator_id))
                if entry is None:
                    sums[unit_id, indicator_id] = ({category: t}, {category: c})
                    continue
                totals, counts = entry
                if category in totals:
                    totals[category] += t
                    counts[category] += c
                else:
                    totals[category] = t
                    counts[category] = c
        if last:
            for model, total, count in (
                (DataValue, Sum("value"), Count("pk")),
                (Rollup, Sum("total"), Sum("count")),
            ):
                rows = (
                    model.objects.filter(unit_id__in=unit_ids, indicator_id__in=last, **window)
                    .values_list("unit_id", "indicator_id", "category", "period", "period_end")
                    .annotate(t=total, c=count)
                    .order_by()
                )
                for unit_id, indicator_id, category, period_id, period_end, t, c in rows:
                    slot = accs[unit_id][indicator_id].by_period.setdefault(
                        period_end, (period_id, _Acc())
                    )
                    slot[1].add(category, t, c)

        if extra:
            self._add_extra(accs, extra, flat + own_only, last, window)

        ranges = self._ranges(unit_ids, ranged, window, extra) if ranged else {}
        targets = self._targets(unit_ids)

        result: dict[int, dict[str, Cell]] = {}
        finish, summed = self._finish, self._summed
        computed = any(i.formula for i in self.indicators)
        plan = [(pk, i, i.code, i.aggregation == Aggregation.RANGE) for pk, i in by_id.items()]
        for unit_id in unit_ids:
            cells: dict[str, Cell] = {}
            unit_accs = accs[unit_id]
            for indicator_id, indicator, code, is_range in plan:
                if is_range:
                    cell = Cell(indicator)
                    low_high = ranges.get((unit_id, indicator_id))
                    if low_high:
                        cell.low, cell.high, cell.count = low_high
                else:
                    entry = sums.get((unit_id, indicator_id))
                    acc = unit_accs.get(indicator_id) if unit_accs else None
                    if acc is None:
                        cell = Cell(indicator) if entry is None else summed(indicator, *entry)
                    else:
                        if entry is not None:
                            for category, t in entry[0].items():
                                acc.add(category, t, entry[1][category])
                        cell = finish(indicator, acc)
                if targets:
                    cell.target = targets.get((unit_id, indicator_id))
                cells[code] = cell
            if computed:
                self._formulas(cells, unit_id, units, targets)
            result[unit_id] = cells
        return result

    @staticmethod
    def _summed(indicator: Indicator, totals: dict, counts: dict) -> Cell:
        """The cell of a sum, average or own-value indicator from its per-category sums."""
        count = sum(counts.values())
        if count == 0:
            return Cell(indicator)
        total = sum(totals.values(), ZERO)
        if indicator.aggregation == Aggregation.AVERAGE:
            categories = {c: totals[c] / n for c, n in counts.items() if n}
            return Cell(indicator, total / count, categories, count=count)
        return Cell(indicator, total, totals, count=count)

    def _finish(self, indicator: Indicator, acc: _Acc) -> Cell:
        """The cell of one indicator from its accumulated rows."""
        aggregation = indicator.aggregation
        as_of = None
        if aggregation == Aggregation.LAST:
            if not acc.by_period:
                return Cell(indicator)
            latest = max(acc.by_period)
            as_of, acc = acc.by_period[latest]
        count = acc.count
        if count == 0:
            return Cell(indicator, as_of=as_of)
        if aggregation == Aggregation.AVERAGE:
            categories = {c: t / n for c, (t, n) in acc.by_category.items() if n}
            return Cell(indicator, acc.total / count, categories, as_of=as_of, count=count)
        categories = {c: t for c, (t, _n) in acc.by_category.items()}
        return Cell(indicator, acc.total, categories, as_of=as_of, count=count)

    def _add_extra(self, accs, extra, flat_ids, last_ids, window) -> None:
        """Add the own values of older units (today's view), scaled by their factor."""
        for target_id, factors in extra.items():
            ids = list(factors)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = DataValue.objects.filter(
                    unit_id__in=chunk, indicator_id__in=flat_ids + last_ids, **window
                ).values_list(
                    "unit_id", "indicator_id", "category", "period", "period_end", "value"
                )
                for unit_id, indicator_id, category, period_id, period_end, value in rows:
                    acc = accs[target_id][indicator_id]
                    if indicator_id in last_ids:
                        slot = acc.by_period.setdefault(period_end, (period_id, _Acc()))
                        slot[1].add(category, value, 1, factors[unit_id])
                    else:
                        acc.add(category, value, 1, factors[unit_id])

    def _ranges(self, unit_ids, ranged, window, extra) -> dict:
        ids = [i.pk for i in ranged]
        out = {}
        rows = (
            DataValue.objects.filter(
                unit__ancestor_links__ancestor_id__in=unit_ids, indicator_id__in=ids, **window
            )
            .values_list("unit__ancestor_links__ancestor_id", "indicator_id")
            .annotate(lo=Min("value"), hi=Max("value"), n=Count("pk"))
            .order_by()
        )
        for unit_id, indicator_id, lo, hi, n in rows:
            out[(unit_id, indicator_id)] = (lo, hi, n)
        for target_id, factors in (extra or {}).items():
            agg = (
                DataValue.objects.filter(
                    unit_id__in=[pk for pk, f in factors.items() if f > 0],
                    indicator_id__in=ids,
                    **window,
                )
                .values_list("indicator_id")
                .annotate(lo=Min("value"), hi=Max("value"), n=Count("pk"))
                .order_by()
            )
            for indicator_id, lo, hi, n in agg:
                cur = out.get((target_id, indicator_id))
                if cur:
                    lo, hi, n = min(lo, cur[0]), max(hi, cur[1]), n + cur[2]
                out[(target_id, indicator_id)] = (lo, hi, n)
        return out

    def _targets(self, unit_ids) -> dict:
        """The target of each (unit, indicator): the unit's own, else the sum of the targets
        set below it. One query through the closure (depth 0 is the unit itself)."""
        ids = [i.pk for i in self.indicators]
        rows = (
            Target.objects.filter(
                unit__ancestor_links__ancestor_id__in=unit_ids,
                indicator_id__in=ids,
                period=self.period.id,
            )
            .values_list("unit__ancestor_links__ancestor_id", "indicator_id")
            .annotate(
                own=Sum(Case(When(unit__ancestor_links__depth=0, then="value"))),
                below=Sum(Case(When(unit__ancestor_links__depth__gt=0, then="value"))),
            )
            .order_by()
        )
        return {(u, i): below if own is None else own for u, i, own, below in rows}

    def _formulas(self, cells: dict[str, Cell], unit_id: int, units, targets) -> None:
        computing: set[str] = set()

        def value_of(code: str, category: str, offset: int):
            if offset < 0:
                return self._previous_value(code, category, offset, unit_id, units)
            if code not in cells:
                indicator = self.by_code.get(code)
                if indicator is None or not indicator.formula:
                    return None
                compute(indicator)
            cell = cells[code]
            return cell.categories.get(category) if category else cell.value

        def compute(indicator: Indicator) -> None:
            if indicator.code in computing:
                cells[indicator.code] = Cell(indicator)
                return
            computing.add(indicator.code)
            tree = expressions.parse(indicator.formula)
            cells[indicator.code] = Cell(
                indicator,
                value=expressions.evaluate(tree, value_of),
                target=targets.get((unit_id, indicator.pk)),
            )
            computing.discard(indicator.code)

        for indicator in self.indicators:
            if indicator.formula and indicator.code not in cells:
                compute(indicator)

    def _previous_value(self, code, category, offset, unit_id, units):
        if self._previous is None:
            self._previous = Aggregator(
                self.indicators, self.period.previous(), today=self.today, mappings=self.mappings
            )
            self._previous_cells = {}
        if unit_id not in self._previous_cells:
            unit = next(u for u in units if u.pk == unit_id)
            self._previous_cells[unit_id] = self._previous.for_unit(unit)
        cells = self._previous_cells[unit_id]
        if offset < -1:
            return self._previous._previous_value(code, category, offset + 1, unit_id, units)
        cell = cells.get(code)
        if cell is None:
            return None
        return cell.categories.get(category) if category else cell.value
