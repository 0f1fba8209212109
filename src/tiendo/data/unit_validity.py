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
    the clauses a few at a time: a file of thousands of units never builds one expression
    deeper than the database accepts."""
    by_span: dict[tuple, list[int]] = defaultdict(list)
    for unit_id, span in spans.items():
        by_span[span].append(unit_id)
    clauses = [
        Q(unit_id__in=ids[i : i + CHUNK]) & _beyond(start, end)
        for (start, end), ids in by_span.items()
        if start is not None or end is not None
        for i in range(0, len(ids), CHUNK)
    ]
    count, found = 0, []
    for i in range(0, len(clauses), CLAUSES):
        outside = Q(pk__in=[])
        for clause in clauses[i : i + CLAUSES]:
            outside |= clause
        values = DataValue.objects.filter(outside)
        count += values.count()
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
