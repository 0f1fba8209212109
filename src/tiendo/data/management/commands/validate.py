import json

from django.core.management.base import BaseCommand, CommandError

from tiendo.core.formatting import format_number
from tiendo.data.models import Importance
from tiendo.data.validation import find_outliers, units_below, validate_units
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.services import UnitNotFound, resolve_unit

BADGES = {Importance.HIGH: "CAO", Importance.MEDIUM: "TRUNG BÌNH", Importance.LOW: "THẤP"}


class Command(BaseCommand):
    help = (
        "Kiểm tra số liệu của một đơn vị trong một kỳ theo các quy tắc kiểm tra, và liệt kê "
        "các giá trị bất thường cần xem lại."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--unit", required=True, help="Mã đơn vị, ví dụ 02 (Hà Giang trước 2025)"
        )
        parser.add_argument(
            "--period", required=True, help="Kỳ: 2022, 2020S1, 2020Q3, 202010, 2020-10-31"
        )
        parser.add_argument("--programme", help="Chỉ các quy tắc của chương trình, ví dụ HG-NQ05")
        parser.add_argument(
            "--below", action="store_true", help="Kiểm tra cả mọi đơn vị trực thuộc"
        )
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, unit, period, programme, below, format, **options):
        unit_obj, period_obj, programme_obj = _resolve(unit, period, programme)
        units = units_below(unit_obj, period_obj) if below else [unit_obj]
        report = validate_units(units, period_obj, programme=programme_obj)
        outliers = find_outliers(unit_obj, period_obj, programme_obj, below=below)
        if format == "json":
            self._write_json(unit_obj, period_obj, programme_obj, below, units, report, outliers)
            return
        n = format_number
        scope = f", kể cả {n(len(units) - 1)} đơn vị trực thuộc" if below else ""
        what = f"chương trình {programme_obj}" if programme_obj else "mọi chương trình"
        self.stdout.write(
            f"Kiểm tra số liệu {unit_obj.name} ({unit_obj.code}), {period_obj.label}{scope}; "
            f"{n(report.rules)} quy tắc của {what}."
        )
        self.stdout.write(
            f"Đã kiểm tra {n(report.evaluated)} lượt; {n(report.not_evaluated)} lượt không "
            "kiểm tra được vì thiếu số liệu."
        )
        self._write_violations(report)
        self._write_outliers(outliers)
        self._write_summary(report, outliers)

    def _write_json(self, unit, period, programme, below, units, report, outliers) -> None:
        self.stdout.write(
            json.dumps(
                {
                    "unit": {"code": unit.code, "name": unit.name},
                    "period": {"id": period.id, "label": period.label},
                    "programme": programme.code if programme else None,
                    "below": below,
                    "units": len(units),
                    "rules": report.rules,
                    "evaluated": report.evaluated,
                    "not_evaluated": report.not_evaluated,
                    "violations": [v.as_dict() for v in report.violations],
                    "outliers": [o.as_dict() for o in outliers],
                },
                ensure_ascii=False,
                indent=2,
            )
        )

    def _write_violations(self, report) -> None:
        for group_unit, violations in report.by_unit():
            self.stdout.write("")
            self.stdout.write(f"{group_unit.name} ({group_unit.code})")
            for v in violations:
                self.stdout.write(f"  [{BADGES.get(v.importance, v.importance)}] {v.rule.code}")
                self.stdout.write(f"      {v.message}")

    def _write_outliers(self, outliers) -> None:
        if not outliers:
            return
        self.stdout.write("")
        self.stdout.write(f"Giá trị bất thường cần xem lại ({format_number(len(outliers))}):")
        for o in outliers:
            category = f" [{o.category}]" if o.category else ""
            self.stdout.write(
                f"  {o.unit.name} ({o.unit.code}) · {o.indicator.code}{category} · "
                f"{o.period.label}: {o.reason}"
            )

    def _write_summary(self, report, outliers) -> None:
        n = format_number
        counts = {i: 0 for i in Importance}
        for v in report.violations:
            counts[v.importance] += 1
        self.stdout.write("")
        self.stdout.write(
            f"Kết quả: {n(len(report.violations))} vi phạm ({n(counts[Importance.HIGH])} mức "
            f"cao, {n(counts[Importance.MEDIUM])} mức trung bình, {n(counts[Importance.LOW])} "
            f"mức thấp); {n(len(outliers))} giá trị bất thường."
        )


def _resolve(unit: str, period: str, programme: str | None):
    """``(unit, period, programme or None)`` from the command's options, or CommandError."""
    try:
        period_obj = Period.parse(period)
    except PeriodError as exc:
        raise CommandError(str(exc)) from exc
    try:
        unit_obj = resolve_unit(unit, on=period_obj.end)
    except UnitNotFound as exc:
        raise CommandError(str(exc)) from exc
    programme_obj = None
    if programme:
        programme_obj = Programme.objects.filter(code=programme).first()
        if programme_obj is None:
            raise CommandError(f"Không có chương trình mã “{programme}”.")
    return unit_obj, period_obj, programme_obj
