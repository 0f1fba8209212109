"""Figures that a change to the unit tree would leave outside their unit's validity.

Registered with :func:`tiendo.units.changes.register_validity_check`: a change file that
ends a unit earlier (or starts it later) than some of its figures is refused and lists
them, so that no figure is silently kept on a unit that no longer existed in its period.
The rule is the one data entry applies: a value belongs to a unit that existed on at
least one day of its period.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Q

from tiendo.data.models import DataValue

LISTED = 30
CHUNK = 500  # unit ids in one IN (…)
CLAUSES = 50  # spans in one query


def values_outside(spans: dict[int, tuple[date | None, date | None]]) -> tuple[int, list[str]]:
    """(how many values, the first few described) lying outside the new ``spans`` of units.

    Units sharing a span (the units of one resolution, usually) are asked in one clause, and
    the clauses a few at a time, at most :data:`CHUNK` units in a query: a file of
    thousands of units never builds one expression deeper than the database accepts, and
    each query stays on the index."""
    by_span: dict[tuple, list[int]] = defaultdict(list)
    for unit_id, span in spans.items():
        by_span[span].append(unit_id)
    clauses = [
        (Q(unit_id__in=ids[i : i + CHUNK]) & _beyond(start, end), len(ids[i : i + CHUNK]))
        for (start, end), ids in by_span.items()
        if start is not None or end is not None
        for i in range(0, len(ids), CHUNK)
    ]
    # at most CHUNK units in one query: given several lists of units OR-ed together,
    # PostgreSQL expects millions of rows and reads the whole table instead of the index
    groups: list[list[Q]] = []
    size = 0
    for clause, n in clauses:
        if not groups or size + n > CHUNK or len(groups[-1]) >= CLAUSES:
            groups.append([])
            size = 0
        groups[-1].append(clause)
        size += n
    count, found = 0, []
    for group in groups:
        outside = Q(pk__in=[])
        for clause in group:
            outside |= clause
        values = DataValue.objects.filter(outside)
        here = values.count()
        count += here
        if here:  # the ordered listing joins the units: only asked when there is something
            found += values.select_related("unit", "indicator").order_by(
                "unit__code", "period_start", "pk"
            )[:LISTED]
    found.sort(key=lambda v: (v.unit.code, v.period_start, v.pk))
    listed = [
        f"{v.unit.name} ({v.unit.code}), {v.indicator.code}, kỳ {v.period}"
        + (f", phân tổ {v.category}" if v.category else "")
        for v in found[:LISTED]
    ]
    return count, listed


def _beyond(start: date | None, end: date | None) -> Q:
    beyond = Q(pk__in=[])
    if start is not None:
        beyond |= Q(period_end__lt=start)
    if end is not None:
        beyond |= Q(period_start__gt=end)
    return beyond
