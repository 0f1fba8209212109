"""Form widgets and fields for reporting periods, shared by every form that asks for one.

A person picks a period from a list in words — "Quý III năm 2025", "6 tháng đầu năm 2025",
"Năm 2025" — never types a code such as ``2025Q3``; what the form posts is still the ASCII
period id (:mod:`tiendo.programmes.periods`), so the views, links and tests that read a
``period=`` parameter stay as they are.

* :attr:`Period.title <tiendo.programmes.periods.Period.title>` names each period of a list.
* :func:`periods_between` — the periods of some types over a range of years.
* :class:`PeriodPicker` — a ``<select>`` of those periods grouped by year, newest first; a
  period given as the value that is not in the range (an old link, a month) is added, so a
  page never silently shows another period than the one it was opened for.
* :class:`PeriodChoiceField` — a form field with that widget whose cleaned value is a
  :class:`~tiendo.programmes.periods.Period` of an accepted type.

Used without a ``django.forms.Form`` (the data entry page), a picker renders on its own:
``PeriodPicker(period_types=[...]).render("period", current)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tiendo.programmes.periods import MAX_YEAR, MIN_YEAR, Period, PeriodError, PeriodType

# how many years before and after today a picker offers by default
YEARS_BEFORE, YEARS_AFTER = 5, 1
# phases are the national five-year plans: 2016-2020, 2021-2025, 2026-2030…
PHASE_LENGTH, PHASE_ANCHOR = 5, 2021
BLANK = _lazy("— chọn kỳ báo cáo —")


def _periods_of_year(period_type: PeriodType, year: int) -> list[str]:
    match period_type:
        case PeriodType.YEAR:
            return [str(year)]
        case PeriodType.HALF:
            return [f"{year}S1", f"{year}S2"]
        case PeriodType.QUARTER:
            return [f"{year}Q{q}" for q in range(1, 5)]
        case PeriodType.MONTH:
            return [f"{year}{m:02d}" for m in range(1, 13)]
        case PeriodType.DATE:  # the usual cut-off dates of a report "as of"
            return [f"{year}-06-30", f"{year}-12-31"]
        case PeriodType.PHASE:
            first = year - (year - PHASE_ANCHOR) % PHASE_LENGTH
            return [f"{first}-{first + PHASE_LENGTH - 1}"]
    raise AssertionError(period_type)


def periods_between(
    period_types: Iterable[PeriodType | str], first: int, last: int
) -> list[Period]:
    """Every period of ``period_types`` that starts in the years ``first``..``last``
    (a phase: every phase touching them), in calendar order, each once."""
    first, last = max(first, MIN_YEAR), min(last, MAX_YEAR)
    found: dict[str, Period] = {}
    for period_type in map(PeriodType, period_types):
        for year in range(first, last + 1):
            for identifier in _periods_of_year(period_type, year):
                try:
                    found.setdefault(identifier, Period.parse(identifier))
                except PeriodError:  # a phase reaching past MAX_YEAR
                    continue
    return sorted(found.values(), key=lambda p: (p.start, -p.end.toordinal()))


def default_years(today: date | None = None) -> tuple[int, int]:
    """The years a picker offers when told nothing else: a few around today."""
    year = (today or timezone.localdate()).year
    return year - YEARS_BEFORE, year + YEARS_AFTER


def _group_name(period: Period) -> str:
    if period.type is PeriodType.PHASE:
        return _("Giai đoạn")
    return _("Năm %(year)d") % {"year": period.start.year}


def _group_order(period: Period) -> tuple:
    # phases last; newest year first; inside a year, the whole year, then calendar order
    is_phase = period.type is PeriodType.PHASE
    return (is_phase, -period.start.year, period.start, -period.end.toordinal())


class PeriodPicker(forms.Select):
    """A ``<select>`` of periods in words, grouped by year (newest first); values are ids.

    ``period_types`` says which periods are offered (default: years); ``periods`` gives
    the list outright instead of ``years`` (first, last; default: :func:`default_years`).
    ``blank`` is the label of an empty first choice ("" for none).
    """

    def __init__(
        self,
        attrs=None,
        *,
        period_types: Sequence[PeriodType | str] = (PeriodType.YEAR,),
        periods: Iterable[Period] | None = None,
        years: tuple[int, int] | None = None,
        blank=BLANK,
    ):
        super().__init__(attrs)
        self.period_types = [PeriodType(t) for t in period_types]
        self.periods = None if periods is None else [Period.parse(p) for p in periods]
        self.years = years
        self.blank = blank

    def offered(self, value=None) -> list[Period]:
        """The periods in the list: the given or computed ones, plus ``value`` if it is a
        period not among them."""
        if self.periods is not None:
            periods = list(self.periods)
        else:
            periods = periods_between(self.period_types, *(self.years or default_years()))
        extra = _as_period(value)
        if extra is not None and extra not in periods:
            periods.append(extra)
        return sorted(set(periods), key=_group_order)

    def period_choices(self, value=None) -> list:
        """The choices, grouped by year: ``[(group name, [(id, name), ...]), ...]``."""
        choices: list = [("", self.blank)] if self.blank else []
        groups: dict[str, list] = {}
        for period in self.offered(value):
            groups.setdefault(_group_name(period), []).append((period.id, period.title))
        choices += list(groups.items())
        return choices

    def get_context(self, name, value, attrs):
        self.choices = self.period_choices(value)
        return super().get_context(name, value, attrs)

    def format_value(self, value):
        period = _as_period(value)
        if period is not None:
            return [period.id]
        return super().format_value(value)


def _as_period(value) -> Period | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value in (None, ""):
        return None
    try:
        return Period.parse(value)
    except PeriodError:
        return None


class PeriodChoiceField(forms.Field):
    """A period picked from a :class:`PeriodPicker`; cleaned to a :class:`Period` of one of
    ``period_types`` (other values — typed, tampered — are refused with the period's own
    Vietnamese message, or one naming the types accepted)."""

    widget = PeriodPicker

    def __init__(
        self,
        *,
        period_types: Sequence[PeriodType | str] = (PeriodType.YEAR,),
        periods: Iterable[Period] | None = None,
        years: tuple[int, int] | None = None,
        **kwargs,
    ):
        self.period_types = [PeriodType(t) for t in period_types]
        kwargs.setdefault(
            "widget", PeriodPicker(period_types=self.period_types, periods=periods, years=years)
        )
        super().__init__(**kwargs)

    def to_python(self, value) -> Period | None:
        if value in self.empty_values:
            return None
        try:
            period = Period.parse(value)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from exc
        if period.type not in self.period_types:
            raise forms.ValidationError(
                _("Kỳ báo cáo “%(period)s” không thuộc loại kỳ của biểu: %(types)s."),
                code="period.wrong_type",
                params={
                    "period": period.title,
                    "types": ", ".join(str(TYPE_NAMES[t]) for t in self.period_types),
                },
            )
        return period

    def prepare_value(self, value):
        period = _as_period(value)
        return period.id if period is not None else value


TYPE_NAMES = {
    PeriodType.YEAR: _lazy("năm"),
    PeriodType.HALF: _lazy("6 tháng"),
    PeriodType.QUARTER: _lazy("quý"),
    PeriodType.MONTH: _lazy("tháng"),
    PeriodType.DATE: _lazy("đến ngày"),
    PeriodType.PHASE: _lazy("giai đoạn"),
}


class PeriodMultiPicker(PeriodPicker):
    """A :class:`PeriodPicker` where several periods may be picked (``<select multiple>``);
    the value is the list of ids picked, each kept in the list even if not offered."""

    allow_multiple_selected = True

    def __init__(self, attrs=None, **kwargs):
        kwargs.setdefault("blank", "")
        super().__init__(attrs, **kwargs)

    def offered(self, value=None) -> list[Period]:
        periods = super().offered(None)
        values = value if isinstance(value, (list, tuple)) else [value]
        periods += [p for p in map(_as_period, values) if p is not None and p not in periods]
        return sorted(set(periods), key=_group_order)

    def format_value(self, value):
        values = value if isinstance(value, (list, tuple)) else [value]
        return [p.id for p in map(_as_period, values) if p is not None]
