"""Approved data is locked: the data app asks this guard before every write."""

from __future__ import annotations

from tiendo.data.models import DataValue
from tiendo.reporting.models import FormIndicator, Submission, SubmissionState


def locking_submission(indicator_id: int, unit_id: int, period_id: str, category: str = ""):
    """The approved submission that covers this value, or None."""
    approved = (
        Submission.objects.filter(
            unit_id=unit_id,
            state=SubmissionState.APPROVED,
            request__forms__lines__indicator_id=indicator_id,
        )
        .select_related("request")
        .distinct()
    )
    for submission in approved:
        lines = FormIndicator.objects.filter(
            form__requests=submission.request, indicator_id=indicator_id
        )
        for line in lines:
            if line.categories and category not in line.categories:
                continue
            if submission.request.period_for(line.period_rule).id == period_id:
                return submission
    return None


def approved_value_guard(entry, period) -> str | None:
    submission = locking_submission(entry.indicator.pk, entry.unit.pk, period.id, entry.category)
    if submission is None:
        return None
    current = DataValue.objects.filter(
        indicator=entry.indicator, unit=entry.unit, period=period.id, category=entry.category
    ).first()
    unchanged = (
        current is not None
        and entry.value is not None
        and current.value == entry.value
        and current.comment == entry.comment
    )
    if unchanged:
        return None  # re-saving the same figure (an idempotent reload) changes nothing
    return (
        f"số liệu đã được duyệt trong báo cáo theo công văn {submission.request.number_symbol}, "
        "không sửa được; đề nghị cấp duyệt hủy duyệt trước khi sửa."
    )
