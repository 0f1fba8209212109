from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tiendo.core.formatting import format_date
from tiendo.ntm.models import CriteriaSet, Threshold
from tiendo.ntm.sets import load_shipped
from tiendo.programmes.metadata import PackageError


class Command(BaseCommand):
    help = "Bộ tiêu chí nông thôn mới: liệt kê các bộ đã nạp, nạp các bộ kèm theo hệ thống."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sets = sub.add_parser("sets", help="Liệt kê các bộ tiêu chí đã nạp.")
        sets.add_argument(
            "--load-shipped",
            action="store_true",
            help="Nạp (hoặc nạp lại) các bộ tiêu chí kèm theo hệ thống trước khi liệt kê.",
        )

    def handle(self, *args, action, load_shipped=False, **options):
        if load_shipped:
            try:
                load_shipped_sets(self.stdout)
            except PackageError as exc:
                raise CommandError(str(exc)) from exc
        for cs in CriteriaSet.objects.order_by("level", "valid_from", "tier", "code"):
            criteria = cs.criteria.count()
            unconfirmed = Threshold.objects.filter(
                indicator__criterion__criteria_set=cs, to_confirm=True
            ).count()
            self.stdout.write(
                _(
                    "%(code)s — %(name)s: %(criteria)s tiêu chí, từ %(start)s đến %(end)s; "
                    "%(unconfirmed)s ngưỡng cần xác minh"
                )
                % {
                    "code": cs.code,
                    "name": cs.name,
                    "criteria": criteria,
                    "start": format_date(cs.valid_from),
                    "end": format_date(cs.valid_to) if cs.valid_to else "—",
                    "unconfirmed": unconfirmed,
                }
            )


def load_shipped_sets(stdout) -> None:
    load_shipped(stdout=stdout)
