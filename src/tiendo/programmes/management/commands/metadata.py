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

    def handle(self, *args, action, files, dry_run, **options):
        for path in files:
            try:
                report = load_package(path, dry_run=dry_run)
            except PackageError as exc:
                heading = _("Gói %(path)s có %(count)s lỗi, chưa nạp gì:") % {
                    "path": path,
                    "count": len(exc.problems),
                }
                raise CommandError("\n".join([heading, *exc.problems])) from exc
            self.stdout.write(f"{path}: {report.summary()}")
            for line in report.diff_lines():
                self.stdout.write(line)
