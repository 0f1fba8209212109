"""Filters that turn what records keep as codes into what people read: a period id
("2024Q3") into its Vietnamese name ("quý III/2024"), an ISO timestamp kept in a
document's snapshot into "14:05 20/11/2024"."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from tiendo.core.formatting import format_date, format_datetime
from tiendo.programmes.periods import Period, PeriodError

register = template.Library()


def _period(value) -> Period | None:
    if isinstance(value, Period):
        return value
    try:
        return Period.parse(str(value))
    except (PeriodError, ValueError, TypeError):
        return None


@register.filter
def period_label(value) -> str:
    """``2024Q3`` → ``quý III/2024``; what is no period is shown as it is."""
    if value in (None, ""):
        return ""
    period = _period(value)
    return period.label if period else str(value)


@register.filter
def period_end_date(value) -> str:
    """The last day of a period id, as a date (``2020-10`` → ``31/10/2020``)."""
    if value in (None, ""):
        return ""
    period = _period(value)
    return format_date(period.end) if period else str(value)


@register.filter
def iso_datetime(value) -> str:
    """An ISO date or timestamp kept as text → ``14:05 20/11/2024`` (or ``20/11/2024``)."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    text = str(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) <= 10:
        return format_date(moment.date())
    return format_datetime(moment)
