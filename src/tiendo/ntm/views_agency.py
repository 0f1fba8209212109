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

from datetime import date

from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from tiendo.accounts import scope
from tiendo.ntm import report
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
        row = {"assignment": a, "active": _active(a, year), "partners": []}
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
