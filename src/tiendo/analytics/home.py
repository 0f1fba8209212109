"""The home page of one user: what they owe, what waits for them, what they sent, what
they were told, and where their programmes stand.

Each section is a plain function of the user (and today) that returns small dataclasses
for the template; nothing here writes. Every section costs a fixed number of queries,
whatever the number of letters, answers, notifications or figures: the lists are read in
one query each, their counts through subqueries, and the key figures in one batch per year
shown (at most two years for each of :data:`PROGRAMMES_SHOWN` programmes). A role sees
only what it acts on: the data-entry and approval sections are empty for a leader, who
reads figures only; the letters section is the coordination office's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tiendo.accounts import scope
from tiendo.core.formatting import format_percent
from tiendo.core.models import Notification
from tiendo.core.notifications import unread_count
from tiendo.data.aggregation import Aggregator, Cell
from tiendo.data.models import DataValue, Rollup
from tiendo.data.pivot import format_cell
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Aggregation, Indicator, Programme, ValueType
from tiendo.programmes.periods import Period, PeriodError, PeriodType
from tiendo.reporting import queries
from tiendo.reporting.models import (
    ReportRequest,
    RequestRecipient,
    RequestStatus,
    Submission,
    SubmissionState,
    SubmissionWaiver,
)
from tiendo.units.models import Unit

ITEMS_SHOWN = 5  # of the approvals waiting and of the unread notifications
LETTERS_SHOWN = 10
PROGRAMMES_SHOWN = 3
FIGURES_PER_PROGRAMME = 3
ANSWERED = (SubmissionState.SUBMITTED, SubmissionState.APPROVED)


# ---------------------------------------------------------------------------------------
# Deadlines


@dataclass(frozen=True)
class DeadlineNote:
    """How far a deadline is from today, in words: ``còn 3 ngày``, ``quá hạn 2 ngày``."""

    deadline: date
    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def text(self) -> str:
        days = self.days_left
        if days > 0:
            return ngettext("còn %(n)d ngày", "còn %(n)d ngày", days) % {"n": days}
        if days == 0:
            return _("hạn là hôm nay")
        return ngettext("quá hạn %(n)d ngày", "quá hạn %(n)d ngày", -days) % {"n": -days}


def deadline_note(deadline: date, today: date) -> DeadlineNote:
    return DeadlineNote(deadline, (deadline - today).days)


# ---------------------------------------------------------------------------------------
# (a) reports I owe


@dataclass
class OwedReport:
    request: ReportRequest
    unit: Unit
    submission: Submission | None  # None: not started (the answer page creates it)
    due: DeadlineNote

    @property
    def returned(self) -> bool:
        return self.submission is not None and self.submission.state == SubmissionState.RETURNED


def _writes_for_own_unit(user) -> bool:
    """Answers letters for their own unit: an officer of it (never a leader)."""
    return bool(user.is_authenticated and user.unit_id and scope.can_write(user, user.unit))


def reports_owed(user, today: date) -> list[OwedReport]:
    """The sent letters addressed to the user's unit that it has not answered (nothing
    sent yet, or returned and not sent again), not waived, the nearest deadline first —
    two queries."""
    if not _writes_for_own_unit(user):
        return []
    unit_id = user.unit_id
    waived = SubmissionWaiver.objects.filter(request=OuterRef("request"), unit_id=unit_id)
    answered = Submission.objects.filter(
        request=OuterRef("request"), unit_id=unit_id, state__in=ANSWERED
    )
    recipients = list(
        RequestRecipient.objects.filter(unit_id=unit_id, request__status=RequestStatus.SENT)
        .exclude(Exists(waived))
        .exclude(Exists(answered))
        .select_related("request__issuer", "unit")
        .order_by("request__deadline", "request__pk")
    )
    if not recipients:
        return []
    submissions = {
        s.request_id: s
        for s in Submission.objects.filter(
            unit_id=unit_id, request_id__in=[r.request_id for r in recipients]
        ).select_related("returned_by__unit")
    }
    return [
        OwedReport(
            r.request,
            r.unit,
            submissions.get(r.request_id),
            deadline_note(r.request.deadline, today),
        )
        for r in recipients
    ]


# ---------------------------------------------------------------------------------------
# (b) waiting for my approval


@dataclass
class Pending:
    submissions: list[Submission]  # the oldest first, at most ITEMS_SHOWN
    count: int


def awaiting_my_approval(user) -> Pending:
    """The sent answers of the units below that the user approves (``scope.may_approve``),
    oldest first: one query (the reporting inbox's)."""
    if not (scope.is_admin(user) or _writes_for_own_unit(user)):
        return Pending([], 0)
    waiting = queries.awaiting_approval_by(user)
    return Pending(waiting[:ITEMS_SHOWN], len(waiting))


# ---------------------------------------------------------------------------------------
# (c) letters I issued, still in progress


@dataclass
class LetterProgress:
    request: ReportRequest
    due: DeadlineNote
    expected: int  # recipients not excused
    answered: int  # sent or approved
    approved: int

    @property
    def percent(self) -> str:
        if not self.expected:
            return ""
        return format_percent(Decimal(self.answered) * 100 / self.expected, 0)


def _count_of(queryset) -> Coalesce:
    """The number of rows of ``queryset`` (filtered on ``OuterRef('pk')``) for each letter,
    as a subquery: joining the recipients and the answers would multiply them."""
    counted = queryset.order_by().values("request").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def letters_in_progress(user, today: date) -> list[LetterProgress]:
    """The sent letters of the units the user issues for (``scope.may_issue``), the nearest
    deadline first, at most :data:`LETTERS_SHOWN`, with how many units have answered: one
    query."""
    if not scope.is_manager(user):
        return []
    letter = OuterRef("pk")
    letters = (
        ReportRequest.objects.filter(
            status=RequestStatus.SENT, issuer__in=scope.readable_units(user)
        )
        .select_related("issuer")
        .annotate(
            recipient_count=_count_of(RequestRecipient.objects.filter(request=letter)),
            waived_count=_count_of(SubmissionWaiver.objects.filter(request=letter)),
            answered_count=_count_of(Submission.objects.filter(request=letter, state__in=ANSWERED)),
            approved_count=_count_of(
                Submission.objects.filter(request=letter, state=SubmissionState.APPROVED)
            ),
        )
        .order_by("deadline", "pk")
    )
    # The letters in progress are tens, not thousands: read them all (one query) and keep
    # those the user issues for — the readable units include an older tree's, whose
    # letters the user follows but does not send.
    shown = [q for q in letters if scope.may_issue(user, q.issuer)]
    return [
        LetterProgress(
            q,
            deadline_note(q.deadline, today),
            max(q.recipient_count - q.waived_count, 0),
            q.answered_count,
            q.approved_count,
        )
        for q in shown[:LETTERS_SHOWN]
    ]


# ---------------------------------------------------------------------------------------
# (d) unread notifications


@dataclass
class Unread:
    notifications: list[Notification]  # the latest ITEMS_SHOWN
    count: int


def unread_notifications(user) -> Unread:
    """The user's latest unread notifications and how many there are: two queries (the
    count is the nav badge's, asked once)."""
    if not user.is_authenticated:
        return Unread([], 0)
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    latest = list(unread.order_by("-created_at", "-pk")[:ITEMS_SHOWN])
    return Unread(latest, unread_count(user))


# ---------------------------------------------------------------------------------------
# (e) key figures of my programmes


@dataclass
class KeyFigure:
    indicator: Indicator
    text: str  # the figure of the year, as officials write it; empty without one
    change: str = ""  # ``▲ tăng 12 hộ so với năm 2023`` — the arrow never alone
    direction: str = ""  # up, down, same; empty when there is nothing to compare


@dataclass
class ProgrammeFigures:
    programme: Programme
    year: Period | None  # the latest year with data; None: no figure yet
    figures: list[KeyFigure] = field(default_factory=list)


def headline_indicators(programmes: list[Programme], unit: Unit) -> dict[int, list[Indicator]]:
    """The first indicators of each programme, in the programme page's order, that have a
    single figure (not a range) and are reported at the unit's level or below: one query.

    Packages mark no indicator as a headline one, so the order the programme lists them
    in — its first, most general results — stands for it."""
    chosen: dict[int, list[Indicator]] = {p.pk: [] for p in programmes}
    indicators = (
        Indicator.objects.filter(programme__in=programmes, retired=False)
        .exclude(aggregation=Aggregation.RANGE)
        .select_related("component", "disaggregation")
        .order_by("programme_id", "component__order", "component__code", "order", "code")
    )
    for indicator in indicators:
        picked = chosen[indicator.programme_id]
        below = not indicator.levels or any(level >= unit.level for level in indicator.levels)
        if below and len(picked) < FIGURES_PER_PROGRAMME:
            picked.append(indicator)
    return chosen


def _years_with_data(stored_ids: list[int], unit: Unit, today: date) -> dict[int, int]:
    """The latest calendar year up to this one in which each stored indicator has a value
    dated inside the year, for the unit or below it: two queries (its own values, the
    rollup of those below)."""
    latest: dict[int, int] = {}
    if not stored_ids:
        return latest
    for model in (DataValue, Rollup):
        rows = (
            model.objects.filter(
                unit=unit, indicator_id__in=stored_ids, period_end__lte=date(today.year, 12, 31)
            )
            .annotate(first=ExtractYear("period_start"), last=ExtractYear("period_end"))
            .filter(first=F("last"))
            .values("indicator_id")
            .annotate(year=Max("last"))
            .order_by()
        )
        for row in rows:
            found = row["year"]
            if found > latest.get(row["indicator_id"], 0):
                latest[row["indicator_id"]] = found
    return latest


def _programme_years(programme: Programme) -> set[int]:
    try:
        phase = programme.period_obj
    except PeriodError:
        return set()
    if phase.type is PeriodType.YEAR:
        return {phase.start.year}
    return {p.start.year for p in phase.years()}


def _change(indicator: Indicator, now: Cell | None, before: Cell | None, year: int):
    """The change on the previous year in words, and its direction."""
    if now is None or now.value is None or now.error:
        return "", ""
    if before is None or before.value is None or before.error:
        return _("chưa có số liệu năm %(year)d để so sánh") % {"year": year}, ""
    difference = now.value - before.value
    amount = indicator.display_text(abs(difference))
    if indicator.value_type == ValueType.PERCENT or indicator.shown_unit == "%":
        amount = _("%(amount)s điểm phần trăm") % {"amount": amount}
    else:
        amount = f"{amount} {indicator.shown_unit}".strip()
    words = {"amount": amount, "year": year}
    if difference > 0:
        return "▲ " + _("tăng %(amount)s so với năm %(year)d") % words, "up"
    if difference < 0:
        return "▼ " + _("giảm %(amount)s so với năm %(year)d") % words, "down"
    return "= " + _("không đổi so với năm %(year)d") % {"year": year}, "same"


def key_figures(user, today: date) -> list[ProgrammeFigures]:
    """For the first :data:`PROGRAMMES_SHOWN` programmes the user deals with, the headline
    figures of the user's unit for the latest year with data, and the change on the year
    before (history-true, as on the programme page)."""
    unit = user.unit if user.is_authenticated and user.unit_id else None
    if unit is None:
        return []
    programmes = list(programmes_seen_by(user).order_by("code")[:PROGRAMMES_SHOWN])
    if not programmes:
        return []
    headlines = headline_indicators(programmes, unit)
    every = [i for picked in headlines.values() for i in picked]
    stored_of = _stored_operands(every, today)
    latest = _years_with_data(sorted({pk for ids in stored_of.values() for pk in ids}), unit, today)
    wanted: dict[int, set[int]] = {}  # year → indicator pks to aggregate for it
    shown_year: dict[int, int | None] = {}
    for programme in programmes:
        picked = headlines[programme.pk]
        years = [latest[pk] for i in picked for pk in stored_of[i.pk] if pk in latest]
        allowed = _programme_years(programme)
        year = max((y for y in years if y in allowed), default=None)
        shown_year[programme.pk] = year
        if year is not None:
            for y in (year, year - 1):
                wanted.setdefault(y, set()).update(i.pk for i in picked)
    by_pk = {i.pk: i for i in every}
    cells: dict[int, dict[str, Cell]] = {}
    for year, pks in sorted(wanted.items()):
        aggregator = Aggregator([by_pk[pk] for pk in sorted(pks)], Period.parse(str(year)))
        cells[year] = aggregator.for_unit(unit)
    result = []
    for programme in programmes:
        year = shown_year[programme.pk]
        if year is None:
            result.append(ProgrammeFigures(programme, None))
            continue
        figures = []
        for indicator in headlines[programme.pk]:
            now = cells[year].get(indicator.code)
            before = cells.get(year - 1, {}).get(indicator.code)
            change, direction = _change(indicator, now, before, year - 1)
            text = format_cell(now) if now is not None and (now.has_data or now.error) else ""
            figures.append(KeyFigure(indicator, text, change, direction))
        result.append(ProgrammeFigures(programme, Period.parse(str(year)), figures))
    return result


def _stored_operands(indicators: list[Indicator], today: date) -> dict[int, list[int]]:
    """Each indicator's stored figures, where its data shows: itself, or for a computed one
    the stored indicators its formula reads (the aggregator's own reading of formulas)."""
    if not indicators:
        return {}
    probe = Aggregator(indicators, Period.parse(str(today.year)))
    return {
        i.pk: sorted(probe.by_code[code].pk for code in probe.stored_operands(i.code))
        for i in indicators
    }


# ---------------------------------------------------------------------------------------
# The page


@dataclass
class Home:
    owed: list[OwedReport]
    pending: Pending
    letters: list[LetterProgress]
    unread: Unread
    figures: list[ProgrammeFigures]
    enters_data: bool  # an officer of the unit; a leader only reads
    issues_letters: bool  # the coordination office


def home_sections(user, today: date) -> Home:
    return Home(
        owed=reports_owed(user, today),
        pending=awaiting_my_approval(user),
        letters=letters_in_progress(user, today),
        unread=unread_notifications(user),
        figures=key_figures(user, today),
        enters_data=_writes_for_own_unit(user) or scope.is_admin(user),
        issues_letters=scope.is_manager(user),
    )
