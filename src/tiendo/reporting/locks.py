"""What the reporting cycle promises about figures, enforced on every write.

The data app asks these guards before any value is written — through a form, a submission,
an Excel upload, a package or the command line — so that what the pages say is what
happens:

* an approved submission locks the figures of its forms' lines, for its unit *and every
  unit below it* (a district's approved figure is the sum of its communes: a commune
  changing its value would change the approved figure);
* once a form's entry window has closed for a recipient of a letter, that recipient's
  figures on the form are refused, unless a coordinator reopened the form for the unit.

Re-saving the figure already stored (an idempotent reload) is never refused.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from tiendo.core.formatting import format_date
from tiendo.data.models import DataValue
from tiendo.reporting.models import (
    EntryWindowReopening,
    Form,
    FormIndicator,
    ReportRequest,
    RequestStatus,
    Submission,
    SubmissionState,
)


def _unchanged(pairs) -> set[int]:
    """The positions of the entries that would store exactly what is stored: one query."""
    if not pairs:
        return set()
    current = {}
    for value in DataValue.objects.filter(
        indicator_id__in={entry.indicator.pk for entry, _period in pairs},
        unit_id__in={entry.unit.pk for entry, _period in pairs},
        period__in={period.id for _entry, period in pairs},
    ):
        current[(value.indicator_id, value.unit_id, value.period, value.category)] = value
    same = set()
    for i, (entry, period) in enumerate(pairs):
        stored = current.get((entry.indicator.pk, entry.unit.pk, period.id, entry.category))
        if (
            stored is not None
            and entry.value is not None
            and stored.value == entry.value
            and stored.comment == entry.comment
        ):
            same.add(i)
    return same


def _locks(pairs) -> dict[tuple[int, int, str], list[tuple[list, Submission]]]:
    """(indicator, unit, period) → [(line categories, approved submission)], in the order
    the submissions and their form lines come: two queries for any number of entries.

    The unit of a key is the approving submission's unit; an entry is looked up under its
    own unit and each of its ancestors."""
    unit_ids = set()
    for entry, _period in pairs:
        unit_ids.add(entry.unit.pk)
        unit_ids.update(entry.unit.ancestor_ids)
    indicator_ids = {entry.indicator.pk for entry, _period in pairs}
    approved = list(
        Submission.objects.filter(
            unit_id__in=unit_ids,
            state=SubmissionState.APPROVED,
            request__forms__lines__indicator_id__in=indicator_ids,
        )
        .select_related("request", "unit")
        .distinct()
    )
    if not approved:
        return {}
    lines_by_request: dict[int, list] = {}
    lines = FormIndicator.objects.filter(
        form__requests__in={s.request_id for s in approved}, indicator_id__in=indicator_ids
    ).values_list("form__requests", "indicator_id", "categories", "period_rule")
    for request_id, indicator_id, categories, period_rule in lines:
        lines_by_request.setdefault(request_id, []).append((indicator_id, categories, period_rule))
    locks: dict[tuple[int, int, str], list] = {}
    for submission in approved:
        for indicator_id, categories, period_rule in lines_by_request.get(
            submission.request_id, []
        ):
            period_id = submission.request.period_for(period_rule).id
            key = (indicator_id, submission.unit_id, period_id)
            locks.setdefault(key, []).append((categories, submission))
    return locks


def approved_value_guard(pairs) -> list[str | None]:
    """For each (entry, period): a refusal when an approved submission covers the value."""
    locks = _locks(pairs)
    locking = []
    for entry, period in pairs:
        submission = None
        for unit_id in (entry.unit.pk, *reversed(entry.unit.ancestor_ids)):
            key = (entry.indicator.pk, unit_id, period.id)
            submission = next(
                (
                    submission
                    for categories, submission in locks.get(key, [])
                    if not categories or entry.category in categories
                ),
                None,
            )
            if submission is not None:
                break
        locking.append(submission)
    locked = [i for i, s in enumerate(locking) if s is not None]
    same = _unchanged([pairs[i] for i in locked])
    unchanged = {locked[j] for j in same}
    refusals: list[str | None] = []
    for i, ((entry, _period), submission) in enumerate(zip(pairs, locking, strict=True)):
        if submission is None or i in unchanged:
            refusals.append(None)
        elif submission.unit_id == entry.unit.pk:
            refusals.append(
                _(
                    "số liệu đã được duyệt trong báo cáo theo công văn %(number)s, không sửa "
                    "được; đề nghị cấp duyệt hủy duyệt trước khi sửa."
                )
                % {"number": submission.request.number_symbol}
            )
        else:
            refusals.append(
                _(
                    "số liệu đã được tổng hợp trong báo cáo của %(unit)s theo công văn "
                    "%(number)s đã được duyệt, không sửa được; đề nghị cấp duyệt hủy duyệt "
                    "báo cáo đó trước khi sửa."
                )
                % {"unit": submission.unit.name, "number": submission.request.number_symbol}
            )
    return refusals


class _ClosedLine(NamedTuple):
    """A form line asked by a letter whose entry window for the form has closed."""

    form_id: int
    form_name: str
    unit_kinds: list
    categories: list
    number: str  # the letter's number
    request_period: str
    closes: date

    def covers(self, entry) -> bool:
        return (not self.unit_kinds or entry.unit.kind in self.unit_kinds) and (
            not self.categories or entry.category in self.categories
        )


def _closed_lines(pairs, today: date) -> list[tuple[str, str, date] | None]:
    """For each (entry, period): (form name, letter number, closing day) of a form whose
    entry window has closed for the entry's unit, or None. Two queries at most."""
    unit_ids = {entry.unit.pk for entry, _period in pairs}
    indicator_ids = {entry.indicator.pk for entry, _period in pairs}
    asked = _asked_after_closing(unit_ids, indicator_ids, today)
    candidates = [
        [
            line
            for line in asked.get((entry.indicator.pk, entry.unit.pk, period.id), [])
            if line.covers(entry)
        ]
        for entry, period in pairs
    ]
    reopened = _reopened(unit_ids, candidates, today) if any(candidates) else set()
    closed: list[tuple[str, str, date] | None] = []
    for (entry, _period), found in zip(pairs, candidates, strict=True):
        still = [
            line
            for line in found
            if (line.form_id, entry.unit.pk, line.request_period) not in reopened
        ]
        closed.append((still[0].form_name, still[0].number, still[0].closes) if still else None)
    return closed


# What _asked_after_closing reads of a (line, letter, recipient).
_ASKED_FIELDS = (
    "form_id",
    "form__name",
    "form__unit_kinds",
    "form__opens_days_before_end",
    "form__closes_days_after_end",
    "indicator_id",
    "categories",
    "period_rule",
    "form__requests__number_symbol",
    "form__requests__period",
    "form__requests__data_as_of",
    "form__requests__recipients__unit_id",
)


def _asked_after_closing(unit_ids, indicator_ids, today: date) -> dict[tuple, list[_ClosedLine]]:
    """(indicator, recipient unit, period) → the lines of the letters sent to the units that
    ask for the indicators and whose entry window closed before ``today``: one query."""
    # One row per (line, letter, recipient).
    rows = FormIndicator.objects.filter(
        indicator_id__in=indicator_ids,
        form__requests__status__in=[RequestStatus.SENT, RequestStatus.CLOSED],
        form__requests__recipients__unit_id__in=unit_ids,
    ).values_list(*_ASKED_FIELDS, named=True)
    asked: dict[tuple, list[_ClosedLine]] = {}
    for row in rows:
        letter = ReportRequest(
            period=row.form__requests__period, data_as_of=row.form__requests__data_as_of
        )
        form = Form(
            opens_days_before_end=row.form__opens_days_before_end,
            closes_days_after_end=row.form__closes_days_after_end,
        )
        closes = form.window(letter.period_obj)[1]
        if today <= closes:
            continue
        key = (
            row.indicator_id,
            row.form__requests__recipients__unit_id,
            letter.period_for(row.period_rule).id,
        )
        asked.setdefault(key, []).append(
            _ClosedLine(
                row.form_id,
                row.form__name,
                row.form__unit_kinds,
                row.categories,
                row.form__requests__number_symbol,
                row.form__requests__period,
                closes,
            )
        )
    return asked


def _reopened(unit_ids, candidates: list[list[_ClosedLine]], today: date) -> set[tuple]:
    """(form, unit, period) a coordinator reopened until ``today`` or later: one query."""
    return set(
        EntryWindowReopening.objects.filter(
            unit_id__in=unit_ids,
            form_id__in={line.form_id for found in candidates for line in found},
            until__gte=today,
        ).values_list("form_id", "unit_id", "period")
    )


def entry_window_guard(pairs, *, today: date | None = None) -> list[str | None]:
    """For each (entry, period): a refusal when the entry's form window has closed for the
    unit (and was not reopened for it)."""
    today = today or timezone.localdate()
    closed = _closed_lines(pairs, today)
    shut = [i for i, c in enumerate(closed) if c is not None]
    same = _unchanged([pairs[i] for i in shut])
    unchanged = {shut[j] for j in same}
    refusals: list[str | None] = []
    for i, item in enumerate(closed):
        if item is None or i in unchanged:
            refusals.append(None)
            continue
        form_name, number, closes = item
        refusals.append(
            _(
                "biểu “%(form)s” của công văn %(number)s đã hết hạn nhập ngày %(closes)s; "
                "liên hệ văn phòng điều phối để được mở lại."
            )
            % {"form": form_name, "number": number, "closes": format_date(closes)}
        )
    return refusals
