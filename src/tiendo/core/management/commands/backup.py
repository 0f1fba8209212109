from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tiendo.core.backup import BackupError, backup, vendor
from tiendo.core.formatting import format_number


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE (PostgreSQL: pg_dump custom format; SQLite: "
        "online backup). Templates and generated documents are stored in the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            path = backup(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size
        self.stdout.write(
            _("Đã sao lưu cơ sở dữ liệu %(vendor)s vào %(path)s (%(size)s byte).")
            % {"vendor": vendor(), "path": path, "size": format_number(size)}
        )
