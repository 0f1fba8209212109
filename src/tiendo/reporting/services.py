"""The steps of the reporting cycle, each one shaped the same way.

Inside one transaction: re-read the row with ``select_for_update()`` (two approvers who
press at the same moment queue on the lock, and the second sees the first one's state) →
check the state, raising :class:`ReportingError` with a Vietnamese message → save with
``update_fields`` → an audit entry with a dotted action code → notify the people concerned
(their mails leave only once the transaction has committed). ``now`` parameters let the
demo and the tests replay a cycle that happened on other days; views never pass them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.accounts.models import Role, User
from tiendo.core.audit import audit, notify
from tiendo.core.formatting import format_date
from tiendo.data.services import Entry, save_values
from tiendo.programmes.periods import Period
from tiendo.reporting.models import (
    EntryWindowReopening,
    Form,
    FormIndicator,
    NarrativeSection,
    ReportRequest,
    RequestRecipient,
    RequestStatus,
    Submission,
    SubmissionSection,
    SubmissionState,
    SubmissionWaiver,
)
from tiendo.units.models import Unit


class ReportingError(Exception):
    """A workflow step that is not allowed now; the message is Vietnamese, for the user."""


# ---------------------------------------------------------------------------------------
# Who does what


def approver_units(submission: Submission) -> list[Unit]:
    """The units whose officers approve this submission (:meth:`Submission.approver_units`)."""
    return submission.approver_units()


# The predicates live in accounts.scope, the one place that answers who may do what.
may_approve = scope.may_approve
may_edit = scope.may_edit
may_issue = scope.may_issue


def unit_users(units) -> list[User]:
    return list(User.objects.filter(unit__in=list(units), is_active=True))


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _today(now: datetime | None) -> date:
    return timezone.localdate(_now(now))


def submission_link(submission: Submission) -> str:
    return reverse("reporting:submission", args=[submission.pk])


# ---------------------------------------------------------------------------------------
# Requests


def check_request_forms(request: ReportRequest, forms) -> None:
    period = request.period_obj
    wrong = [f.name for f in forms if f.period_type != period.type]
    if wrong:
        raise ReportingError(
            f"Biểu {', '.join(wrong)} không dùng cho loại kỳ của công văn ({period.label})."
        )


def expand_recipients(request: ReportRequest) -> list[Unit]:
    """Turn each rule "every unit of kind K under U" into recipient rows (valid in the period)."""
    period = request.period_obj
    added = []
    for rule in request.rules.select_related("under"):
        units = (
            Unit.objects.subtree(rule.under, include_self=False)
            .filter(kind=rule.unit_kind)
            .valid_during(period)
        )
        for unit in units.order_by("code"):
            _recipient, created = RequestRecipient.objects.get_or_create(
                request=request, unit=unit, defaults={"rule": rule}
            )
            if created:
                added.append(unit)
    return added


def send_request(request: ReportRequest, user, *, now: datetime | None = None) -> int:
    """Send the letter: expand the rules, notify every recipient. Returns the recipients."""
    with transaction.atomic():
        request.refresh_from_db(from_queryset=ReportRequest.objects.select_for_update())
        if request.status != RequestStatus.DRAFT:
            raise ReportingError(f"Công văn {request.number_symbol} đã được gửi trước đó.")
        check_request_forms(request, request.forms.all())
        expand_recipients(request)
        recipients = list(request.recipients.select_related("unit"))
        if not recipients:
            raise ReportingError("Công văn chưa có đơn vị nhận nào; xin chọn đơn vị nhận.")
        request.status, request.sent_at = RequestStatus.SENT, _now(now)
        request.save(update_fields=["status", "sent_at"])
        audit(
            "request.sent",
            actor=user,
            unit=request.issuer,
            obj=request,
            message=f"Gửi công văn {request.number_symbol} tới {len(recipients)} đơn vị",
            recipients=[r.unit.code for r in recipients],
        )
        notify(
            unit_users(r.unit for r in recipients),
            f"{request.issuer.name} yêu cầu báo cáo theo công văn {request.number_symbol}: "
            f"{request.title}. Hạn gửi: {format_date(request.deadline)}.",
            link=reverse("reporting:inbox"),
        )
    return len(recipients)


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


def reopen_window(
    form: Form, unit: Unit, period: str, until: date, reason: str, user, *, now=None
) -> EntryWindowReopening:
    reason = (reason or "").strip()
    if not (user.is_superuser or user.role in (Role.COORDINATOR, Role.ADMIN)):
        raise ReportingError("Chỉ văn phòng điều phối được mở lại hạn nhập số liệu.")
    if not reason:
        raise ReportingError("Xin ghi lý do mở lại hạn nhập số liệu.")
    if until < _today(now):
        raise ReportingError("Ngày mở đến phải từ hôm nay trở đi.")
    with transaction.atomic():
        reopening = EntryWindowReopening.objects.create(
            form=form, unit=unit, period=period, until=until, reason=reason, created_by=user
        )
        audit(
            "entry_window.reopened",
            actor=user,
            unit=unit,
            obj=reopening,
            message=f"Mở lại biểu {form.name} kỳ {period} đến {format_date(until)}: {reason}",
        )
        notify(
            unit_users([unit]),
            f"Biểu {form.name} ({period}) được mở lại đến ngày {format_date(until)}. "
            f"Lý do: {reason}",
        )
    return reopening


# ---------------------------------------------------------------------------------------
# Submissions


def forms_for(submission: Submission) -> list[Form]:
    return [f for f in submission.request.forms.order_by("code") if f.applies_to(submission.unit)]


def open_submission(request: ReportRequest, unit: Unit) -> Submission:
    """The unit's submission for this request, created as a draft the first time."""
    if not RequestRecipient.objects.filter(request=request, unit=unit).exists():
        raise ReportingError(f"{unit.name} không thuộc danh sách nhận công văn này.")
    submission, _created = Submission.objects.get_or_create(request=request, unit=unit)
    return submission


def _check_editable(submission: Submission, user) -> None:
    if not may_edit(user, submission):
        raise ReportingError("Bạn không có quyền sửa báo cáo của đơn vị này.")
    if submission.state == SubmissionState.APPROVED:
        raise ReportingError("Báo cáo đã được duyệt, số liệu đã khóa; không sửa được.")
    if submission.state == SubmissionState.SUBMITTED:
        raise ReportingError("Báo cáo đã gửi, đang chờ duyệt; không sửa được.")


def closed_windows(submission: Submission, today: date) -> list[Window]:
    period = submission.request.period_obj
    windows = [entry_window(f, submission.unit, period, today) for f in forms_for(submission)]
    return [w for w in windows if not w.is_open]


def _window_message(windows: list[Window], today: date, *, submitting: bool = False) -> str:
    parts = []
    for w in windows:
        if today < w.opens:
            parts.append(
                _("biểu “%(form)s” mở nhập từ ngày %(opens)s")
                % {"form": w.form.name, "opens": format_date(w.opens)}
            )
        else:
            parts.append(
                _("biểu “%(form)s” đã hết hạn nhập ngày %(closes)s")
                % {"form": w.form.name, "closes": format_date(w.closes)}
            )
    head = _("Chưa gửi được báo cáo") if submitting else _("Chưa nhập được số liệu")
    message = f"{head}: " + "; ".join(parts) + "."
    if any(today > w.closes for w in windows):
        message += " " + _("Liên hệ văn phòng điều phối để được mở lại.")
    return message


def _windows_touched(windows: list[Window], entries: list[Entry]) -> list[Window]:
    """The windows among ``windows`` whose form has a line for one of the entries."""
    if not windows:
        return []
    touched = set(
        FormIndicator.objects.filter(
            form__in=[w.form for w in windows],
            indicator_id__in={e.indicator.pk for e in entries},
        ).values_list("form_id", flat=True)
    )
    return [w for w in windows if w.form.pk in touched]


def save_draft(
    submission: Submission,
    user,
    *,
    entries: list[Entry],
    texts: dict[int, str],
    now: datetime | None = None,
) -> dict[str, int]:
    """Save values (through the data service, with history) and narrative texts."""
    _check_editable(submission, user)  # early, for a clear message; again under the lock
    today = _today(now)
    if entries:
        # Only the forms the figures belong to: the narrative, and the figures of a form
        # still open, are saved whatever the state of another form's window.
        closed = _windows_touched(closed_windows(submission, today), entries)
        if closed:
            raise ReportingError(_window_message(closed, today))
    sections = {s.pk: s for s in NarrativeSection.objects.filter(request=submission.request)}
    unknown = set(texts) - set(sections)
    if unknown:
        raise ReportingError("Mục báo cáo không thuộc công văn này.")
    with transaction.atomic():
        _lock(submission)
        _check_editable(submission, user)
        results = save_values(entries, user=user, source="submission") if entries else []
        changed_texts = 0
        existing = {s.section_id: s for s in submission.section_texts.all()}
        for section_id, text in texts.items():
            current = existing.get(section_id)
            if current is None:
                if text:
                    SubmissionSection.objects.create(
                        submission=submission, section_id=section_id, text=text
                    )
                    changed_texts += 1
            elif current.text != text:
                current.text = text
                current.save(update_fields=["text"])
                changed_texts += 1
        changed_values = sum(1 for r in results if r.action is not None)
        if changed_values or changed_texts:
            submission.save(update_fields=["updated_at"])
            audit(
                "submission.saved",
                actor=user,
                unit=submission.unit,
                obj=submission,
                message=f"Lưu nháp: {changed_values} số liệu, {changed_texts} mục nội dung",
                values=changed_values,
                sections=changed_texts,
            )
    return {"values": changed_values, "sections": changed_texts}


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


def _lock(submission: Submission) -> Submission:
    """Re-read the submission's row, locked until the end of the transaction."""
    submission.refresh_from_db(from_queryset=Submission.objects.select_for_update())
    return submission


def submit(submission: Submission, user, *, now: datetime | None = None) -> Submission:
    moment = _now(now)
    today = timezone.localdate(moment)
    with transaction.atomic():
        _lock(submission)
        _check_editable(submission, user)
        closed = closed_windows(submission, today)
        if closed:
            raise ReportingError(_window_message(closed, today, submitting=True))
        waiting = outstanding_below(submission)
        if waiting:
            names = ", ".join(u.name for u in waiting[:10])
            more = f" và {len(waiting) - 10} đơn vị khác" if len(waiting) > 10 else ""
            raise ReportingError(
                f"Chưa gửi được: báo cáo của {names}{more} chưa được duyệt hoặc miễn báo cáo."
            )
        violations = run_submit_checks(submission)
        if violations:
            raise ReportingError(
                "Chưa gửi được, số liệu vi phạm quy tắc kiểm tra: " + "; ".join(violations)
            )
        again = submission.state == SubmissionState.RETURNED
        submission.state = SubmissionState.SUBMITTED
        submission.submitted_at, submission.submitted_by = moment, user
        fields = ["state", "submitted_at", "submitted_by", "updated_at"]
        if submission.first_submitted_at is None:
            submission.first_submitted_at = moment
            fields.append("first_submitted_at")
        submission.save(update_fields=fields)
        audit(
            "submission.resubmitted" if again else "submission.submitted",
            actor=user,
            unit=submission.unit,
            obj=submission,
            message=("Gửi lại báo cáo" if again else "Gửi báo cáo"),
        )
        notify(
            unit_users(approver_units(submission)),
            f"{submission.unit.name} đã {'gửi lại' if again else 'gửi'} báo cáo theo công văn "
            f"{submission.request.number_symbol}; đề nghị xem xét, duyệt.",
            link=submission_link(submission),
        )
    return submission


def _check_approver(submission: Submission, user) -> None:
    if not may_approve(user, submission):
        raise ReportingError("Chỉ đơn vị cấp trên được duyệt hoặc trả lại báo cáo này.")


def return_submission(
    submission: Submission, user, reason: str, *, now: datetime | None = None
) -> Submission:
    _check_approver(submission, user)
    reason = (reason or "").strip()
    with transaction.atomic():
        _lock(submission)
        if submission.state != SubmissionState.SUBMITTED:
            raise ReportingError("Chỉ trả lại được báo cáo đã gửi, đang chờ duyệt.")
        if not reason:
            raise ReportingError("Xin ghi lý do trả lại báo cáo.")
        submission.state = SubmissionState.RETURNED
        submission.returned_at, submission.returned_by = _now(now), user
        submission.return_reason = reason
        submission.save(
            update_fields=["state", "returned_at", "returned_by", "return_reason", "updated_at"]
        )
        audit(
            "submission.returned",
            actor=user,
            unit=submission.unit,
            obj=submission,
            message=f"Trả lại báo cáo: {reason}",
            reason=reason,
        )
        notify(
            unit_users([submission.unit]),
            f"Báo cáo theo công văn {submission.request.number_symbol} bị trả lại. Lý do: {reason}",
            link=submission_link(submission),
        )
    return submission


def approve(submission: Submission, user, *, now: datetime | None = None) -> Submission:
    _check_approver(submission, user)
    with transaction.atomic():
        _lock(submission)
        if submission.state != SubmissionState.SUBMITTED:
            raise ReportingError("Chỉ duyệt được báo cáo đã gửi, đang chờ duyệt.")
        submission.state = SubmissionState.APPROVED
        submission.approved_at, submission.approved_by = _now(now), user
        submission.save(update_fields=["state", "approved_at", "approved_by", "updated_at"])
        audit(
            "submission.approved",
            actor=user,
            unit=submission.unit,
            obj=submission,
            message="Duyệt báo cáo; số liệu đã khóa",
        )
        notify(
            unit_users([submission.unit]),
            f"Báo cáo theo công văn {submission.request.number_symbol} đã được duyệt.",
            link=submission_link(submission),
        )
    return submission


def unapprove(
    submission: Submission, user, reason: str, *, now: datetime | None = None
) -> Submission:
    """Take an approval back (the figures unlock); the unit may then correct and resubmit."""
    _check_approver(submission, user)
    reason = (reason or "").strip()
    with transaction.atomic():
        _lock(submission)
        if submission.state != SubmissionState.APPROVED:
            raise ReportingError("Báo cáo chưa được duyệt nên không hủy duyệt được.")
        if not reason:
            raise ReportingError("Xin ghi lý do hủy duyệt.")
        above = (
            Submission.objects.filter(
                request=submission.request,
                unit_id__in=submission.unit.ancestor_ids,
                state__in=[SubmissionState.SUBMITTED, SubmissionState.APPROVED],
            )
            .select_related("unit")
            .first()
        )
        if above is not None:
            raise ReportingError(
                f"{above.unit.name} đã gửi báo cáo tổng hợp có số liệu này; "
                "cần trả lại báo cáo tổng hợp trước khi hủy duyệt."
            )
        submission.state = SubmissionState.RETURNED
        submission.returned_at, submission.returned_by = _now(now), user
        submission.return_reason = reason
        submission.approved_at = None
        submission.save(
            update_fields=[
                "state",
                "returned_at",
                "returned_by",
                "return_reason",
                "approved_at",
                "updated_at",
            ]
        )
        audit(
            "submission.unapproved",
            actor=user,
            unit=submission.unit,
            obj=submission,
            message=f"Hủy duyệt báo cáo: {reason}",
            reason=reason,
        )
        notify(
            unit_users([submission.unit]),
            f"Báo cáo theo công văn {submission.request.number_symbol} bị hủy duyệt. "
            f"Lý do: {reason}",
            link=submission_link(submission),
        )
    return submission


def waive(request: ReportRequest, unit: Unit, user, reason: str) -> SubmissionWaiver:
    """Excuse a unit below from this request, so the unit above can consolidate without it."""
    reason = (reason or "").strip()
    probe = Submission(request=request, unit=unit)
    if not may_approve(user, probe):
        raise ReportingError("Chỉ đơn vị cấp trên được miễn báo cáo cho đơn vị này.")
    with transaction.atomic():
        # The recipient row stands for the unit's place in the letter: waivers and the
        # unit's own approval of this request queue on it.
        recipient = (
            RequestRecipient.objects.select_for_update().filter(request=request, unit=unit).first()
        )
        if recipient is None:
            raise ReportingError(f"{unit.name} không thuộc danh sách nhận công văn này.")
        submission = (
            Submission.objects.select_for_update().filter(request=request, unit=unit).first()
        )
        if submission is not None and submission.state == SubmissionState.APPROVED:
            raise ReportingError(f"Báo cáo của {unit.name} đã được duyệt, không cần miễn.")
        if not reason:
            raise ReportingError("Xin ghi lý do miễn báo cáo.")
        if SubmissionWaiver.objects.filter(request=request, unit=unit).exists():
            raise ReportingError(f"{unit.name} đã được miễn báo cáo.")
        waiver = SubmissionWaiver.objects.create(
            request=request, unit=unit, reason=reason, created_by=user
        )
        audit(
            "submission.waived",
            actor=user,
            unit=unit,
            obj=waiver,
            message=f"Miễn báo cáo: {reason}",
            reason=reason,
        )
        notify(
            unit_users([unit]),
            f"Đơn vị được miễn báo cáo theo công văn {request.number_symbol}. Lý do: {reason}",
        )
    return waiver


# ---------------------------------------------------------------------------------------
# Reminders


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


def send_reminders(request: ReportRequest, user=None, *, now: datetime | None = None) -> int:
    """Notify every recipient that has not submitted (by email too when SMTP is set)."""
    if request.status != RequestStatus.SENT:
        raise ReportingError("Chỉ nhắc được công văn đã gửi và chưa kết thúc.")
    owing = not_submitted(request)
    if not owing:
        return 0
    today = _today(now)
    late = today > request.deadline
    with transaction.atomic():
        audit(
            "request.reminded",
            actor=user,
            unit=request.issuer,
            obj=request,
            message=f"Nhắc {len(owing)} đơn vị chưa gửi báo cáo",
            units=[u.code for u in owing],
        )
        message = (
            f"Nhắc: đơn vị chưa gửi báo cáo theo công văn {request.number_symbol} "
            f"({request.title}); hạn gửi {format_date(request.deadline)}"
            + (" — đã quá hạn." if late else ".")
        )
        notify(
            unit_users(owing),
            message,
            link=reverse("reporting:inbox"),
            subject=f"Nhắc gửi báo cáo theo công văn {request.number_symbol}",
        )
    return len(owing)


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
