"""Reading the reporting cycle: entry windows, who is below whom, who still owes a report,
the narrative for the document generator, the completeness workbook. Nothing here writes;
the steps that do are in :mod:`tiendo.reporting.services`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from tiendo.accounts import scope
from tiendo.core.models import AuditEntry
from tiendo.programmes.periods import Period
from tiendo.reporting.models import (
    EntryWindowReopening,
    Form,
    ReportRequest,
    RequestRecipient,
    RequestStatus,
    Submission,
    SubmissionState,
    SubmissionWaiver,
)
from tiendo.units.models import Unit

# ---------------------------------------------------------------------------------------
# Entry windows


@dataclass(frozen=True)
class Window:
    form: Form
    opens: date
    closes: date
    reopened_until: date | None
    is_open: bool


def entry_window(form: Form, unit: Unit, period: Period, today: date) -> Window:
    opens, closes = form.window(period)
    reopening = (
        EntryWindowReopening.objects.filter(form=form, unit=unit, period=period.id)
        .order_by("-until")
        .first()
    )
    until = reopening.until if reopening else None
    is_open = opens <= today <= closes or (until is not None and today <= until)
    return Window(form, opens, closes, until, is_open)


def closed_forms(request: ReportRequest, today: date | None = None) -> list[Window]:
    """The letter's forms whose entry window has already closed: the recipients will not
    be able to enter their figures (unless a coordinator reopens the form for a unit)."""
    today = today or timezone.localdate()
    period = request.period_obj
    closed = []
    for form in request.forms.order_by("code"):
        opens, closes = form.window(period)
        if today > closes:
            closed.append(Window(form, opens, closes, None, False))
    return closed


def forms_for(submission: Submission) -> list[Form]:
    return [f for f in submission.request.forms.order_by("code") if f.applies_to(submission.unit)]


def closed_windows(submission: Submission, today: date) -> list[Window]:
    period = submission.request.period_obj
    windows = [entry_window(f, submission.unit, period, today) for f in forms_for(submission)]
    return [w for w in windows if not w.is_open]


# ---------------------------------------------------------------------------------------
# A submission and the units it consolidates


def run_submit_checks(submission: Submission) -> list[str]:
    """High-importance validation-rule violations that stop a submission.

    The data app's :func:`~tiendo.data.validation.blocking_violations` over the unit's
    figures, for each programme whose forms the request asks for; a violation the officer
    has explained for exactly these values no longer blocks.
    """
    from tiendo.data.validation import blocking_violations

    period = submission.request.period_obj
    programmes = {f.programme_id: f.programme for f in forms_for(submission)}
    messages: list[str] = []
    for programme in programmes.values():
        for violation in blocking_violations(submission.unit, period, programme):
            if violation.message not in messages:
                messages.append(violation.message)
    return messages


def units_below(submission: Submission) -> list[Unit]:
    """Recipients of the same request that lie below this unit (it consolidates them)."""
    unit = submission.unit
    return [
        r.unit
        for r in RequestRecipient.objects.filter(
            request=submission.request, unit__path__startswith=unit.path
        )
        .exclude(unit=unit)
        .select_related("unit")
        .order_by("unit__code")
    ]


def outstanding_below(submission: Submission) -> list[Unit]:
    """Units below that are neither approved nor waived: they hold up this submission."""
    below = units_below(submission)
    if not below:
        return []
    ids = [u.pk for u in below]
    approved = set(
        Submission.objects.filter(
            request=submission.request, unit_id__in=ids, state=SubmissionState.APPROVED
        ).values_list("unit_id", flat=True)
    )
    waived = set(
        SubmissionWaiver.objects.filter(request=submission.request, unit_id__in=ids).values_list(
            "unit_id", flat=True
        )
    )
    return [u for u in below if u.pk not in approved and u.pk not in waived]


def submissions_below(submission: Submission) -> list[dict]:
    """The submissions of the units this one consolidates, with their states."""
    below = units_below(submission)
    if not below:
        return []
    subs = {
        s.unit_id: s for s in Submission.objects.filter(request=submission.request, unit__in=below)
    }
    return [{"unit": u, "submission": subs.get(u.pk)} for u in below]


def submission_history(submission: Submission) -> list[AuditEntry]:
    """The audit entries of the submission's steps, oldest first; none for an unsaved one."""
    if submission.pk is None:
        return []
    return list(
        AuditEntry.objects.filter(
            object_type=Submission._meta.label_lower, object_id=str(submission.pk)
        ).select_related("actor")
    )


# ---------------------------------------------------------------------------------------
# A unit's inbox


def inbox_letters(user) -> tuple[list[dict], list[dict]]:
    """The sent letters addressed to the user's unit: those it still owes an answer, and
    those it has answered (sent or approved), by deadline."""
    owed: list[dict] = []
    done: list[dict] = []
    if not user.unit_id:
        return owed, done
    recipients = (
        RequestRecipient.objects.filter(unit=user.unit, request__status=RequestStatus.SENT)
        .select_related("request__issuer", "unit")
        .order_by("request__deadline")
    )
    subs = {
        s.request_id: s
        for s in Submission.objects.filter(
            unit=user.unit, request__in=[r.request_id for r in recipients]
        )
    }
    for r in recipients:
        sub = subs.get(r.request_id)
        item = {"request": r.request, "unit": r.unit, "submission": sub}
        answered = sub and sub.state in (SubmissionState.SUBMITTED, SubmissionState.APPROVED)
        (done if answered else owed).append(item)
    return owed, done


def awaiting_approval_by(user, *, limit: int = 200) -> list[Submission]:
    """Sent submissions of other units that the user approves, oldest first."""
    candidates = (
        Submission.objects.filter(
            state=SubmissionState.SUBMITTED, unit__in=scope.readable_units(user)
        )
        .exclude(unit_id=user.unit_id)
        .select_related("unit__parent", "request__issuer")  # may_approve reads both
        .order_by("submitted_at")[:limit]
    )
    return [s for s in candidates if scope.may_approve(user, s)]


# ---------------------------------------------------------------------------------------
# Who still owes the report


def not_submitted(request: ReportRequest) -> list[Unit]:
    """Recipients that owe the report: nothing sent yet, or returned and not sent again."""
    done = set(
        Submission.objects.filter(
            request=request,
            state__in=[SubmissionState.SUBMITTED, SubmissionState.APPROVED],
        ).values_list("unit_id", flat=True)
    )
    waived = set(SubmissionWaiver.objects.filter(request=request).values_list("unit_id", flat=True))
    return [
        r.unit
        for r in request.recipients.select_related("unit").order_by("unit__code")
        if r.unit_id not in done and r.unit_id not in waived
    ]


# ---------------------------------------------------------------------------------------
# Reading the narrative (for the document generator)


def subtree_submissions(request: ReportRequest, unit: Unit):
    """The submissions answering ``request`` from ``unit`` and the units below it, in tree
    order, with their units and section texts loaded: what a narrative is read from."""
    return (
        Submission.objects.filter(request=request, unit__path__startswith=unit.path)
        .select_related("unit")
        .prefetch_related("section_texts")
        .order_by("unit__path")
    )


def collect_narrative(
    request: ReportRequest, unit: Unit, *, approved_only: bool = True
) -> list[tuple[Unit, list[tuple[str, str]]]]:
    """The narrative of the submissions strictly below ``unit`` for ``request``.

    Returns ``[(unit, [(section title, text), ...]), ...]`` in unit code order.
    """
    submissions = (
        subtree_submissions(request, unit)
        .exclude(unit=unit)
        .select_related("request")
        .prefetch_related("request__sections")
        .order_by("unit__code")
    )
    if approved_only:
        submissions = submissions.filter(state=SubmissionState.APPROVED)
    return [(s.unit, s.sections) for s in submissions]
