import csv
import json

from django.core.management.base import BaseCommand, CommandError

from tiendo.data.pivot import pivot
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.services import UnitNotFound, current_successors, resolve_unit


class Command(BaseCommand):
    help = "In bảng chỉ tiêu tổng hợp của một đơn vị trong một kỳ (giá trị, kế hoạch, % đạt)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--unit", required=True, help="Mã đơn vị, ví dụ 02 (Hà Giang trước 2025)"
        )
        parser.add_argument(
            "--period",
            required=True,
            help="Kỳ: 2022, 2020S1, 2020Q3, 202010, 2020-10-31, 2021-2025",
        )
        parser.add_argument("--programme", help="Mã chương trình, ví dụ HG-NQ05")
        parser.add_argument(
            "--today", action="store_true", help="Biểu diễn theo đơn vị hành chính hiện nay"
        )
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args, unit, period, programme, today, format, **options):
        try:
            period_obj = Period.parse(period)
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc
        try:
            unit_obj = resolve_unit(unit, on=period_obj.end if not today else None)
        except UnitNotFound as exc:
            raise CommandError(str(exc)) from exc
        notes = []
        if today and not unit_obj.is_current:
            successors = current_successors(unit_obj)
            if len(successors) != 1:
                names = ", ".join(s.name for s in successors) or "không có"
                raise CommandError(
                    f"{unit_obj.name} nay thuộc nhiều đơn vị ({names}); hãy chọn một đơn vị hiện nay."
                )
            notes.append(f"{unit_obj.name} nay thuộc {successors[0].name}.")
            unit_obj = successors[0]
        programme_obj = None
        if programme:
            programme_obj = Programme.objects.filter(code=programme).first()
            if programme_obj is None:
                raise CommandError(f"Không có chương trình mã “{programme}”.")
        rows, aggregator = pivot(unit_obj, period_obj, programme=programme_obj, today=today)
        for unit_flagged, reason in aggregator.flagged:
            notes.append(f"Không tính {unit_flagged.name} ({unit_flagged.code}): {reason}.")

        if format == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "unit": {"code": unit_obj.code, "name": unit_obj.name},
                        "period": {"id": period_obj.id, "label": period_obj.label},
                        "today": today,
                        "notes": notes,
                        "rows": [r.as_dict() for r in rows],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        if format == "csv":
            writer = csv.writer(self.stdout)
            writer.writerow(
                [
                    "programme",
                    "code",
                    "indicator",
                    "measure_unit",
                    "value",
                    "value_text",
                    "target",
                    "achieved_percent",
                    "as_of",
                ]
            )
            for r in rows:
                d = r.as_dict()
                writer.writerow(
                    [
                        d["programme"],
                        d["code"],
                        d["indicator"],
                        d["measure_unit"],
                        "" if d["value"] is None else d["value"],
                        d["value_text"],
                        "" if d["target"] is None else d["target"],
                        "" if d["achieved_percent"] is None else d["achieved_percent"],
                        d["as_of"],
                    ]
                )
            for note in notes:
                self.stderr.write(note)
            return
        self.stdout.write(f"{unit_obj.name} ({unit_obj.code}) — {period_obj.label}")
        for note in notes:
            self.stdout.write(f"  ! {note}")
        width = max((len(r.indicator.name) for r in rows), default=20)
        width = min(width, 90)
        for r in rows:
            achieved = f"  đạt {r.achieved_text} kế hoạch {r.target_text}" if r.cell.target else ""
            self.stdout.write(
                f"  {r.indicator.name[:width]:<{width}}  {r.value_text:>12} {r.indicator.measure_unit}{achieved}"
            )
