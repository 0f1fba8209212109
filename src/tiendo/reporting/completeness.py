"""Who has answered a request, on time or late, who is approved, who is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_noop

from tiendo.core import exporters as ex
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


class CompletenessExport(ex.Exporter):
    """The completeness of one request as a table: a row per recipient."""

    HEADINGS = (
        "STT",
        "Mã đơn vị",
        "Đơn vị",
        "Tình trạng",
        "Gửi lần đầu",
        "Gửi gần nhất",
        "Đúng hạn",
        "Số ngày trễ",
        "Ngày duyệt",
        "Ghi chú",
    )
    WIDTHS = (6, 14, 40, 22, 13, 13, 10, 11, 13, 50)

    def __init__(self, request: ReportRequest):
        self.request = request
        self.filename = "tinh-hinh-bao-cao-" + ex.ascii_name(request.number_symbol)

    def tables(self) -> list[ex.Table]:
        req = self.request
        title = [
            ex.row(
                ex.text(
                    f"Tình hình gửi báo cáo theo công văn {req.number_symbol}", bold=True, size=13
                )
            ),
            ex.row(ex.text(req.title)),
            ex.row(
                ex.text("Kỳ báo cáo"),
                ex.text(req.period_obj.label),
                ex.text("Hạn gửi"),
                ex.day(req.deadline),
            ),
            ex.row(),
        ]
        header = [ex.row(*(ex.text(h, bold=True) for h in self.HEADINGS))]
        body = [self._row(i, r) for i, r in enumerate(completeness(req), start=1)]
        return [ex.Table("Tinh hinh bao cao", list(self.WIDTHS), title, header, body)]

    def _row(self, index: int, row: Row) -> ex.Row:
        first, deadline = row.first_submitted_on, self.request.deadline
        late_days = (first - deadline).days if first and first > deadline else 0
        on_time = None if row.on_time is None else ("Có" if row.on_time else "Không")
        return ex.row(
            ex.number(index),
            ex.text(row.unit.code),
            ex.text(row.unit.name),
            ex.text(row.status_label),
            ex.day(first),
            ex.day(row.submitted_on),
            ex.text(on_time),
            ex.number(late_days if first else None),
            ex.day(row.approved_on),
            ex.text(_note(row)),
        )


def _note(row: Row) -> str:
    if row.waiver:
        return f"Miễn: {row.waiver.reason}"
    if row.submission and row.submission.return_reason and row.status == Status.RETURNED:
        return f"Trả lại: {row.submission.return_reason}"
    return ""
