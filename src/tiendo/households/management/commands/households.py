from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from tiendo.households import crypto, figures
from tiendo.households.models import Household, Member
from tiendo.units.models import Unit
from tiendo.units.services import UnitNotFound, resolve_unit


class Command(BaseCommand):
    help = (
        "Sổ hộ gia đình: tính lại các chỉ tiêu tính từ sổ; mã hóa lại số căn cước sau khi đổi khóa."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        refigure = sub.add_parser(
            "refigure",
            help="Tính lại số liệu các chỉ tiêu tính từ sổ (sau khi gói chỉ tiêu thay đổi).",
        )
        refigure.add_argument(
            "--unit", help="Chỉ tính lại cho đơn vị này và các đơn vị trực thuộc (mã đơn vị)."
        )

        sub.add_parser(
            "rekey",
            help=(
                "Mã hóa lại mọi số căn cước bằng khóa đầu tiên của PERSONAL_DATA_KEYS và tính "
                "lại chỉ mục tìm trùng (sau khi thêm khóa mới vào đầu danh sách)."
            ),
        )

        prune = sub.add_parser(
            "prune-imports",
            help=(
                "Xóa các danh sách hộ đã kiểm tra mà không ai bấm nhập, cũ hơn số ngày cho "
                "trước (dữ liệu cá nhân không giữ lâu hơn cần thiết)."
            ),
        )
        prune.add_argument("--days", type=int, default=7, help="Giữ các tệp mới hơn (ngày).")

    def handle(self, *args, action, unit=None, **options):
        if action == "prune-imports":
            erased = prune_imports(options["days"])
            self.stdout.write(
                _("Đã xóa %(n)s danh sách hộ đã kiểm tra mà chưa nhập.") % {"n": erased}
            )
            return
        if action == "rekey":
            households, members = rekey()
            self.stdout.write(
                _("Đã mã hóa lại số căn cước của %(h)s chủ hộ và %(m)s thành viên.")
                % {"h": households, "m": members}
            )
            return
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


BATCH = 2000


def rekey() -> tuple[int, int]:
    """Every stored ID number encrypted again under the first key, and its blind index (keyed
    from the first key) computed again, so that duplicates are still found after a rotation.
    One transaction: a number no configured key opens stops it with nothing changed."""
    counts = []
    with transaction.atomic():
        for model, token, index in (
            (Household, "head_id_encrypted", "head_id_index"),
            (Member, "id_encrypted", "id_index"),
        ):
            rows = model.objects.exclude(**{token: ""}).only("pk", token, index).order_by("pk")
            done, batch = 0, []
            for row in rows.iterator(chunk_size=BATCH):
                plain = crypto.decrypt(getattr(row, token))
                setattr(row, token, crypto.encrypt(plain))
                setattr(row, index, crypto.blind_index(plain))
                batch.append(row)
                if len(batch) == BATCH:
                    model.objects.bulk_update(batch, [token, index])
                    done, batch = done + len(batch), []
            if batch:
                model.objects.bulk_update(batch, [token, index])
                done += len(batch)
            counts.append(done)
    return counts[0], counts[1]


def prune_imports(days: int) -> int:
    """Erase the checked household lists nobody imported (a dry run's file, then its checked
    rows, are kept encrypted in its job until the import): those of jobs older than ``days``.
    The jobs stay (who checked what, when, with how many errors); an import confirmed later
    asks for the file again."""
    from datetime import timedelta

    from django.utils import timezone

    from tiendo.core.models import Job
    from tiendo.households import importing

    if days < 0:
        raise CommandError(_("Số ngày phải từ 0 trở lên."))
    cutoff = timezone.now() - timedelta(days=days)
    old = Job.objects.filter(kind=importing.CHECK_JOB, created_at__lt=cutoff)
    ids = [pk for pk, upload in old.values_list("pk", "upload") if upload]
    Job.objects.filter(pk__in=ids).update(upload=b"")
    return len(ids)
