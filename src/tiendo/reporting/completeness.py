"""Who has answered a request, on time or late, who is approved, who is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_noop

from tiendo.reporting.models import (
    ReportRequest,
    RequestRecipient,
    Submission,
    SubmissionState,
    SubmissionWaiver,
)
from tiendo.units.models import Unit


class Status:
    APPROVED = "approved"
    ON_TIME = "on_time"
    LATE = "late"
    RETURNED = "returned"
    DRAFT = "draft"
    MISSING = "missing"
    WAIVED = "waived"


STATUS_LABELS = {
    Status.APPROVED: gettext_noop("Đã duyệt"),
    Status.ON_TIME: gettext_noop("Đã gửi đúng hạn"),
    Status.LATE: gettext_noop("Đã gửi quá hạn"),
    Status.RETURNED: gettext_noop("Bị trả lại"),
    Status.DRAFT: gettext_noop("Đang soạn, chưa gửi"),
    Status.MISSING: gettext_noop("Chưa gửi"),
    Status.WAIVED: gettext_noop("Được miễn"),
}
STATUS_ORDER = list(STATUS_LABELS)


@dataclass
class Row:
    unit: Unit
    submission: Submission | None
    waiver: SubmissionWaiver | None
    status: str
    on_time: bool | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def first_submitted_on(self) -> date | None:
        return _day(self.submission.first_submitted_at) if self.submission else None

    @property
    def submitted_on(self) -> date | None:
        return _day(self.submission.submitted_at) if self.submission else None

    @property
    def approved_on(self) -> date | None:
        return _day(self.submission.approved_at) if self.submission else None


def _day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment else None


def completeness(request: ReportRequest) -> list[Row]:
    """One row per recipient, in three queries whatever the number of recipients."""
    return completeness_of([request])[request.pk]


def completeness_of(requests) -> dict[int, list[Row]]:
    """The rows of several requests (by request id), in three queries for them all."""
    requests = {r.pk: r for r in requests}
    submissions = {}
    for s in Submission.objects.filter(request__in=requests).select_related(
        "approved_by", "submitted_by"
    ):
        s.request = requests[s.request_id]  # loaded already: no query per row for its request
        submissions[(s.request_id, s.unit_id)] = s
    waivers = {
        (w.request_id, w.unit_id): w for w in SubmissionWaiver.objects.filter(request__in=requests)
    }
    rows: dict[int, list[Row]] = {pk: [] for pk in requests}
    recipients = (
        RequestRecipient.objects.filter(request__in=requests)
        .select_related("unit__parent")  # the approver of a unit is its parent
        .order_by("unit__code")
    )
    for recipient in recipients:
        request, unit = requests[recipient.request_id], recipient.unit
        key = (request.pk, unit.pk)
        sub, waiver = submissions.get(key), waivers.get(key)
        on_time = None
        if sub is not None and sub.first_submitted_at is not None:
            on_time = _day(sub.first_submitted_at) <= request.deadline
        if sub is not None and sub.state == SubmissionState.APPROVED:
            status = Status.APPROVED
        elif sub is not None and sub.state == SubmissionState.SUBMITTED:
            status = Status.ON_TIME if on_time else Status.LATE
        elif sub is not None and sub.state == SubmissionState.RETURNED:
            status = Status.RETURNED
        elif waiver is not None:
            status = Status.WAIVED
        elif sub is not None:
            status = Status.DRAFT
        else:
            status = Status.MISSING
        rows[request.pk].append(Row(unit, sub, waiver, status, on_time))
    return rows


def summary(rows: list[Row]) -> dict:
    counts = {s: 0 for s in STATUS_ORDER}
    for row in rows:
        counts[row.status] += 1
    submitted = sum(1 for r in rows if r.on_time is not None)
    return {
        "total": len(rows),
        "counts": [(s, STATUS_LABELS[s], counts[s]) for s in STATUS_ORDER],
        "submitted": submitted,
        "on_time": sum(1 for r in rows if r.on_time),
        "late": sum(1 for r in rows if r.on_time is False),
        "approved": counts[Status.APPROVED],
        "owing": counts[Status.MISSING] + counts[Status.DRAFT] + counts[Status.RETURNED],
    }
