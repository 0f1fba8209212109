"""Pages of the reporting cycle: letters, a unit's inbox, a submission, completeness."""

from __future__ import annotations

from datetime import date

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.accounts.models import Role
from tiendo.core.audit import audit
from tiendo.core.models import AuditEntry
from tiendo.core.text import nfc
from tiendo.data.services import DataEntryError, ValueConflictError, busy_as_message
from tiendo.programmes.periods import Period, PeriodError
from tiendo.reporting import services
from tiendo.reporting.completeness import (
    CompletenessExport,
    completeness,
    completeness_of,
    summary,
)
from tiendo.reporting.models import (
    Form,
    NarrativeSection,
    RecipientRule,
    ReportRequest,
    RequestRecipient,
    RequestStatus,
    Submission,
    SubmissionState,
)
from tiendo.reporting.services import ReportingError
from tiendo.reporting.values import SubmissionValues
from tiendo.units.models import Unit, UnitKind
from tiendo.units.services import UnitNotFound, resolve_unit

ACTION_LABELS = {
    "submission.saved": gettext_lazy("Lưu nháp"),
    "submission.submitted": gettext_lazy("Gửi báo cáo"),
    "submission.resubmitted": gettext_lazy("Gửi lại"),
    "submission.returned": gettext_lazy("Trả lại"),
    "submission.approved": gettext_lazy("Duyệt"),
    "submission.unapproved": gettext_lazy("Hủy duyệt"),
}
DEFAULT_SECTIONS = [
    "Thuận lợi, khó khăn",
    "Kết quả đạt được",
    "Hạn chế, nguyên nhân",
    "Nhiệm vụ, giải pháp",
    "Kiến nghị, đề xuất",
]


def _may_read_request(user, req: ReportRequest) -> bool:
    return scope.can_read(user, req.issuer)


def _get_request(user, pk: int) -> ReportRequest:
    req = get_object_or_404(ReportRequest.objects.select_related("issuer"), pk=pk)
    if not _may_read_request(user, req):
        raise PermissionDenied(_("Bạn không có quyền xem công văn này."))
    return req


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
    may_create = request.user.is_superuser or request.user.role in (Role.COORDINATOR, Role.ADMIN)
    return render(request, "reporting/request_list.html", {"rows": rows, "may_create": may_create})


class RequestForm(djforms.Form):
    number_symbol = djforms.CharField(label=gettext_lazy("Số, ký hiệu"), max_length=80)
    issued_on = djforms.DateField(
        label=gettext_lazy("Ngày ban hành"), widget=djforms.DateInput(attrs={"type": "date"})
    )
    issuer = djforms.ModelChoiceField(
        queryset=Unit.objects.none(), label=gettext_lazy("Đơn vị gửi")
    )
    title = djforms.CharField(label=gettext_lazy("Trích yếu"), max_length=400)
    summary = djforms.CharField(
        label=gettext_lazy("Nội dung yêu cầu"),
        required=False,
        widget=djforms.Textarea(attrs={"rows": 3}),
    )
    period = djforms.CharField(
        label=gettext_lazy("Kỳ báo cáo"),
        max_length=20,
        help_text=gettext_lazy("2020, 2020S1, 2020Q3, 2021-2025"),
    )
    data_as_of = djforms.DateField(
        label=gettext_lazy("Số liệu tính đến ngày"),
        required=False,
        widget=djforms.DateInput(attrs={"type": "date"}),
    )
    deadline = djforms.DateField(
        label=gettext_lazy("Hạn gửi báo cáo"), widget=djforms.DateInput(attrs={"type": "date"})
    )
    forms = djforms.ModelMultipleChoiceField(
        queryset=Form.objects.order_by("programme__code", "code"),
        label=gettext_lazy("Biểu mẫu"),
        required=False,
        widget=djforms.CheckboxSelectMultiple,
    )
    sections = djforms.CharField(
        label=gettext_lazy("Các mục nội dung báo cáo (mỗi dòng một mục)"),
        widget=djforms.Textarea(attrs={"rows": 6}),
        initial="\n".join(DEFAULT_SECTIONS),
        required=False,
    )
    recipient_codes = djforms.CharField(
        label=gettext_lazy("Đơn vị nhận (mã đơn vị, cách nhau bởi dấu phẩy)"),
        required=False,
        widget=djforms.Textarea(attrs={"rows": 2}),
    )
    rule_kind = djforms.ChoiceField(
        label=gettext_lazy("Hoặc: mọi đơn vị loại"),
        choices=[("", "—")] + list(UnitKind.choices),
        required=False,
    )
    rule_under = djforms.CharField(
        label=gettext_lazy("trực thuộc đơn vị (mã)"), required=False, max_length=40
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        issuers = [
            u
            for u in scope.readable_units(user).filter(
                Q(pk=user.unit_id) | Q(kind=UnitKind.AGENCY)
            )[:300]
            if services.may_issue(user, u)
        ]
        self.fields["issuer"].queryset = Unit.objects.filter(pk__in=[u.pk for u in issuers])

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"]).id
        except PeriodError as exc:
            raise djforms.ValidationError(str(exc)) from exc

    def _unit(self, code, field, on):
        try:
            unit = resolve_unit(code, on)
        except UnitNotFound as exc:
            self.add_error(field, str(exc))
            return None
        if not scope.can_read(self.user, unit):
            self.add_error(field, _("Đơn vị %(code)s nằm ngoài phạm vi của bạn.") % {"code": code})
            return None
        return unit

    def clean(self):
        data = super().clean()
        period = data.get("period")
        on = Period.parse(period).end if period else None
        codes = [
            c.strip() for c in (data.get("recipient_codes") or "").replace(";", ",").split(",")
        ]
        data["recipients"] = [
            u for u in (self._unit(c, "recipient_codes", on) for c in codes if c) if u
        ]
        kind, under = data.get("rule_kind"), (data.get("rule_under") or "").strip()
        data["rule"] = None
        if kind or under:
            if not (kind and under):
                self.add_error("rule_under", _("Chọn cả loại đơn vị và đơn vị trực thuộc."))
            else:
                unit = self._unit(under, "rule_under", on)
                data["rule"] = (kind, unit) if unit else None
        if not data["recipients"] and not data["rule"] and not self.errors:
            self.add_error("recipient_codes", _("Xin chọn đơn vị nhận hoặc một quy tắc chọn."))
        issued, deadline = data.get("issued_on"), data.get("deadline")
        if issued and deadline and deadline < issued:
            self.add_error("deadline", _("Hạn gửi báo cáo trước ngày ban hành công văn."))
        wrong = [
            f.name
            for f in data.get("forms") or []
            if period and f.period_type != Period.parse(period).type
        ]
        if wrong:
            self.add_error(
                "forms", _("Biểu không dùng cho loại kỳ này: %(f)s") % {"f": ", ".join(wrong)}
            )
        data["section_titles"] = [
            nfc(line) for line in (data.get("sections") or "").splitlines() if nfc(line)
        ]
        return data


@login_required
def request_create(request):
    user = request.user
    if not (user.is_superuser or user.role in (Role.COORDINATOR, Role.ADMIN)):
        raise PermissionDenied(_("Chỉ văn phòng điều phối được gửi công văn yêu cầu báo cáo."))
    form = RequestForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                req = ReportRequest.objects.create(
                    number_symbol=nfc(d["number_symbol"]),
                    issued_on=d["issued_on"],
                    issuer=d["issuer"],
                    title=nfc(d["title"]),
                    summary=nfc(d["summary"]),
                    period=d["period"],
                    data_as_of=d["data_as_of"],
                    deadline=d["deadline"],
                    created_by=user,
                )
                req.forms.set(d["forms"])
                for order, title in enumerate(d["section_titles"]):
                    NarrativeSection.objects.create(request=req, order=order, title=title)
                for unit in d["recipients"]:
                    RequestRecipient.objects.get_or_create(request=req, unit=unit)
                if d["rule"]:
                    RecipientRule.objects.create(
                        request=req, unit_kind=d["rule"][0], under=d["rule"][1]
                    )
        except IntegrityError:
            form.add_error("number_symbol", _("Công văn số này của đơn vị đã có."))
        else:
            messages.success(request, _("Đã tạo công văn; kiểm tra rồi bấm “Gửi công văn”."))
            return redirect("reporting:request", req.pk)
    return render(request, "reporting/request_form.html", {"form": form})


@login_required
def request_detail(request, pk: int):
    req = _get_request(request.user, pk)
    rows = completeness(req)
    for row in rows:
        probe = row.submission or Submission(request=req, unit=row.unit)
        row.may_waive = (
            row.status in ("missing", "draft", "returned")
            and row.waiver is None
            and services.may_approve(request.user, probe)
        )
    context = {
        "req": req,
        "rows": rows,
        "summary": summary(rows),
        "may_issue": services.may_issue(request.user, req.issuer),
        "rules": list(req.rules.select_related("under")),
        "closed": services.closed_forms(req) if req.status == RequestStatus.DRAFT else [],
        "today": timezone.localdate(),
    }
    return render(request, "reporting/request_detail.html", context)


@login_required
@require_POST
def request_send(request, pk: int):
    req = _get_request(request.user, pk)
    if not services.may_issue(request.user, req.issuer):
        raise PermissionDenied(_("Bạn không có quyền gửi công văn của đơn vị này."))
    if request.POST.get("confirm") != "send":
        # A letter goes out once: show what it sends, to whom, and what cannot be entered
        # any more, before it does. Nothing is written here.
        context = {
            "req": req,
            "recipients": list(req.recipients.select_related("unit").order_by("unit__code")),
            "rules": list(req.rules.select_related("under")),
            "closed": services.closed_forms(req),
            "today": timezone.localdate(),
        }
        return render(request, "reporting/request_send_confirm.html", context)
    try:
        n = services.send_request(req, request.user)
    except ReportingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Đã gửi công văn tới %(n)d đơn vị.") % {"n": n})
    return redirect("reporting:request", req.pk)


@login_required
@require_POST
def request_remind(request, pk: int):
    req = _get_request(request.user, pk)
    if not services.may_issue(request.user, req.issuer):
        raise PermissionDenied(_("Bạn không có quyền nhắc báo cáo của công văn này."))
    try:
        n = services.send_reminders(req, request.user)
    except ReportingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Đã nhắc %(n)d đơn vị chưa gửi báo cáo.") % {"n": n})
    return redirect("reporting:request", req.pk)


@login_required
@require_POST
def request_waive(request, pk: int, unit_pk: int):
    req = _get_request(request.user, pk)
    unit = get_object_or_404(Unit, pk=unit_pk)
    scope.check_unit(request.user, unit)
    try:
        services.waive(req, unit, request.user, nfc(request.POST.get("reason", "")))
    except ReportingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Đã miễn báo cáo cho %(u)s.") % {"u": unit.name})
    return redirect("reporting:request", req.pk)


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
    owed, done = [], []
    if user.unit_id:
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
            if sub and sub.state in (SubmissionState.SUBMITTED, SubmissionState.APPROVED):
                done.append(item)
            else:
                owed.append(item)
    pending = [
        s
        for s in Submission.objects.filter(
            state=SubmissionState.SUBMITTED, unit__in=scope.readable_units(user)
        )
        .exclude(unit_id=user.unit_id)
        .select_related("unit__parent", "request__issuer")  # may_approve reads both
        .order_by("submitted_at")[:200]
        if services.may_approve(user, s)
    ]
    context = {
        "owed": owed,
        "done": done,
        "pending": pending,
        "today": timezone.localdate(),
        "may_write": scope.can_write(user, user.unit) if user.unit_id else False,
        "may_issue": user.is_superuser or user.role in (Role.COORDINATOR, Role.ADMIN),
    }
    return render(request, "reporting/inbox.html", context)


@login_required
def answer(request, pk: int, unit_pk: int):
    """The unit's submission for a request: the page of an empty, unsaved draft until the
    first POST creates it (a GET writes nothing)."""
    req = get_object_or_404(
        ReportRequest.objects.select_related("issuer"), pk=pk, status=RequestStatus.SENT
    )
    unit = get_object_or_404(Unit, pk=unit_pk)
    scope.check_unit(request.user, unit)
    existing = Submission.objects.filter(request=req, unit=unit).first()
    if existing is not None:
        return redirect("reporting:submission", existing.pk)
    draft = Submission(request=req, unit=unit)
    if not services.may_edit(request.user, draft):
        raise PermissionDenied(_("Chỉ cán bộ của đơn vị được lập báo cáo của đơn vị."))
    if not RequestRecipient.objects.filter(request=req, unit=unit).exists():
        messages.error(request, _("%(u)s không thuộc danh sách nhận công văn này.") % {"u": unit})
        return redirect("reporting:inbox")
    return _submission_view(request, draft)


# ---------------------------------------------------------------------------------------
# A submission


def _get_submission(user, pk: int) -> Submission:
    sub = get_object_or_404(
        Submission.objects.select_related("unit", "request__issuer", "approved_by"), pk=pk
    )
    if not (scope.can_read(user, sub.unit) or services.may_approve(user, sub)):
        raise PermissionDenied(_("Bạn không có quyền xem báo cáo này."))
    return sub


@login_required
def submission_page(request, pk: int):
    return _submission_view(request, _get_submission(request.user, pk))


class NeedsConfirmation(Exception):
    """The step is asked for without its confirmation: show the page that asks for it."""

    def __init__(self, step: str):
        super().__init__(step)
        self.step = step


def _is_empty(values: SubmissionValues, texts: dict[int, str]) -> bool:
    """No figure and no narrative in what the form holds (typed or already stored)."""
    return not any(slot.value_text for slot in values.slots) and not any(texts.values())


def _submission_view(request, sub: Submission):
    """The submission page; ``sub`` unsaved means a draft the first POST creates."""
    user = request.user
    may_edit = services.may_edit(user, sub) and sub.is_editable
    may_approve = sub.pk is not None and services.may_approve(user, sub)
    forms = services.forms_for(sub)
    values = SubmissionValues(sub, forms)
    texts = {s.section_id: s.text for s in sub.section_texts.all()} if sub.pk else {}
    errors: list[str] = []
    confirm = ""

    if request.method == "POST":
        action = request.POST.get("action", "")
        draft = sub
        try:
            with transaction.atomic():
                if action in ("save", "submit"):
                    if not services.may_edit(user, sub):
                        raise PermissionDenied(_("Bạn không có quyền sửa báo cáo của đơn vị này."))
                    values = SubmissionValues(sub, forms, data=request.POST)
                    texts = {
                        s.pk: nfc(request.POST.get(f"section-{s.pk}", ""))
                        for s in sub.request.sections.all()
                    }
                    if action == "submit":
                        if request.POST.get("confirm") != "submit":
                            raise NeedsConfirmation("submit")
                        if _is_empty(values, texts) and request.POST.get("confirm_empty") != "1":
                            raise NeedsConfirmation("submit")
                    entries = values.entries()
                    if sub.pk is None:
                        sub = services.open_submission(sub.request, sub.unit)
                        values.submission = sub
                    with busy_as_message():
                        services.save_draft(sub, user, entries=entries, texts=texts)
                    if action == "submit":
                        services.submit(sub, user)
                        messages.success(request, _("Đã gửi báo cáo lên cấp trên."))
                    else:
                        messages.success(request, _("Đã lưu bản nháp."))
                elif sub.pk is None:
                    raise ReportingError(_("Thao tác không hợp lệ."))
                elif action in ("return", "approve", "unapprove"):
                    if not may_approve:
                        raise PermissionDenied(_("Chỉ đơn vị cấp trên được duyệt báo cáo này."))
                    reason = nfc(request.POST.get("reason", ""))
                    if action == "return":
                        services.return_submission(sub, user, reason)
                        messages.success(request, _("Đã trả lại báo cáo."))
                    elif action == "approve":
                        if request.POST.get("confirm") != "approve":
                            raise NeedsConfirmation("approve")
                        services.approve(sub, user)
                        messages.success(
                            request,
                            _(
                                "Đã duyệt báo cáo; số liệu của các biểu trong báo cáo đã khóa, "
                                "kể cả của các đơn vị trực thuộc."
                            ),
                        )
                    else:
                        services.unapprove(sub, user, reason)
                        messages.success(request, _("Đã hủy duyệt báo cáo."))
                elif action == "reopen":
                    form = get_object_or_404(Form, pk=request.POST.get("form") or 0)
                    until = date.fromisoformat(request.POST.get("until") or "1900-01-01")
                    if not services.may_issue(user, sub.request.issuer):
                        raise PermissionDenied(_("Chỉ văn phòng điều phối được mở lại hạn nhập."))
                    services.reopen_window(
                        form,
                        sub.unit,
                        sub.request.period,
                        until,
                        request.POST.get("reason", ""),
                        user,
                    )
                    messages.success(request, _("Đã mở lại hạn nhập số liệu."))
                else:
                    raise ReportingError(_("Thao tác không hợp lệ."))
        except NeedsConfirmation as exc:
            confirm = exc.step
        except (ReportingError, DataEntryError) as exc:
            errors = list(dict.fromkeys(str(exc).splitlines()))
            if isinstance(exc, ValueConflictError):
                values.mark_conflicts(exc.conflicts)
        except ValueError:
            errors = [_("Ngày mở đến không hợp lệ.")]
        else:
            return redirect("reporting:submission", sub.pk)
        if draft.pk is None and sub.pk is not None:  # the creation was rolled back
            sub = draft
            values.submission = sub

    today = timezone.localdate()
    period = sub.request.period_obj
    windows = [services.entry_window(f, sub.unit, period, today) for f in forms]
    by_form = {w.form.pk: w for w in windows}
    for block in values.blocks:
        block.window = by_form.get(block.form.pk)
    sections = [
        {"section": s, "text": texts.get(s.pk, ""), "name": f"section-{s.pk}"}
        for s in sub.request.sections.all()
    ]
    history = []
    if sub.pk is not None:
        history = list(
            AuditEntry.objects.filter(
                object_type=Submission._meta.label_lower, object_id=str(sub.pk)
            ).select_related("actor")
        )
    for entry in history:
        entry.label = ACTION_LABELS.get(entry.action, "")
    context = {
        "sub": sub,
        "req": sub.request,
        "values": values,
        "sections": sections,
        "windows": windows,
        "may_edit": may_edit,
        "may_approve": may_approve,
        "may_reopen": sub.pk is not None and services.may_issue(user, sub.request.issuer),
        "approvers": services.approver_units(sub),
        "waiting": services.outstanding_below(sub) if may_edit else [],
        "below": collect_below(sub),
        "errors": errors,
        "confirm": confirm,
        "empty": confirm == "submit" and _is_empty(values, texts),
        "history": history,
        "today": today,
    }
    return render(request, "reporting/submission.html", context)


def collect_below(sub: Submission) -> list[dict]:
    """The submissions of the units this one consolidates, with their states."""
    below = services.units_below(sub)
    if not below:
        return []
    subs = {s.unit_id: s for s in Submission.objects.filter(request=sub.request, unit__in=below)}
    return [{"unit": u, "submission": subs.get(u.pk)} for u in below]
