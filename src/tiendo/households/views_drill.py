"""The records behind a register indicator's figure: the 37 households behind "37 hộ".

One page per (indicator, unit, period): the records of the bound source that the figure
counts or sums — those of the unit's communes (history-true: the communes that were below
it), dated in the period (``in_period``), up to its end (``to_period_end``) or valid on its
last day (``valid_on_period_end``) — paged. Leaders see aggregates only: the page is
refused to them. Names are shown only to who may see the unit's records
(:func:`~tiendo.accounts.scope.may_see_records`), ID numbers masked unless
:func:`~tiendo.accounts.scope.may_see_id_numbers` allows them in full for the household's
commune. ``?xuat=csv`` exports the page's records, audited in
:class:`~tiendo.households.models.PersonalDataExport` (kind ``drill``) when it holds names.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.functions import ExtractYear
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.accounts.models import Role
from tiendo.households.figures import records
from tiendo.households.models import (
    Household,
    Measure,
    PeriodMode,
    PersonalDataExport,
    RegisterIndicator,
)
from tiendo.households.sources import get_source
from tiendo.programmes.periods import Period, PeriodError

PER_PAGE = 50
MAX_EXPORT = 20_000


def _figure_records(binding, source, unit, period: Period):
    qs = records(binding, source).filter(**{f"{source.unit}__path__startswith": unit.path})
    if source.date:
        qs = qs.annotate(_year=ExtractYear(source.date))
    else:
        qs = qs.annotate(_year=F(source.year))
    if binding.period == PeriodMode.IN_PERIOD:
        qs = qs.filter(_year__gte=period.start.year, _year__lte=period.end.year)
    elif binding.period == PeriodMode.TO_PERIOD_END:
        qs = qs.filter(_year__lte=period.end.year)
    else:
        qs = source.valid_on(qs, period.end)
    return qs


@login_required
def drill(request, indicator_code: str, unit_id: int, period: str):
    user = request.user
    if user.role == Role.LEADER and not scope.is_admin(user):
        raise PermissionDenied(
            _("Lãnh đạo xem số liệu tổng hợp; danh sách hộ dành cho cán bộ làm việc với hồ sơ.")
        )
    unit = scope.get_unit_or_403(user, unit_id)
    binding = (
        RegisterIndicator.objects.select_related("indicator").filter(indicator__code=indicator_code)
    ).first()
    source = get_source(binding.source) if binding else None
    if binding is None or source is None:
        raise Http404(_("Chỉ tiêu này không tính từ sổ."))
    try:
        parsed = Period.parse(period)
    except PeriodError as exc:
        raise Http404(str(exc.message)) from exc
    names = scope.may_see_records(user, unit)
    found = _figure_records(binding, source, unit, parsed)
    distinct = binding.measure == Measure.DISTINCT_HOUSEHOLDS and source.household
    if distinct:
        rows = Household.objects.filter(pk__in=found.values(source.household))
        rows = rows.select_related("unit").order_by("unit__code", "code")
    else:
        rows = found.order_by(source.unit, "pk")
        if source.household == "pk":
            rows = rows.select_related("unit")
        elif source.household:
            rows = rows.select_related(f"{source.household}__unit")
    if request.GET.get("xuat") == "csv":
        return _export(request, binding, source, unit, parsed, rows, names, distinct)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    lines = [_line(user, binding, source, row, names, distinct) for row in page]
    return render(
        request,
        "households/drill.html",
        {
            "binding": binding,
            "indicator": binding.indicator,
            "source": source,
            "unit": unit,
            "period": parsed,
            "page": page,
            "lines": lines,
            "names": names,
            "distinct": distinct,
            "summed": binding.field if binding.measure == Measure.SUM else "",
        },
    )


def _household_of(row, source, distinct):
    if distinct or source.household == "pk":
        return row
    if source.household:
        return getattr(row, source.household)
    return None


def _line(user, binding, source, row, names, distinct) -> dict:
    household = _household_of(row, source, distinct)
    line = {"household": household, "name": "", "id_number": "", "full_id": False}
    line |= {"value": None, "year": None}
    if household is not None:
        line["code"] = household.code
        line["commune"] = household.unit
        if names:
            line["name"] = household.head_name
            line["full_id"] = scope.may_see_id_numbers(user, household.unit)
            line["id_number"] = household.head_id() if line["full_id"] else household.head_id_masked
    if not distinct:
        line["year"] = getattr(row, "_year", None)
        if binding.measure == Measure.SUM:
            value = row
            for part in source.fields[binding.field].split("__"):
                value = getattr(value, part, None)
            line["value"] = value
    return line


def _export(request, binding, source, unit, period, rows, names, distinct) -> HttpResponse:
    user = request.user
    rows = list(rows[:MAX_EXPORT])
    lines = [_line(user, binding, source, row, names, distinct) for row in rows]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{binding.indicator.code}_{unit.code}_{period.id}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    out = csv.writer(response)
    header = [_("Mã hộ"), _("Xã")]
    if names:
        header += [_("Họ và tên chủ hộ"), _("Số căn cước")]
    if not distinct:
        header += [_("Năm")]
        if binding.measure == Measure.SUM:
            header += [binding.field]
    out.writerow(header)
    with_ids = False
    for line in lines:
        cells = [line.get("code", ""), getattr(line.get("commune"), "code", "")]
        if names:
            cells += [line["name"], line["id_number"]]
            with_ids = with_ids or line["full_id"]
        if not distinct:
            cells.append(line["year"] or "")
            if binding.measure == Measure.SUM:
                cells.append("" if line["value"] is None else line["value"])
        out.writerow(cells)
    if names:
        PersonalDataExport.objects.create(
            exported_by=user,
            unit=unit,
            kind="drill",
            filters={"indicator": binding.indicator.code, "period": period.id},
            rows=len(lines),
            with_id_numbers=with_ids,
        )
    return response
