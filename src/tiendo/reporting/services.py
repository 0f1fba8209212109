"""The steps of the reporting cycle — the only code that writes letters and answers —
each one shaped the same way.

Inside one transaction: re-read the row with ``select_for_update()`` (two approvers who
press at the same moment queue on the lock, and the second sees the first one's state) →
check the state, raising :class:`ReportingError` with a stable code and a translatable
message → save with ``update_fields`` → an audit entry with a dotted action code → notify
the people concerned (their mails leave only once the transaction has committed). ``now``
parameters let the demo and the tests replay a cycle that happened on other days; views
never pass them. What the steps read is in :mod:`tiendo.reporting.queries`.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.accounts.models import User
from tiendo.core.audit import audit, notify
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date
from tiendo.core.text import nfc
from tiendo.data.services import Entry, save_values
from tiendo.reporting.models import (
    EntryWindowReopening,
    Form,
    FormIndicator,
    NarrativeSection,
    RecipientRule,
    ReportRequest,
    RequestRecipient,
    RequestStatus,
    Submission,
    SubmissionSection,
    SubmissionState,
    SubmissionWaiver,
)
from tiendo.reporting.queries import (
    Window,
    closed_windows,
    not_submitted,
    outstanding_below,
    run_submit_checks,
)
from tiendo.units.models import Unit


class ReportingError(TiendoError):
    """A workflow step that is not allowed now (``code`` says which refusal)."""

    code = "reporting.refused"


def unit_users(units) -> list[User]:
    return list(User.objects.filter(unit__in=list(units), is_active=True))


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _today(now: datetime | None) -> date:
    return timezone.localdate(_now(now))


def submission_link(submission: Submission) -> str:
    return reverse("reporting:submission", args=[submission.pk])


def _reason(text: str | None, missing) -> str:
    """The reason a step is given, stripped; ``missing`` is the message when it is empty."""
    reason = (text or "").strip()
    if not reason:
        raise ReportingError(missing, code="reporting.reason_missing")
    return reason


def _not_a_recipient(unit: Unit) -> ReportingError:
    return ReportingError(
        _("%(unit)s không thuộc danh sách nhận công văn này."),
        code="reporting.not_a_recipient",
        unit=unit.name,
    )


# ---------------------------------------------------------------------------------------
# Letters


@dataclass(frozen=True)
class Letter:
    """What a coordinator writes into a new letter (the request form's cleaned data)."""

    number_symbol: str
    issued_on: date
    issuer: Unit
    title: str
    summary: str
    period: str
    data_as_of: date | None
    deadline: date
    forms: list[Form]
    section_titles: list[str]
    recipients: list[Unit]
    rule: tuple[str, Unit] | None = None


def create_request(letter: Letter, user) -> ReportRequest:
    """Write a draft letter with its forms, sections and recipients; nothing is sent yet,
    so no one is notified (:func:`send_request` does that)."""
    if not scope.may_issue(user, letter.issuer):
        raise ReportingError(
            _("Bạn không có quyền gửi công văn của đơn vị này."), code="reporting.issue_refused"
        )
    check_recipients(letter, user)
    check_forms_reach(letter.forms, letter.recipients)
    try:
        with transaction.atomic():
            request = ReportRequest.objects.create(
                number_symbol=nfc(letter.number_symbol),
                issued_on=letter.issued_on,
                issuer=letter.issuer,
                title=nfc(letter.title),
                summary=nfc(letter.summary),
                period=letter.period,
                data_as_of=letter.data_as_of,
                deadline=letter.deadline,
                created_by=user,
            )
            check_request_forms(request, letter.forms)
            _fill_request(request, letter)
            audit(
                "request.created",
                actor=user,
                unit=request.issuer,
                obj=request,
                number=request.number_symbol,
            )
    except IntegrityError:
        raise ReportingError(
            _("Công văn số này của đơn vị đã có."), code="reporting.number_taken"
        ) from None
    return request


def check_recipients(letter: Letter, user) -> None:
    """Every recipient lies in the issuer's scope (:func:`scope.letter_scope_root`), is
    readable by the user and is valid on the letter's date; the refusal names them all."""
    wrong = [
        u
        for u in letter.recipients
        if not scope.may_address(user, letter.issuer, u, letter.issued_on)
    ]
    if wrong:
        raise ReportingError(
            _(
                "Không gửi được công văn của %(issuer)s ngày %(date)s tới: %(units)s (ngoài "
                "phạm vi của đơn vị gửi hoặc không còn hiệu lực vào ngày đó)."
            ),
            code="reporting.recipient_out_of_scope",
            issuer=letter.issuer.name,
            date=format_date(letter.issued_on),
            units="; ".join(u.name for u in wrong),
        )


def _fill_request(request: ReportRequest, letter: Letter) -> None:
    request.forms.set(letter.forms)
    for order, title in enumerate(letter.section_titles):
        NarrativeSection.objects.create(request=request, order=order, title=title)
    for unit in letter.recipients:
        RequestRecipient.objects.get_or_create(request=request, unit=unit)
    if letter.rule:
        kind, under = letter.rule
        RecipientRule.objects.create(request=request, unit_kind=kind, under=under)


def check_request_forms(request: ReportRequest, forms) -> None:
    period = request.period_obj
    wrong = [f.name for f in forms if f.period_type != period.type]
    if wrong:
        raise ReportingError(
            _("Biểu %(forms)s không dùng cho loại kỳ của công văn (%(period)s)."),
            code="reporting.form_period_mismatch",
            forms=", ".join(wrong),
            period=period.label,
        )


def check_forms_reach(forms, recipients) -> None:
    """Every form's programme applies to each recipient or below it: a letter never asks a
    unit for the forms of a programme of another province. The refusal names them all."""
    wrong = [
        (form, unit)
        for form in forms
        for unit in recipients
        if not form.programme.reaches_into(unit)
    ]
    if wrong:
        raise ReportingError(
            _(
                "Không gửi được công văn: chương trình của biểu không áp dụng cho đơn vị nhận "
                "— %(pairs)s."
            ),
            code="reporting.programme_not_for_recipient",
            pairs="; ".join(
                gettext("%(unit)s (biểu %(form)s, chương trình %(programme)s)")
                % {"unit": unit.name, "form": form.code, "programme": form.programme.code}
                for form, unit in wrong
            ),
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
            raise ReportingError(
                _("Công văn %(number)s đã được gửi trước đó."),
                code="reporting.already_sent",
                number=request.number_symbol,
            )
        check_request_forms(request, request.forms.all())
        expand_recipients(request)
        recipients = list(request.recipients.select_related("unit"))
        if not recipients:
            raise ReportingError(
                _("Công văn chưa có đơn vị nhận nào; xin chọn đơn vị nhận."),
                code="reporting.no_recipients",
            )
        check_forms_reach(request.forms.select_related("programme"), [r.unit for r in recipients])
        request.status, request.sent_at = RequestStatus.SENT, _now(now)
        request.save(update_fields=["status", "sent_at"])
        audit(
            "request.sent",
            actor=user,
            unit=request.issuer,
            obj=request,
            number=request.number_symbol,
            count=len(recipients),
            recipients=[r.unit.code for r in recipients],
        )
        notify(
            unit_users(r.unit for r in recipients),
            _(
                "%(issuer)s yêu cầu báo cáo theo công văn %(number)s: %(title)s. "
                "Hạn gửi: %(deadline)s."
            ),
            params={
                "issuer": request.issuer.name,
                "number": request.number_symbol,
                "title": request.title,
                "deadline": format_date(request.deadline),
            },
            link=reverse("reporting:inbox"),
        )
    return len(recipients)


def send_reminders(request: ReportRequest, user=None, *, now: datetime | None = None) -> int:
    """Notify every recipient that has not submitted (by email too when SMTP is set)."""
    if request.status != RequestStatus.SENT:
        raise ReportingError(
            _("Chỉ nhắc được công văn đã gửi và chưa kết thúc."), code="reporting.not_sent"
        )
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
            count=len(owing),
            units=[u.code for u in owing],
        )
        if late:
            message = _(
                "Nhắc: đơn vị chưa gửi báo cáo theo công văn %(number)s (%(title)s); "
                "hạn gửi %(deadline)s — đã quá hạn."
            )
        else:
            message = _(
                "Nhắc: đơn vị chưa gửi báo cáo theo công văn %(number)s (%(title)s); "
                "hạn gửi %(deadline)s."
            )
        notify(
            unit_users(owing),
            message,
            params={
                "number": request.number_symbol,
                "title": request.title,
                "deadline": format_date(request.deadline),
            },
            link=reverse("reporting:inbox"),
            subject=_("Nhắc gửi báo cáo theo công văn %(number)s"),
        )
    return len(owing)


# ---------------------------------------------------------------------------------------
# Entry windows


def reopen_window(
    form: Form, unit: Unit, period: str, until: date, reason: str, user, *, now=None
) -> EntryWindowReopening:
    if not scope.is_manager(user):
        raise ReportingError(
            _("Chỉ văn phòng điều phối được mở lại hạn nhập số liệu."),
            code="reporting.reopen_refused",
        )
    reason = _reason(reason, _("Xin ghi lý do mở lại hạn nhập số liệu."))
    if until < _today(now):
        raise ReportingError(
            _("Ngày mở đến phải từ hôm nay trở đi."), code="reporting.reopen_in_past"
        )
    with transaction.atomic():
        reopening = EntryWindowReopening.objects.create(
            form=form, unit=unit, period=period, until=until, reason=reason, created_by=user
        )
        audit(
            "entry_window.reopened",
            actor=user,
            unit=unit,
            obj=reopening,
            form=form.name,
            period=period,
            until=until,
            reason=reason,
        )
        notify(
            unit_users([unit]),
            _("Biểu %(form)s (%(period)s) được mở lại đến ngày %(until)s. Lý do: %(reason)s"),
            params={
                "form": form.name,
                "period": period,
                "until": format_date(until),
                "reason": reason,
            },
        )
    return reopening


def _windows_closed_error(windows: list[Window], today: date, *, submitting=False):
    parts = []
    for w in windows:
        if today < w.opens:
            parts.append(
                gettext("biểu “%(form)s” mở nhập từ ngày %(opens)s")
                % {"form": w.form.name, "opens": format_date(w.opens)}
            )
        else:
            parts.append(
                gettext("biểu “%(form)s” đã hết hạn nhập ngày %(closes)s")
                % {"form": w.form.name, "closes": format_date(w.closes)}
            )
    advice = ""
    if any(today > w.closes for w in windows):
        advice = " " + gettext("Liên hệ văn phòng điều phối để được mở lại.")
    if submitting:
        message, code = _("Chưa gửi được báo cáo: %(forms)s.%(advice)s"), "submit_window_closed"
    else:
        message, code = _("Chưa nhập được số liệu: %(forms)s.%(advice)s"), "window_closed"
    return ReportingError(message, code=f"reporting.{code}", forms="; ".join(parts), advice=advice)


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


# ---------------------------------------------------------------------------------------
# Submissions


def open_submission(request: ReportRequest, unit: Unit) -> Submission:
    """The unit's submission for this request, created as a draft the first time."""
    if not RequestRecipient.objects.filter(request=request, unit=unit).exists():
        raise _not_a_recipient(unit)
    submission, _created = Submission.objects.get_or_create(request=request, unit=unit)
    return submission


def _lock(submission: Submission) -> Submission:
    """Re-read the submission's row, locked until the end of the transaction."""
    submission.refresh_from_db(from_queryset=Submission.objects.select_for_update())
    return submission


def _check_editable(submission: Submission, user) -> None:
    if not scope.may_edit(user, submission):
        raise ReportingError(
            _("Bạn không có quyền sửa báo cáo của đơn vị này."), code="reporting.edit_refused"
        )
    if submission.state == SubmissionState.APPROVED:
        raise ReportingError(
            _("Báo cáo đã được duyệt, số liệu đã khóa; không sửa được."),
            code="reporting.approved_locked",
        )
    if submission.state == SubmissionState.SUBMITTED:
        raise ReportingError(
            _("Báo cáo đã gửi, đang chờ duyệt; không sửa được."),
            code="reporting.awaiting_approval",
        )


def _check_approver(submission: Submission, user) -> None:
    if not scope.may_approve(user, submission):
        raise ReportingError(
            _("Chỉ đơn vị cấp trên được duyệt hoặc trả lại báo cáo này."),
            code="reporting.approve_refused",
        )


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
            raise _windows_closed_error(closed, today)
    sections = {s.pk: s for s in NarrativeSection.objects.filter(request=submission.request)}
    if set(texts) - set(sections):
        raise ReportingError(
            _("Mục báo cáo không thuộc công văn này."), code="reporting.unknown_section"
        )
    with transaction.atomic():
        _lock(submission)
        _check_editable(submission, user)
        results = save_values(entries, user=user, source="submission") if entries else []
        changed_values = sum(1 for r in results if r.action is not None)
        changed_texts = _save_texts(submission, texts)
        if changed_values or changed_texts:
            submission.save(update_fields=["updated_at"])
            audit(
                "submission.saved",
                actor=user,
                unit=submission.unit,
                obj=submission,
                values=changed_values,
                sections=changed_texts,
            )
    return {"values": changed_values, "sections": changed_texts}


def _save_texts(submission: Submission, texts: dict[int, str]) -> int:
    """Write the narrative texts that changed; returns how many did."""
    changed = 0
    existing = {s.section_id: s for s in submission.section_texts.all()}
    for section_id, text in texts.items():
        current = existing.get(section_id)
        if current is None:
            if text:
                SubmissionSection.objects.create(
                    submission=submission, section_id=section_id, text=text
                )
                changed += 1
        elif current.text != text:
            current.text = text
            current.save(update_fields=["text"])
            changed += 1
    return changed


def _check_submittable(submission: Submission, today: date) -> None:
    closed = closed_windows(submission, today)
    if closed:
        raise _windows_closed_error(closed, today, submitting=True)
    waiting = outstanding_below(submission)
    if waiting:
        names = ", ".join(u.name for u in waiting[:10])
        if len(waiting) > 10:
            names += gettext(" và %(n)d đơn vị khác") % {"n": len(waiting) - 10}
        raise ReportingError(
            _("Chưa gửi được: báo cáo của %(units)s chưa được duyệt hoặc miễn báo cáo."),
            code="reporting.units_below_outstanding",
            units=names,
        )
    violations = run_submit_checks(submission)
    if violations:
        raise ReportingError(
            _("Chưa gửi được, số liệu vi phạm quy tắc kiểm tra: %(violations)s"),
            code="reporting.rules_violated",
            violations="; ".join(violations),
        )


def submit(submission: Submission, user, *, now: datetime | None = None) -> Submission:
    moment = _now(now)
    with transaction.atomic():
        _lock(submission)
        _check_editable(submission, user)
        _check_submittable(submission, timezone.localdate(moment))
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
        )
        if again:
            message = _(
                "%(unit)s đã gửi lại báo cáo theo công văn %(number)s; đề nghị xem xét, duyệt."
            )
        else:
            message = _("%(unit)s đã gửi báo cáo theo công văn %(number)s; đề nghị xem xét, duyệt.")
        notify(
            unit_users(submission.approver_units()),
            message,
            params={"unit": submission.unit.name, "number": submission.request.number_symbol},
            link=submission_link(submission),
        )
    return submission


# The approver's steps: the state each needs, and the refusal when the report is not in it.
_APPROVER_STEPS = {
    "return": (
        SubmissionState.SUBMITTED,
        _("Chỉ trả lại được báo cáo đã gửi, đang chờ duyệt."),
        "reporting.return_not_submitted",
    ),
    "approve": (
        SubmissionState.SUBMITTED,
        _("Chỉ duyệt được báo cáo đã gửi, đang chờ duyệt."),
        "reporting.approve_not_submitted",
    ),
    "unapprove": (
        SubmissionState.APPROVED,
        _("Báo cáo chưa được duyệt nên không hủy duyệt được."),
        "reporting.unapprove_not_approved",
    ),
}


@contextmanager
def _approver_step(submission: Submission, user, step: str):
    """Check the approver; then, in one transaction, lock the row and check it is in the
    state ``step`` needs (:data:`_APPROVER_STEPS`) before the step's body runs."""
    _check_approver(submission, user)
    needed, message, code = _APPROVER_STEPS[step]
    with transaction.atomic():
        _lock(submission)
        if submission.state != needed:
            raise ReportingError(message, code=code)
        yield


def return_submission(
    submission: Submission, user, reason: str, *, now: datetime | None = None
) -> Submission:
    with _approver_step(submission, user, "return"):
        reason = _reason(reason, _("Xin ghi lý do trả lại báo cáo."))
        _send_back(submission, user, reason, now, action="submission.returned")
    return submission


def approve(submission: Submission, user, *, now: datetime | None = None) -> Submission:
    with _approver_step(submission, user, "approve"):
        submission.state = SubmissionState.APPROVED
        submission.approved_at, submission.approved_by = _now(now), user
        submission.save(update_fields=["state", "approved_at", "approved_by", "updated_at"])
        audit(
            "submission.approved",
            actor=user,
            unit=submission.unit,
            obj=submission,
        )
        notify(
            unit_users([submission.unit]),
            _("Báo cáo theo công văn %(number)s đã được duyệt."),
            params={"number": submission.request.number_symbol},
            link=submission_link(submission),
        )
    return submission


def unapprove(
    submission: Submission, user, reason: str, *, now: datetime | None = None
) -> Submission:
    """Take an approval back (the figures unlock); the unit may then correct and resubmit."""
    with _approver_step(submission, user, "unapprove"):
        reason = _reason(reason, _("Xin ghi lý do hủy duyệt."))
        _check_not_consolidated(submission)
        _send_back(submission, user, reason, now, action="submission.unapproved")
    return submission


def _check_not_consolidated(submission: Submission) -> None:
    """Refuse while a unit above has sent a consolidated report holding these figures."""
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
            _(
                "%(unit)s đã gửi báo cáo tổng hợp có số liệu này; "
                "cần trả lại báo cáo tổng hợp trước khi hủy duyệt."
            ),
            code="reporting.consolidated_above",
            unit=above.unit.name,
        )


_SENT_BACK = {
    "submission.returned": _("Báo cáo theo công văn %(number)s bị trả lại. Lý do: %(reason)s"),
    "submission.unapproved": _("Báo cáo theo công văn %(number)s bị hủy duyệt. Lý do: %(reason)s"),
}


def _send_back(submission: Submission, user, reason: str, now, *, action: str):
    """Return the (locked) submission to its unit for correction: the end of both
    :func:`return_submission` and :func:`unapprove`."""
    submission.state = SubmissionState.RETURNED
    submission.returned_at, submission.returned_by = _now(now), user
    submission.return_reason = reason
    submission.approved_at = None
    # the approval too: an unapproval takes it back (a return finds none to clear)
    fields = ["state", "returned_at", "returned_by", "return_reason", "approved_at", "updated_at"]
    submission.save(update_fields=fields)
    audit(action, actor=user, unit=submission.unit, obj=submission, reason=reason)
    notify(
        unit_users([submission.unit]),
        _SENT_BACK[action],
        params={"number": submission.request.number_symbol, "reason": reason},
        link=submission_link(submission),
    )


def waive(request: ReportRequest, unit: Unit, user, reason: str) -> SubmissionWaiver:
    """Excuse a unit below from this request, so the unit above can consolidate without it."""
    if not scope.may_approve(user, Submission(request=request, unit=unit)):
        raise ReportingError(
            _("Chỉ đơn vị cấp trên được miễn báo cáo cho đơn vị này."),
            code="reporting.waive_refused",
        )
    with transaction.atomic():
        # The recipient row stands for the unit's place in the letter: waivers and the
        # unit's own approval of this request queue on it.
        recipient = (
            RequestRecipient.objects.select_for_update().filter(request=request, unit=unit).first()
        )
        if recipient is None:
            raise _not_a_recipient(unit)
        _check_waivable(request, unit)
        reason = _reason(reason, _("Xin ghi lý do miễn báo cáo."))
        if SubmissionWaiver.objects.filter(request=request, unit=unit).exists():
            raise ReportingError(
                _("%(unit)s đã được miễn báo cáo."), code="reporting.already_waived", unit=unit.name
            )
        waiver = SubmissionWaiver.objects.create(
            request=request, unit=unit, reason=reason, created_by=user
        )
        audit(
            "submission.waived",
            actor=user,
            unit=unit,
            obj=waiver,
            reason=reason,
        )
        notify(
            unit_users([unit]),
            _("Đơn vị được miễn báo cáo theo công văn %(number)s. Lý do: %(reason)s"),
            params={"number": request.number_symbol, "reason": reason},
        )
    return waiver


def _check_waivable(request: ReportRequest, unit: Unit) -> None:
    submission = Submission.objects.select_for_update().filter(request=request, unit=unit).first()
    if submission is not None and submission.state == SubmissionState.APPROVED:
        raise ReportingError(
            _("Báo cáo của %(unit)s đã được duyệt, không cần miễn."),
            code="reporting.already_approved",
            unit=unit.name,
        )
