"""Pages of the reporting cycle: letters, a unit's inbox, a submission, completeness.

Views parse and call: they fetch through :mod:`tiendo.accounts.scope`, write through
:mod:`tiendo.reporting.services` and read through :mod:`tiendo.reporting.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.core.actions import action_label, describe
from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.text import nfc
from tiendo.data.services import DataEntryError, ValueConflictError, busy_as_message
from tiendo.reporting import queries, services
from tiendo.reporting.completeness import (
    CompletenessExport,
    completeness,
    completeness_of,
    summary,
)
from tiendo.reporting.forms import RequestForm, parse_date
from tiendo.reporting.models import (
    Form,
    ReportRequest,
    RequestRecipient,
    RequestStatus,
    Submission,
)
from tiendo.reporting.recipients import preview as recipient_preview
from tiendo.reporting.services import ReportingError
from tiendo.reporting.values import SubmissionValues

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get_request(user, pk: int) -> ReportRequest:
    """The letter ``pk`` for its issuer's side (every unit's answer: the completeness
    download)."""
    return scope.get_request_or_403(
        user, pk, queryset=ReportRequest.objects.select_related("issuer")
    )


def _get_readable_request(user, pk: int) -> ReportRequest:
    """The letter ``pk`` for anyone who may read it: its issuer's side, or a unit it is
    addressed to (:func:`tiendo.accounts.scope.can_read_request`)."""
    return scope.get_readable_request_or_403(
        user, pk, queryset=ReportRequest.objects.select_related("issuer")
    )


def _get_issued_request(user, pk: int, denied: str) -> ReportRequest:
    """The letter ``pk``, if the user may act for its issuer; ``denied`` says why not."""
    req = _get_request(user, pk)
    if not scope.may_issue(user, req.issuer):
        raise PermissionDenied(denied)
    return req


def _letter_step(request, req: ReportRequest, step, success):
    """Run ``step()`` on a letter, tell ``success(outcome)`` or the refusal, and go back
    to the letter's page."""
    try:
        outcome = step()
    except ReportingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success(outcome))
    return redirect("reporting:request", req.pk)


# ---------------------------------------------------------------------------------------
# Requests (coordinators)


@login_required
def request_list(request):
    readable = scope.readable_units(request.user)
    reqs = (
        ReportRequest.objects.filter(issuer__in=readable)
        .select_related("issuer")
        .order_by("-issued_on", "-pk")
    )
    reqs = list(reqs[:200])
    tables = completeness_of(reqs)  # three queries for every request on the page
    rows = [{"request": req, "summary": summary(tables[req.pk])} for req in reqs]
    may_create = scope.is_manager(request.user)
    return render(request, "reporting/request_list.html", {"rows": rows, "may_create": may_create})


@login_required
def request_create(request):
    """Write a letter: fill the form and pick recipients from the tree (``action=search``
    redraws the tree with the matches shown, keeping what was typed), see the preview of
    every recipient grouped by parent (``action=preview``), then save what was previewed
    (``action=save`` with the preview's fingerprint; a list changed since is previewed
    again, never saved unseen)."""
    user = request.user
    if not scope.is_manager(user):
        raise PermissionDenied(_("Chỉ văn phòng điều phối được gửi công văn yêu cầu báo cáo."))
    form = RequestForm(user, request.POST or None)
    action = request.POST.get("action", "preview")
    preview = None
    if request.method == "POST" and action == "search":
        form.without_errors()
    elif request.method == "POST" and form.is_valid():
        preview = form.preview()
        if action == "save" and form.confirmed():
            try:
                req = services.create_request(form.letter(), user)
            except ReportingError as exc:
                taken = exc.code == "reporting.number_taken"
                form.add_error("number_symbol" if taken else None, str(exc))
                preview = None
            else:
                messages.success(request, _("Đã tạo công văn; kiểm tra rồi bấm “Gửi công văn”."))
                return redirect("reporting:request", req.pk)
        elif action == "save":
            messages.warning(
                request,
                _(
                    "Danh sách đơn vị nhận đã thay đổi so với bản xem trước; xin xem lại rồi xác nhận."
                ),
            )
    context = {
        "form": form,
        "picker": form.picker(),
        "preview": preview,
        "grid_fields": [f for f in form if f.name not in RequestForm.PICKER_FIELDS],
    }
    return render(request, "reporting/request_form.html", context)


@login_required
def request_detail(request, pk: int):
    req = _get_readable_request(request.user, pk)
    sees_all = scope.sees_whole_request(request.user, req)
    rows = completeness(req)
    if not sees_all:  # a unit it is addressed to: its own place in the letter, not others'
        rows = [row for row in rows if scope.can_read(request.user, row.unit)]
    for row in rows:
        probe = row.submission or Submission(request=req, unit=row.unit)
        row.may_waive = (
            row.status in ("missing", "draft", "returned")
            and row.waiver is None
            and scope.may_approve(request.user, probe)
        )
    context = {
        "req": req,
        "rows": rows,
        "summary": summary(rows),
        "may_issue": scope.may_issue(request.user, req.issuer),
        "sees_all": sees_all,
        "rules": list(req.rules.select_related("under")),
        "closed": queries.closed_forms(req) if req.status == RequestStatus.DRAFT else [],
        "today": timezone.localdate(),
        "reports": _letter_reports(request.user, req),
    }
    return render(request, "reporting/request_detail.html", context)


def _letter_reports(user, req: ReportRequest) -> list:
    """The report definitions answering the letter (the issuer's, then the units' own)
    whose unit the user may read. Reporting sits below documents: the reverse relation
    is read, the documents app is not imported."""
    definitions = req.report_definitions.select_related("unit").order_by("unit__path", "pk")
    return [d for d in definitions if scope.can_read(user, d.unit)]


@login_required
@require_POST
def request_send(request, pk: int):
    req = _get_issued_request(
        request.user, pk, _("Bạn không có quyền gửi công văn của đơn vị này.")
    )
    if request.POST.get("confirm") != "send":
        # A letter goes out once: show what it sends, to whom, and what cannot be entered
        # any more, before it does. Nothing is written here.
        recipients = list(req.recipients.select_related("unit").order_by("unit__code"))
        context = {
            "req": req,
            "recipients": recipients,
            "preview": recipient_preview([r.unit for r in recipients]),
            "rules": list(req.rules.select_related("under")),
            "closed": queries.closed_forms(req),
            "today": timezone.localdate(),
        }
        return render(request, "reporting/request_send_confirm.html", context)
    return _letter_step(
        request,
        req,
        lambda: services.send_request(req, request.user),
        lambda n: _("Đã gửi công văn tới %(n)d đơn vị.") % {"n": n},
    )


@login_required
@require_POST
def request_remind(request, pk: int):
    req = _get_issued_request(
        request.user, pk, _("Bạn không có quyền nhắc báo cáo của công văn này.")
    )
    return _letter_step(
        request,
        req,
        lambda: services.send_reminders(req, request.user),
        lambda n: _("Đã nhắc %(n)d đơn vị chưa gửi báo cáo.") % {"n": n},
    )


@login_required
@require_POST
def request_waive(request, pk: int, unit_pk: int):
    req = _get_readable_request(request.user, pk)
    unit = scope.get_unit_or_403(request.user, unit_pk)
    reason = nfc(request.POST.get("reason", ""))
    return _letter_step(
        request,
        req,
        lambda: services.waive(req, unit, request.user, reason),
        lambda _waiver: _("Đã miễn báo cáo cho %(u)s.") % {"u": unit.name},
    )


@login_required
def request_export(request, pk: int):
    req = _get_request(request.user, pk)
    response = CompletenessExport(req).response(request.GET.get("format", "xlsx"))
    audit("completeness.downloaded", actor=request.user, unit=req.issuer, obj=req)
    return response


# ---------------------------------------------------------------------------------------
# A unit's inbox


@login_required
def inbox(request):
    user = request.user
    owed, done = queries.inbox_letters(user)
    context = {
        "owed": owed,
        "done": done,
        "pending": queries.awaiting_approval_by(user),
        "today": timezone.localdate(),
        "may_write": scope.can_write(user, user.unit) if user.unit_id else False,
        "may_issue": scope.is_manager(user),
    }
    return render(request, "reporting/inbox.html", context)


@login_required
def answer(request, pk: int, unit_pk: int):
    """The unit's submission for a request: the page of an empty, unsaved draft until the
    first POST creates it (a GET writes nothing)."""
    # The letter is read through the unit it asks: a commune answers a province's letter
    # whose issuer lies outside the commune's scope.
    req = get_object_or_404(
        ReportRequest.objects.select_related("issuer"), pk=pk, status=RequestStatus.SENT
    )
    unit = scope.get_unit_or_403(request.user, unit_pk)
    existing = Submission.objects.filter(request=req, unit=unit).first()
    if existing is not None:
        return redirect("reporting:submission", existing.pk)
    draft = Submission(request=req, unit=unit)
    if not scope.may_edit(request.user, draft):
        raise PermissionDenied(_("Chỉ cán bộ của đơn vị được lập báo cáo của đơn vị."))
    if not RequestRecipient.objects.filter(request=req, unit=unit).exists():
        messages.error(request, _("%(u)s không thuộc danh sách nhận công văn này.") % {"u": unit})
        return redirect("reporting:inbox")
    return _submission_view(request, draft)


# ---------------------------------------------------------------------------------------
# A submission


@login_required
def submission_page(request, pk: int):
    sub = scope.get_submission_or_403(
        request.user,
        pk,
        queryset=Submission.objects.select_related("unit", "request__issuer", "approved_by"),
    )
    return _submission_view(request, sub)


class NeedsConfirmation(TiendoError):
    """The step is asked for without its confirmation: show the page that asks for it."""

    code = "reporting.needs_confirmation"
    default_message = gettext_lazy("Xin xác nhận trước khi thực hiện thao tác này.")

    def __init__(self, step: str):
        super().__init__(step=step)
        self.step = step


def _is_empty(values: SubmissionValues, texts: dict[int, str]) -> bool:
    """No figure and no narrative in what the form holds (typed or already stored)."""
    return not any(slot.value_text for slot in values.slots) and not any(texts.values())


def _reopen_date(text: str | None) -> date:
    day = parse_date(text)
    if day is None:
        raise ReportingError(
            gettext_lazy("Ngày mở đến không hợp lệ (dạng 31/12/2025)."), code="reporting.bad_date"
        )
    return day


def _form_or_404(pk) -> Form:
    try:
        return Form.objects.get(pk=pk)
    except (Form.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None


@dataclass
class _Page:
    """What the submission page shows, as a step on it changes it."""

    sub: Submission  # unsaved: a draft the first save creates
    forms: list[Form]
    values: SubmissionValues
    texts: dict[int, str]  # narrative section id → text
    may_approve: bool


def _save_step(request, page: _Page, *, submitting: bool = False) -> None:
    user = request.user
    if not scope.may_edit(user, page.sub):
        raise PermissionDenied(_("Bạn không có quyền sửa báo cáo của đơn vị này."))
    page.values = SubmissionValues(page.sub, page.forms, data=request.POST)
    page.texts = {
        s.pk: nfc(request.POST.get(f"section-{s.pk}", "")) for s in page.sub.request.sections.all()
    }
    if submitting:
        if request.POST.get("confirm") != "submit":
            raise NeedsConfirmation("submit")
        if _is_empty(page.values, page.texts) and request.POST.get("confirm_empty") != "1":
            raise NeedsConfirmation("submit")
    entries = page.values.entries()
    if page.sub.pk is None:
        page.sub = services.open_submission(page.sub.request, page.sub.unit)
        page.values.submission = page.sub
    with busy_as_message():
        services.save_draft(page.sub, user, entries=entries, texts=page.texts)
    if submitting:
        services.submit(page.sub, user)
        messages.success(request, _("Đã gửi báo cáo lên cấp trên."))
    else:
        messages.success(request, _("Đã lưu bản nháp."))


def _submit_step(request, page: _Page) -> None:
    _save_step(request, page, submitting=True)


def _check_approver(page: _Page) -> None:
    if not page.may_approve:
        raise PermissionDenied(_("Chỉ đơn vị cấp trên được duyệt báo cáo này."))


def _return_step(request, page: _Page) -> None:
    _check_approver(page)
    services.return_submission(page.sub, request.user, nfc(request.POST.get("reason", "")))
    messages.success(request, _("Đã trả lại báo cáo."))


def _approve_step(request, page: _Page) -> None:
    _check_approver(page)
    if request.POST.get("confirm") != "approve":
        raise NeedsConfirmation("approve")
    services.approve(page.sub, request.user)
    messages.success(
        request,
        _(
            "Đã duyệt báo cáo; số liệu của các biểu trong báo cáo đã khóa, "
            "kể cả của các đơn vị trực thuộc."
        ),
    )


def _unapprove_step(request, page: _Page) -> None:
    _check_approver(page)
    services.unapprove(page.sub, request.user, nfc(request.POST.get("reason", "")))
    messages.success(request, _("Đã hủy duyệt báo cáo."))


def _reopen_step(request, page: _Page) -> None:
    form = _form_or_404(request.POST.get("form") or 0)
    until = _reopen_date(request.POST.get("until") or "01/01/1900")
    req = page.sub.request
    if not scope.may_issue(request.user, req.issuer):
        raise PermissionDenied(_("Chỉ văn phòng điều phối được mở lại hạn nhập."))
    reason = request.POST.get("reason", "")
    services.reopen_window(form, page.sub.unit, req.period, until, reason, request.user)
    messages.success(request, _("Đã mở lại hạn nhập số liệu."))


STEPS = {
    "save": _save_step,
    "submit": _submit_step,
    "return": _return_step,
    "approve": _approve_step,
    "unapprove": _unapprove_step,
    "reopen": _reopen_step,
}
DRAFT_STEPS = {"save", "submit"}  # what an unsaved draft can do


def _run_step(request, page: _Page) -> None:
    action = request.POST.get("action", "")
    if action not in STEPS or (page.sub.pk is None and action not in DRAFT_STEPS):
        raise ReportingError(
            gettext_lazy("Thao tác không hợp lệ."), code="reporting.unknown_action"
        )
    STEPS[action](request, page)


def _submission_view(request, sub: Submission):
    """The submission page; ``sub`` unsaved means a draft the first POST creates."""
    user = request.user
    may_edit = scope.may_edit(user, sub) and sub.is_editable
    forms = queries.forms_for(sub)
    page = _Page(
        sub=sub,
        forms=forms,
        values=SubmissionValues(sub, forms),
        texts={s.section_id: s.text for s in sub.section_texts.all()} if sub.pk else {},
        may_approve=sub.pk is not None and scope.may_approve(user, sub),
    )
    errors: list[str] = []
    confirm = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                _run_step(request, page)
        except NeedsConfirmation as exc:
            confirm = exc.step
        except (ReportingError, DataEntryError) as exc:
            errors = list(dict.fromkeys(str(exc).splitlines()))
            if isinstance(exc, ValueConflictError):
                page.values.mark_conflicts(exc.conflicts)
        else:
            return redirect("reporting:submission", page.sub.pk)
        if sub.pk is None and page.sub.pk is not None:  # the creation was rolled back
            page.sub = page.values.submission = sub
    context = _submission_context(page, user, may_edit=may_edit, errors=errors, confirm=confirm)
    return render(request, "reporting/submission.html", context)


def _submission_context(page: _Page, user, *, may_edit: bool, errors, confirm: str) -> dict:
    sub, today = page.sub, timezone.localdate()
    period = sub.request.period_obj
    windows = [queries.entry_window(f, sub.unit, period, today) for f in page.forms]
    by_form = {w.form.pk: w for w in windows}
    for block in page.values.blocks:
        block.window = by_form.get(block.form.pk)
    sections = [
        {"section": s, "text": page.texts.get(s.pk, ""), "name": f"section-{s.pk}"}
        for s in sub.request.sections.all()
    ]
    history = queries.submission_history(sub)
    for entry in history:  # worded now, in the reader's language (tiendo.core.actions)
        entry.label, entry.text = action_label(entry.action), describe(entry)
    return {
        "sub": sub,
        "req": sub.request,
        "values": page.values,
        "sections": sections,
        "windows": windows,
        "may_edit": may_edit,
        "may_approve": page.may_approve,
        "may_reopen": sub.pk is not None and scope.may_issue(user, sub.request.issuer),
        "approvers": sub.approver_units(),
        "waiting": queries.outstanding_below(sub) if may_edit else [],
        "below": queries.submissions_below(sub),
        "errors": errors,
        "confirm": confirm,
        "empty": confirm == "submit" and _is_empty(page.values, page.texts),
        "history": history,
        "today": today,
    }
