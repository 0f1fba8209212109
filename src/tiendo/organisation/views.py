"""The unit tree: search, the tree as it was on a date, and one unit's page."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.core.formatting import format_date
from tiendo.core.numbers import to_ascii
from tiendo.organisation.forms import AgencyForm, SharesForm, show_refusal
from tiendo.units.lineage import lineage
from tiendo.units.models import ChangeKind, Unit, UnitKind
from tiendo.units.services import (
    UnitRefused,
    create_agency,
    search_units,
    set_split_shares,
    split_links,
)

SEARCH_LIMIT = 100
CHILDREN_PER_PAGE = 50


DAY_PARAMETERS = ("ngay", "date")


def parse_day(request, name: str | None = None, default: date | None = None) -> date:
    """The date asked for in the query string, or ``default``/today.

    ``?ngay=31/12/2019`` is what people type and what the pages link with; ``?date=`` (ISO
    ``2019-12-31``, an ``<input type=date>``) is still read for links made before.
    """
    names = (name,) if name else DAY_PARAMETERS
    raw = next((request.GET[n].strip() for n in names if request.GET.get(n, "").strip()), "")
    raw = to_ascii(raw)  # full-width or other-script digits read as the digits they are
    fallback = default or timezone.localdate()
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    try:  # typed the Vietnamese way, 31/12/2024
        return datetime.strptime(raw, "%d/%m/%Y").date()
    except ValueError:
        messages.warning(
            request,
            _("Ngày “%(raw)s” không hợp lệ; đang hiển thị ngày %(day)s.")
            % {"raw": raw, "day": format_date(fallback)},
        )
        return fallback


def official_order(queryset):
    """Administrative units first, by official code (the order of official lists), then agencies."""
    return queryset.annotate(
        is_agency_sort=Case(
            When(kind=UnitKind.AGENCY, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("is_agency_sort", "code", "name")


def _valid_children_filter(day: date) -> Q:
    return (Q(children__valid_from__isnull=True) | Q(children__valid_from__lte=day)) & (
        Q(children__valid_to__isnull=True) | Q(children__valid_to__gte=day)
    )


def _with_child_counts(queryset, day: date):
    return queryset.annotate(child_count=Count("children", filter=_valid_children_filter(day)))


@login_required
def unit_list(request):
    """Search by name or code, and the tree valid on a date, both within the user's scope."""
    user = request.user
    today = timezone.localdate()
    # A user whose unit was merged away (Hà Giang before July 2025) first sees the tree
    # on the last day their unit existed rather than an empty tree.
    home = user.unit
    default_day = home.valid_to if home and home.valid_to and home.valid_to < today else today
    day = parse_day(request, default=default_day)
    readable = scope.readable_units(user)
    query = (request.GET.get("q") or "").strip()
    results, truncated = _search_within(readable, query)
    context = {
        "day": day,
        "is_today": day == today,
        "query": query,
        "results": results,
        "truncated": truncated,
        "search_limit": SEARCH_LIMIT,
        "roots": _open_roots(readable, day),
    }
    return render(request, "organisation/unit_list.html", context)


def _search_within(readable, query: str) -> tuple[list[Unit] | None, bool]:
    """The first units answering ``query`` among ``readable``, and whether there were more."""
    if not query:
        return None, False
    found = search_units(query).filter(pk__in=readable.values("pk")).select_related("parent")
    results = list(found[: SEARCH_LIMIT + 1])
    return results[:SEARCH_LIMIT], len(results) > SEARCH_LIMIT


def _open_roots(readable, day: date) -> list[tuple[Unit, list[Unit] | None]]:
    """The roots of what the user may read on ``day``, each with its children when few.

    The roots are the user's unit or, for a merged unit, the older units that became part
    of it (Hà Giang for a Tuyên Quang officer in 2024).
    """
    on_day = readable.valid_on(day)
    roots = list(
        _with_child_counts(official_order(on_day.exclude(parent_id__in=on_day.values("pk"))), day)
    )
    if len(roots) > 3:
        return [(root, None) for root in roots]
    # open the top of the tree so the page is useful at once
    return [
        (root, list(_with_child_counts(official_order(root.children.valid_on(day)), day)))
        for root in roots
    ]


@login_required
def unit_children(request, pk: int):
    """The children of one node of the tree on a date (htmx: expanding the tree)."""
    unit = scope.get_unit_or_403(request.user, pk)
    day = parse_day(request)
    children = _with_child_counts(official_order(unit.children.valid_on(day)), day)
    return render(request, "organisation/_children.html", {"children": children, "day": day})


@login_required
def unit_detail(request, pk: int):
    unit = scope.get_unit_or_403(request.user, pk)
    user = request.user
    today = timezone.localdate()
    day = parse_day(request, default=_day_to_show(unit, today))
    children = official_order(unit.children.valid_on(day))
    page = Paginator(children, CHILDREN_PER_PAGE).get_page(request.GET.get("page"))
    successors = _change_rows(user, unit.successor_links.all(), "successor")
    context = {
        "unit": unit,
        "ancestors": [(a, scope.can_read(user, a)) for a in unit.ancestors()],
        "day": day,
        "children_page": page,
        "child_total": page.paginator.count,
        "has_children_ever": page.paginator.count > 0 or unit.children.exists(),
        "predecessors": _change_rows(user, unit.predecessor_links.all(), "predecessor"),
        "successors": successors,
        "events": _event_rows(unit),
        "is_current": unit.is_valid_on(today),
        "may_write": scope.can_write(user, unit),
        "may_add_agency": scope.can_manage_units(user, unit) and unit.kind != UnitKind.AGENCY,
        "may_record_change": unit.kind != UnitKind.AGENCY
        and scope.may_record_unit_change(user, unit),
        "may_set_shares": len(successors) > 1
        and all(scope.can_manage_units(user, row["unit"]) for row in successors),
    }
    return render(request, "organisation/unit_detail.html", context)


def _day_to_show(unit: Unit, today: date) -> date:
    """The children as they were on the last day the unit existed (or its first, for a unit
    still to come), unless a date is asked for."""
    if unit.valid_from and unit.valid_from > today:
        return unit.valid_from
    return today if unit.is_valid_on(today) or unit.valid_to is None else unit.valid_to


def _event_rows(unit: Unit) -> list[dict]:
    """The events that ended or started this unit version, with their legal basis."""
    rows = []
    for event in unit.events.select_related("act").order_by("effective_date", "pk"):
        if unit.valid_from == event.effective_date:
            role = _("đơn vị bắt đầu hiệu lực")
        elif unit.valid_to == event.effective_date - timedelta(days=1):
            role = _("đơn vị hết hiệu lực")
        else:
            role = ""
        rows.append({"event": event, "role": role})
    return rows


def _change_rows(user, links, other: str) -> list[dict]:
    """One row per merge/split link, ``other`` naming the unit at the far end."""
    rows = []
    for link in links.select_related(other).order_by("effective_date", f"{other}__code"):
        other_unit = getattr(link, other)
        rows.append(
            {
                "link": link,
                "unit": other_unit,
                "readable": scope.can_read(user, other_unit),
                # a split without an allocation share cannot be re-expressed in today's units
                "missing_share": link.share is None
                and (link.partial or link.kind == ChangeKind.SPLIT),
                "share_percent": None if link.share is None else link.share * 100,
            }
        )
    return rows


@login_required
def unit_history(request, pk: int):
    """The unit's lineage: every reorganisation before it and after it, and its versions."""
    unit = scope.get_unit_or_403(request.user, pk)
    found = lineage(unit)
    readable = {u.pk: scope.can_read(request.user, u) for step in found.steps for u in _ends(step)}
    readable[unit.pk] = True
    context = {
        "unit": unit,
        "lineage": found,
        "earlier": [_step_row(step, readable) for step in found.earlier],
        "later": [_step_row(step, readable) for step in found.later],
        "versions": [
            (v, v.pk == unit.pk or scope.can_read(request.user, v)) for v in found.versions
        ],
        "ancestors": [(a, scope.can_read(request.user, a)) for a in unit.ancestors()],
    }
    return render(request, "organisation/unit_history.html", context)


def _ends(step) -> list[Unit]:
    return step.predecessors + step.successors


def _step_row(step, readable: dict[int, bool]) -> dict:
    """A step as the timeline shows it: who went where, with the share of each part."""
    return {
        "step": step,
        "predecessors": [(u, readable.get(u.pk, False)) for u in step.predecessors],
        "links": [
            {
                "link": link,
                "readable_from": readable.get(link.predecessor_id, False),
                "readable_to": readable.get(link.successor_id, False),
                "share_percent": None if link.share is None else link.share * 100,
                "missing_share": link.share is None
                and (link.partial or link.kind == ChangeKind.SPLIT),
            }
            for link in step.links
        ],
        "successors": [(u, readable.get(u.pk, False)) for u in step.successors],
    }


@login_required
def agency_create(request, pk: int):
    """Attach an agency or organisation (Sở, Liên minh HTX, Ban chỉ đạo…) to a unit."""
    parent = scope.get_managed_unit_or_403(request.user, pk)
    form = AgencyForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agency = create_agency(
                parent,
                agency_code=data["code"],
                name=data["name"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                actor=request.user,
            )
        except UnitRefused as err:  # a rule broken since the form was checked
            show_refusal(form, err)
        else:
            messages.success(request, _("Đã thêm %(name)s.") % {"name": agency.name})
            return redirect("units:detail", agency.pk)
    return render(request, "organisation/agency_form.html", {"unit": parent, "form": form})


@login_required
def shares_edit(request, pk: int):
    """Allocation shares of a unit split across several successors (one per successor)."""
    predecessor = get_object_or_404(Unit, pk=pk)
    try:
        links = split_links(predecessor)
    except UnitRefused as err:
        raise Http404(str(err)) from err
    for link in links:
        scope.check_manage_units(request.user, link.successor)
    form = SharesForm(request.POST or None, links=links)
    if request.method == "POST" and form.is_valid():
        try:
            set_split_shares(predecessor, form.shares(), actor=request.user)
        except UnitRefused as err:
            show_refusal(form, err)
        else:
            messages.success(request, _("Đã lưu tỷ lệ phân bổ."))
            return redirect("units:detail", predecessor.pk)
    return render(
        request,
        "organisation/shares_form.html",
        {"unit": predecessor, "form": form, "links": links},
    )
