"""The registers a register indicator may count or sum over, by key.

A register indicator (``register_indicators:`` in a package, :mod:`tiendo.households.figures`)
names a *source* — ``household``, ``enrolment``, ``loan``, ``plot`` here, ``cooperative`` and
``ocop_product`` from :mod:`tiendo.cooperatives`, which comes later in the layering and
registers its own in its ``AppConfig.ready`` — and the fields of that source it filters on
or sums. A :class:`Source` says, in ORM paths from the source's records:

- ``unit``: the unit whose figure a record counts in (a household's residence commune, a
  plot's land commune, a cooperative's unit). Figures are written on that unit and rolled
  up the tree like any entered figure; it must be a commune (or the unit the register
  keeps, for agencies' cooperatives);
- ``date``: the date that places a record in a period (``enrolled_on``, ``disbursed_on``),
  or ``year``: a year field (``year_renovated``); exactly one of the two;
- ``household``: the household a record belongs to, for distinct household counts
  (``None`` where the record has none, as a cooperative);
- ``active``: a filter keeping the records that count (removed households never do);
- ``valid_on``: for records valid for a time (an OCOP certificate, 36 months), a function
  ``(queryset, date) -> queryset`` keeping those valid on ``date``;
- ``fields``: the names a package may use in ``filter``, ``sum`` and ``distinct``, mapped
  to ORM paths. Names are ASCII identifiers; the package never writes an ORM path itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Source:
    key: str
    label: str  # Vietnamese, lazy; for messages and the drill-down page's title
    queryset: Callable[[], QuerySet]
    unit: str
    date: str | None = None
    year: str | None = None
    household: str | None = None
    active: Q = field(default_factory=Q)
    valid_on: Callable[[QuerySet, date], QuerySet] | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def records(self) -> QuerySet:
        return self.queryset().filter(self.active)


_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Let an app (this one, or one later in the layering) offer a register to count."""
    if (source.date is None) == (source.year is None):
        raise ValueError(f"source {source.key}: exactly one of date and year")
    _SOURCES[source.key] = source


def get_source(key: str) -> Source | None:
    return _SOURCES.get(key)


def sources() -> dict[str, Source]:
    return dict(_SOURCES)
