"""Reading a page's choice of programme and period from the request, one way for every view.

A programme is named by its code (an unknown code is a 404); a period by its ASCII id
(``2025``, ``2025Q3``), kept as typed with the reason it is not a period, for the page to
show beside the picker.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period, PeriodError


def query_param(request, name: str) -> str:
    """``name`` from the form on a post, else from the query string; stripped."""
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def programme_param(request, name: str = "programme") -> Programme | None:
    code = query_param(request, name)
    return get_object_or_404(Programme, code=code) if code else None


def period_param(request, name: str = "period") -> tuple[Period | None, str, str]:
    """``(period, what was typed, why it is not a period)``."""
    raw = query_param(request, name)
    if not raw:
        return None, raw, ""
    try:
        return Period.parse(raw), raw, ""
    except PeriodError as exc:
        return None, raw, str(exc)
