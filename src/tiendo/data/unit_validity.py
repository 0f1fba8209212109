"""Figures that a change to the unit tree would leave outside their unit's validity.

Registered with :func:`tiendo.units.changes.register_validity_check`: a change file that
ends a unit earlier (or starts it later) than some of its figures is refused and lists
them, so that no figure is silently kept on a unit that no longer existed in its period.
The rule is the one data entry applies: a value belongs to a unit that existed on at
least one day of its period.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from tiendo.data.models import DataValue

LISTED = 30


def values_outside(spans: dict[int, tuple[date | None, date | None]]) -> tuple[int, list[str]]:
    """(how many values, the first few described) lying outside the new ``spans`` of units."""
    outside = Q(pk__in=[])
    for unit_id, (start, end) in spans.items():
        beyond = Q(pk__in=[])
        if start is not None:
            beyond |= Q(period_end__lt=start)
        if end is not None:
            beyond |= Q(period_start__gt=end)
        outside |= Q(unit_id=unit_id) & beyond
    values = DataValue.objects.filter(outside)
    count = values.count()
    listed = [
        f"{v.unit.name} ({v.unit.code}), {v.indicator.code}, kỳ {v.period}"
        + (f", phân tổ {v.category}" if v.category else "")
        for v in values.select_related("unit", "indicator").order_by(
            "unit__code", "period_start", "pk"
        )[:LISTED]
    ]
    return count, listed
