"""``tiendo users add|list|disable|import``: accounts from the command line.

The command line is the server's operator: it may do what the administrator may, and its
writes are audited like the pages' (``via: command``), through the same services.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tiendo.accounts.fields import unit_for_code
from tiendo.accounts.importing import ImportFileError, read_rows
from tiendo.accounts.models import Role, User
from tiendo.accounts.services import (
    AccountError,
    check_import,
    create_account,
    import_accounts,
    list_accounts,
    set_active,
)
from tiendo.core.uploads import UploadError


class Command(BaseCommand):
    help = "Tài khoản người dùng: thêm, liệt kê, khóa, nhập từ tệp."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="{add,list,disable,import}")
        add = actions.add_parser("add", help="Thêm một tài khoản gắn với đơn vị và vai trò.")
        add.add_argument("username")
        add.add_argument("--unit", help="Mã đơn vị (bắt buộc, trừ vai trò admin).")
        # the role is checked by the services, with the pages' message
        add.add_argument(
            "--role", required=True, help=f"Vai trò của tài khoản: {', '.join(Role.values)}."
        )
        add.add_argument("--email", default="")
        add.add_argument("--name", default="", help="Họ và tên.")
        add.add_argument("--position", default="", help="Chức vụ.")
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="Đọc mật khẩu từ dòng đầu của đầu vào chuẩn thay vì tạo mật khẩu dùng một lần.",
        )
        listing = actions.add_parser("list", help="Liệt kê tài khoản.")
        listing.add_argument("--unit", help="Chỉ các tài khoản của đơn vị này và cấp dưới.")
        disable = actions.add_parser("disable", help="Khóa một tài khoản (không xóa).")
        disable.add_argument("username")
        imports = actions.add_parser("import", help="Nhập tài khoản từ tệp .xlsx hoặc .csv.")
        imports.add_argument("file")
        imports.add_argument(
            "--dry-run", action="store_true", help="Chỉ kiểm tra và báo cáo, không ghi gì."
        )

    def handle(self, *args, action: str | None = None, **options):
        if action is None:
            raise CommandError(
                "Thiếu lệnh con: dùng “tiendo users add”, “list”, “disable” hoặc “import”."
            )
        try:
            getattr(self, f"do_{action}")(**options)
        except (AccountError, ImportFileError, UploadError) as err:
            raise CommandError(str(err)) from err

    def _unit(self, code):
        return unit_for_code(code)

    def do_add(self, *, username, unit, role, email, name, position, password_stdin, **_):
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("Không đọc được mật khẩu từ đầu vào chuẩn.")
        issued = create_account(
            None,
            username=username,
            unit=self._unit(unit),
            role=role,
            full_name=name,
            email=email,
            position=position,
            password=password,
            via="command",
        )
        account = issued.account
        where = account.unit.name if account.unit else "không gắn đơn vị"
        self.stdout.write(
            self.style.SUCCESS(
                f"Đã thêm tài khoản {account.username} ({Role(role).label}, {where})."
            )
        )
        if issued.password:
            self.stdout.write(f"Mật khẩu dùng một lần: {issued.password}")
            self.stdout.write("Mật khẩu chỉ hiện lần này; người dùng phải đổi khi đăng nhập.")

    def do_list(self, *, unit, **_):
        accounts = list_accounts(None, unit=self._unit(unit))
        if not accounts:
            self.stdout.write("Không có tài khoản nào.")
            return
        for account in accounts:
            state = "" if account.is_active else "  [đã khóa]"
            self.stdout.write(
                f"{account.username:<24} {account.role:<16} "
                f"{account.unit.code if account.unit else '-':<8} "
                f"{account.get_full_name()}{state}"
            )
        self.stdout.write(f"Tổng số: {len(accounts)} tài khoản.")

    def do_disable(self, *, username, **_):
        account = User.objects.filter(username__iexact=username).first()
        if account is None:
            raise CommandError(f"Không có tài khoản “{username}”.")
        set_active(None, account.pk, False, via="command")
        self.stdout.write(self.style.SUCCESS(f"Đã khóa tài khoản {account.username}."))

    def do_import(self, *, file, dry_run, **_):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Không có tệp “{file}”.")
        with path.open("rb") as handle:
            rows = read_rows(handle, path.name)
        plan = check_import(None, rows)
        for problem in plan.problems:
            column = f", cột “{problem.column}”" if problem.column else ""
            self.stderr.write(f"Dòng {problem.line}{column}: {problem.message}")
        if not plan.valid:
            raise CommandError(f"Tệp có {len(plan.problems)} lỗi; không tài khoản nào được ghi.")
        for row in plan.rows:
            if row.action == "create":
                self.stdout.write(f"Dòng {row.line}: tạo {row.username}")
            elif row.action == "change":
                changes = "; ".join(
                    f"{k}: {a or '—'} → {b or '—'}" for k, (a, b) in row.changes.items()
                )
                self.stdout.write(f"Dòng {row.line}: sửa {row.username} ({changes})")
            else:
                self.stdout.write(f"Dòng {row.line}: {row.username} không thay đổi")
        if dry_run:
            self.stdout.write(self.style.SUCCESS("Chạy thử, không ghi gì."))
            return
        plan = import_accounts(None, rows, via="command")
        for issued in plan.issued:
            if issued.password:
                self.stdout.write(
                    f"{issued.account.username}: mật khẩu dùng một lần {issued.password}"
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Đã nhập: {plan.created_count} tài khoản mới, {plan.changed_count} tài khoản sửa."
            )
        )
