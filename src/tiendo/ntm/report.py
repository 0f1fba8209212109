"""The parts of an agency's NTM report written from the data, not typed.

* :func:`criteria_part` — "Kết quả thực hiện các tiêu chí": "Không được phân công." when
  the agency is responsible for no criterion in the year, naming the criteria it
  coordinates and with whom (seed 003: criterion 13 with the Department of Agriculture,
  Decision 1763/QĐ-UBND); otherwise, for each criterion (or indicator) it is responsible
  for, how many communes of the area meet it this year and last, from the assessments.
* :func:`sponsorship_part` — the communes the agency sponsors, by which decisions, and
  their progress: criteria met this year and last, level, recognition.

Counts are history-true: the communes of the area *as the tree was* in the year (a commune
merged away in 2020 counts in 2019, its successor from 2020). An illustrative record (the
demo's) is said to be one in the text itself.

Each part is a :class:`ReportPart`: paragraphs, and the records it was computed from (for
the document's traceability). ``PARTS`` names them for report definitions
(``options["generated_sections"]``, read by ``tiendo.documents.narrative``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from tiendo.core.formatting import format_date, format_number, format_percent
from tiendo.ntm.agencies import assignments_during, sponsorships_during, year_span
from tiendo.ntm.models import (
    Assessment,
    Assignment,
    AssignmentRole,
    CriterionResult,
    IndicatorResult,
    NtmLevel,
    Recognition,
    SetTier,
    Sponsorship,
)
from tiendo.units.models import Level, Unit, UnitKind


@dataclass
class ReportPart:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


# --- helpers --------------------------------------------------------------------------------


def _decision(number: str, day) -> str:
    return _("Quyết định số %(number)s ngày %(date)s") % {
        "number": number,
        "date": format_date(day),
    }


def _issuer_of(number: str) -> str:
    """The issuer of a decision the programmes know (``LegalDocument``), else ""."""
    from tiendo.programmes.models import LegalDocument  # noqa: PLC0415

    document = LegalDocument.objects.filter(number=number).first()
    return document.issuer if document else ""


def _criterion_label(assignment: Assignment) -> str:
    criterion = assignment.criterion
    label = _("tiêu chí số %(number)s (%(name)s)") % {
        "number": criterion.number,
        "name": criterion.name,
    }
    if assignment.indicator_id:
        return _("chỉ tiêu %(code)s (%(name)s) của %(criterion)s") % {
            "code": assignment.indicator.code,
            "name": assignment.indicator.name,
            "criterion": label,
        }
    return label


def same_task(a: Assignment, b: Assignment) -> bool:
    """Two assignments of one task: the same criterion, and the same indicator or one of
    them on the whole criterion."""
    return a.criterion_id == b.criterion_id and (
        not a.indicator_id or not b.indicator_id or a.indicator_id == b.indicator_id
    )


def area_communes(area: Unit, year: int):
    """The communes (xã) of ``area`` valid on some day of ``year``: the tree as it was."""
    start, end = year_span(year)
    return (
        Unit.objects.filter(level=Level.COMMUNE, kind=UnitKind.COMMUNE)
        .subtree(area)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=end))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    )


def communes_meeting(assignment: Assignment, year: int) -> tuple[int, int]:
    """(communes meeting the assignment's criterion — or indicator — in ``year``, communes
    of its area assessed against its set that year)."""
    assessments = Assessment.objects.filter(
        criteria_set_id=assignment.criterion.criteria_set_id,
        year=year,
        unit__in=area_communes(assignment.area, year),
    )
    assessed = assessments.count()
    if assignment.indicator_id:
        met = IndicatorResult.objects.filter(
            assessment__in=assessments, indicator_id=assignment.indicator_id, met=True
        ).count()
    else:
        met = CriterionResult.objects.filter(
            assessment__in=assessments, criterion_id=assignment.criterion_id, met=True
        ).count()
    return met, assessed


# --- Kết quả thực hiện các tiêu chí --------------------------------------------------------


def criteria_part(agency: Unit, year: int) -> ReportPart:
    start, end = year_span(year)
    during = list(assignments_during(start, end).order_by("criterion__number", "pk"))
    own = [a for a in during if a.agency_id == agency.pk]
    responsible = [a for a in own if a.role == AssignmentRole.RESPONSIBLE]
    coordinating = [a for a in own if a.role == AssignmentRole.COORDINATING]
    part = ReportPart(
        _("Kết quả thực hiện các tiêu chí"),
        sources={"assignments": [a.pk for a in own], "year": year, "counts": []},
    )
    if not responsible:
        part.paragraphs.append(_("Không được phân công."))
        for a in coordinating:
            leads = [
                o.agency.name
                for o in during
                if o.role == AssignmentRole.RESPONSIBLE
                and o.agency_id != agency.pk
                and same_task(o, a)
            ]
            values = {
                "criterion": _criterion_label(a),
                "decision": _decision(a.decision_number, a.decision_date),
                "leads": ", ".join(dict.fromkeys(leads)),
            }
            if leads:
                text = _(
                    "Chỉ được phân công phối hợp với %(leads)s thực hiện %(criterion)s, "
                    "theo %(decision)s."
                )
            else:
                text = _("Chỉ được phân công phối hợp thực hiện %(criterion)s, theo %(decision)s.")
            part.paragraphs.append(text % values)
        return part
    for a in responsible:
        met, assessed = communes_meeting(a, year)
        before, assessed_before = communes_meeting(a, year - 1)
        part.sources["counts"].append(
            {
                "assignment": a.pk,
                "met": met,
                "assessed": assessed,
                "met_before": before,
                "assessed_before": assessed_before,
            }
        )
        partners = [
            o.agency.name
            for o in during
            if o.role == AssignmentRole.COORDINATING
            and o.agency_id != agency.pk
            and same_task(o, a)
        ]
        values = {
            "criterion": _criterion_label(a)[:1].upper() + _criterion_label(a)[1:],
            "decision": _decision(a.decision_number, a.decision_date),
            "year": year,
            "previous": year - 1,
            "met": format_number(met),
            "assessed": format_number(assessed),
            "percent": format_percent(100 * met / assessed, 1) if assessed else "",
            "met_before": format_number(before),
            "assessed_before": format_number(assessed_before),
            "partners": ", ".join(dict.fromkeys(partners)),
        }
        text = _("- %(criterion)s, chủ trì theo %(decision)s") % values
        if partners:
            text += _(" (phối hợp: %(partners)s)") % values
        if assessed:
            text += _(": năm %(year)s có %(met)s/%(assessed)s xã đạt (%(percent)s)") % values
            if assessed_before:
                text += (
                    _("; năm %(previous)s có %(met_before)s/%(assessed_before)s xã đạt") % values
                )
            text += "."
        else:
            text += _(": chưa có kết quả đánh giá của các xã năm %(year)s.") % values
        part.paragraphs.append(text)
    if _illustrative_assessments(responsible, year):
        part.paragraphs.append(_ILLUSTRATIVE_ASSESSMENTS())
    return part


def _ILLUSTRATIVE_ASSESSMENTS() -> str:
    return _(
        "(Kết quả đánh giá tiêu chí của các xã là số liệu minh họa, không phải số liệu chính thức.)"
    )


def _illustrative_assessments(assignments: list[Assignment], year: int) -> bool:
    return any(
        Assessment.objects.filter(
            criteria_set_id=a.criterion.criteria_set_id,
            year=year,
            unit__in=area_communes(a.area, year),
            illustrative=True,
        ).exists()
        for a in assignments
    )


# --- đỡ đầu ---------------------------------------------------------------------------------


def commune_progress(commune: Unit, year: int) -> dict:
    """The commune's standard-tier assessment of ``year`` and of the year before, and its
    recognitions in force at the end of ``year``."""
    rows = {
        a.year: a
        for a in Assessment.objects.filter(
            unit=commune, year__in=[year, year - 1], criteria_set__tier=SetTier.STANDARD
        )
        .select_related("criteria_set")
        .annotate(total=Count("criteria_set__criteria", distinct=True))
    }
    _start, end = year_span(year)
    recognitions = [
        r
        for r in Recognition.objects.filter(unit=commune, decision_date__lte=end).order_by(
            "decision_date"
        )
        if r.in_force_on(end)
    ]
    return {"now": rows.get(year), "before": rows.get(year - 1), "recognitions": recognitions}


def _progress_sentence(commune: Unit, year: int, progress: dict) -> str:
    now, before = progress["now"], progress["before"]
    name = commune.name
    if now is None:
        return _("- %(commune)s: chưa có kết quả đánh giá tiêu chí năm %(year)s.") % {
            "commune": name,
            "year": year,
        }
    values = {
        "commune": name,
        "year": year,
        "previous": year - 1,
        "met": format_number(now.criteria_met),
        "total": format_number(now.total),
        "level": str(NtmLevel(now.level).label).lower(),
    }
    text = _("- %(commune)s: năm %(year)s đạt %(met)s/%(total)s tiêu chí") % values
    if before is not None:
        values |= {"met_before": format_number(before.criteria_met), "total_before": before.total}
        text += _(" (năm %(previous)s: %(met_before)s/%(total_before)s tiêu chí)") % values
    text += (
        _(", chưa đạt chuẩn nông thôn mới") if now.level == NtmLevel.NONE else _(", %(level)s")
    ) % values
    recognitions = progress["recognitions"]
    if recognitions:
        r = recognitions[-1]
        text += _(" (công nhận năm %(year)s theo %(decision)s)") % {
            "year": r.year,
            "decision": _decision(r.decision_number, r.decision_date),
        }
    return text + "."


def sponsorship_part(agency: Unit, year: int) -> ReportPart:
    start, end = year_span(year)
    sponsorships = list(
        sponsorships_during(start, end)
        .filter(agency=agency)
        .order_by("decision_date", "decision_number", "commune__code")
    )
    part = ReportPart(
        _("Công tác đỡ đầu, phụ trách các xã"),
        sources={"sponsorships": [s.pk for s in sponsorships], "year": year, "assessments": []},
    )
    by_decision: dict[tuple, list[Sponsorship]] = defaultdict(list)
    for s in sponsorships:
        by_decision[(s.decision_number, s.decision_date)].append(s)
    illustrative = False
    for (number, day), group in by_decision.items():
        issuer = _issuer_of(number)
        communes = "; ".join(
            f"{s.commune.name} ({s.commune.parent.name})" if s.commune.parent_id else s.commune.name
            for s in group
        )
        values = {
            "decision": _decision(number, day),
            "issuer": issuer,
            "agency": agency.name,
            "communes": communes,
        }
        if issuer:
            text = _(
                "Thực hiện %(decision)s của %(issuer)s phân công địa bàn phụ trách, đỡ đầu xây "
                "dựng nông thôn mới, %(agency)s đỡ đầu %(communes)s"
            )
        else:
            text = _(
                "Theo %(decision)s phân công địa bàn phụ trách, đỡ đầu xây dựng nông thôn mới, "
                "%(agency)s đỡ đầu %(communes)s"
            )
        text %= values
        groups = sorted(
            {
                (s.working_group_number, s.working_group_date)
                for s in group
                if s.working_group_number
            },
            key=lambda g: (g[1], g[0]),
        )
        if groups:
            text += _("; tổ công tác đỡ đầu được thành lập theo %(decisions)s") % {
                "decisions": ", ".join(_decision(n, d) for n, d in groups)
            }
        part.paragraphs.append(text + ".")
        for s in group:
            progress = commune_progress(s.commune, year)
            for a in (progress["now"], progress["before"]):
                if a is not None:
                    part.sources["assessments"].append(a.pk)
                    illustrative |= a.illustrative
            illustrative |= s.illustrative
            part.paragraphs.append(_progress_sentence(s.commune, year, progress))
    if illustrative:
        part.paragraphs.append(
            _(
                "(Xã được đỡ đầu và kết quả đánh giá tiêu chí là số liệu minh họa, không phải "
                "số liệu chính thức.)"
            )
        )
    return part


def _sets_of_year(year: int):
    """The commune criteria sets (standard tier) that applied in some day of ``year``."""
    from tiendo.ntm.models import CriteriaSet

    start, end = year_span(year)
    return (
        CriteriaSet.objects.filter(
            level=Level.COMMUNE, tier=SetTier.STANDARD, programme__isnull=False
        )
        .filter(valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .order_by("valid_from")
    )


def _count(value) -> str:
    return format_number(value or 0)


def summary_part(unit: Unit, year: int) -> ReportPart:
    """The NTM summary of a province or district for ``year``: communes assessed, meeting
    every criterion (and %), per band, the average per commune and its change on the year
    before, communes meeting each criterion, recognised in the year and in total — the
    engine's figures (:func:`tiendo.ntm.figures.summary`), history-true."""
    from tiendo.ntm.figures import summary

    part = ReportPart(
        _("Kết quả thực hiện Bộ tiêu chí quốc gia về xã nông thôn mới"),
        sources={"year": year, "sets": []},
    )
    for cs in _sets_of_year(year):
        figures = summary(unit, cs, year)
        if not figures["assessed"]:
            continue
        part.sources["sets"].append(cs.code)
        total = cs.criteria.count()
        part.paragraphs.append(
            _(
                "Năm %(year)s, theo %(set)s: %(assessed)s xã được đánh giá; %(met)s xã đạt đủ "
                "%(total)s tiêu chí (%(pct)s)."
            )
            % {
                "year": year,
                "set": cs.name,
                "assessed": _count(figures["assessed"]),
                "met": _count(figures["met_all"]),
                "total": total,
                "pct": format_percent(figures["met_all_pct"] or 0, 1),
            }
        )
        bands = "; ".join(
            _("%(band)s: %(count)s xã") % {"band": b["label"], "count": _count(b["value"])}
            for b in figures["bands"]
        )
        if bands:
            part.paragraphs.append(_("Số xã theo số tiêu chí đạt: %(bands)s.") % {"bands": bands})
        average = _("Bình quân đạt %(avg)s tiêu chí/xã") % {
            "avg": format_number(figures["criteria_avg"], 1)
        }
        change = figures["criteria_avg_change"]
        if change is not None:
            words = (
                _("tăng %(n)s tiêu chí so với năm %(year)s")
                if change > 0
                else _("giảm %(n)s tiêu chí so với năm %(year)s")
                if change < 0
                else _("bằng năm %(year)s")
            )
            average += ", " + words % {"n": format_number(abs(change), 1), "year": year - 1}
        part.paragraphs.append(average + ".")
        criteria = "; ".join(
            _("tiêu chí %(n)s (%(name)s): %(count)s xã")
            % {"n": c["number"], "name": c["name"], "count": _count(c["value"])}
            for c in figures["criteria"]
        )
        part.paragraphs.append(_("Số xã đạt từng tiêu chí: %(criteria)s.") % {"criteria": criteria})
        part.paragraphs.append(
            _(
                "Trong năm có %(year_count)s xã được công nhận đạt chuẩn nông thôn mới; lũy kế "
                "đến cuối năm %(total)s xã đạt chuẩn."
            )
            % {
                "year_count": _count(figures["recognised"]),
                "total": _count(figures["recognised_total"]),
            }
        )
        if (
            Assessment.objects.filter(criteria_set=cs, year=year, illustrative=True)
            .filter(unit__in=area_communes(unit, year))
            .exists()
        ):
            part.paragraphs.append(
                _("(Kết quả đánh giá tiêu chí là số liệu minh họa, không phải số liệu chính thức.)")
            )
    return part


# The parts a report definition may name, each ``(agency or unit, year) -> ReportPart``.
PARTS: dict[str, Callable[[Unit, int], ReportPart]] = {
    "ntm_criteria": criteria_part,
    "ntm_sponsorship": sponsorship_part,
    "ntm_summary": summary_part,
}
