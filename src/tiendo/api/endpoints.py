"""The read endpoints of ``/api/v1/``, scoped exactly like the pages.

Every query starts from what the caller may read (:func:`tiendo.accounts.scope.readable_units`,
:func:`tiendo.programmes.access.programmes_seen_by`), never from everything filtered
afterwards. A unit outside the scope is a 403, as on its page; a programme the caller does
not deal with is a 404, as on the programme pages. Nothing of the household register is
exposed here: its figures reach the API only as the aggregates it writes into the data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI, Query
from ninja.security import SessionAuth
from pydantic import Field, StringConstraints

from tiendo.accounts import scope
from tiendo.api import errors, paging
from tiendo.api.auth import BearerToken
from tiendo.api.schemas import (
    DataValuePage,
    Error,
    IndicatorOut,
    ProgrammeOut,
    UnitDetail,
    UnitPage,
)
from tiendo.data.models import DataValue
from tiendo.data.pivot import pivot_document, unit_in_view
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period
from tiendo.units.models import Level, Unit

# Codes are ASCII (units "02", "02.SNN"; programmes "HG-NQ05"; indicators "NQ04_DISBURSED"):
# anything else is refused before a query is made.
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,60}$")]
PeriodId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z-]{4,21}$")]
Limit = Annotated[int, Field(ge=1, le=paging.MAX_LIMIT)]
Cursor = Annotated[str, Field(max_length=paging.MAX_CURSOR)]
MAX_INDICATORS = 100
REFUSALS = {400: Error, 401: Error, 403: Error, 404: Error}

api = NinjaAPI(
    title="Tiến Độ API",
    version="1",
    description=(
        "Đọc đơn vị hành chính, chương trình, chỉ tiêu và số liệu trong phạm vi của người "
        "dùng sở hữu mã truy cập. Xem docs/api.md."
    ),
    # the token first: a request with an Authorization header is judged by it alone
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api_v1",
    docs_url="/docs",
)
errors.install(api)
api.add_decorator(errors.in_request_language, mode="view")


def _user(request):
    return request.auth


def _unit_out(unit: Unit) -> dict:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "level": unit.level,
        "parent_code": unit.parent.code if unit.parent_id else None,
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
    }


def _readable_unit(user, code: str, on: date | None) -> Unit:
    """The unit ``code`` names for ``user``: among its versions the user reads, the one
    valid on ``on`` (today by default), else the most recent. 404 when no unit has the code,
    403 when the user reads none of them (as the unit page answers)."""
    versions = list(Unit.objects.filter(code=code).select_related("parent").order_by("level"))
    if not versions:
        raise Http404
    readable = [u for u in versions if scope.can_read(user, u)]
    if not readable:
        raise PermissionDenied
    day = on or timezone.localdate()
    valid = [u for u in readable if u.is_valid_on(day)]
    if valid:
        return valid[0]
    return max(readable, key=lambda u: (u.valid_to or date.max, -u.level))


@api.get("/units/", response={200: UnitPage, **REFUSALS}, url_name="units", summary="Đơn vị")
def units(
    request,
    on: date | None = None,
    parent: Code | None = None,
    level: Annotated[int, Field(ge=Level.NATION, le=Level.COMMUNE)] | None = None,
    q: Annotated[str, Field(max_length=100)] | None = None,
    limit: Limit = paging.DEFAULT_LIMIT,
    cursor: Cursor | None = None,
):
    """The units the caller reads, in the order of their ids. ``on``: those valid that day;
    ``parent``: the children of the units with that code; ``q``: a part of the name or the
    start of the code."""
    qs = scope.readable_units(_user(request)).select_related("parent")
    if on is not None:
        qs = qs.valid_on(on)
    if parent:
        qs = qs.filter(parent__code=parent)
    if level is not None:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(code__startswith=q.strip()))
    if cursor:
        (last,) = paging.decode(cursor, (int,))
        qs = qs.filter(pk__gt=last)
    rows, next_cursor = paging.page(list(qs.order_by("pk")[: limit + 1]), limit, lambda u: [u.pk])
    return {"items": [_unit_out(u) for u in rows], "next_cursor": next_cursor}


def _links(user, links, other: str) -> list[dict]:
    rows = []
    for link in links.select_related(f"{other}__parent").order_by(
        "effective_date", f"{other}__code"
    ):
        far = getattr(link, other)
        rows.append(
            {
                "kind": link.kind,
                "effective_date": link.effective_date,
                "legal_basis": link.legal_basis,
                "partial": link.partial,
                "share": None if link.share is None else str(link.share.normalize()),
                "unit": _unit_out(far),
                "readable": scope.can_read(user, far),
            }
        )
    return rows


@api.get(
    "/units/{code}",
    response={200: UnitDetail, **REFUSALS},
    url_name="unit",
    summary="Một đơn vị và các thay đổi",
)
def unit(request, code: Code, on: date | None = None):
    """The unit with its predecessors and successors (merges, splits, renames…)."""
    user = _user(request)
    found = _readable_unit(user, code, on)
    return {
        **_unit_out(found),
        "predecessors": _links(user, found.predecessor_links.all(), "predecessor"),
        "successors": _links(user, found.successor_links.all(), "successor"),
    }


@api.get(
    "/programmes/",
    response={200: list[ProgrammeOut], **REFUSALS},
    url_name="programmes",
    summary="Chương trình",
)
def programmes(request):
    """The programmes applying to the caller's unit or to a unit the caller reads."""
    found = programmes_seen_by(_user(request)).select_related("owner").order_by("code")
    return [
        {
            "code": p.code,
            "name": p.name,
            "short_name": p.short_name,
            "issuer": p.issuer,
            "owner_code": p.owner.code if p.owner_id else None,
            "period": str(p.period),
            "version": p.version,
        }
        for p in found
    ]


def _programme(user, code: str) -> Programme:
    found = programmes_seen_by(user).filter(code=code).first()
    if found is None:
        raise Http404
    return found


@api.get(
    "/programmes/{code}/indicators",
    response={200: list[IndicatorOut], **REFUSALS},
    url_name="programme_indicators",
    summary="Chỉ tiêu của một chương trình",
)
def programme_indicators(request, code: Code):
    programme = _programme(_user(request), code)
    indicators = (
        programme.indicators.select_related("component", "disaggregation")
        .prefetch_related("disaggregation__options")
        .order_by("order", "code")
    )
    return [
        {
            "code": i.code,
            "name": i.name,
            "short_name": i.short_name,
            "component": i.component.code if i.component_id else None,
            "measure_unit": i.measure_unit,
            "value_type": i.value_type,
            "aggregation": i.aggregation,
            "decimals": i.decimals,
            "formula": i.formula,
            "disaggregation": i.disaggregation.code if i.disaggregation_id else None,
            "categories": [{"code": o.code, "name": o.name} for o in i.disaggregation.options.all()]
            if i.disaggregation_id
            else [],
            "retired": i.retired,
        }
        for i in indicators
    ]


@api.get(
    "/data-values/",
    response={200: DataValuePage, **REFUSALS},
    url_name="data_values",
    summary="Số liệu",
)
def data_values(
    request,
    indicator: Annotated[list[Code] | None, Query(None, max_length=MAX_INDICATORS)] = None,
    unit: Code | None = None,
    subtree: bool = False,
    period_from: PeriodId | None = None,
    period_to: PeriodId | None = None,
    updated_since: datetime | None = None,
    limit: Limit = paging.DEFAULT_LIMIT,
    cursor: Cursor | None = None,
):
    """The values entered for the units the caller reads, oldest change first (walk the
    pages with ``updated_since`` to keep a copy up to date). ``unit`` with ``subtree=true``:
    the unit's values and those of every unit below it."""
    user = _user(request)
    qs = DataValue.objects.filter(unit__in=scope.readable_units(user))
    if indicator:
        qs = qs.filter(indicator__code__in=indicator)
    if unit:
        qs = qs.filter(_unit_condition(user, unit, subtree))
    if period_from:
        qs = qs.filter(period_start__gte=Period.parse(period_from).start)
    if period_to:
        qs = qs.filter(period_end__lte=Period.parse(period_to).end)
    if updated_since is not None:
        if timezone.is_naive(updated_since):
            updated_since = timezone.make_aware(updated_since)
        qs = qs.filter(updated_at__gte=updated_since)
    if cursor:
        stamp, last = paging.decode(cursor, (str, int))
        moment = paging.moment(stamp)
        qs = qs.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=last))
    rows = list(qs.select_related("indicator", "unit").order_by("updated_at", "pk")[: limit + 1])
    rows, next_cursor = paging.page(rows, limit, lambda v: [v.updated_at.isoformat(), v.pk])
    return {
        "items": [
            {
                "indicator": v.indicator.code,
                "unit": v.unit.code,
                "unit_id": v.unit_id,
                "period": str(v.period),
                "category": v.category,
                "value": format(v.value.normalize(), "f"),
                "qualifier": v.qualifier,
                "updated_at": v.updated_at,
            }
            for v in rows
        ],
        "next_cursor": next_cursor,
    }


def _unit_condition(user, code: str, subtree: bool) -> Q:
    """The values of the units ``code`` names that ``user`` reads (every version of the
    code: Tuyên Quang's 08 before and after 2025), with their subtrees if asked."""
    versions = [u for u in Unit.objects.filter(code=code) if scope.can_read(user, u)]
    if not versions:
        if Unit.objects.filter(code=code).exists():
            raise PermissionDenied
        raise Http404
    if not subtree:
        return Q(unit__in=versions)
    condition = Q()
    for version in versions:
        condition |= Q(unit__path__startswith=version.path)
    return condition


@api.get("/pivot", url_name="pivot", response={200: dict, **REFUSALS}, summary="Bảng tổng hợp")
def pivot(
    request,
    unit: Code,
    period: PeriodId,
    programme: Code | None = None,
    on: date | None = None,
):
    """The aggregated table of a unit for a period, as ``tiendo pivot --format json`` prints
    it; ``on``: in the tree of that day, the older units' values mapped through their
    changes."""
    user = _user(request)
    # a bad period is refused with the period's own message (PeriodError: 400)
    period_obj = Period.parse(period)
    found = _readable_unit(user, unit, period_obj.end if on is None else on)
    try:
        shown, notes = unit_in_view(found, on)
    except ValueError as exc:
        raise errors.ApiError(400, "unit.ambiguous", str(exc)) from None
    if not scope.can_read(user, shown):
        raise PermissionDenied
    programme_obj = _programme(user, programme) if programme else None
    return pivot_document(shown, period_obj, programme=programme_obj, day=on, notes=notes)
