"""Pages of who does what in the NTM programme.

* an agency's page: the criteria assigned to it (responsible or coordinating, by which
  decision, for which years) with the communes of the area meeting each, and the communes
  it sponsors with their progress — the same figures its report writes (ntm.report);
* a commune's page: who sponsors it, by which decisions.

Both answer through the user's unit scope: the agency's (or commune's) unit must be
readable. A sponsored commune outside the reader's scope is named on the agency's page
(it is part of the agency's own work and report) but not linked.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.core.formatting import format_date
from tiendo.ntm import agencies, report
from tiendo.ntm.models import Assessment, Assignment, AssignmentRole, Sponsorship
from tiendo.units.models import Level, UnitKind

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year(request, default: int) -> int:
    raw = request.GET.get("nam", "")
    if raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR:
        return int(raw)
    return default


def _default_year(assignments, sponsorships) -> int:
    """The last year with assessments behind what the agency does, else this year."""
    communes = [s.commune_id for s in sponsorships]
    sets = {a.criterion.criteria_set_id for a in assignments}
    years = [
        Assessment.objects.filter(unit_id__in=communes).aggregate(y=Max("year"))["y"],
        Assessment.objects.filter(criteria_set_id__in=sets).aggregate(y=Max("year"))["y"],
    ]
    years = [y for y in years if y]
    return max(years) if years else timezone.localdate().year


def _active(record, year: int) -> bool:
    start, end = report.year_span(year)
    return record.valid_from <= end and (record.valid_to is None or record.valid_to >= start)


@login_required
def agency_tasks(request, pk: int):
    agency = scope.get_unit_or_403(request.user, pk)
    if agency.kind != UnitKind.AGENCY:
        raise Http404
    assignments = list(
        Assignment.objects.filter(agency=agency)
        .select_related("criterion__criteria_set", "indicator", "area")
        .order_by("-valid_from", "criterion__number", "pk")
    )
    sponsorships = list(
        Sponsorship.objects.filter(agency=agency)
        .select_related("commune__parent")
        .order_by("-valid_from", "commune__code")
    )
    year = _year(request, _default_year(assignments, sponsorships))
    assignment_rows = []
    for a in assignments:
        row = {
            "assignment": a,
            "active": _active(a, year),
            "partners": [],
            "may_end": a.valid_to is None and scope.may_manage_ntm_tasks(request.user, a.area),
        }
        if row["active"] and a.role == AssignmentRole.RESPONSIBLE:
            row["met"], row["assessed"] = report.communes_meeting(a, year)
            row["met_before"], row["assessed_before"] = report.communes_meeting(a, year - 1)
        others = Assignment.objects.filter(criterion=a.criterion).exclude(agency=agency)
        row["partners"] = [
            (o.agency, o.get_role_display())
            for o in others.select_related("agency").order_by("role", "agency__code")
            if _active(o, year) and report.same_task(o, a)
        ]
        assignment_rows.append(row)
    sponsorship_rows = [
        {
            "sponsorship": s,
            "active": _active(s, year),
            "readable": scope.can_read(request.user, s.commune),
            "progress": report.commune_progress(s.commune, year),
            "may_end": s.valid_to is None
            and scope.may_manage_ntm_tasks(request.user, agencies.province_of(s)),
        }
        for s in sponsorships
    ]
    context = {
        "agency": agency,
        "year": year,
        "years": list(range(year - 4, year + 2)),
        "assignment_rows": assignment_rows,
        "responsible_count": sum(
            1 for r in assignment_rows if r["active"] and r["assignment"].role == "responsible"
        ),
        "sponsorship_rows": sponsorship_rows,
        "illustrative": any(s.illustrative for s in sponsorships)
        or any(
            r["progress"]["now"] is not None and r["progress"]["now"].illustrative
            for r in sponsorship_rows
        ),
    }
    return render(request, "ntm/agency_tasks.html", context)


END_DAY_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def _end_day(text: str) -> date | None:
    for pattern in END_DAY_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), pattern).date()
        except ValueError:
            continue
    return None


def _end(request, model, pk: int, end):
    """End an assignment or a sponsorship on the day posted, then back to the agency."""
    record = get_object_or_404(model.objects.select_related("agency"), pk=pk)
    scope.check_unit(request.user, record.agency)
    if not scope.may_manage_ntm_tasks(request.user, agencies.province_of(record)):
        raise PermissionDenied
    day = _end_day(request.POST.get("ngay", ""))
    if day is None:
        messages.error(
            request, _("Ngày kết thúc không đúng dạng ngày/tháng/năm (ví dụ 31/12/2020).")
        )
    else:
        try:
            end(request.user, record, day)
        except agencies.AgencyTaskError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Đã ghi ngày kết thúc %(day)s.") % {"day": format_date(day)}
            )
    return redirect("ntm:agency_tasks", record.agency_id)


@login_required
@require_POST
def assignment_end(request, pk: int):
    return _end(request, Assignment, pk, agencies.end_assignment)


@login_required
@require_POST
def sponsorship_end(request, pk: int):
    return _end(request, Sponsorship, pk, agencies.end_sponsorship)


@login_required
def commune_sponsors(request, pk: int):
    commune = scope.get_unit_or_403(request.user, pk)
    if commune.level != Level.COMMUNE or commune.is_agency:
        raise Http404
    sponsorships = list(
        Sponsorship.objects.filter(commune=commune)
        .select_related("agency")
        .order_by("-valid_from", "agency__code")
    )
    today = timezone.localdate()
    rows = [
        {
            "sponsorship": s,
            "current": s.valid_from <= today and (s.valid_to is None or today <= s.valid_to),
            "readable": scope.can_read(request.user, s.agency),
        }
        for s in sponsorships
    ]
    progress = [
        a
        for a in Assessment.objects.filter(unit=commune)
        .select_related("criteria_set")
        .order_by("-year", "criteria_set__code")
    ]
    return render(
        request,
        "ntm/agency_commune.html",
        {
            "commune": commune,
            "rows": rows,
            "assessments": progress,
            "illustrative": any(s.illustrative for s in sponsorships)
            or any(a.illustrative for a in progress),
            "today": date.today(),
        },
    )
