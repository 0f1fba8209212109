"""The figures of register indicators, computed from the records and written as values.

A package binds an indicator to a register (``register_indicators:``,
:mod:`tiendo.households.indicators`); this module computes its figure for every commune and
year the records give, and writes it through :mod:`tiendo.data.services` (source
``register``, with history and rollups) — so pivots, programme pages, documents, history-true
and today's views read it as any figure. Only yearly figures are written on the records'
communes; the aggregation engine sums them up the tree and over several years
(``2021-2025``) as it does for entered figures: the sum of the years for an ``in_period``
indicator (aggregation ``sum``), the stock at the end of the period for a ``to_period_end``
or ``valid_on_period_end`` one (aggregation ``last``). A stock is written for the years in
which records are dated (it changes only then; ``last`` carries it forward to the years
after); a stock of records valid for a time (``valid_on_period_end``) for every year from
its first record's to this year, since it falls when a record expires.

History-true: a household stays in the commune it was registered in, after a reorganisation
too, and its figures with it; the unit tree maps the old commune to the new one in today's
view. A year in which the commune did not exist is not written (the data services refuse
a figure for a unit outside its validity).

Fresh on every save: :func:`changed` is a hook of :func:`tiendo.households.events.changed`,
which every register write calls inside its transaction with the communes it touched; the
figures of those communes are recomputed there — a few GROUP BY queries per bound indicator,
whatever the number of records — and only the figures that differ from those stored are
written (a new one, a changed one, or a deletion where no record is left). ``tiendo
households refigure`` recomputes everything after a package changed a binding.

The figures are computed: a write guard (:func:`register_figure_guard`) refuses them from a
form, an Excel file or the API, and this module writes inside
:func:`tiendo.data.services.computed_write`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _

from tiendo.households.indicators import model_field
from tiendo.households.models import Measure, PeriodMode, RegisterIndicator
from tiendo.households.sources import Source, get_source
from tiendo.programmes.periods import Period
from tiendo.units.models import Unit

SOURCE = "register"
# Above this many figures a save goes through the bulk path (new values inserted together,
# the rollup rebuilt once): a refigure of the whole register, the demo's load.
BULK = 300


def bindings() -> list[RegisterIndicator]:
    return list(RegisterIndicator.objects.select_related("indicator").order_by("pk"))


def records(binding: RegisterIndicator, source: Source):
    """The records of ``source`` the binding's filter keeps. A filter on a field across a
    to-many relation (a household's poverty classifications) goes through a subquery, so a
    record matching twice is still counted, or summed, once."""
    qs = source.records()
    model = qs.model
    for name, values in (binding.filters or {}).items():
        path = source.fields[name]
        _field, many = model_field(model, path)
        condition = Q(**{f"{path}__in": values})
        if many:
            qs = qs.filter(pk__in=source.queryset().filter(condition).values("pk"))
        else:
            qs = qs.filter(condition)
    return qs


def _dated(qs, source: Source, unit_ids):
    year = ExtractYear(source.date) if source.date else F(source.year)
    qs = qs.annotate(_unit=F(source.unit), _year=year).filter(_year__isnull=False)
    if unit_ids is not None:
        qs = qs.filter(**{f"{source.unit}__in": unit_ids})
    return qs


def _aggregate(binding: RegisterIndicator, source: Source):
    if binding.measure == Measure.COUNT:
        return Count("pk")
    if binding.measure == Measure.DISTINCT_HOUSEHOLDS:
        return Count(source.household, distinct=True)
    return Sum(source.fields[binding.field])


def compute(binding: RegisterIndicator, unit_ids=None) -> dict[tuple[int, int], Decimal]:
    """The binding's figures ``{(unit id, year): value}`` for the communes ``unit_ids``
    (every commune with records when None). A sum over records whose field is empty is no
    figure, not 0."""
    source = get_source(binding.source)
    if source is None:  # an app offering the source is not installed
        return {}
    qs = _dated(records(binding, source), source, unit_ids)
    if binding.period == PeriodMode.IN_PERIOD:
        return _per_year(qs, binding, source)
    if binding.period == PeriodMode.TO_PERIOD_END:
        return _to_year_end(qs, binding, source)
    return _valid_on_year_end(qs, binding, source)


def _per_year(qs, binding, source) -> dict:
    rows = qs.values("_unit", "_year").annotate(v=_aggregate(binding, source)).order_by()
    return {(r["_unit"], r["_year"]): Decimal(r["v"]) for r in rows if r["v"] is not None}


def _to_year_end(qs, binding, source) -> dict:
    """The stock at each year's end, for the years records are dated in."""
    if binding.measure == Measure.DISTINCT_HOUSEHOLDS:
        # each household counts from the first year one of its records is dated in
        firsts = qs.values("_unit", source.household).annotate(first=Min("_year")).order_by()
        new: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for row in firsts:
            new[(row["_unit"], row["first"])] += 1
        years = set(qs.values_list("_unit", "_year").distinct().order_by())
    else:
        new = {
            (r["_unit"], r["_year"]): r["v"]
            for r in qs.values("_unit", "_year").annotate(v=_aggregate(binding, source)).order_by()
        }
        years = set(new)
    by_unit: dict[int, list[int]] = defaultdict(list)
    for unit_id, year in years:
        by_unit[unit_id].append(year)
    out = {}
    for unit_id, unit_years in by_unit.items():
        total = None
        for year in sorted(unit_years):
            added = new.get((unit_id, year))
            if added is not None:
                total = (total or Decimal(0)) + Decimal(added)
            if total is not None:
                out[(unit_id, year)] = total
    return out


def _valid_on_year_end(qs, binding, source) -> dict:
    """The records valid on each year's end, from the first year a record is dated in to
    this year (a stock that falls when a record's validity ends)."""
    firsts = dict(qs.values("_unit").annotate(first=Min("_year")).values_list("_unit", "first"))
    if not firsts:
        return {}
    out = {}
    for year in range(min(firsts.values()), date.today().year + 1):
        valid = source.valid_on(qs, date(year, 12, 31))
        rows = valid.values("_unit").annotate(v=_aggregate(binding, source)).order_by()
        values = {r["_unit"]: r["v"] for r in rows}
        for unit_id, first in firsts.items():
            if year >= first:
                value = values.get(unit_id)
                if value is not None or binding.measure != Measure.SUM:
                    out[(unit_id, year)] = Decimal(value or 0)
    return out


def _units_with_records(binds) -> set[int]:
    ids: set[int] = set()
    for key in {b.source for b in binds}:
        source = get_source(key)
        if source is not None:
            ids |= set(source.records().values_list(source.unit, flat=True).distinct().order_by())
    return ids


def refigure(unit_ids=None, *, user=None) -> int:
    """Recompute the register indicators' figures of the communes ``unit_ids`` (every one
    with records or with a stored figure of a bound indicator when None) and write those
    that changed; returns how many were written."""
    from tiendo.data.models import DataValue
    from tiendo.data.services import Entry, computed_write, load_values, save_values

    binds = bindings()
    if not binds:
        return 0
    indicator_ids = [b.indicator_id for b in binds]
    stored_values = DataValue.objects.filter(indicator_id__in=indicator_ids)
    if unit_ids is None:
        ids = _units_with_records(binds) | set(
            stored_values.values_list("unit_id", flat=True).distinct().order_by()
        )
        wanted = None
    else:
        ids = {int(pk) for pk in unit_ids}
        wanted = ids
        stored_values = stored_values.filter(unit_id__in=ids)
    units = Unit.objects.in_bulk(ids)
    periods: dict[int, Period] = {}

    def valid(unit, year) -> bool:
        if year not in periods:
            periods[year] = Period.parse(str(year))
        return unit.is_valid_during(periods[year])

    computed: dict[tuple[int, int, str, str], Entry] = {}
    for binding in binds:
        for (unit_id, year), value in compute(binding, wanted).items():
            unit = units.get(unit_id)
            if unit is not None and valid(unit, year):
                key = (binding.indicator_id, unit_id, str(year), "")
                computed[key] = Entry(binding.indicator, unit, str(year), value)
    stored = {
        (i, u, p, c): v
        for i, u, p, c, v in stored_values.values_list(
            "indicator_id", "unit_id", "period", "category", "value"
        )
    }
    by_id = {b.indicator_id: b.indicator for b in binds}
    entries = [e for key, e in computed.items() if stored.get(key) != e.value]
    entries += [
        Entry(by_id[i], units[u], p, None, c)
        for (i, u, p, c) in stored
        if (i, u, p, c) not in computed and u in units
    ]
    if entries:
        with computed_write():
            if len(entries) > BULK:
                load_values(entries, user=user, source=SOURCE)
            else:
                save_values(entries, user=user, source=SOURCE)
    return len(entries)


def changed(unit_ids, *, user=None, source: str = "form") -> None:
    """The hook of :func:`tiendo.households.events.changed`: the figures of those communes."""
    refigure(unit_ids, user=user)


def register_figure_guard(pairs) -> list[str | None]:
    """A write guard: a figure computed from a register is refused from anyone but this
    module (one query for the whole batch)."""
    ids = {entry.indicator.pk for entry, _period in pairs}
    bound = dict(
        RegisterIndicator.objects.filter(indicator_id__in=ids).values_list("indicator_id", "source")
    )
    if not bound:
        return [None] * len(pairs)
    out = []
    for entry, _period in pairs:
        key = bound.get(entry.indicator.pk)
        source = get_source(key) if key else None
        out.append(
            None
            if key is None
            else _("số liệu được tính từ sổ %(register)s, không nhập trực tiếp; hãy cập nhật sổ.")
            % {"register": source.label if source else key}
        )
    return out
