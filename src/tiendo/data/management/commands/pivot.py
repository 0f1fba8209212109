import csv
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_percent
from tiendo.data.pivot import (
    CSV_COLUMNS,
    category_column_names,
    csv_line,
    pivot,
    pivot_document,
    pivot_notes,
    unit_in_view,
)
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.chains import parse_view_day
from tiendo.units.services import UnitNotFound, resolve_unit


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
        parser.add_argument(
            "--on",
            help="Biểu diễn theo cây đơn vị của một ngày, dd/mm/yyyy (ví dụ 31/12/2019)",
        )
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args, unit, period, programme, today, format, on=None, **options):
        period_obj = self._period(period)
        day = self._day(on, today)
        unit_obj, notes = self._unit(unit, period_obj, day)
        programme_obj = self._programme(programme)
        if format == "json":
            document = pivot_document(
                unit_obj, period_obj, programme=programme_obj, day=day, notes=notes
            )
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
            return
        rows, aggregator = pivot(unit_obj, period_obj, programme=programme_obj, on=day)
        notes = pivot_notes(unit_obj, aggregator, day, notes)
        if format == "csv":
            self._csv(rows, notes)
        else:
            self._table(unit_obj, period_obj, notes, rows)

    @staticmethod
    def _period(text: str) -> Period:
        try:
            return Period.parse(text)
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc

    @staticmethod
    def _day(on: str | None, today: bool) -> date | None:
        """The day whose tree the figures are shown in; ``None``: history-true."""
        if on:
            try:
                return parse_view_day(on)
            except TiendoError as exc:
                raise CommandError(str(exc)) from exc
        return date.today() if today else None

    @staticmethod
    def _unit(code: str, period: Period, day: date | None):
        """The unit asked for (in the tree of a day: the unit it had become by then), and
        notes."""
        try:
            return unit_in_view(resolve_unit(code, on=period.end if day is None else day), day)
        except (UnitNotFound, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    @staticmethod
    def _programme(code: str | None) -> Programme | None:
        if not code:
            return None
        found = Programme.objects.filter(code=code).first()
        if found is None:
            raise CommandError(f"Không có chương trình mã “{code}”.")
        return found

    def _csv(self, rows, notes) -> None:
        """One line an indicator, then one line a category of a disaggregated one shown
        with sub-rows; a column a category of those shown with columns."""
        extra = category_column_names(rows)
        writer = csv.writer(self.stdout)
        writer.writerow(CSV_COLUMNS + extra)
        for row in rows:
            writer.writerow(csv_line(row.as_dict(), extra, row.category_values()))
            for line in row.category_lines():
                writer.writerow(csv_line(line, extra))
        for note in notes:
            self.stderr.write(note)

    def _table(self, unit, period, notes, rows) -> None:
        self.stdout.write(f"{unit.name} ({unit.code}) — {period.label}")
        for note in notes:
            self.stdout.write(f"  ! {note}")
        lines = {r.indicator.code: r.category_lines() for r in rows}
        names = [len(r.indicator.name) for r in rows]
        names += [len(line["category_name"]) + 4 for group in lines.values() for line in group]
        width = min(max(names, default=20), 90)
        for r in rows:
            achieved = ""
            if r.cell.target is not None:
                achieved = f"  đạt {r.achieved_text} {r.target_label}"
            columns = r.category_columns()
            if columns:
                parts = (f"{o.name} {r.indicator.display_text(v)}" for _c, o, v in columns)
                achieved += f"  [{'; '.join(parts)}]"
            self.stdout.write(
                f"  {r.indicator.name[:width]:<{width}}  {r.value_text:>12} "
                f"{r.indicator.shown_unit}{achieved}"
            )
            for line in lines[r.indicator.code]:
                name = f"  - {line['category_name']}"
                part = ""
                if line["achieved_percent"] is not None:
                    part = f"  đạt {format_percent(line['achieved_percent'], 2)}"
                self.stdout.write(
                    f"  {name[:width]:<{width}}  {line['value_text']:>12} "
                    f"{r.indicator.shown_unit}{part}"
                )
