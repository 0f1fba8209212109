"""Pages for Excel forms: download a workbook prepared for a unit; upload it back.

The upload is two steps — check, then confirm — and the file is kept on the server in
between (``VAR_DIR/uploads/<random>.xlsx``, its name held in the user's session), so the
official does not have to pick the file twice and cannot confirm a different file from
the one he saw checked. On confirm the stored file is checked again from scratch (figures
may have been approved meanwhile) and written only if it is still clean. Files are
deleted after the import or when abandoned for a day.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.core.audit import audit
from tiendo.core.uploads import UploadError, uploaded_file
from tiendo.programmes.periods import PERIOD_TYPE_LABELS, Period, PeriodError, PeriodType
from tiendo.programmes.widgets import PeriodMultiPicker
from tiendo.reporting.excel import (
    MAX_UPLOAD_BYTES,
    XLSX_CONTENT_TYPE,
    ExcelError,
    build_workbook,
    check_workbook,
    import_workbook,
)
from tiendo.reporting.models import Form, ReportRequest
from tiendo.units.models import Unit

SESSION_KEY = "excel_uploads"
STALE_SECONDS = 24 * 3600
UNIT_CHOICES_LIMIT = 300


def upload_dir() -> Path:
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(directory: Path) -> None:
    cutoff = time.time() - STALE_SECONDS
    for old in directory.glob("*.xlsx"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # removed meanwhile by another request
            pass


def _unit(request, *, write: bool = False) -> Unit | None:
    """The unit chosen on the page (``unit=``), else the user's own, checked against the
    user's scope (for writing with ``write=True``) before anything is read or built."""
    source = request.POST if request.method == "POST" else request.GET
    raw = (source.get("unit") or "").strip()
    if raw:
        return scope.get_unit_or_403(request.user, raw, write=write)
    if request.user.unit is None:
        return None
    return scope.check_unit(request.user, request.user.unit, write=write)


def _report_request(request, form: Form) -> ReportRequest | None:
    """The letter the sheet answers (``request=``), one that asks for ``form``, if the user
    may read it (:func:`tiendo.accounts.scope.can_read_request`)."""
    raw = (request.GET.get("request") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    letters = ReportRequest.objects.filter(forms=form).select_related("issuer")
    return scope.get_readable_request_or_403(request.user, int(raw), queryset=letters)


def period_suggestions(form: Form) -> list[Period]:
    phase = form.programme.period
    if not isinstance(phase, Period):  # a stored text that names no period
        return []
    kind = PeriodType(form.period_type)
    found = []
    for year in phase.years():
        y = year.start.year
        ids = {
            PeriodType.YEAR: [str(y)],
            PeriodType.HALF: [f"{y}S1", f"{y}S2"],
            PeriodType.QUARTER: [f"{y}Q{q}" for q in range(1, 5)],
            PeriodType.MONTH: [f"{y}{m:02d}" for m in range(1, 13)],
            PeriodType.DATE: [f"{y}-06-30", f"{y}-12-31"],
        }.get(kind, [])
        found += [Period.parse(i) for i in ids]
    if kind is PeriodType.PHASE:
        found.append(phase)
    return found


def _unit_choices(user, chosen: Unit | None) -> list[Unit]:
    home = user.unit
    units = scope.readable_units(user)
    units = units.filter(Q(pk=home.pk) | Q(parent=home)) if home else units.filter(level__lte=1)
    choices = list(units.order_by("level", "code")[:UNIT_CHOICES_LIMIT])
    if chosen is not None and all(u.pk != chosen.pk for u in choices):
        choices.insert(0, chosen)
    return choices


def _raw_periods(request, report_request: ReportRequest | None) -> list[str]:
    """The periods asked for (``period=2023,2024``), by default the letter's."""
    raw = [
        p.strip() for value in request.GET.getlist("period") for p in value.split(",") if p.strip()
    ]
    if report_request is not None and not raw:
        return [report_request.period]
    return raw


def _period_picker(form: Form, chosen: list[str]) -> str:
    """The periods of the form's type, in words, several may be picked (a sheet each):
    those of its programme's phase, else a few years around today; the ones asked for
    stay picked even when not among them."""
    suggested = period_suggestions(form)
    picker = PeriodMultiPicker(
        attrs={"id": "id_period", "size": 8, "required": True},
        period_types=[PeriodType(form.period_type)],
        periods=suggested or None,
    )
    return picker.render("period", chosen)


@login_required
def excel_download(request, code: str):
    form = get_object_or_404(Form.objects.select_related("programme"), code=code)
    user = request.user
    unit = _unit(request)
    report_request = _report_request(request, form)
    raw_periods = _raw_periods(request, report_request)
    context = {
        "form": form,
        "unit": unit,
        "report_request": report_request,
        "period_type_label": PERIOD_TYPE_LABELS[PeriodType(form.period_type)],
        "period_picker": _period_picker(form, raw_periods),
        "unit_choices": _unit_choices(user, unit),
        "may_upload": unit is not None and scope.can_write(user, unit),
    }
    if unit is None or not raw_periods:
        return render(request, "reporting/excel_download.html", context)
    try:
        periods = [Period.parse(p) for p in raw_periods]
        data = build_workbook(form, unit, periods, user=user, report_request=report_request)
    except (PeriodError, ExcelError) as exc:
        context["error"] = str(exc)
        return render(request, "reporting/excel_download.html", context, status=400)
    return _workbook_response(data, user=user, form=form, unit=unit, periods=periods)


def _workbook_response(data: bytes, *, user, form: Form, unit: Unit, periods) -> HttpResponse:
    name = f"{form.code}_{unit.code}_{'_'.join(p.id for p in periods)}.xlsx"
    audit(
        "excel_form.downloaded",
        actor=user,
        unit=unit,
        obj=form,
        filename=name,
        periods=[p.id for p in periods],
    )
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
def excel_upload(request, code: str):
    """Upload a filled form: a new file is checked (and kept when it would change
    something); a ``token`` confirms (or cancels) the file checked before."""
    form = get_object_or_404(Form.objects.select_related("programme"), code=code)
    unit = _unit(request, write=True)
    if unit is None:
        raise PermissionDenied(_("Tài khoản chưa gắn đơn vị; xin chọn đơn vị cần tải lên."))
    context = {
        "form": form,
        "unit": unit,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "report_request": _report_request(request, form),  # for the link back to it
    }
    if request.method != "POST":
        return render(request, "reporting/excel_upload.html", context)
    if request.POST.get("token", ""):
        return _confirm_upload(request, form, unit, context)
    return _check_upload(request, form, unit, context)


def _upload_page(form: Form, unit: Unit, report_request: ReportRequest | None = None) -> str:
    page = reverse("reporting:excel_upload", args=[form.code]) + f"?unit={unit.pk}"
    return page + (f"&request={report_request.pk}" if report_request else "")


def _kept_upload(request, token: str, form: Form, unit: Unit) -> tuple[dict, Path] | None:
    """The file checked before under ``token`` — for this form and unit, still on disk."""
    info = request.session.get(SESSION_KEY, {}).get(token)
    if not info or info["form"] != form.pk or info["unit"] != unit.pk:
        return None
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    path = upload_dir() / f"{token}.xlsx"
    return (info, path) if path.exists() else None


def _forget_upload(request, token: str, path: Path) -> None:
    path.unlink(missing_ok=True)
    pending = request.session.get(SESSION_KEY, {})
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending


def _confirm_upload(request, form: Form, unit: Unit, context: dict):
    token = request.POST["token"]
    kept = _kept_upload(request, token, form, unit)
    if kept is None:
        context["errors_plain"] = [_("Tệp đã hết hạn hoặc không còn; xin tải lên lại.")]
        return render(request, "reporting/excel_upload.html", context)
    info, path = kept
    if request.POST.get("action") == "cancel":
        _forget_upload(request, token, path)
        messages.info(request, _("Đã hủy, không ghi số liệu nào."))
        return redirect(_upload_page(form, unit, context["report_request"]))
    with path.open("rb") as handle:
        result = import_workbook(
            handle, user=request.user, form=form, unit=unit, filename=info["name"]
        )
    _forget_upload(request, token, path)
    if result.written:
        messages.success(
            request,
            _("Đã ghi số liệu từ tệp %(name)s: %(created)d số liệu mới, %(updated)d số liệu sửa.")
            % {"name": info["name"], "created": result.created, "updated": result.updated},
        )
        return redirect(_upload_page(form, unit, context["report_request"]))
    context.update(result=result, filename=info["name"])
    return render(request, "reporting/excel_upload.html", context)


def _upload_refusal(upload) -> str:
    """Why the posted file is not even checked ("" when it is to be checked)."""
    if upload is None:
        return _("Xin chọn tệp Excel (.xlsx) để tải lên.")
    if not upload.name.lower().endswith(".xlsx"):
        return _("Tệp “%(name)s” không phải dạng .xlsx; xin lưu lại bằng Excel dạng .xlsx.") % {
            "name": upload.name
        }
    if upload.size > MAX_UPLOAD_BYTES:
        return _("Tệp lớn quá %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    return ""


def _keep(upload) -> tuple[str, Path]:
    """Store the posted file under a new random token (and sweep abandoned ones)."""
    directory = upload_dir()
    _sweep(directory)
    token = secrets.token_urlsafe(18)
    path = directory / f"{token}.xlsx"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return token, path


def _check_upload(request, form: Form, unit: Unit, context: dict):
    try:
        upload = uploaded_file(request, "file")
        refusal = _upload_refusal(upload)
    except UploadError as exc:
        refusal = str(exc)
    if refusal:
        context["errors_plain"] = [refusal]
        return render(request, "reporting/excel_upload.html", context)
    token, path = _keep(upload)
    with path.open("rb") as handle:
        result = check_workbook(
            handle, user=request.user, form=form, unit=unit, filename=upload.name
        )
    if result.ok and result.changes:
        pending = request.session.get(SESSION_KEY, {})
        pending[token] = {"form": form.pk, "unit": unit.pk, "name": upload.name}
        request.session[SESSION_KEY] = pending
        context["token"] = token
    else:
        path.unlink(missing_ok=True)  # nothing to confirm: errors, or no change at all
    context.update(result=result, filename=upload.name)
    return render(request, "reporting/excel_upload.html", context)
