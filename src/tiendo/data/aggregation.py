"""Aggregation of data values up the unit tree and over periods.

History-true by default: a unit's figure is its own values plus the values of every unit
below it *in its own tree* (the tree valid when the data was entered), read from the
rollup table. ``on=day`` re-expresses a unit of the tree of that day (``today=True``: of
today's): it adds the values of the older units that became part of it through every chain
of changes in effect by then, each by the factor :func:`~tiendo.units.chains.map_units`
gives (the shares multiplied along the chain), and reports the units it had to leave out
(``flagged``; :meth:`Aggregator.left_out` with how many values each holds).

Per aggregation type, over all periods inside the requested one:

- ``sum``: the total; ``average``: total ÷ number of values;
- ``last``: a cumulative stock such as "households implementing so far" — see below;
- ``last_in_period``: the same, from the values dated inside the period only (DHIS2's
  "last value in period"): a figure cumulated within a budget year, "disbursed so far this
  year", is not carried into the next year;
- ``range``: the lowest and highest value entered in the scope ("10 - 15 triệu đồng");
- ``none``: the unit's own value only.

Computed indicators are evaluated after aggregation, from the aggregated operands: a
disbursement rate is total disbursed ÷ total plan, never an average of rates. Each formula
is evaluated when first needed (:class:`_FormulaCells`); ``prev(x)`` asks the aggregator of
the previous period for ``x`` alone, and a chain of them ends, with no value, at the first
period where none of the stored figures ``x`` is computed from has data
(:meth:`Aggregator.value_in_period`). A formula that cannot be evaluated gets a cell with
the message (``Cell.error``) instead of raising. ``count_units(...)`` counts the reporting
units below by their own figures (:meth:`Aggregator.count_units`). Targets: see
:meth:`Aggregator._targets` — the most specific target overlapping the period.

``last`` is DHIS2's "last value, sum in the org-unit hierarchy": every reporting unit of the
scope (and every category) contributes its own latest value as of the end of the requested
period — carried forward from an earlier period when it reported nothing since, values dated
before the period's start included; on a tie of ``period_end`` the narrowest period (the
latest ``period_start``) wins — and these are summed up the tree. ``Cell.as_of`` is the
latest period among the contributing values, ``Cell.count`` their number. The rollup table
is per exact period and cannot answer this; one query picks each unit's latest value with
``ROW_NUMBER() OVER (PARTITION BY unit, indicator, category ...)`` through the closure table
and sums them per queried unit in SQL (:data:`_LAST_SQL`).

A unit that ceased (a pre-2025 commune) keeps contributing its last value — through its
successor in today's view, scaled by its factor — until a successor takes over: the value
of a unit that ceased before the end of the period is *superseded*, for one indicator and
category, once a successor it is linked to (a :class:`~tiendo.units.models.UnitChange` of
the ceased unit itself), or any unit that successor became in turn down the chain, lying in
the same scope has a value of its own dated after the ceased unit's last day
(``period_end > valid_to``). The successor's figure is taken to
include what it inherited, so counting both would count the old stock twice. When every
link of the ceased unit carries a share, only the shares of the successors that reported
are dropped (a commune split 25/75 whose first part reports keeps 75 % of its old value
until the second does); without shares one reporting successor supersedes it all. Units
counted through an ancestor's link (an agency of an old province) have no successor of
their own and are carried forward as they are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, Max, Min, Q, Sum, When
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.numbers import percent_of
from tiendo.data.models import DataValue, Rollup
from tiendo.data.qualifiers import combined
from tiendo.programmes import expressions
from tiendo.programmes.models import Aggregation, Indicator, Target
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.chains import descendants, forward_links, in_chunks, map_units
from tiendo.units.models import Unit, UnitAncestor, UnitChange
from tiendo.units.services import TodayMapping

ZERO = Decimal(0)
MICRO = Decimal("0.000001")  # the scale of DataValue.value
EVER = date(1, 1, 1)  # "last" looks back without limit
LATEST = (Aggregation.LAST, Aggregation.LAST_IN_PERIOD)
MAX_PERIODS_BACK = 60  # how far ``prev`` chains may read back (five years of months)


class FormulaError(TiendoError):
    """A computed indicator that cannot be evaluated; its cell shows the message."""

    code = "formula.invalid"


# Each reporting unit's latest value per (indicator, category) as of a day, for the units
# a scope clause selects. Ties on period_end go to the narrowest period (latest start).
_LATEST_SQL = """
SELECT v.unit_id, v.indicator_id, v.category, v.period, v.period_start, v.period_end,
       v.value, v.id,
       ROW_NUMBER() OVER (
           PARTITION BY v.unit_id, v.indicator_id, v.category
           ORDER BY v.period_end DESC, v.period_start DESC, v.id DESC
       ) AS rn
FROM {values} v
WHERE v.indicator_id IN ({indicators}) AND v.period_end <= %s AND v.period_start >= %s
  AND {scope}
"""

# The latest values summed per queried unit (through the closure), per period they are
# dated. A unit that ceased before the day and has successor links of its own comes back
# on rows of its own (``changed``), to be checked for a successor that took over.
_LAST_SQL = """
SELECT t.ancestor_id, t.indicator_id, t.category, t.period, t.period_start, t.period_end,
       t.changed, SUM(t.value), COUNT(*)
FROM (
    SELECT a.ancestor_id, l.indicator_id, l.category, l.period, l.period_start,
           l.period_end, l.value,
           CASE WHEN u.valid_to < %s AND EXISTS (
               SELECT 1 FROM {changes} c WHERE c.predecessor_id = l.unit_id
           ) THEN l.unit_id END AS changed
    FROM ({latest}) l
    JOIN {closure} a ON a.unit_id = l.unit_id
    JOIN {units} u ON u.id = l.unit_id
    WHERE l.rn = 1 AND a.ancestor_id IN ({targets})
) t
GROUP BY t.ancestor_id, t.indicator_id, t.category, t.period, t.period_start,
         t.period_end, t.changed
"""


_TABLES = {
    "values": DataValue._meta.db_table,
    "closure": UnitAncestor._meta.db_table,
    "units": Unit._meta.db_table,
    "changes": UnitChange._meta.db_table,
}


# The qualified values at or below some units (ancestor-or-self), in a period window.
_QUALIFIED_SQL = """
SELECT a.ancestor_id, v.indicator_id, v.category, v.qualifier, a.depth
FROM {values} v JOIN {closure} a ON a.unit_id = v.unit_id
WHERE v.qualifier <> '' AND v.indicator_id IN ({indicators}) AND a.ancestor_id IN ({targets})
  AND v.period_start >= %s AND v.period_end <= %s
"""


def _decimal(value) -> Decimal:
    """A number read by a raw query: a Decimal (PostgreSQL), an int or a float (SQLite,
    rounded to the column's six places as Django's own converter does)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value)).quantize(MICRO)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _placeholders(items) -> str:
    return ", ".join(["%s"] * len(items))


@dataclass
class Cell:
    """The aggregated figure of one indicator for one unit and period."""

    indicator: Indicator
    value: Decimal | None = None
    categories: dict[str, Decimal] = field(default_factory=dict)
    low: Decimal | None = None
    high: Decimal | None = None
    target: Decimal | None = None
    target_period: str = ""  # the period of the target used (it may differ from the cell's)
    # the target's parts by category (the capital plan by funding source), when set so
    category_targets: dict[str, Decimal] = field(default_factory=dict)
    as_of: str | None = None
    count: int = 0
    error: str = ""  # why a formula could not be evaluated, shown in place of the value
    error_code: str = ""
    # the word before the figure when a part of it is qualified (tiendo.data.qualifiers)
    qualifier: str = ""
    category_qualifiers: dict[str, str] = field(default_factory=dict)

    @property
    def achieved(self) -> Decimal | None:
        """Percentage of the target reached."""
        return percent_of(self.value, self.target)

    @property
    def has_data(self) -> bool:
        return self.value is not None or self.low is not None

    def category_achieved(self, code: str) -> Decimal | None:
        """Percentage of the category's own target reached ("% đạt" of a funding source)."""
        return percent_of(self.categories.get(code), self.category_targets.get(code))


class _Latest:
    """The latest values of one ``last`` indicator summed for one queried unit."""

    __slots__ = ("by_category", "count", "newest")

    def __init__(self) -> None:
        self.by_category: dict[str, Decimal] = {}
        self.count = 0
        self.newest: tuple = ()  # (period_end, period_start, period id) of the latest value

    def add(self, category: str, total: Decimal, count: int, dated: tuple) -> None:
        self.by_category[category] = self.by_category.get(category, ZERO) + total
        self.count += count
        if dated > self.newest:
            self.newest = dated

    def cell(self, indicator: Indicator) -> Cell:
        if not self.count:
            return Cell(indicator)
        return Cell(
            indicator,
            sum(self.by_category.values(), ZERO),
            dict(self.by_category),
            as_of=self.newest[2],
            count=self.count,
        )


class _Acc:
    """Running total and count of one indicator for one unit, also per category.

    Plain slots and dicts: a pivot adds tens of thousands of rows, one call each.
    """

    __slots__ = ("by_category", "count", "total")

    def __init__(self) -> None:
        self.total = ZERO
        self.count = 0
        self.by_category: dict[str, list] = {}  # category -> [total, count]

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
            codes |= _references(indicator.formula) - set(found)
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
        on: date | None = None,
        mappings: dict[int, TodayMapping] | None = None,
    ):
        """``on`` shows the tree of that day: the values of the units that ceased before it
        count in the units they became by then, through every chain of changes
        (:mod:`tiendo.units.chains`); ``today=True`` is the tree of today. Without either,
        the view is history-true. ``mappings`` caches the mapping of each unit (by pk) for
        one view day; pass the same dict to the aggregators of several periods so that a
        unit is mapped once per request."""
        self.period = Period.parse(period)
        self.requested = list(indicators)
        self.indicators = with_operands(self.requested)
        self.by_code = {i.code: i for i in self.indicators}
        self.stored = [i for i in self.indicators if not i.formula]
        self.on = on if on is not None else (date.today() if today else None)
        self.today = self.on is not None  # a mapped view (today's or another day's tree)
        self.mappings: dict[int, TodayMapping] = {} if mappings is None else mappings
        self.flagged: list[tuple[Unit, str]] = []
        self._previous: Aggregator | None = None
        self._depth = 0  # how many periods before the first aggregator's (``prev``)
        self._formula_cells: dict[int, _FormulaCells] = {}
        self._operands: dict[str, set[str]] = {}
        self._counting: dict[frozenset, Aggregator] = {}  # ``count_units``: own figures
        self._trees: dict[str, object] = {}  # parsed formulas (or why they do not parse)

    # -- public -------------------------------------------------------------------------
    def for_unit(self, unit: Unit) -> dict[str, Cell]:
        return self.for_units([unit])[unit.pk]

    def for_units(self, units, *, formulas: bool = True) -> dict[int, dict[str, Cell]]:
        """The cells of each unit, by pk, in one batch of queries. In today's view
        ``flagged`` lists the older units left out of any of them (each once)."""
        units = list(units)
        if not self.today:
            return self._compute(units, formulas=formulas)
        extra, flagged = {}, {}
        self._map_all(units)
        for unit in units:
            mapping = self._mapping(unit)
            extra[unit.pk] = mapping.factors
            for old_unit, reason in mapping.flagged:
                flagged.setdefault(old_unit.pk, (old_unit, reason))
        self.flagged = list(flagged.values())
        return self._compute(units, extra=extra, formulas=formulas)

    def _mapping(self, unit: Unit) -> TodayMapping:
        mapping = self.mappings.get(unit.pk)
        if mapping is None:
            self._map_all([unit])
            mapping = self.mappings[unit.pk]
        return mapping

    def _map_all(self, units) -> None:
        """Map the units not mapped yet, in one batch of queries."""
        missing = [u for u in units if u.pk not in self.mappings]
        if missing:
            self.mappings.update(map_units(missing, self.on))

    def left_out(self, units, indicators=None) -> list[tuple[Unit, str, int]]:
        """The older units left out of the mapped view of ``units`` (a split without an
        allocation share on their way), each with the reason and how many of its values
        of the indicators (all of this aggregator's stored ones by default) the period
        would have counted: ``(unit, reason, values)``; empty in the history-true view."""
        if not self.today:
            return []
        self._map_all(units)
        flagged = {}
        for unit in units:
            for old, reason in self.mappings[unit.pk].flagged:
                flagged.setdefault(old.pk, (old, reason))
        if not flagged:
            return []
        ids = [i.pk for i in (indicators or self.stored) if not i.formula]
        dated = Q(period_end__lte=self.period.end) & (
            Q(period_start__gte=self.period.start)
            | Q(indicator__aggregation__in=[Aggregation.LAST])
        )
        counts = dict(
            DataValue.objects.filter(dated, unit_id__in=list(flagged), indicator_id__in=ids)
            .values_list("unit_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        return [(old, reason, counts.get(pk, 0)) for pk, (old, reason) in flagged.items()]

    # -- internals ----------------------------------------------------------------------
    def _compute(self, units, extra=None, *, formulas: bool = True) -> dict[int, dict[str, Cell]]:
        """The cells of each unit: the stored indicators aggregated, then (unless
        ``formulas`` is false: a later period reading this one through ``prev``) the
        computed ones, and the targets."""
        unit_ids = [u.pk for u in units]
        kinds = self._by_aggregation()
        window = {"period_start__gte": self.period.start, "period_end__lte": self.period.end}
        sums = self._sums(unit_ids, kinds, window)
        latest = self._last(units, kinds["last"], extra, EVER) if kinds["last"] else {}
        if kinds["last_in"]:
            latest |= self._last(units, kinds["last_in"], extra, self.period.start)
        accs: dict[int, dict[int, _Acc]] = {pk: defaultdict(_Acc) for pk in unit_ids}
        if extra:
            self._add_extra(accs, extra, kinds["flat"] + kinds["own_only"], window)
        ranged = kinds["ranged"]
        ranges = self._ranges(unit_ids, ranged, window, extra) if ranged else {}
        result = {pk: self._stored_cells(pk, sums, accs[pk], latest, ranges) for pk in unit_ids}
        self._mark_qualified(result, unit_ids, kinds, window)
        if formulas and any(i.formula for i in self.indicators):
            for unit in units:
                self._formula_cells[unit.pk] = evaluated = _FormulaCells(
                    self, unit, result[unit.pk]
                )
                evaluated.compute_all()
        targets = self._targets(unit_ids)
        if targets:
            for unit_id, cells in result.items():
                for cell in cells.values():
                    found = targets.get((unit_id, cell.indicator.pk))
                    if found is not None:
                        cell.target, cell.target_period, cell.category_targets = found
        return result

    def _mark_qualified(self, result, unit_ids, kinds, window) -> None:
        """Give the cells of sums, averages and own values the qualifier of their parts:
        the qualified values at or below each unit in the window (own values: of the unit
        itself). One query, on the partial index of the qualified values."""
        flat, own = kinds["flat"], kinds["own_only"]
        ids = flat + own
        if not ids or not unit_ids:
            return
        sql = _QUALIFIED_SQL.format(
            indicators=_placeholders(ids), targets=_placeholders(unit_ids), **_TABLES
        )
        start = connection.ops.adapt_datefield_value(window["period_start__gte"])
        end = connection.ops.adapt_datefield_value(window["period_end__lte"])
        found: dict[tuple[int, int], dict[str, set]] = defaultdict(lambda: defaultdict(set))
        with connection.cursor() as cursor:
            cursor.execute(sql, [*ids, *unit_ids, start, end])
            for unit_id, indicator_id, category, qualifier, depth in cursor.fetchall():
                if depth and indicator_id in own:
                    continue
                found[unit_id, indicator_id][category].add(qualifier)
        if not found:
            return
        codes = {i.pk: i.code for i in self.stored}
        for (unit_id, indicator_id), by_category in found.items():
            cell = result[unit_id][codes[indicator_id]]
            cell.qualifier = combined(q for qs in by_category.values() for q in qs)
            cell.category_qualifiers = {c: combined(qs) for c, qs in by_category.items() if c}

    def _by_aggregation(self) -> dict[str, list]:
        """The stored indicators' pks by how they aggregate (``ranged``: the indicators)."""
        stored = self.stored
        return {
            "flat": [
                i.pk for i in stored if i.aggregation in (Aggregation.SUM, Aggregation.AVERAGE)
            ],
            "last": [i.pk for i in stored if i.aggregation == Aggregation.LAST],
            "last_in": [i.pk for i in stored if i.aggregation == Aggregation.LAST_IN_PERIOD],
            "own_only": [i.pk for i in stored if i.aggregation == Aggregation.NONE],
            "ranged": [i for i in stored if i.aggregation == Aggregation.RANGE],
        }

    @staticmethod
    def _sums(unit_ids, kinds, window) -> dict[tuple[int, int], tuple[dict, dict]]:
        """Per (unit, indicator): the totals and counts per category of the sums, averages
        and own values, from the rollup (subtrees) and the values (own values).

        The hot path of every pivot: one row per (unit, indicator, category), summed into
        plain dicts. COUNT(*), not COUNT(id), so that the value query is answered from the
        covering index alone."""
        flat = kinds["flat"]
        sums: dict[tuple[int, int], tuple[dict, dict]] = {}
        for model, total, count, ids in (
            (DataValue, _Sum("value"), _Count("*"), flat + kinds["own_only"]),
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
        return sums

    def _stored_cells(self, unit_id, sums, unit_accs, latest, ranges) -> dict[str, Cell]:
        """One unit's cells of the stored indicators, from what the queries found."""
        cells: dict[str, Cell] = {}
        for indicator in self.stored:
            indicator_id, aggregation = indicator.pk, indicator.aggregation
            if aggregation in LATEST:
                found = latest.get((unit_id, indicator_id))
                cell = Cell(indicator) if found is None else found.cell(indicator)
            elif aggregation == Aggregation.RANGE:
                cell = Cell(indicator)
                low_high = ranges.get((unit_id, indicator_id))
                if low_high:
                    cell.low, cell.high, cell.count = low_high
            else:
                entry = sums.get((unit_id, indicator_id))
                acc = unit_accs.get(indicator_id) if unit_accs else None
                if acc is None:
                    cell = Cell(indicator) if entry is None else self._summed(indicator, *entry)
                else:
                    if entry is not None:
                        for category, t in entry[0].items():
                            acc.add(category, t, entry[1][category])
                    cell = self._finish(indicator, acc)
            cells[indicator.code] = cell
        return cells

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
        count = acc.count
        if count == 0:
            return Cell(indicator)
        if indicator.aggregation == Aggregation.AVERAGE:
            categories = {c: t / n for c, (t, n) in acc.by_category.items() if n}
            return Cell(indicator, acc.total / count, categories, count=count)
        categories = {c: t for c, (t, _n) in acc.by_category.items()}
        return Cell(indicator, acc.total, categories, count=count)

    def _add_extra(self, accs, extra, flat_ids, window) -> None:
        """Add the own values of older units (today's view), scaled by their factor: one
        grouped query per chunk of the older units of all queried units together (a unit
        mapped into a commune and its province is read once)."""
        by_unit: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for target_id, factors in extra.items():
            for unit_id, factor in factors.items():
                by_unit[unit_id].append((target_id, factor))
        for chunk in in_chunks(by_unit):
            rows = (
                DataValue.objects.filter(unit_id__in=chunk, indicator_id__in=flat_ids, **window)
                .values_list("unit_id", "indicator_id", "category")
                .annotate(t=_Sum("value"), c=_Count("*"))
                .order_by()
            )
            for unit_id, indicator_id, category, total, count in rows:
                for target_id, factor in by_unit[unit_id]:
                    accs[target_id][indicator_id].add(category, total, count, factor)

    def _last(self, units, last_ids, extra, since: date) -> dict[tuple[int, int], _Latest]:
        """Each queried unit's ``last`` figures: the latest value of every reporting unit
        of its scope (its subtree, and in today's view the older units mapped to it)."""
        out: dict[tuple[int, int], _Latest] = {}
        # (queried unit, ceased unit, indicator, category, base factor, value, dated)
        pending: list[tuple] = []
        unit_ids = [u.pk for u in units]
        latest = self._latest_sql(last_ids, subtree_of=unit_ids)
        sql = _LAST_SQL.format(latest=latest, targets=_placeholders(unit_ids), **_TABLES)
        day = connection.ops.adapt_datefield_value(self.period.end)
        start = connection.ops.adapt_datefield_value(since)
        with connection.cursor() as cursor:
            cursor.execute(sql, [day, *last_ids, day, start, *unit_ids, *unit_ids])
            rows = cursor.fetchall()
        for target, indicator_id, category, period_id, start, end, changed, total, n in rows:
            dated = (_day(end), _day(start), period_id)
            if changed is not None:
                pending.append((target, changed, indicator_id, category, None, total, dated))
                continue
            acc = out.get((target, indicator_id))
            if acc is None:
                acc = out[target, indicator_id] = _Latest()
            acc.add(category, _decimal(total), n, dated)
        for (
            target,
            unit_id,
            indicator_id,
            category,
            period_id,
            start,
            end,
            value,
            _id,
        ) in self._latest_of_mapped(last_ids, extra, since):
            factor = extra[target][unit_id]
            dated = (_day(end), _day(start), period_id)
            pending.append((target, unit_id, indicator_id, category, factor, value, dated))
        if pending:
            factors = self._remaining(pending, units, extra or {}, last_ids, since)
            for (target, _u, indicator_id, category, _f, value, dated), factor in zip(
                pending, factors, strict=True
            ):
                if not factor:
                    continue
                acc = out.get((target, indicator_id))
                if acc is None:
                    acc = out[target, indicator_id] = _Latest()
                acc.add(category, _decimal(value) * factor, 1, dated)
        return out

    def _latest_sql(self, last_ids, *, subtree_of=None, units=None) -> str:
        """:data:`_LATEST_SQL` for the subtrees of some units, or for some units alone;
        its parameters: the indicators, the day, the earliest start, then the units."""
        if subtree_of is not None:
            scope = (
                f"v.unit_id IN (SELECT s.unit_id FROM {_TABLES['closure']} s "
                f"WHERE s.ancestor_id IN ({_placeholders(subtree_of)}))"
            )
        else:
            scope = f"v.unit_id IN ({_placeholders(units)})"
        return _LATEST_SQL.format(
            values=_TABLES["values"], indicators=_placeholders(last_ids), scope=scope
        )

    def _latest_of_mapped(self, last_ids, extra, since: date):
        """The latest values of the older units mapped to each queried unit (today's view):
        rows ``(queried unit, unit, indicator, category, period, start, end, value, id)``;
        one query per chunk of the older units of all queried units together."""
        day = connection.ops.adapt_datefield_value(self.period.end)
        start = connection.ops.adapt_datefield_value(since)
        by_unit: dict[int, list[int]] = defaultdict(list)
        for target, factors in (extra or {}).items():
            for unit_id in factors:
                by_unit[unit_id].append(target)
        for chunk in in_chunks(by_unit):
            latest = self._latest_sql(last_ids, units=chunk)
            sql = f"SELECT * FROM ({latest}) l WHERE l.rn = 1"
            with connection.cursor() as cursor:
                cursor.execute(sql, [*last_ids, day, start, *chunk])
                rows = cursor.fetchall()
            for row in rows:
                for target in by_unit[row[0]]:
                    yield (target, *row[:-1])

    def _remaining(self, pending, units, extra, last_ids, since: date) -> list[Decimal]:
        """The factor each ceased unit's last value still counts with in each queried unit
        (``pending``: rows ``(queried unit, unit, indicator, category, base factor, ...)``):
        its base factor, less what the successors that reported since took over.

        A successor took over its part once it, or any unit it became in turn (a chain of
        changes), lying in the queried unit's scope reported after the ceased unit's last
        day: the latest figure of the chain's newest reporting version is taken to include
        what it inherited."""
        day = self.period.end
        paths = {u.pk: u.path for u in units}
        chain = _Chains({p[1] for p in pending}, last_ids, day, since)
        out = []
        for target, unit_id, indicator_id, category, factor, *_rest in pending:
            factor = Decimal(1) if factor is None else factor
            valid_to = chain.ended.get(unit_id)
            if valid_to is not None and valid_to < day:
                target_path = paths[target]
                mapped = extra.get(target, {})

                def in_scope(pk, target_path=target_path, mapped=mapped):
                    return chain.paths.get(pk, "").startswith(target_path) or pk in mapped

                took_over = chain.took_over(unit_id, indicator_id, category, valid_to, in_scope)
                if took_over:
                    if all(share is not None for _s, share in chain.links[unit_id]):
                        factor = max(factor - sum(took_over, ZERO), ZERO)
                    else:
                        factor = ZERO
            out.append(factor)
        return out

    def last_value_ids(self, unit: Unit) -> dict[int, list[int]]:
        """The stored values the ``last`` figures of ``unit`` add up, by indicator pk — the
        same values, by the same rule, as its cells (for a report's traceability)."""
        extra = {unit.pk: self._mapping(unit).factors} if self.today else {}
        out: dict[int, list[int]] = defaultdict(list)
        for aggregation, since in (
            (Aggregation.LAST, EVER),
            (Aggregation.LAST_IN_PERIOD, self.period.start),
        ):
            last_ids = [i.pk for i in self.stored if i.aggregation == aggregation]
            if not last_ids:
                continue
            day = connection.ops.adapt_datefield_value(self.period.end)
            start = connection.ops.adapt_datefield_value(since)
            latest = self._latest_sql(last_ids, subtree_of=[unit.pk])
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT * FROM ({latest}) l WHERE l.rn = 1", [*last_ids, day, start, unit.pk]
                )
                rows = [(unit.pk, *row[:-1]) for row in cursor.fetchall()]
            rows += list(self._latest_of_mapped(last_ids, extra, since))
            pending = [
                (target, unit_id, indicator_id, category, extra.get(target, {}).get(unit_id), pk)
                for target, unit_id, indicator_id, category, *_dated, _value, pk in rows
            ]
            factors = self._remaining(pending, [unit], extra, last_ids, since)
            for row, factor in zip(pending, factors, strict=True):
                if factor:
                    out[row[2]].append(row[-1])
        return dict(out)

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

    def _targets(self, unit_ids) -> dict[tuple[int, int], tuple[Decimal, str, dict]]:
        """The target of each (unit, indicator) with its period and its parts by category
        (empty when set as a total): the unit's own, else the sum of the targets set below
        it for that period. One query through the closure (depth 0 is the unit itself).

        A target counts when its period overlaps the one shown; of several, the most
        specific is used (:func:`target_rank`): the same period; else the narrowest
        period containing it (a year's target beside a quarter); else the one sharing
        the most days with it, the latest on a tie (a mid-2020 target in 2016-2020)."""
        ids = [i.pk for i in self.indicators]
        rows = (
            Target.objects.filter(
                unit__ancestor_links__ancestor_id__in=unit_ids,
                indicator_id__in=ids,
            )
            .values_list("unit__ancestor_links__ancestor_id", "indicator_id", "period", "category")
            .annotate(
                own=Sum(Case(When(unit__ancestor_links__depth=0, then="value"))),
                below=Sum(Case(When(unit__ancestor_links__depth__gt=0, then="value"))),
            )
            .order_by()
        )
        parts: dict[tuple[int, int, str], dict[str, tuple]] = defaultdict(dict)
        for unit_id, indicator_id, period_id, category, own, below in rows:
            parts[unit_id, indicator_id, period_id][category] = (own, below)
        best: dict[tuple[int, int], tuple] = {}
        for (unit_id, indicator_id, period_id), by_category in parts.items():
            try:
                rank = target_rank(Period.parse(period_id), self.period)
            except PeriodError:  # a period stored before the calendar's limits
                continue
            found = best.get((unit_id, indicator_id))
            if rank is not None and (found is None or rank < found[0]):
                best[unit_id, indicator_id] = (rank, period_id, _target_parts(by_category))
        return {
            key: (sum(values.values(), ZERO), period, {c: v for c, v in values.items() if c})
            for key, (_r, period, values) in best.items()
        }

    # -- formulas over periods ------------------------------------------------------------
    def earlier_value(self, unit: Unit, code: str, category: str, steps: int):
        """The figure of ``code`` for ``unit`` ``steps`` periods before this one (``prev``);
        ``None`` from the first period without data on: the chain of a formula that reads
        its own previous value ends there."""
        aggregator = self
        for _step in range(steps):
            aggregator = aggregator._earlier()
            if aggregator is None:
                return None
        return aggregator.value_in_period(unit, code, category)

    def _earlier(self) -> Aggregator | None:
        """The aggregator of the previous period, made once; ``None`` before the first
        period the calendar knows. Refused beyond :data:`MAX_PERIODS_BACK` periods."""
        if self._previous is None:
            if self._depth >= MAX_PERIODS_BACK:
                raise FormulaError(
                    _("Công thức đọc lùi quá %(count)s kỳ trước (đến %(period)s)."),
                    code="formula.too_far_back",
                    count=MAX_PERIODS_BACK,
                    period=self.period.label,
                )
            try:
                period = self.period.previous()
            except PeriodError:
                return None
            self._previous = Aggregator(self.requested, period, on=self.on, mappings=self.mappings)
            self._previous._depth = self._depth + 1
        return self._previous

    def value_in_period(self, unit: Unit, code: str, category: str = ""):
        """The figure of ``code`` for ``unit`` in this period, or ``None`` when none of the
        stored figures it is computed from has data here."""
        evaluated = self._formula_cells.get(unit.pk)
        if evaluated is None:
            cells = self.for_units([unit], formulas=False)[unit.pk]
            evaluated = self._formula_cells[unit.pk] = _FormulaCells(self, unit, cells)
        operands = self.stored_operands(code)
        if operands and not any(evaluated.cells[c].has_data for c in operands):
            return None
        return evaluated.value(code, category, 0)

    def formula_tree(self, indicator: Indicator):
        """The parsed formula of ``indicator``, parsed once per aggregator (not once per
        unit); raises the :class:`~tiendo.programmes.expressions.ExpressionError` again."""
        found = self._trees.get(indicator.code)
        if found is None:
            try:
                found = expressions.parse(indicator.formula)
            except expressions.ExpressionError as exc:
                found = exc
            self._trees[indicator.code] = found
        if isinstance(found, expressions.ExpressionError):
            raise found
        return found

    def stored_operands(self, code: str) -> set[str]:
        """The stored indicators a figure is computed from (itself when it is stored)."""
        found = self._operands.get(code)
        if found is not None:
            return found
        seen, pending, found = set(), [code], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            indicator = self.by_code.get(current)
            if indicator is None:
                continue
            if not indicator.formula:
                found.add(current)
                continue
            pending.extend(_references(indicator.formula))
        self._operands[code] = found
        return found

    # -- counting units by a condition ----------------------------------------------------
    def count_units(self, unit: Unit, conditions) -> Decimal | None:
        """``count_units(...)`` for ``unit``: how many reporting units of its scope have
        own figures meeting every condition — ``None`` when no unit of the scope reported.

        The reporting units are those with a value of an indicator the conditions read,
        dated up to the period's end (and, but for ``last`` indicators, from its start): in
        the unit's subtree (history-true), plus in today's view the older units mapped to
        it with a factor above zero. Each unit's figures are its own subtree's, history-
        true, aggregated as any figure is (a ``last`` value carried forward). A unit that
        ceased before the period's end no longer counts once a successor of its own in the
        same scope reported after its last day: the successor is counted instead, never
        both."""
        codes = set().union(*(expressions.references(c) for c in conditions))
        operands = set().union(*(self.stored_operands(c) for c in codes))
        stored = [self.by_code[c] for c in operands]
        newest = self._reporting_units(unit, stored)
        if not newest:
            return None
        units = self._not_superseded(Unit.objects.filter(pk__in=newest), newest)
        counted = 0
        for evaluated in self._own_figures(codes, units):
            if all(
                expressions.evaluate(c, evaluated.value, count=evaluated.count) for c in conditions
            ):
                counted += 1
        return Decimal(counted)

    def _own_figures(self, codes: set[str], units: list[Unit]) -> list[_FormulaCells]:
        """The figures of ``codes`` of each unit, its own subtree's (history-true), read in
        one batch for the units not read before: a drill-down counts for a unit and its
        children, whose reporting units are the unit's."""
        key = frozenset(codes)
        if key not in self._counting:
            indicators = [self.by_code[c] for c in codes if c in self.by_code]
            self._counting[key] = Aggregator(indicators, self.period, mappings=self.mappings)
        own = self._counting[key]
        missing = [u for u in units if u.pk not in own._formula_cells]
        if missing:
            for unit, cells in zip(missing, own.for_units(missing).values(), strict=True):
                own._formula_cells.setdefault(unit.pk, _FormulaCells(own, unit, cells))
        return [own._formula_cells[u.pk] for u in units]

    def _reporting_units(self, unit: Unit, stored: list[Indicator]) -> dict[int, date]:
        """The units of ``unit``'s scope with a value of ``stored`` in reach of the period,
        each with the end of its latest such value."""
        if not stored:
            return {}
        carried = [i.pk for i in stored if i.aggregation == Aggregation.LAST]
        dated = Q(period_end__lte=self.period.end) & (
            Q(period_start__gte=self.period.start) | Q(indicator_id__in=carried)
        )
        values = DataValue.objects.filter(dated, indicator_id__in=[i.pk for i in stored])
        scopes = [Q(unit__ancestor_links__ancestor_id=unit.pk)]
        if self.today:
            mapped = [pk for pk, factor in self._mapping(unit).factors.items() if factor > 0]
            scopes.append(Q(unit_id__in=mapped))
        newest: dict[int, date] = {}
        for scope in scopes:
            rows = values.filter(scope).values_list("unit_id").annotate(n=Max("period_end"))
            for unit_id, end in rows.order_by():
                newest[unit_id] = max(_day(end), newest.get(unit_id, date.min))
        return newest

    def _not_superseded(self, units, newest: dict[int, date]) -> list[Unit]:
        """The units less those that ceased before the period's end and have a successor
        among them — or a unit a successor became in turn — that reported after their last
        day; ordered by pk."""
        units = sorted(units, key=lambda u: u.pk)
        ceased = {u.pk: u.valid_to for u in units if u.valid_to and u.valid_to < self.period.end}
        if not ceased:
            return units
        links, memo = forward_links(ceased), {}
        superseded = {
            pk
            for pk, valid_to in ceased.items()
            if any(newest.get(v, date.min) > valid_to for v in descendants(pk, links, memo))
        }
        return [u for u in units if u.pk not in superseded]


class _Chains:
    """What :meth:`Aggregator._remaining` reads about the chains of changes out of some
    ceased units: the links (recursively), the units' paths and last days, and the latest
    day each unit of the chains reported each (indicator, category) on."""

    def __init__(self, ceased_ids, last_ids, day: date, since: date):
        self.links = forward_links(ceased_ids)
        self.memo: dict[int, frozenset[int]] = {}
        later = {succ for group in self.links.values() for succ, _share in group}
        self.paths: dict[int, str] = {}
        self.ended: dict[int, date | None] = {}
        self.reported: dict[tuple, date] = {}
        for chunk in in_chunks([*set(ceased_ids) | later]):
            for pk, path, valid_to in Unit.objects.filter(pk__in=chunk).values_list(
                "pk", "path", "valid_to"
            ):
                self.paths[pk] = path
                self.ended[pk] = valid_to
        for chunk in in_chunks(later):
            rows = (
                DataValue.objects.filter(
                    unit_id__in=chunk,
                    indicator_id__in=last_ids,
                    period_end__lte=day,
                    period_start__gte=since,
                )
                .values_list("unit_id", "indicator_id", "category")
                .annotate(newest=Max("period_end"))
                .order_by()
            )
            self.reported |= {(u, i, c): _day(newest) for u, i, c, newest in rows}

    def took_over(self, unit_id, indicator_id, category, valid_to, in_scope) -> list:
        """The shares of the links out of ``unit_id`` whose successor's chain has a unit in
        scope that reported after ``valid_to``."""
        shares = []
        for succ, share in self.links.get(unit_id, ()):
            chain = {succ} | descendants(succ, self.links, self.memo)
            if any(
                in_scope(pk)
                and self.reported.get((pk, indicator_id, category), date.min) > valid_to
                for pk in chain
            ):
                shares.append(share)
        return shares


class _FormulaCells:
    """The computed cells of one unit in one period, each evaluated when first needed.

    A formula that cannot be evaluated — it does not parse, reads an indicator that does
    not exist, or reads itself round a circle — gets a cell carrying the message
    (``Cell.error``), and so does every formula that reads it; it never raises."""

    def __init__(self, aggregator: Aggregator, unit: Unit, cells: dict[str, Cell]):
        self.aggregator = aggregator
        self.unit = unit
        self.cells = cells
        self.computing: list[str] = []
        self.failed: dict[str, TiendoError] = {}

    def compute_all(self) -> None:
        for indicator in self.aggregator.indicators:
            if indicator.formula and indicator.code not in self.cells:
                self.compute(indicator)

    def value(self, code: str, category: str, offset: int):
        """The resolver of :func:`expressions.evaluate`."""
        if offset < 0:
            return self.aggregator.earlier_value(self.unit, code, category, -offset)
        if code not in self.cells:
            indicator = self.aggregator.by_code.get(code)
            if indicator is None:
                raise FormulaError(
                    _("Công thức đọc chỉ tiêu “%(indicator)s” không có trong hệ thống."),
                    code="formula.unknown_indicator",
                    indicator=code,
                )
            if code in self.computing:
                chain = " → ".join([*self.computing[self.computing.index(code) :], code])
                raise FormulaError(
                    _("Công thức vòng quanh, không tính được: %(chain)s."),
                    code="formula.cycle",
                    chain=chain,
                )
            self.compute(indicator)
        if code in self.failed:
            raise self.failed[code]
        cell = self.cells[code]
        return cell.categories.get(category) if category else cell.value

    def count(self, conditions, offset: int):
        """The counter of :func:`expressions.evaluate`: ``count_units(...)``."""
        aggregator = self.aggregator
        for _step in range(-offset):
            aggregator = aggregator._earlier()
            if aggregator is None:
                return None
        return aggregator.count_units(self.unit, conditions)

    def compute(self, indicator: Indicator) -> None:
        self.computing.append(indicator.code)
        try:
            tree = self.aggregator.formula_tree(indicator)
            value = expressions.evaluate(tree, self.value, count=self.count)
        except TiendoError as exc:
            self.failed[indicator.code] = exc
            self.cells[indicator.code] = Cell(indicator, error=str(exc), error_code=exc.code)
        except (ArithmeticError, RecursionError):
            exc = FormulaError(
                _("Không tính được công thức của chỉ tiêu “%(indicator)s”."),
                code="formula.not_computable",
                indicator=indicator.code,
            )
            self.failed[indicator.code] = exc
            self.cells[indicator.code] = Cell(indicator, error=str(exc), error_code=exc.code)
        else:
            self.cells[indicator.code] = Cell(indicator, value=value)
        finally:
            self.computing.pop()


def _target_parts(by_category: dict[str, tuple]) -> dict[str, Decimal]:
    """A unit's target by category for one period: its own rows when it has any, else the
    sums of the rows below it (``""`` the total)."""
    own = {c: own for c, (own, _below) in by_category.items() if own is not None}
    if own:
        return own
    return {c: below for c, (_own, below) in by_category.items() if below is not None}


def target_rank(target: Period, shown: Period) -> tuple | None:
    """How well a target's period fits the period shown, lower is better; ``None`` when
    they do not overlap: the same period first, then the periods containing the shown one
    (narrowest first), then the other overlapping ones (most days shared, latest end)."""
    if target.end < shown.start or target.start > shown.end:
        return None
    if target.start == shown.start and target.end == shown.end:
        return (0, 0, 0)
    if target.contains(shown):
        return (1, (target.end - target.start).days, 0)
    shared = (min(target.end, shown.end) - max(target.start, shown.start)).days
    return (2, -shared, -target.end.toordinal())


def _references(formula: str) -> set[str]:
    """The codes a formula reads; none when it does not parse (its cell says why)."""
    try:
        return expressions.references(expressions.parse(formula))
    except expressions.ExpressionError:
        return set()
