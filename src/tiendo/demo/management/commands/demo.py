from django.core.management.base import BaseCommand, CommandError

from tiendo.demo.dataset import load_demo
from tiendo.demo.ntm import DemoNtmError
from tiendo.demo.users import DEMO_PASSWORD, ensure_demo_users


class Command(BaseCommand):
    help = "Dữ liệu mẫu dựng từ hai báo cáo gốc (Hà Giang NQ 04/05, Liên minh HTX Quảng Trị)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="Nạp gói siêu dữ liệu, số liệu mẫu và người dùng mẫu.")
        sub.add_parser("users", help="In danh sách tài khoản mẫu.")

    def handle(self, *args, action, **options):
        if action == "load":
            try:
                counts = load_demo(stdout=self.stdout)
            except DemoNtmError as exc:
                raise CommandError(str(exc)) from exc
            ensure_demo_users()
            self.stdout.write(
                f"Số liệu mẫu: tạo mới {counts['created']}, cập nhật {counts['updated']}, "
                f"không đổi {counts['unchanged']}."
            )
            return
        users = ensure_demo_users()
        self.stdout.write(f"Tài khoản mẫu (mật khẩu chung: {DEMO_PASSWORD}):")
        for user in users:
            unit = user.unit.name if user.unit else "—"
            self.stdout.write(f"  {user.username:<22} {user.get_role_display():<28} {unit}")
        self.stdout.write("Mở http://127.0.0.1:8000 và đăng nhập.")
