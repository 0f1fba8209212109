from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tiendo.programmes.metadata import PackageError, load_package


class Command(BaseCommand):
    help = "Nạp gói siêu dữ liệu (chương trình, văn bản, chỉ tiêu, kế hoạch) từ tệp YAML/JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Kiểm tra rồi nạp một hoặc nhiều gói.")
        load.add_argument("files", nargs="+")
        load.add_argument(
            "--dry-run",
            action="store_true",
            help="Chỉ kiểm tra và in khác biệt so với bản đã nạp, không ghi gì.",
        )
        who = load.add_mutually_exclusive_group()
        who.add_argument(
            "--as",
            dest="username",
            metavar="USERNAME",
            help="Nạp với quyền của tài khoản này: chỉ các chương trình mà tài khoản quản trị.",
        )
        who.add_argument(
            "--system",
            action="store_true",
            help="Nạp các gói của chính hệ thống (bản demo, gói cài đặt), không xét quyền.",
        )

    def handle(self, *args, action, files, dry_run, username=None, system=False, **options):
        if not username and not system:
            raise CommandError(
                _(
                    "Xin cho biết ai nạp gói: --as TÊN_ĐĂNG_NHẬP (chỉ các chương trình tài "
                    "khoản đó quản trị) hoặc --system (gói của chính hệ thống)."
                )
            )
        actor = self._actor(username) if username else None
        for path in files:
            try:
                report = load_package(path, dry_run=dry_run, actor=actor)
            except PackageError as exc:
                heading = _("Gói %(path)s có %(count)s lỗi, chưa nạp gì:") % {
                    "path": path,
                    "count": len(exc.problems),
                }
                raise CommandError("\n".join([heading, *exc.problems])) from exc
            self.stdout.write(f"{path}: {report.summary()}")
            for line in report.diff_lines():
                self.stdout.write(line)

    def _actor(self, username: str):
        user = get_user_model().objects.select_related("unit").filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(
                _("Không có tài khoản đang hoạt động nào tên “%(username)s”.")
                % {"username": username}
            )
        return user
