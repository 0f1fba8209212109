"""Approved data is locked: the data app asks this guard before every write."""

from __future__ import annotations

from tiendo.data.models import DataValue
from tiendo.reporting.models import FormIndicator, Submission, SubmissionState


def _locks(pairs) -> dict[tuple[int, int, str], list[tuple[list, Submission]]]:
    """(indicator, unit, period) → [(line categories, approved submission)], in the order
    the submissions and their form lines come: two queries for any number of entries."""
    unit_ids = {entry.unit.pk for entry, _ in pairs}
    indicator_ids = {entry.indicator.pk for entry, _ in pairs}
    approved = list(
        Submission.objects.filter(
            unit_id__in=unit_ids,
            state=SubmissionState.APPROVED,
            request__forms__lines__indicator_id__in=indicator_ids,
        )
        .select_related("request")
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
        key = (entry.indicator.pk, entry.unit.pk, period.id)
        submission = next(
            (
                submission
                for categories, submission in locks.get(key, [])
                if not categories or entry.category in categories
            ),
            None,
        )
        locking.append(submission)
    current = {}
    locked = [
        (entry, period) for (entry, period), s in zip(pairs, locking, strict=True) if s is not None
    ]
    if locked:
        for value in DataValue.objects.filter(
            indicator_id__in={entry.indicator.pk for entry, _ in locked},
            unit_id__in={entry.unit.pk for entry, _ in locked},
            period__in={period.id for _, period in locked},
        ):
            current[(value.indicator_id, value.unit_id, value.period, value.category)] = value
    refusals: list[str | None] = []
    for (entry, period), submission in zip(pairs, locking, strict=True):
        if submission is None:
            refusals.append(None)
            continue
        stored = current.get((entry.indicator.pk, entry.unit.pk, period.id, entry.category))
        unchanged = (
            stored is not None
            and entry.value is not None
            and stored.value == entry.value
            and stored.comment == entry.comment
        )
        if unchanged:  # re-saving the same figure (an idempotent reload) changes nothing
            refusals.append(None)
            continue
        refusals.append(
            f"số liệu đã được duyệt trong báo cáo theo công văn {submission.request.number_symbol}, "
            "không sửa được; đề nghị cấp duyệt hủy duyệt trước khi sửa."
        )
    return refusals
