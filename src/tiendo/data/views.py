"""Data entry: choose a programme, a unit and a period; type the figures; see the history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from tiendo.accounts import scope
from tiendo.data.forms import ValuesForm
from tiendo.data.models import DataValueChange
from tiendo.data.services import DataEntryError, ValueConflictError, save_values
from tiendo.data.validation import validate_entries
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period, PeriodError, PeriodType
from tiendo.units.models import Unit
from tiendo.units.services import search_units

UNIT_CHOICES_LIMIT = 300
HISTORY_LIMIT = 100
# where a change came from, for the history panel when no person is recorded
SOURCE_LABELS = {
    "form": _lazy("Biểu nhập"),
    "import": _lazy("Nhập từ tệp"),
    "api": _lazy("API"),
    "demo": _lazy("Dữ liệu mẫu"),
}


def writable_units(user, period: Period | None, query: str = "") -> tuple[list[Unit], bool]:
    """Units the user may write that exist in the period (any, before a period is chosen:
    an officer of a commune merged in 2025 still enters its 2022 figures); capped, with a flag."""
    units = scope.readable_units(user)
    if query:
        units = search_units(query).filter(pk__in=units.values("pk"))
    if period is not None:
        units = units.valid_during(period)
    chosen: list[Unit] = []
    for unit in units.order_by("level", "code").iterator(chunk_size=500):
        if scope.can_write(user, unit):
            chosen.append(unit)
            if len(chosen) > UNIT_CHOICES_LIMIT:
                return chosen[:UNIT_CHOICES_LIMIT], True
    return chosen, False


def period_suggestions(programme: Programme | None) -> list[Period]:
    if programme is None:
        return []
    try:
        phase = programme.period_obj
    except PeriodError:
        return []
    periods = []
    for year in phase.years():
        periods += [year, Period.parse(f"{year.id}S1"), Period.parse(f"{year.id}S2")]
    if phase.type is PeriodType.PHASE:
        periods.append(phase)
    return periods


def _param(request, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


@login_required
def entry(request):
    user = request.user
    programmes = list(Programme.objects.order_by("code"))
    programme = None
    code = _param(request, "programme")
    if code:
        programme = get_object_or_404(Programme, code=code)
    elif len(programmes) == 1:
        programme = programmes[0]

    period, period_error = None, ""
    period_raw = _param(request, "period")
    if period_raw:
        try:
            period = Period.parse(period_raw)
        except PeriodError as exc:
            period_error = str(exc)

    unit = None
    unit_raw = _param(request, "unit")
    if unit_raw:
        if not unit_raw.isdigit():
            unit_raw = "0"
        unit = get_object_or_404(Unit, pk=int(unit_raw))
        # writing needs the write check before anything is read from the request
        scope.check_unit(user, unit, write=request.method == "POST")
    query = (request.GET.get("unit_q") or "").strip()
    choices, truncated = writable_units(user, period, query)
    if unit is None and len(choices) == 1 and not query:
        unit = choices[0]
    if unit is not None and all(u.pk != unit.pk for u in choices):
        choices = [unit, *choices]  # a unit the user reads but may not write: shown read-only
    may_write = unit is not None and scope.can_write(user, unit)

    context = {
        "programmes": programmes,
        "programme": programme,
        "period": period,
        "period_raw": period_raw,
        "period_error": period_error,
        "period_suggestions": period_suggestions(programme),
        "unit": unit,
        "unit_choices": choices,
        "unit_choices_truncated": truncated,
        "unit_query": query,
        "may_write": may_write,
    }
    if not (programme and unit and period):
        if request.method == "POST":
            context["errors"] = [period_error or _("Xin chọn chương trình, đơn vị và kỳ báo cáo.")]
        return render(request, "data/entry.html", context)

    form = ValuesForm(
        programme, unit, period, data=request.POST if request.method == "POST" else None
    )
    if request.method == "POST":
        try:
            entries = form.entries()
            results = save_values(entries, user=user) if entries else []
        except DataEntryError as exc:
            # nothing was saved: show every problem beside the form, with what was typed
            context["errors"] = list(dict.fromkeys(str(exc).splitlines()))
            if isinstance(exc, ValueConflictError):
                form.mark_conflicts(exc.conflicts)
        else:
            changes = [
                (e, r) for e, r in zip(entries, results, strict=True) if r.action is not None
            ]
            context["changes"] = [
                {
                    "indicator": e.indicator,
                    "category": form.category_name(e.indicator, e.category),
                    "action": r.action,
                    "old": r.old_value,
                    "new": r.new_value,
                }
                for e, r in changes
            ]
            if changes:
                messages.success(
                    request,
                    ngettext("Đã lưu %(n)d số liệu.", "Đã lưu %(n)d số liệu.", len(changes))
                    % {"n": len(changes)},
                )
            else:
                messages.info(request, _("Không có số liệu nào thay đổi."))
            form = ValuesForm(programme, unit, period)
            # the rules that read what was just saved: warnings, the values stay saved
            violations = validate_entries([e for e, _r in changes])
            form.attach_warnings(violations)
            context["violations"] = violations
    context["form"] = form
    context["history"] = history(programme, unit, period, form)
    return render(request, "data/entry.html", context)


def history(programme: Programme, unit: Unit, period: Period, form: ValuesForm) -> list[dict]:
    """Who changed which figure of this unit and period, when, from what to what."""
    changes = (
        DataValueChange.objects.filter(unit=unit, period=period.id, indicator__programme=programme)
        .select_related("indicator", "changed_by")
        .order_by("-changed_at", "-pk")[:HISTORY_LIMIT]
    )
    return [
        {
            "change": c,
            "category": form.category_name(c.indicator, c.category) if c.category else "",
            "source": SOURCE_LABELS.get(c.source, c.source),
        }
        for c in changes
    ]
