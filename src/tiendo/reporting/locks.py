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


def _closed_lines(pairs, today: date) -> list[tuple[str, str, date] | None]:
    """For each (entry, period): (form name, letter number, closing day) of a form whose
    entry window has closed for the entry's unit, or None. Two queries at most."""
    unit_ids = {entry.unit.pk for entry, _period in pairs}
    indicator_ids = {entry.indicator.pk for entry, _period in pairs}
    # One row per (line, letter, recipient): the letters sent to the entries' units whose
    # forms ask for the entries' indicators.
    rows = FormIndicator.objects.filter(
        indicator_id__in=indicator_ids,
        form__requests__status__in=[RequestStatus.SENT, RequestStatus.CLOSED],
        form__requests__recipients__unit_id__in=unit_ids,
    ).values_list(
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
    asked: dict[tuple[int, int, str], list] = {}
    for (
        form_id,
        form_name,
        unit_kinds,
        opens_before,
        closes_after,
        indicator_id,
        categories,
        rule,
        number,
        request_period,
        as_of,
        unit_id,
    ) in rows:
        letter = ReportRequest(period=request_period, data_as_of=as_of)
        form = Form(opens_days_before_end=opens_before, closes_days_after_end=closes_after)
        closes = form.window(letter.period_obj)[1]
        if today <= closes:
            continue
        period_id = letter.period_for(rule).id
        asked.setdefault((indicator_id, unit_id, period_id), []).append(
            (form_id, form_name, unit_kinds, categories, number, request_period, closes)
        )
    closed: list[tuple[str, str, date] | None] = []
    candidates = []
    for entry, period in pairs:
        found = [
            line
            for line in asked.get((entry.indicator.pk, entry.unit.pk, period.id), [])
            if (not line[2] or entry.unit.kind in line[2])
            and (not line[3] or entry.category in line[3])
        ]
        candidates.append(found)
    reopened = set()
    if any(candidates):
        reopened = set(
            EntryWindowReopening.objects.filter(
                unit_id__in=unit_ids,
                form_id__in={line[0] for found in candidates for line in found},
                until__gte=today,
            ).values_list("form_id", "unit_id", "period")
        )
    for (entry, _period), found in zip(pairs, candidates, strict=True):
        still = [line for line in found if (line[0], entry.unit.pk, line[5]) not in reopened]
        closed.append((still[0][1], still[0][4], still[0][6]) if still else None)
    return closed


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
