"""``tiendo reminders send``: remind every recipient that has not submitted its report."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tiendo.reporting.models import ReportRequest, RequestStatus
from tiendo.reporting.services import ReportingError, send_reminders


class Command(BaseCommand):
    help = "Nhắc các đơn vị chưa gửi báo cáo theo công văn (thông báo trong hệ thống; email khi có SMTP)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{send}")
        send = actions.add_parser("send", help="Gửi lời nhắc cho mọi công văn đang mở.")
        send.add_argument(
            "--request", type=int, help="Chỉ nhắc cho công văn có mã số (id) này.", default=None
        )
        send.add_argument(
            "--overdue-only", action="store_true", help="Chỉ nhắc công văn đã quá hạn gửi."
        )

    def handle(self, *args, action: str | None = None, **options):
        if action != "send":
            raise CommandError("Thiếu lệnh con: dùng “tiendo reminders send”.")
        requests = ReportRequest.objects.filter(status=RequestStatus.SENT).order_by("deadline")
        if options.get("request"):
            requests = requests.filter(pk=options["request"])
            if not requests.exists():
                raise CommandError(f"Không có công văn đang mở với mã số {options['request']}.")
        if options.get("overdue_only"):
            from django.utils import timezone

            requests = requests.filter(deadline__lt=timezone.localdate())
        total = 0
        for req in requests:
            try:
                n = send_reminders(req)
            except ReportingError as exc:  # pragma: no cover - filtered above
                raise CommandError(str(exc)) from exc
            total += n
            self.stdout.write(f"{req.number_symbol}: nhắc {n} đơn vị chưa gửi báo cáo.")
        self.stdout.write(f"Tổng cộng: {total} lời nhắc.")
