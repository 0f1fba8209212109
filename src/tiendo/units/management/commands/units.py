"""``tiendo units load``, ``tiendo units stats`` and ``tiendo units tree``: the official
administrative tree; ``tiendo units changes load FILE``: a province's reorganisations
(docs/unit-changes.md)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_number
from tiendo.units.chains import parse_view_day
from tiendo.units.changes import (
    MAX_BYTES,
    MB,
    UnitChangeRefused,
    apply_changes,
    plan_changes,
    read_change_file,
)
from tiendo.units.loader import link_stats, load_official_tree, unit_stats
from tiendo.units.models import Unit
from tiendo.units.services import resolve_unit


class Command(BaseCommand):
    help = "Cây đơn vị hành chính chính thức: nạp từ gói vietnam-provinces, thống kê."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{load,stats,changes,tree}")
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
        changes = actions.add_parser(
            "changes", help="Sự kiện thay đổi đơn vị (sáp nhập, chia tách, đổi tên…)."
        )
        change_actions = changes.add_subparsers(dest="change_action", metavar="{load}")
        change_load = change_actions.add_parser(
            "load", help="Nạp tệp thay đổi đơn vị (CSV hoặc YAML, xem docs/unit-changes.md)."
        )
        change_load.add_argument("file", help="Tệp .csv, .yaml hoặc .yml")
        change_load.add_argument(
            "--dry-run",
            action="store_true",
            help="Chỉ kiểm tra và liệt kê những gì sẽ thêm, không ghi gì.",
        )
        tree = actions.add_parser("tree", help="In cây đơn vị của một đơn vị vào một ngày.")
        tree.add_argument("--unit", required=True, help="Mã đơn vị, ví dụ 02 (Hà Giang)")
        tree.add_argument(
            "--on", help="Ngày của cây đơn vị, dd/mm/yyyy (mặc định hôm nay), ví dụ 31/12/2019"
        )

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
        if action == "changes":
            if options.get("change_action") != "load":
                raise CommandError("Thiếu lệnh con: dùng “tiendo units changes load TỆP”.")
            return self.load_changes(options["file"], dry_run=options.get("dry_run", False))
        if action == "tree":
            return self.tree(options["unit"], options.get("on"))
        raise CommandError(f"Không có lệnh con “{action}”.")

    def load(self, *, dry_run: bool) -> None:
        started = time.perf_counter()
        try:
            report = load_official_tree(dry_run=dry_run)
        except TiendoError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Lưu ý: {warning}"))
        for line in report.lines():
            self.stdout.write(line)
        verdict = "Chạy thử, không ghi gì" if dry_run else "Đã nạp cây đơn vị hành chính"
        seconds = format_number(elapsed, 1)
        self.stdout.write(self.style.SUCCESS(f"{verdict} trong {seconds} giây."))

    def load_changes(self, filename: str, *, dry_run: bool) -> None:
        path = Path(filename)
        if not path.is_file():
            raise CommandError(f"Không có tệp “{filename}”.")
        if path.stat().st_size > MAX_BYTES:  # refused before reading it
            raise CommandError(f"Tệp “{path.name}” lớn hơn {MAX_BYTES // MB} MB.")
        rows, problems = read_change_file(path.name, path.read_bytes())
        plan = plan_changes(rows) if not problems else None
        problems = problems or plan.problems
        if problems:
            self._refuse(problems)
        if dry_run:
            for line in plan.lines():
                self.stdout.write(line)
            self.stdout.write("Số liệu sẽ nằm ngoài thời gian hiệu lực của đơn vị: không có.")
            self.stdout.write(self.style.SUCCESS("Chạy thử, không ghi gì."))
            return
        try:
            report = apply_changes(plan, actor=None, source=f"tệp {path.name}")
        except UnitChangeRefused as refused:  # the tree changed since the check
            self._refuse(refused.problems)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Đã nạp tệp thay đổi đơn vị “{path.name}”."))

    def _refuse(self, problems) -> None:
        for problem in problems:  # figures outside their unit are listed in their problem
            self.stderr.write(str(problem))
        raise CommandError(f"Tệp có {format_number(len(problems))} lỗi; không ghi gì.")

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

    def tree(self, code: str, on: str | None) -> None:
        """The unit valid on the day and every unit below it valid then, indented."""
        try:
            day = parse_view_day(on) if on else date.today()
            root = resolve_unit(code, on=day)
        except TiendoError as exc:
            raise CommandError(str(exc)) from exc
        if not root.is_valid_on(day):
            raise CommandError(
                f"{root.name} ({root.code}) không có hiệu lực ngày {format_date(day)}."
            )
        below = defaultdict(list)
        for unit in Unit.objects.subtree(root, include_self=False).valid_on(day):
            below[unit.parent_id].append(unit)
        self.stdout.write(f"Cây đơn vị ngày {format_date(day)}")
        pending = [(root, 0)]
        while pending:
            unit, depth = pending.pop()
            self.stdout.write(f"{'  ' * depth}{unit.name} ({unit.code})")
            children = sorted(below.get(unit.pk, []), key=lambda u: (u.kind == "agency", u.code))
            pending.extend((child, depth + 1) for child in reversed(children))
        self.stdout.write(f"Số đơn vị: {format_number(1 + sum(len(v) for v in below.values()))}")
