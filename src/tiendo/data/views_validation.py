"""The validation page: rule violations and outliers of a unit and everything below it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.data import validation
from tiendo.data.models import Importance
from tiendo.data.views import entry_periods
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Programme
from tiendo.programmes.params import period_param, programme_param, query_param
from tiendo.programmes.periods import Period, PeriodError
from tiendo.programmes.widgets import PeriodPicker
from tiendo.units.models import Level, Unit

UNIT_CHOICES_LIMIT = 300


def unit_choices(user, period: Period | None, chosen: Unit | None) -> list[Unit]:
    """Readable units a check usually starts from: provinces, districts and agencies."""
    units = scope.readable_units(user).filter(
        Q(level__lte=Level.DISTRICT) | Q(kind="agency") | Q(pk=getattr(user, "unit_id", None))
    )
    if period is not None:
        units = units.valid_during(period)
    choices = list(units.order_by("level", "code")[:UNIT_CHOICES_LIMIT])
    if chosen is not None and all(u.pk != chosen.pk for u in choices):
        choices.insert(0, chosen)
    return choices


def _unit(request, name: str, *, write: bool = False) -> Unit | None:
    """The unit named by ``name`` (404 if none such, 403 outside the user's scope)."""
    raw = query_param(request, name)
    return scope.get_unit_or_403(request.user, raw, write=write) if raw else None


def _page_url(unit_pk, period_id: str, programme_code: str) -> str:
    query = {"unit": unit_pk, "period": period_id}
    if programme_code:
        query["programme"] = programme_code
    return reverse("data:validation") + "?" + urlencode(query)


@login_required
def violations(request):
    user = request.user
    programmes = list(programmes_seen_by(user).order_by("code"))
    programme = programme_param(request)
    period, period_raw, period_error = period_param(request)
    unit = _unit(request, "unit")
    if unit is None and user.unit_id is not None:
        unit = scope.check_unit(user, user.unit)
    context = {
        "programmes": programmes,
        "programme": programme,
        "period": period,
        "period_raw": period_raw,
        "period_error": period_error,
        "unit": unit,
        "unit_choices": unit_choices(user, period, unit),
        "importance": Importance,
        "period_picker": PeriodPicker(
            periods=entry_periods(programme), attrs={"id": "id_period"}
        ).render("period", period or period_raw),
    }
    if unit is not None and period is not None:
        context |= _results(user, unit, period, programme)
    return render(request, "data/validation.html", context)


def _results(user, unit: Unit, period: Period, programme: Programme | None) -> dict:
    """The violations (grouped by unit) and outliers of ``unit`` and below, with the
    finding recorded for each and whether ``user`` may record one."""
    units = validation.units_below(unit, period)
    report = validation.validate_units(units, period, programme=programme)
    outliers = validation.find_outliers(unit, period, programme, below=True)
    findings = validation.findings_for([*report.violations, *outliers])
    writable: dict[int, bool] = {}

    def may_write(u: Unit) -> bool:
        if u.pk not in writable:
            writable[u.pk] = scope.can_write(user, u)
        return writable[u.pk]

    groups = [
        {
            "unit": group_unit,
            "rows": [
                {
                    "violation": v,
                    "finding": findings.get((v.unit.pk, v.period.id, v.key)),
                    "may_write": may_write(v.unit),
                }
                for v in group
            ],
        }
        for group_unit, group in report.by_unit()
    ]
    counts = {level: 0 for level in Importance.values}
    for v in report.violations:
        counts[v.importance] += 1
    return {
        "report": report,
        "units_checked": len(units),
        "groups": groups,
        "outlier_rows": _outlier_rows(outliers, findings, may_write),
        "counts": counts,
    }


def _outlier_rows(outliers, findings: dict, may_write) -> list[dict]:
    return [
        {
            "outlier": o,
            "period_label": o.period.label,
            "finding": findings.get((o.unit.pk, o.period, o.key)),
            "may_write": may_write(o.unit),
        }
        for o in outliers
    ]


@login_required
@require_POST
def resolve(request):
    """Explain a violation or confirm an outlier: needs the right to write the unit."""
    user = request.user
    target = _unit(request, "target", write=True)
    if target is None:
        return redirect("data:validation")
    back_unit = _unit(request, "unit") or target
    programme = programme_param(request)
    programme_code = programme.code if programme else ""
    try:
        period = Period.parse(request.POST.get("period") or "")
        item_period = Period.parse(request.POST.get("item_period") or period.id)
    except PeriodError as exc:
        messages.error(request, str(exc))
        return redirect("data:validation")
    key = (request.POST.get("key") or "").strip()
    back = _page_url(back_unit.pk, period.id, programme_code)

    if key.startswith("rule:"):
        items = [
            v for v in validation.validate_unit(target, period, programme=programme) if v.key == key
        ]
        record = validation.explain_violation
    else:
        items = [
            o
            for o in validation.find_outliers(target, item_period, programme)
            if o.key == key and o.period == item_period.id
        ]
        record = validation.check_outlier
    if not items:
        messages.warning(
            request, _("Số liệu đã thay đổi, cảnh báo này không còn; xin xem lại danh sách.")
        )
        return redirect(back)
    try:
        record(items[0], user=user, note=request.POST.get("note") or "")
    except validation.FindingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Đã ghi nhận giải trình."))
    return redirect(back)
