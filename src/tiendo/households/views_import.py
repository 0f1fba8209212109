"""The pages of the Excel import: upload, the job's progress, its result, the confirmation.

An upload is checked (size, zip structure) in the request and then handed to a background
job, the dry run (:func:`tiendo.households.importing.run_check`): the file waits for the
confirmation encrypted in the job row. The job's page polls its progress with htmx and,
once it has finished, sends the browser to the result: the rows' errors, or a summary and
a button that starts the import job itself. Without JavaScript the page refreshes itself.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.core.errors import TiendoError
from tiendo.core.jobs import start_job
from tiendo.core.models import Job, JobStatus
from tiendo.core.uploads import uploaded_file
from tiendo.households import crypto, importing
from tiendo.programmes.models import Programme
from tiendo.units.models import Level, Unit

IMPORT_KINDS = (importing.CHECK_JOB, importing.IMPORT_JOB)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import_unit(request, unit_id):
    unit = scope.get_unit_or_403(request.user, unit_id)
    return scope.check_see_records(request.user, unit, write=True)


@login_required
def import_form(request, unit_id):
    """Upload a household list for ``unit`` (a commune, or a unit above communes whose
    rows then name their commune)."""
    unit = _import_unit(request, unit_id)
    context = {"unit": unit, "with_commune": unit.level != Level.COMMUNE, "columns": _columns()}
    if request.method == "POST":
        try:
            upload = uploaded_file(request, "file")
            if upload is None:
                raise TiendoError(_("Xin chọn tệp danh sách hộ (.xlsx)."))
            data = upload.read()
            importing.inspect(data, upload.name)
        except TiendoError as err:
            context["error"] = str(err)
            return render(request, "households/import_form.html", context, status=400)
        job = start_job(
            importing.CHECK_JOB,
            user=request.user,
            unit=unit,
            upload=crypto.encrypt_bytes(data),
            upload_name=upload.name,
        )
        return redirect("households:import_job", job.pk)
    return render(request, "households/import_form.html", context)


def _columns():
    return {
        importing.SHEET_LABELS[kind]: [
            (column.label, column.required)
            for column in importing.COLUMNS[kind]
            if column is not importing.COMMUNE
        ]
        for kind in importing.COLUMNS
    }


@login_required
def import_template(request, unit_id):
    unit = _import_unit(request, unit_id)
    examples = {}
    # a programme households enrol in by component (its loans, its gardens), else any
    programme = (
        Programme.objects.filter(components__isnull=False).order_by("code").first()
        or Programme.objects.order_by("code").first()
    )
    if programme is not None:
        examples["programme"] = programme.code
    commune = (
        unit
        if unit.level == Level.COMMUNE
        else Unit.objects.filter(path__startswith=unit.path, level=Level.COMMUNE)
        .order_by("code")
        .first()
    )
    if commune is not None:
        examples["commune"] = commune.code
    with_commune = unit.level != Level.COMMUNE
    response = HttpResponse(
        importing.template(with_commune=with_commune, examples=examples), content_type=XLSX
    )
    response["Content-Disposition"] = 'attachment; filename="mau-danh-sach-ho.xlsx"'
    return response


def _job(request, job_id) -> Job:
    queryset = Job.objects.filter(kind__in=IMPORT_KINDS).select_related("unit", "started_by")
    job = scope.get_job_or_404(request.user, job_id, queryset=queryset)
    if job.unit is None:  # its unit was removed: nothing left to show
        raise PermissionDenied(_("Đơn vị của việc này không còn."))
    scope.check_see_records(request.user, job.unit)
    return job


@login_required
def import_job(request, job_id):
    """The job's progress; htmx asks for the bar alone every second."""
    job = _job(request, job_id)
    result_url = reverse("households:import_result", args=[job.pk])
    if request.headers.get("HX-Request"):
        response = render(request, "households/_job_progress.html", {"job": job})
        if job.finished:
            response["HX-Redirect"] = result_url
        return response
    if job.finished:
        return redirect(result_url)
    return render(request, "households/import_job.html", {"job": job, "unit": job.unit})


@login_required
def import_result(request, job_id):
    job = _job(request, job_id)
    if not job.finished:
        return redirect("households:import_job", job.pk)
    check = job.kind == importing.CHECK_JOB
    context = {
        "job": job,
        "unit": job.unit,
        "summary": job.result,
        "check": check,
        "may_confirm": check
        and _may_confirm(request.user, job)
        and not job.result.get("import_job"),
        "import_job": job.result.get("import_job"),
    }
    return render(request, "households/import_result.html", context)


def _may_confirm(user, job) -> bool:
    return (
        job.status == JobStatus.SUCCEEDED
        and job.result.get("valid")
        and (job.started_by_id == user.pk or scope.is_admin(user))
        and scope.may_edit_records(user, job.unit)
    )


@login_required
@require_POST
def import_confirm(request, job_id):
    """Start the import of a checked file; a second click (or a stale page) does not import
    it twice."""
    job = _job(request, job_id)
    if job.kind != importing.CHECK_JOB or not _may_confirm(request.user, job):
        raise PermissionDenied(_("Bạn không thể nhập tệp này."))
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        started = locked.result.get("import_job")
        if started is None:
            started = start_job(
                importing.IMPORT_JOB,
                user=request.user,
                unit=job.unit,
                params={"check_job": job.pk},
                upload_name=job.upload_name,
            ).pk
            locked.result = {**locked.result, "import_job": started}
            locked.save(update_fields=["result"])
    return redirect("households:import_job", started)
