from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tiendo.core.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Replace the whole database with the backup in FILE (made by `tiendo backup`). "
        "Refuses a database holding data unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--force", action="store_true", help="overwrite a database that holds data"
        )

    def handle(self, *args, file, force, **options):
        try:
            restore(file, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Đã khôi phục cơ sở dữ liệu từ %(path)s.") % {"path": file})
