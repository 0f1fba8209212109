"""Entering a commune's assessment, recording its recognition, and the summary sheet of
a district or province in Excel.

Every view fetches the unit through :mod:`tiendo.accounts.scope` (read), then checks the
write it performs (:func:`~tiendo.accounts.scope.check_assess`,
:func:`~tiendo.accounts.scope.check_record_recognition`); writes go through
:mod:`tiendo.ntm.services` only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.core.errors import TiendoError
from tiendo.ntm.forms import AssessmentForm, RecognitionForm, WithdrawalForm
from tiendo.ntm.models import Assessment, AssessmentChange, CriteriaSet, Recognition
from tiendo.ntm.services import (
    AssessmentRefused,
    record_recognition,
    save_assessments,
    withdraw_recognition,
)


def _criteria_set(code: str) -> CriteriaSet:
    found = CriteriaSet.objects.filter(code=code).first()
    if found is None:
        raise Http404(_("Không có bộ tiêu chí này."))
    return found


def _year(year: int) -> int:
    if not 1900 <= year <= 2200:
        raise Http404(_("Năm không hợp lệ."))
    return year


def _assessment(unit, cs, year) -> Assessment | None:
    return (
        Assessment.objects.select_related("updated_by")
        .filter(unit=unit, criteria_set=cs, year=year)
        .first()
    )


@login_required
def entry(request, code: str, unit: int, year: int):
    """GET: the assessment of ``unit`` for ``year`` against set ``code`` (read for whoever
    reads the unit); POST: save it (commune officer of the commune, coordination office
    above it)."""
    cs = _criteria_set(code)
    year = _year(year)
    unit_obj = scope.get_unit_or_403(request.user, unit)
    may_write = scope.may_assess(request.user, unit_obj)
    assessment = _assessment(unit_obj, cs, year)
    errors: list[str] = []
    if request.method == "POST":
        scope.check_assess(request.user, unit_obj)
        form = AssessmentForm(cs, assessment, data=request.POST)
        if form.is_valid():
            try:
                report = save_assessments(
                    [form.to_input(unit_obj, year)], user=request.user, source="form"
                )
            except AssessmentRefused as exc:
                errors = [str(e) for e in exc.errors]
            except TiendoError as exc:
                errors = [str(exc)]
            else:
                if report.changed or report.created:
                    saved = report.assessments[0]
                    messages.success(
                        request,
                        _("Đã lưu đánh giá: đạt %(met)s/%(total)s tiêu chí (phiên bản %(v)s).")
                        % {
                            "met": saved.criteria_met,
                            "total": len(form.criteria),
                            "v": saved.version,
                        },
                    )
                else:
                    messages.info(request, _("Không có gì thay đổi."))
                return redirect(request.path)
    else:
        form = AssessmentForm(cs, assessment)
    changes = (
        AssessmentChange.objects.filter(assessment=assessment).select_related("changed_by")[:30]
        if assessment
        else []
    )
    return render(
        request,
        "ntm/entry.html",
        {
            "criteria_set": cs,
            "unit": unit_obj,
            "year": year,
            "assessment": assessment,
            "form": form,
            "lines": form.lines(),
            "errors": errors,
            "may_write": may_write,
            "may_recognise": scope.may_record_recognition(request.user, unit_obj),
            "changes": changes,
        },
    )


@login_required
def recognition(request, code: str, unit: int, year: int):
    """GET: the recognitions of ``unit`` for the set; POST: record one for ``year`` (or
    withdraw one, ``action=withdraw``) — the province's coordination office only, and
    refused unless the year's assessment meets every criterion."""
    cs = _criteria_set(code)
    year = _year(year)
    unit_obj = scope.get_unit_or_403(request.user, unit)
    may_write = scope.may_record_recognition(request.user, unit_obj)
    form, withdrawal, errors = RecognitionForm(), WithdrawalForm(), []
    if request.method == "POST":
        scope.check_record_recognition(request.user, unit_obj)
        if request.POST.get("action") == "withdraw":
            withdrawal = WithdrawalForm(request.POST)
            if withdrawal.is_valid():
                found = Recognition.objects.filter(
                    pk=withdrawal.cleaned_data["recognition"], unit=unit_obj, criteria_set=cs
                ).first()
                if found is None:
                    raise Http404(_("Không có quyết định công nhận này."))
                try:
                    withdraw_recognition(
                        found,
                        withdrawal.cleaned_data["withdrawn_number"],
                        withdrawal.cleaned_data["withdrawn_on"],
                        request.user,
                    )
                except TiendoError as exc:
                    errors.append(str(exc))
                else:
                    messages.success(request, _("Đã ghi quyết định thu hồi."))
                    return redirect(request.path)
        else:
            form = RecognitionForm(request.POST)
            if form.is_valid():
                try:
                    record_recognition(
                        unit=unit_obj,
                        criteria_set=cs,
                        year=year,
                        user=request.user,
                        **form.cleaned_data,
                    )
                except TiendoError as exc:
                    errors.append(str(exc))
                else:
                    messages.success(request, _("Đã ghi quyết định công nhận."))
                    return redirect(request.path)
    return render(
        request,
        "ntm/entry_recognition.html",
        {
            "criteria_set": cs,
            "unit": unit_obj,
            "year": year,
            "assessment": _assessment(unit_obj, cs, year),
            "total": cs.criteria.count(),
            "recognitions": Recognition.objects.filter(unit=unit_obj, criteria_set=cs),
            "form": form,
            "withdrawal": withdrawal,
            "errors": errors,
            "may_write": may_write,
            "entry_url": reverse("ntm:entry", args=[cs.code, unit_obj.pk, year]),
        },
    )


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def sheet_download(request, code: str, unit: int, year: int):
    """The summary sheet of ``unit``'s communes for ``year`` (whoever reads the unit)."""
    from tiendo.ntm.excel import build_sheet

    cs = _criteria_set(code)
    year = _year(year)
    unit_obj = scope.get_unit_or_403(request.user, unit)
    content = build_sheet(cs, unit_obj, year, user=request.user)
    return _xlsx(content, f"tieu-chi-{cs.code.lower()}-{unit_obj.code}-{year}.xlsx")


@login_required
def sheet_upload(request, code: str, unit: int, year: int):
    """GET: the upload form; POST: check the file whole (``action=check``, nothing written)
    or check it and write every row or none (``action=save``)."""
    from tiendo.core.uploads import UploadError, uploaded_file
    from tiendo.ntm.excel import check_sheet, import_sheet

    cs = _criteria_set(code)
    year = _year(year)
    unit_obj = scope.get_unit_or_403(request.user, unit)
    may_write = scope.may_assess(request.user, unit_obj)
    check, saved, refusal = None, False, ""
    if request.method == "POST":
        scope.check_assess(request.user, unit_obj)
        try:
            upload = uploaded_file(request, "file")
        except UploadError as exc:
            upload, refusal = None, str(exc)
        if upload is None and not refusal:
            refusal = _("Chưa chọn tệp.")
        if upload is not None:
            content = upload.read()
            name = upload.name or ""
            if request.POST.get("action") == "save":
                check = import_sheet(
                    content, name, cs=cs, unit=unit_obj, year=year, user=request.user
                )
                saved = check.ok
            else:
                check = check_sheet(
                    content, name, cs=cs, unit=unit_obj, year=year, user=request.user
                )
    return render(
        request,
        "ntm/entry_sheet.html",
        {
            "criteria_set": cs,
            "unit": unit_obj,
            "year": year,
            "check": check,
            "saved": saved,
            "refusal": refusal,
            "may_write": may_write,
        },
    )
