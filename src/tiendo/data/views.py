"""Data entry: choose a programme, a unit and a period; type the figures; see the history.

The page preselects what is not ambiguous: the only programme, the user's own unit (or
the only unit the user may write), and the running year when the programme's phase
covers today. Periods are picked from a list in words (:class:`PeriodPicker`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from tiendo.accounts import scope
from tiendo.data.forms import QUALIFIER_CHOICES, ValuesForm
from tiendo.data.models import DataValueChange
from tiendo.data.services import DataEntryError, ValueConflictError, indicator_figure, save_values
from tiendo.data.validation import validate_entries
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Programme
from tiendo.programmes.params import period_param, programme_param, query_param
from tiendo.programmes.periods import Period, PeriodError, PeriodType
from tiendo.programmes.widgets import YEARS_BEFORE, PeriodPicker, periods_between
from tiendo.units.models import Unit
from tiendo.units.services import search_units

UNIT_CHOICES_LIMIT = 300
HISTORY_PAGE_SIZE = 25
# where a change came from, for the history panel when no person is recorded
SOURCE_LABELS = {
    "form": _lazy("Biểu nhập"),
    "import": _lazy("Nhập từ tệp"),
    "api": _lazy("API"),
    "demo": _lazy("Dữ liệu mẫu"),
}
ENTRY_PERIOD_TYPES = (PeriodType.YEAR, PeriodType.HALF)


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


def _phase(programme: Programme | None) -> Period | None:
    if programme is None:
        return None
    try:
        return programme.period_obj
    except PeriodError:
        return None


def entry_periods(programme: Programme | None, today=None) -> list[Period]:
    """The periods the picker offers: years and halves of the programme's phase and of the
    last few years up to today, and the phase itself."""
    year = (today or timezone.localdate()).year
    phase = _phase(programme)
    first = year - YEARS_BEFORE if phase is None else min(phase.start.year, year - YEARS_BEFORE)
    last = year if phase is None else max(year, phase.end.year)
    periods = periods_between(ENTRY_PERIOD_TYPES, first, last)
    if phase is not None and phase.type is PeriodType.PHASE:
        periods.append(phase)
    return periods


def current_period(programme: Programme | None, today=None) -> Period | None:
    """The running year, when the programme's phase covers today (else none is assumed)."""
    today = today or timezone.localdate()
    phase = _phase(programme)
    if phase is None or not phase.start <= today <= phase.end:
        return None
    return Period.year(today.year)


@dataclass
class Choice:
    """What the page is opened for, and the lists to change it."""

    programmes: list[Programme]
    programme: Programme | None = None
    period: Period | None = None
    period_raw: str = ""
    period_error: str = ""
    unit: Unit | None = None
    unit_choices: list[Unit] = field(default_factory=list)
    unit_choices_truncated: bool = False
    unit_query: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.programme and self.unit and self.period)

    def query(self, **extra) -> str:
        """The page's address for this choice (``extra`` added), for links."""
        params = {"programme": self.programme.code, "unit": self.unit.pk, "period": self.period}
        return "?" + urlencode({**params, **extra})


def _choose_programme(request, choice: Choice) -> None:
    choice.programme = programme_param(request)
    if choice.programme is None and len(choice.programmes) == 1:
        choice.programme = choice.programmes[0]


def _choose_period(request, choice: Choice) -> None:
    choice.period, choice.period_raw, choice.period_error = period_param(request)
    if not choice.period_raw and request.method == "GET":
        choice.period = current_period(choice.programme)


def _choose_unit(request, choice: Choice) -> None:
    """The unit asked for (checked, for writing on a post, before anything is read), else
    the user's own or the only one the user may write, if any."""
    user = request.user
    unit_raw = query_param(request, "unit")
    if unit_raw:
        choice.unit = scope.get_unit_or_403(user, unit_raw, write=request.method == "POST")
    choice.unit_query = (request.GET.get("unit_q") or "").strip()
    choices, choice.unit_choices_truncated = writable_units(user, choice.period, choice.unit_query)
    if choice.unit is None and not choice.unit_query:
        own = [u for u in choices if u.pk == user.unit_id]
        choice.unit = own[0] if own else (choices[0] if len(choices) == 1 else None)
    if choice.unit is not None and all(u.pk != choice.unit.pk for u in choices):
        choices = [choice.unit, *choices]  # a unit the user reads but may not write
    choice.unit_choices = choices


def _choice_context(request, choice: Choice) -> dict:
    picker = PeriodPicker(periods=entry_periods(choice.programme), attrs={"id": "id_period"})
    return {
        **vars(choice),
        "choice": choice,
        "period_picker": picker.render("period", choice.period or choice.period_raw),
        "period_name": choice.period.title if choice.period else "",
        "may_write": choice.unit is not None and scope.can_write(request.user, choice.unit),
    }


def _keep_programmes_of_unit(choice: Choice) -> str:
    """Offer only the programmes applying to the chosen unit; why the one asked for is not
    opened when it does not apply there (``""``: it does)."""
    if choice.unit is None:
        return ""
    applying = set(Programme.objects.applying_to(choice.unit).values_list("pk", flat=True))
    choice.programmes = [p for p in choice.programmes if p.pk in applying]
    if choice.programme is None or choice.programme.pk in applying:
        return ""
    refused = _("Chương trình “%(programme)s” không áp dụng cho %(unit)s.") % {
        "programme": choice.programme,
        "unit": choice.unit.name,
    }
    choice.programme = None
    return refused


@login_required
def entry(request):
    choice = Choice(programmes=list(programmes_seen_by(request.user).order_by("code")))
    _choose_programme(request, choice)
    _choose_period(request, choice)
    _choose_unit(request, choice)
    not_applying = _keep_programmes_of_unit(choice)
    context = _choice_context(request, choice)
    if not_applying:
        context["programme_error"] = not_applying
        return render(request, "data/entry.html", context)
    if not choice.complete:
        if request.method == "POST":
            context["errors"] = [
                choice.period_error or _("Xin chọn chương trình, đơn vị và kỳ báo cáo.")
            ]
        return render(request, "data/entry.html", context)
    data = request.POST if request.method == "POST" else None
    form = ValuesForm(choice.programme, choice.unit, choice.period, data=data)
    if request.method == "POST":
        form = _save(request, form, context)
    context["form"] = form
    context["qualifier_choices"] = QUALIFIER_CHOICES
    context["history"] = history_page(request, choice, form)
    return render(request, "data/entry.html", context)


def _save(request, form: ValuesForm, context: dict) -> ValuesForm:
    """Save what the user changed, all or nothing; the form to show next (a fresh one after
    a save, the posted one, every problem marked, after a refusal)."""
    try:
        entries = form.entries()
        results = save_values(entries, user=request.user) if entries else []
    except DataEntryError as exc:
        # nothing was saved: every problem in a summary and beside its field
        context["errors"] = list(dict.fromkeys(str(exc).splitlines()))
        context["invalid_slots"] = form.invalid_slots
        context["invalid_messages"] = {slot.error for slot in form.invalid_slots}
        if isinstance(exc, ValueConflictError):
            form.mark_conflicts(exc.conflicts)
        return form
    changes = [(e, r) for e, r in zip(entries, results, strict=True) if r.action is not None]
    context["changes"] = [_change_row(form, e, r) for e, r in changes]
    if changes:
        messages.success(
            request,
            ngettext("Đã lưu %(n)d số liệu.", "Đã lưu %(n)d số liệu.", len(changes))
            % {"n": len(changes)},
        )
    else:
        messages.info(request, _("Không có số liệu nào thay đổi."))
    fresh = ValuesForm(form.programme, form.unit, form.period)
    # the rules that read what was just saved: warnings, the values stay saved
    violations = validate_entries([e for e, _r in changes])
    fresh.attach_warnings(violations)
    context["violations"] = violations
    return fresh


def _change_row(form: ValuesForm, entry, result) -> dict:
    return {
        "indicator": entry.indicator,
        "category": form.category_name(entry.indicator, entry.category),
        "action": result.action,
        "old": result.old_value,
        "new": result.new_value,
        "old_text": indicator_figure(entry.indicator, result.old_value, result.old_qualifier),
        "new_text": indicator_figure(entry.indicator, result.new_value, result.new_qualifier),
    }


def history_page(request, choice: Choice, form: ValuesForm) -> Page:
    """Who changed which figure of this unit and period, when, from what to what: newest
    first, a page at a time (``trang=``); each row's ``category`` and ``source`` named."""
    changes = (
        DataValueChange.objects.filter(
            unit=choice.unit, period=choice.period.id, indicator__programme=choice.programme
        )
        .select_related("indicator", "changed_by")
        .order_by("-changed_at", "-pk")
    )
    number = request.GET.get("trang") if request.method == "GET" else 1
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(number)
    page.object_list = list(page.object_list)
    for change in page.object_list:
        change.category_name = (
            form.category_name(change.indicator, change.category) if change.category else ""
        )
        change.source_label = SOURCE_LABELS.get(change.source, change.source)
        change.old_text = indicator_figure(change.indicator, change.old_value, change.old_qualifier)
        change.new_text = indicator_figure(change.indicator, change.new_value, change.new_qualifier)
    if page.has_previous():
        page.previous_url = choice.query(trang=page.previous_page_number()) + "#lich-su"
    if page.has_next():
        page.next_url = choice.query(trang=page.next_page_number()) + "#lich-su"
    return page
