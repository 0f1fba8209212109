from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from tiendo.households import figures
from tiendo.units.models import Unit
from tiendo.units.services import UnitNotFound, resolve_unit


class Command(BaseCommand):
    help = "Sổ hộ gia đình: tính lại các chỉ tiêu tính từ sổ."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        refigure = sub.add_parser(
            "refigure",
            help="Tính lại số liệu các chỉ tiêu tính từ sổ (sau khi gói chỉ tiêu thay đổi).",
        )
        refigure.add_argument(
            "--unit", help="Chỉ tính lại cho đơn vị này và các đơn vị trực thuộc (mã đơn vị)."
        )

    def handle(self, *args, action, unit=None, **options):
        ids = None
        if unit:
            try:
                found = resolve_unit(unit)
            except UnitNotFound as exc:
                raise CommandError(str(exc)) from exc
            ids = set(Unit.objects.filter(path__startswith=found.path).values_list("pk", flat=True))
        with transaction.atomic():
            written = figures.refigure(ids)
        self.stdout.write(_("Đã ghi %(count)s số liệu tính từ sổ.") % {"count": written})
