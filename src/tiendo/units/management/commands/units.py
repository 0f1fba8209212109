"""``tiendo units load`` and ``tiendo units stats``: the official administrative tree."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from tiendo.core.formatting import format_number
from tiendo.units.loader import link_stats, load_official_tree, unit_stats


class Command(BaseCommand):
    help = "Cây đơn vị hành chính chính thức: nạp từ gói vietnam-provinces, thống kê."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{load,stats}")
        load = actions.add_parser(
            "load",
            help="Nạp (hoặc cập nhật) cây đơn vị trước và sau 01/7/2025 cùng các liên kết sáp nhập.",
        )
        load.add_argument(
            "--dry-run",
            action="store_true",
            help="Chỉ kiểm tra và báo cáo, không ghi gì vào cơ sở dữ liệu.",
        )
        actions.add_parser("stats", help="Số đơn vị theo giai đoạn, cấp và loại.")

    def handle(self, *args, action: str | None = None, **options):
        if action is None:
            raise CommandError(
                "Thiếu lệnh con: dùng “tiendo units load” (nạp cây đơn vị) "
                "hoặc “tiendo units stats” (thống kê)."
            )
        if action == "load":
            return self.load(dry_run=options.get("dry_run", False))
        if action == "stats":
            return self.stats()
        raise CommandError(f"Không có lệnh con “{action}”.")

    def load(self, *, dry_run: bool) -> None:
        started = time.perf_counter()
        report = load_official_tree(dry_run=dry_run)
        elapsed = time.perf_counter() - started
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Lưu ý: {warning}"))
        for line in report.lines():
            self.stdout.write(line)
        verdict = "Chạy thử, không ghi gì" if dry_run else "Đã nạp cây đơn vị hành chính"
        seconds = format_number(elapsed, 1)
        self.stdout.write(self.style.SUCCESS(f"{verdict} trong {seconds} giây."))

    def stats(self) -> None:
        rows = unit_stats()
        if not rows:
            self.stdout.write("Chưa có đơn vị nào. Chạy “tiendo units load” để nạp cây đơn vị.")
            return
        width = max(len(kind) for _, _, kind, _ in rows)
        current = None
        total = 0
        for era, level, kind, n in rows:
            if era != current:
                self.stdout.write(self.style.MIGRATE_HEADING(f"Giai đoạn: {era}"))
                current = era
            self.stdout.write(f"  {level:<11} {kind:<{width}} {format_number(n):>7}")
            total += n
        self.stdout.write(f"Tổng số đơn vị: {format_number(total)}")
        links = link_stats()
        if links:
            self.stdout.write(self.style.MIGRATE_HEADING("Liên kết thay đổi đơn vị"))
            for kind, n, waiting in links:
                extra = f" (chưa có tỷ lệ phân bổ: {format_number(waiting)})" if waiting else ""
                self.stdout.write(f"  {kind:<22} {format_number(n):>7}{extra}")
