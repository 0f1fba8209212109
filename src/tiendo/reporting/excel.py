"""Excel forms: download a workbook prepared for a unit, upload it back checked whole.

The workbook
------------
One sheet per period. Each sheet has a row per unit that reports the form (the communes
below a district, or just the unit itself) and a column per (indicator, category) of the
form; the existing figures are filled in. Header cells are locked by sheet protection
*without a password*: protection stops accidental edits (sorting, typing over a code), it
is not security — everything is checked again on upload. Data cells are unlocked and carry
Excel data validation (whole numbers for integer indicators, ≥ 0 where a figure cannot be
negative, the indicator's min/max).

Numbers are stored as numbers with the format code ``#,##0`` or ``#,##0.0…``. In a format
code "," and "." mean "thousands separator" and "decimal mark", not the characters: Excel
and LibreOffice draw them with the reader's regional settings, so a computer set to
Vietnamese shows ``66.992`` and ``234,9``, while one set to English shows ``66,992`` and
``234.9``. The file's language is set to vi-VN (document property). Typing the figure as
text is accepted on upload (``parse_number``) with a notice.

A very hidden sheet ``_meta`` records the form code, the unit, every sheet's period, every
column's indicator code, category and period, every row's unit id and code, and the version
and value of every figure the file was prepared with (``tiendo.data.services``: a figure
with no history is at version 0 and not listed), signed with an HMAC of the server's secret
key. The upload maps cells back through it and never
through visible labels; a changed or removed ``_meta`` sheet is refused (a file downloaded
from another installation is refused too, since its key differs).

The upload
----------
:func:`check_workbook` is the dry run: it reads the whole file and lists every problem with
its sheet, row, column letter and a Vietnamese message, and every change it would make.
:func:`import_workbook` writes only when there is no problem at all, all values in one
transaction through ``tiendo.data.services.save_values`` (history with source "excel").

Formulas are refused rather than read through their cached results. A cached result exists
only if the program that saved the file computed it (files written by scripts or some
converters carry none), it may be stale, and a formula pointing at another sheet or file
changes meaning silently; an official who pastes values (Paste Special → Values) gets
exactly the figures he sees. The message says so.

A blank cell leaves the stored figure as it is (a notice says so when there was one);
deleting a figure is done on the entry screen, where the history shows it.

A figure changed by someone else since the download is never overwritten silently: a cell
left as it was downloaded keeps the newer figure (with a notice), a cell changed in the file
is a conflict of the dry run — at download, now, who changed it when — and nothing is
written. The versions go with the entries, so a change between the dry run and the write
is caught by the data service under the row lock.
"""

from __future__ import annotations

import hmac
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from tiendo.accounts import scope
from tiendo.core import exporters as ex
from tiendo.core.audit import audit
from tiendo.core.formatting import format_number
from tiendo.core.uploads import UploadError, default_limits, inspect_zip
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import (
    MAX_ABS_VALUE,
    Conflict,
    DataEntryError,
    Entry,
    ValueConflictError,
    busy_as_message,
    check_entries,
    parse_number,
    save_values,
    versions_of,
)
from tiendo.programmes.models import Indicator, ValueRefused, ValueType
from tiendo.programmes.periods import PERIOD_TYPE_LABELS, Period, PeriodError, PeriodType
from tiendo.reporting.legacy_encoding import clean_text, notice_for
from tiendo.reporting.models import Form, FormIndicator, PeriodRule, ReportRequest
from tiendo.units.models import Unit

FORMAT_VERSION = "tiendo-excel/2"  # 2: figure versions in _meta
META_SHEET = "_meta"
TITLE_ROW, SUBTITLE_ROW, NOTE_ROW = 1, 2, 3
HEADER_ROWS = (4, 5, 6)
FIRST_DATA_ROW = 7
NUMBER_COL, NAME_COL, CODE_COL = "A", "B", "C"
FIRST_DATA_COL = 4  # D
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# An .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# Rows read below the form's last unit (units added by hand); more means stray data.
MAX_EXTRA_ROWS = 1000
# Rows of the _meta sheet read at most (a form of every commune of a province has a few
# thousand); the signature then fails on a longer one.
MAX_META_ROWS = 100_000
# Columns read right of the form's last column (cells there get a notice).
MAX_EXTRA_COLUMNS = 100
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SIGNING_SALT = "tiendo.reporting.excel"

_HEADER_FILL = "D9E1F2"
_BORDER_COLOR = "808080"


class ExcelError(ValueError):
    """A workbook that cannot be prepared; the message is Vietnamese."""


# --- What a form asks of a unit ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    letter: str
    indicator: Indicator
    category: str
    category_name: str
    period: Period


def line_period(line: FormIndicator, period: Period, report_request=None) -> Period:
    """The period a form line's figure is entered for (as ``ReportRequest.period_for``)."""
    if report_request is not None:
        return report_request.period_for(line.period_rule)
    if line.period_rule in (PeriodRule.AS_OF, PeriodRule.PERIOD_END):
        return Period.parse(period.end.isoformat())
    return period


def form_lines(form: Form) -> list[FormIndicator]:
    return list(
        FormIndicator.objects.filter(form=form)
        .select_related("indicator__disaggregation")
        .prefetch_related("indicator__disaggregation__options")
        .order_by("order", "pk")
    )


def columns_for(form: Form, period: Period, report_request=None) -> list[Column]:
    columns: list[Column] = []
    for line in form_lines(form):
        indicator = line.indicator
        if indicator.is_computed:
            continue  # computed after aggregation, never typed
        names = {}
        if indicator.disaggregation_id:
            names = {o.code: o.name for o in indicator.disaggregation.options.all()}
        for category in line.categories or indicator.category_codes():
            columns.append(
                Column(
                    get_column_letter(FIRST_DATA_COL + len(columns)),
                    indicator,
                    category,
                    names.get(category, category),
                    line_period(line, period, report_request),
                )
            )
    return columns


def reporting_units(form: Form, unit: Unit, period: Period) -> list[Unit]:
    """The units that fill the form for ``unit``: those below it of the form's kinds, or
    its direct sub-units when the form is for every kind, or else the unit itself."""
    below = Unit.objects.subtree(unit, include_self=False).valid_during(period)
    below = below.filter(kind__in=form.unit_kinds) if form.unit_kinds else below.filter(parent=unit)
    units = list(below.order_by("code", "pk"))
    if units:
        return units
    if form.applies_to(unit):
        return [unit]
    raise ExcelError(
        f"Biểu “{form.code}” không áp dụng cho {unit.name} và không có đơn vị nào trực thuộc "
        f"phải báo cáo biểu này trong {period.label}."
    )


# --- Download ------------------------------------------------------------------------------


def _decimals(indicator: Indicator, places: int) -> int:
    """Decimals shown in a column: the indicator's, or more when a stored figure has more."""
    if indicator.value_type == ValueType.INTEGER:
        return 0
    return max(indicator.decimals, places)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return min(-exponent, 6) if isinstance(exponent, int) and exponent < 0 else 0


def _validation(indicator: Indicator) -> DataValidation:
    kind = "whole" if indicator.value_type == ValueType.INTEGER else "decimal"
    low = indicator.min_value
    if low is None and indicator.is_non_negative:
        low = Decimal(0)
    high = indicator.max_value
    what = "số nguyên" if kind == "whole" else "số"
    if low is not None and high is not None:
        dv = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(high))
        rule = f"{what} từ {format_number(low)} đến {format_number(high)}"
    elif low is not None:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low))
        rule = f"{what} không âm" if low == 0 else f"{what} từ {format_number(low)} trở lên"
    elif high is not None:
        dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=str(high))
        rule = f"{what} không lớn hơn {format_number(high)}"
    else:
        limit = str(MAX_ABS_VALUE - 1)
        dv = DataValidation(type=kind, operator="between", formula1=f"-{limit}", formula2=limit)
        rule = what
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.errorTitle = "Số liệu không hợp lệ"
    dv.error = f"Chỉ tiêu “{indicator.name[:120]}” nhận {rule} ({indicator.measure_unit})."
    return dv


def _sheet_title(period: Period, used: set[str]) -> str:
    base = period.label[:1].upper() + period.label[1:]
    title = "".join(ch for ch in base if ch not in "[]:*?/\\")[:31]
    candidate, n = title, 2
    while candidate in used:
        candidate = f"{title[:28]} ({n})"
        n += 1
    used.add(candidate)
    return candidate


def _sign(rows: list[list[str]]) -> str:
    payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return salted_hmac(_SIGNING_SALT, payload, algorithm="sha256").hexdigest()


def build_workbook(
    form: Form, unit: Unit, periods, *, user, report_request: ReportRequest | None = None
) -> bytes:
    """An .xlsx of ``form`` for ``unit`` and ``periods`` (identifiers or Period objects)."""
    scope.check_unit(user, unit)
    parsed = _form_periods(form, periods)
    wb = ex.new_workbook(f"Biểu mẫu {form.code} — {unit.name}")
    meta: list[list[str]] = [
        ["format", FORMAT_VERSION],
        ["form", form.code],
        ["unit", str(unit.pk), unit.code],
        ["request", str(report_request.pk) if report_request else ""],
    ]
    used_titles: set[str] = set()
    for period in parsed:
        title = _sheet_title(period, used_titles)
        columns = columns_for(form, period, report_request)
        if not columns:
            raise ExcelError(f"Biểu “{form.code}” chưa có chỉ tiêu nào để nhập.")
        units = reporting_units(form, unit, period)
        meta.append(["sheet", title, period.id])
        for col in columns:
            meta.append(["col", title, col.letter, col.indicator.code, col.category, col.period.id])
        for i, row_unit in enumerate(units):
            meta.append(["row", title, str(FIRST_DATA_ROW + i), str(row_unit.pk), row_unit.code])
        for row, letter, version, value in _write_sheet(
            wb.create_sheet(title), form, unit, period, columns, units
        ):
            meta.append(["ver", title, str(row), letter, str(version), value])
    _write_meta(wb, meta)
    return ex.workbook_bytes(wb)


def _form_periods(form: Form, periods) -> list[Period]:
    """The distinct periods asked for, each of the form's period type."""
    parsed: list[Period] = []
    for raw in periods:
        period = raw if isinstance(raw, Period) else Period.parse(str(raw))
        if period.type != form.period_type:
            raise ExcelError(
                f"Kỳ {period.id} ({period.label}) không phải loại kỳ của biểu “{form.code}” "
                f"({PERIOD_TYPE_LABELS[PeriodType(form.period_type)]})."
            )
        if period not in parsed:
            parsed.append(period)
    if not parsed:
        raise ExcelError("Xin chọn ít nhất một kỳ báo cáo.")
    return parsed


def _write_meta(wb, meta: list[list[str]]) -> None:
    ws = wb.create_sheet(META_SHEET)
    for row in meta:
        ws.append(row)
    ws.append(["signature", _sign(meta)])
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


@dataclass
class _Prefill:
    """The stored figures and their versions for the cells of a sheet."""

    values: dict
    versions: dict
    places: dict[str, int]  # decimals of the most precise stored figure, per column letter

    @classmethod
    def load(cls, units: list[Unit], columns: list[Column]) -> _Prefill:
        indicators = {c.indicator.pk for c in columns}
        periods = {c.period.id for c in columns}
        values = {
            (v.unit_id, v.indicator_id, v.period, v.category): v.value
            for v in DataValue.objects.filter(
                unit__in=units, indicator__in=indicators, period__in=periods
            )
        }
        versions = versions_of(units=units, indicators=indicators, periods=periods)
        places = {c.letter: 0 for c in columns}
        for key, value in values.items():
            for col in columns:
                if (col.indicator.pk, col.period.id, col.category) == key[1:]:
                    places[col.letter] = max(places[col.letter], _places(value))
        return cls(values, versions, places)

    def value(self, unit: Unit, col: Column):
        return self.values.get((unit.pk, col.indicator.pk, col.period.id, col.category))

    def version(self, unit: Unit, col: Column) -> int:
        return self.versions.get((col.indicator.pk, unit.pk, col.period.id, col.category), 0)


def _write_sheet(ws, form, unit, period, columns: list[Column], units: list[Unit]) -> list:
    """Fill the sheet; returns (row, column letter, version, value text) of every figure
    that has a version or a value, for ``_meta``."""
    prefill = _Prefill.load(units, columns)
    ex.write_table(ws, _form_table(ws.title, form, unit, period, columns, units, prefill))
    last_row = FIRST_DATA_ROW + len(units) - 1
    for col in columns:
        dv = _validation(col.indicator)
        dv.add(f"{col.letter}{FIRST_DATA_ROW}:{col.letter}{last_row}")
        ws.add_data_validation(dv)
    shown = []
    for row, row_unit in enumerate(units, start=FIRST_DATA_ROW):
        for col in columns:
            value, version = prefill.value(row_unit, col), prefill.version(row_unit, col)
            if value is not None or version:
                shown.append((row, col.letter, version, "" if value is None else str(value)))
    return shown


def _form_table(name, form, unit, period, columns, units, prefill: _Prefill) -> ex.Table:
    """The sheet as a table: titles in rows 1-3, headers in 4-6, a unit per row from 7."""
    note = (
        "Gõ số vào các ô trắng; ô để trống thì giữ nguyên số liệu đã có. Không sửa các ô nền "
        "màu, không chèn, xóa hay sắp xếp lại dòng. Dấu phân cách hàng nghìn và thập phân "
        "hiển thị theo cài đặt vùng của máy (tiếng Việt: 66.992 và 234,9). Không dùng công thức."
    )
    title = [
        ex.title_line(f"BIỂU MẪU {form.code} — {unit.name} — {period.label}", size=14, bold=True),
        ex.title_line(
            f"{form.name} · Đơn vị: {unit.name} (mã {unit.code}) · Kỳ báo cáo: {period.label}"
        ),
        ex.title_line(note, size=10, italic=True, wrap=True, height=42),
    ]
    body = [
        ex.row(
            ex.number(index, shade=True),
            ex.text(row_unit.name, shade=True),
            ex.text(row_unit.code, shade=True),
            *(
                ex.number(
                    prefill.value(row_unit, col),
                    _decimals(col.indicator, prefill.places[col.letter]),
                    editable=True,
                )
                for col in columns
            ),
        )
        for index, row_unit in enumerate(units, start=1)
    ]
    return ex.Table(
        name,
        [6, 32, 12] + [16] * len(columns),
        title=title,
        header=_form_header(period, columns),
        body=body,
        frozen_columns=FIRST_DATA_COL - 1,
        header_fill=_HEADER_FILL,
        border_color=_BORDER_COLOR,
        protected=True,
    )


def _form_header(period: Period, columns: list[Column]) -> list[ex.Row]:
    """Rows 4-6: indicator names over their categories, the categories, the measure units."""
    top = [ex.text(label, bold=True, down=3) for label in ("STT", "Tên đơn vị", "Mã đơn vị")]
    for group in _indicator_groups(columns):
        top.append(ex.text(group[0].indicator.name, bold=True, span=len(group)))
    middle = [ex.text(col.category_name or "Giá trị") for col in columns]
    bottom = []
    for col in columns:
        unit_line = col.indicator.measure_unit
        if col.period.id != period.id:
            unit_line += f" · {col.period.label}"
        bottom.append(ex.text(f"({unit_line})"))
    return [ex.Row(top, height=48), ex.Row(middle), ex.Row(bottom)]


def _indicator_groups(columns: list[Column]) -> list[list[Column]]:
    """Runs of adjacent columns of the same indicator (one per category)."""
    groups: list[list[Column]] = []
    for col in columns:
        if groups and groups[-1][0].indicator.pk == col.indicator.pk:
            groups[-1].append(col)
        else:
            groups.append([col])
    return groups


# --- Upload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    column: str
    message: str

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}" if self.column and self.row else ""


@dataclass(frozen=True)
class Change:
    entry: Entry
    old: Decimal | None
    sheet: str
    cell: str

    @property
    def new(self) -> Decimal | None:
        return self.entry.value

    @property
    def action(self) -> str:
        return "create" if self.old is None else "update"

    @property
    def period_label(self) -> str:
        return Period.parse(self.entry.period).label


@dataclass
class UploadResult:
    form: Form | None = None
    unit: Unit | None = None
    periods: list[Period] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(Problem(sheet, row, column, message))

    def notice(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.notices.append(Problem(sheet, row, column, message))

    @property
    def created(self) -> int:
        return sum(1 for c in self.changes if c.old is None)

    @property
    def updated(self) -> int:
        return sum(1 for c in self.changes if c.old is not None)


class _MetaError(Exception):
    pass


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _read_meta(wb) -> list[list[str]]:
    if META_SHEET not in wb.sheetnames:
        raise _MetaError(
            "Tệp không có trang ẩn “_meta” của hệ thống: chỉ tải lên tệp biểu mẫu đã tải về từ "
            "Tiến Độ (không chép sang tệp khác)."
        )
    rows = [
        [_text(v) for v in row]
        for row in wb[META_SHEET].iter_rows(values_only=True, max_row=MAX_META_ROWS)
        if any(v not in (None, "") for v in row)
    ]
    # trailing empty cells differ between writers; compare without them
    rows = [row[: max(i for i, v in enumerate(row) if v) + 1] for row in rows]
    if not rows or rows[-1][0] != "signature" or len(rows[-1]) < 2:
        raise _MetaError("Trang ẩn “_meta” đã bị sửa hoặc hỏng; xin tải lại biểu mẫu.")
    body, signature = rows[:-1], rows[-1][1]
    # the signed rows kept their empty category cells; pad back to the written widths
    widths = {
        "format": 2,
        "form": 2,
        "unit": 3,
        "request": 2,
        "sheet": 3,
        "col": 6,
        "row": 5,
        "ver": 6,
    }
    body = [row + [""] * (widths.get(row[0], len(row)) - len(row)) for row in body]
    if not hmac.compare_digest(signature, _sign(body)):
        raise _MetaError("Trang ẩn “_meta” đã bị sửa hoặc hỏng; xin tải lại biểu mẫu.")
    if body[0] != ["format", FORMAT_VERSION]:
        raise _MetaError("Tệp theo mẫu cũ không còn dùng; xin tải lại biểu mẫu.")
    return body


@dataclass
class _SheetMeta:
    title: str
    period_id: str
    columns: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # letter, code, cat, period
    rows: dict[int, tuple[int, str]] = field(default_factory=dict)  # row → (unit id, code)
    # (row, letter) → (version, value) of the figures the file was prepared with
    versions: dict[tuple[int, str], tuple[int, Decimal | None]] = field(default_factory=dict)


def _cell_number(cell, result: UploadResult, sheet: str, ref_col: str, row: int):
    """The cell's number, None when blank; an error (and None) when it is not a number."""
    value = cell.value
    if value is None:
        return None
    if isinstance(value, (ArrayFormula, DataTableFormula)) or cell.data_type == "f":
        formula = value.text if isinstance(value, ArrayFormula) else str(value)
        result.error(
            sheet,
            row,
            ref_col,
            f"Ô chứa công thức ({formula[:60]}); xin chép rồi dán dạng giá trị "
            "(Paste Special → Values) và tải lên lại.",
        )
        return None
    if isinstance(value, bool):
        result.error(sheet, row, ref_col, "Ô chứa giá trị đúng/sai, không phải là số.")
        return None
    if isinstance(value, (datetime, date, time)):
        result.error(
            sheet,
            row,
            ref_col,
            "Ô chứa ngày tháng, không phải là số (Excel có thể đã tự đổi số thành ngày; "
            "xin định dạng ô là Số rồi gõ lại).",
        )
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            return parse_number(value)
        except DataEntryError:  # a crafted file can hold inf or NaN in a numeric cell
            result.error(sheet, row, ref_col, f"“{value}” không phải là số.")
            return None
    cleaned = clean_text(str(value))
    if cleaned.changed or cleaned.unrecognised:
        result.notice(sheet, row, ref_col, notice_for(f"{ref_col}{row}", cleaned))
    text = cleaned.text.strip()
    if not text:
        return None
    try:
        number = parse_number(text, field=f"{ref_col}{row}")
    except DataEntryError as exc:  # says why: an exponent, an underscore, too long…
        result.error(sheet, row, ref_col, str(exc).removeprefix(f"{ref_col}{row}: "))
        return None
    result.notice(
        sheet,
        row,
        ref_col,
        f"Số gõ dạng chữ “{text[:30]}” được đọc là {format_number(number)}; "
        "lần sau xin gõ số để Excel lưu dạng số.",
    )
    return number


class _Unreadable(Exception):
    """The file cannot be read as a workbook; the message is Vietnamese."""


def _open(file, filename: str = ""):
    """The workbook, read-only and streamed, after the zip is inspected
    (``tiendo.core.uploads``: sizes, ratios, no DOCTYPE/ENTITY, well-formed XML)."""
    limits = default_limits(
        max_bytes=min(MAX_UPLOAD_BYTES, settings.UPLOAD_MAX_BYTES),
        max_unpacked=min(MAX_UNPACKED_BYTES, settings.UPLOAD_MAX_UNPACKED_BYTES),
        streamed=("xl/worksheets/sheet",),
    )
    if isinstance(file, (bytes, bytearray)):
        file = io.BytesIO(file)
    try:
        inspect_zip(
            file,
            filename=filename or "tải lên",
            kind="bảng tính Excel (.xlsx)",
            limits=limits,
            required=("xl/workbook.xml",),
        )
    except UploadError as exc:
        raise _Unreadable(str(exc)) from exc
    try:
        return load_workbook(file, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl on a hostile file: any error is a refusal
        raise _Unreadable(
            "Tệp không đọc được: chỉ nhận bảng tính Excel dạng .xlsx "
            f"(tệp “{filename or 'tải lên'}” hỏng: {exc.__class__.__name__})."
        ) from exc


@dataclass(frozen=True)
class _Blank:
    column_letter: str
    value: None = None
    data_type: str = "n"


class _Grid:
    """A sheet's cells up to the rows the form can have, read once from the stream.

    Offers what ``_check_sheet`` asks of a worksheet: ``grid["C7"]``, ``grid[7]`` (columns
    A to C, then the row's other non-empty cells) and ``max_row``. Reading stops past the form's last row plus
    ``MAX_EXTRA_ROWS``; a sheet whose dimension already says it is longer is not read.
    """

    def __init__(self, cells: dict[int, dict[str, object]], max_row: int):
        self._cells = cells
        self.max_row = max_row

    def __getitem__(self, key):
        if isinstance(key, int):  # like a worksheet row: columns A, B, C, then the rest
            row = self._cells.get(key, {})
            lead = tuple(row.get(c, _Blank(c)) for c in (NUMBER_COL, NAME_COL, CODE_COL))
            rest = sorted(
                (c for letter, c in row.items() if letter not in (NUMBER_COL, NAME_COL, CODE_COL)),
                key=lambda c: c.column,
            )
            return lead + tuple(rest)
        letters = key.rstrip("0123456789")
        return self._cells.get(int(key[len(letters) :]), {}).get(letters, EMPTY_CELL)

    @classmethod
    def read(cls, ws, form_end: int, max_col: int) -> _Grid:
        limit = form_end + MAX_EXTRA_ROWS
        declared = ws.max_row or 0
        if declared > limit:
            return cls({}, declared)
        cells: dict[int, dict[str, object]] = {}
        last = 0
        for row in ws.iter_rows(min_row=1, max_row=limit + 1, max_col=max_col):
            for cell in row:
                if cell is EMPTY_CELL or cell.value is None:
                    continue
                cells.setdefault(cell.row, {})[cell.column_letter] = cell
                last = max(last, cell.row)
        return cls(cells, max(last, declared) if last > limit else last)


def check_workbook(
    file, *, user, form: Form | None = None, unit: Unit | None = None, filename: str = ""
) -> UploadResult:
    """Dry run: every problem of the file and every change it would make; writes nothing.

    ``form`` and ``unit``, when given, are what the user chose on the page; a file for
    another form, or for a unit outside ``unit``, is refused.
    """
    result = UploadResult(form=form, unit=unit)
    try:
        wb = _open(file, filename)
        meta = _read_meta(wb)
    except _Unreadable as exc:
        result.error("", None, "", str(exc))
        return result
    except _MetaError as exc:
        result.error(META_SHEET, None, "", str(exc))
        return result
    except Exception as exc:  # a part openpyxl reads only now (the _meta sheet) is broken
        result.error(
            META_SHEET,
            None,
            "",
            f"Trang ẩn “_meta” không đọc được ({exc.__class__.__name__}); xin tải lại biểu mẫu.",
        )
        return result
    try:
        return _check_opened(wb, meta, result, user=user, form=form, unit=unit)
    finally:
        wb.close()


def _check_opened(wb, meta, result: UploadResult, *, user, form, unit) -> UploadResult:
    form_code = meta[1][1]
    file_form = Form.objects.filter(code=form_code).first()
    if file_form is None:
        result.error(META_SHEET, None, "", f"Biểu “{form_code}” không còn trong hệ thống.")
        return result
    if form is not None and file_form.pk != form.pk:
        result.error(
            META_SHEET,
            None,
            "",
            f"Tệp là biểu “{file_form.code}” ({file_form.name}), không phải biểu “{form.code}”.",
        )
        return result
    result.form = form = file_form
    root = Unit.objects.filter(pk=int(meta[2][1])).first()
    if root is None:
        result.error(META_SHEET, None, "", f"Đơn vị mã “{meta[2][2]}” không còn trong hệ thống.")
        return result
    if unit is not None and not root.is_within(unit):
        result.error(
            META_SHEET,
            None,
            "",
            f"Tệp lập cho {root.name} (mã {root.code}), không thuộc {unit.name}.",
        )
        return result
    result.unit = root

    sheets: dict[str, _SheetMeta] = {}
    for row in meta[4:]:
        kind, title = row[0], row[1]
        if kind == "sheet":
            sheets[title] = _SheetMeta(title, row[2])
        elif kind == "col":
            sheets[title].columns.append((row[2], row[3], row[4], row[5]))
        elif kind == "row":
            sheets[title].rows[int(row[2])] = (int(row[3]), row[4])
        elif kind == "ver":
            value = Decimal(row[5]) if row[5] else None
            sheets[title].versions[(int(row[2]), row[3])] = (int(row[4]), value)

    indicators = {
        i.code: i
        for i in Indicator.objects.filter(
            code__in={c[1] for s in sheets.values() for c in s.columns}
        ).select_related("disaggregation")
    }
    form_indicator_ids = set(
        FormIndicator.objects.filter(form=form).values_list("indicator_id", flat=True)
    )
    for name in wb.sheetnames:
        if name not in sheets and name != META_SHEET:
            result.notice(name, None, "", "Trang không thuộc biểu mẫu, bị bỏ qua.")
    seen_units: dict[tuple[str, int], int] = {}
    for sheet_meta in sheets.values():
        if sheet_meta.title not in wb.sheetnames:
            result.error(sheet_meta.title, None, "", "Thiếu trang này của biểu mẫu (đã bị xóa?).")
            continue
        form_end = max(sheet_meta.rows, default=FIRST_DATA_ROW - 1)
        max_col = max(
            (column_index_from_string(c[0]) for c in sheet_meta.columns), default=FIRST_DATA_COL
        )
        try:
            grid = _Grid.read(wb[sheet_meta.title], form_end, max_col + MAX_EXTRA_COLUMNS)
        except Exception as exc:  # the sheet's XML holds something openpyxl cannot read
            result.error(
                sheet_meta.title,
                None,
                "",
                f"Trang không đọc được ({exc.__class__.__name__}); xin lưu lại bằng Excel.",
            )
            continue
        _check_sheet(
            grid,
            sheet_meta,
            result,
            user=user,
            form=form,
            root=root,
            indicators=indicators,
            form_indicator_ids=form_indicator_ids,
            seen_units=seen_units,
        )
    order = {title: i for i, title in enumerate(["", META_SHEET, *sheets])}

    def position(problem: Problem):
        column = (len(problem.column), problem.column)
        return (order.get(problem.sheet, len(order)), problem.row or 0, column)

    result.errors.sort(key=position)
    result.notices.sort(key=position)
    return result


def _check_sheet(
    ws,
    sheet_meta: _SheetMeta,
    result,
    *,
    user,
    form,
    root,
    indicators,
    form_indicator_ids,
    seen_units,
):
    title = sheet_meta.title
    try:
        period = Period.parse(sheet_meta.period_id)
    except PeriodError as exc:
        result.error(title, None, "", str(exc))
        return
    if period.type != form.period_type:
        result.error(
            title,
            None,
            "",
            f"Kỳ {period.label} không đúng loại kỳ của biểu “{form.code}” "
            f"({PERIOD_TYPE_LABELS[PeriodType(form.period_type)]}); xin tải lại biểu mẫu.",
        )
        return
    result.periods.append(period)

    columns: list[tuple[str, Indicator, str, Period]] = []
    for letter, code, category, period_id in sheet_meta.columns:
        indicator = indicators.get(code)
        if indicator is None:
            result.error(
                title, HEADER_ROWS[0], letter, f"Chỉ tiêu mã “{code}” không còn trong hệ thống."
            )
            continue
        if indicator.pk not in form_indicator_ids:
            result.error(
                title,
                HEADER_ROWS[0],
                letter,
                f"Chỉ tiêu “{indicator.name}” không còn thuộc biểu “{form.code}”.",
            )
            continue
        column_period = Period.parse(period_id)
        if not period.contains(column_period):
            result.error(
                title,
                HEADER_ROWS[0],
                letter,
                f"Kỳ của cột ({column_period.label}) không nằm trong kỳ của trang ({period.label}).",
            )
            continue
        columns.append((letter, indicator, category, column_period))
    known_letters = {c[0] for c in sheet_meta.columns}

    units_by_id = Unit.objects.in_bulk([u for u, _ in sheet_meta.rows.values()])
    rows: list[tuple[int, Unit]] = []
    form_end = max(sheet_meta.rows, default=FIRST_DATA_ROW - 1)
    if ws.max_row > form_end + MAX_EXTRA_ROWS:
        result.error(
            title,
            None,
            "",
            f"Trang có dữ liệu đến dòng {ws.max_row}, quá xa dòng cuối của biểu ({form_end}); "
            "xin xóa các dòng thừa rồi tải lên lại.",
        )
        return
    last_row = max(ws.max_row, form_end)
    for row in range(FIRST_DATA_ROW, last_row + 1):
        code = clean_text(_text(ws[f"{CODE_COL}{row}"].value)).text
        data_cells = [ws[f"{c[0]}{row}"].value for c in sheet_meta.columns]
        has_data = any(v not in (None, "") for v in data_cells)
        if row in sheet_meta.rows:
            unit_id, meta_code = sheet_meta.rows[row]
            row_unit = units_by_id.get(unit_id)
            if row_unit is None:
                result.error(
                    title, row, CODE_COL, f"Đơn vị mã “{meta_code}” không còn trong hệ thống."
                )
                continue
            if code != meta_code:
                result.error(
                    title,
                    row,
                    CODE_COL,
                    f"Mã đơn vị “{code}” khác với tệp đã tải về (“{meta_code}”): không sửa mã, "
                    "không chèn, xóa hay sắp xếp lại dòng.",
                )
                continue
        else:
            if not code and not has_data:
                continue
            if not code:
                result.error(title, row, CODE_COL, "Dòng có số liệu nhưng không có mã đơn vị.")
                continue
            candidates = list(
                Unit.objects.filter(code=code)
                .valid_during(period)
                .filter(path__startswith=root.path)
            )
            if len(candidates) != 1:
                result.error(
                    title,
                    row,
                    CODE_COL,
                    f"Không có đơn vị mã “{code}” thuộc {root.name} trong {period.label}.",
                )
                continue
            row_unit = candidates[0]
            if not form.applies_to(row_unit):
                result.error(
                    title, row, CODE_COL, f"{row_unit.name} không phải báo cáo biểu “{form.code}”."
                )
                continue
        key = (title, row_unit.pk)
        if key in seen_units:
            result.error(
                title,
                row,
                CODE_COL,
                f"{row_unit.name} (mã {row_unit.code}) đã có ở dòng {seen_units[key]}; "
                "mỗi đơn vị chỉ một dòng.",
            )
            continue
        seen_units[key] = row
        name_raw = _text(ws[f"{NAME_COL}{row}"].value)
        if name_raw:
            cleaned = clean_text(name_raw)
            if cleaned.changed or cleaned.unrecognised:
                result.notice(title, row, NAME_COL, notice_for(f"{NAME_COL}{row}", cleaned))
            if cleaned.text.casefold() != row_unit.name.casefold():
                result.notice(
                    title,
                    row,
                    NAME_COL,
                    f"Tên “{cleaned.text}” khác tên trong hệ thống (“{row_unit.name}”); số liệu "
                    f"ghi cho đơn vị mã {row_unit.code}.",
                )
        if has_data and not scope.can_write(user, row_unit):
            result.error(
                title,
                row,
                CODE_COL,
                f"Bạn không có quyền ghi số liệu của {row_unit.name} (mã {row_unit.code}).",
            )
            continue
        rows.append((row, row_unit))
        for extra in ws[row][FIRST_DATA_COL - 1 :]:
            if extra.column_letter not in known_letters and extra.value not in (None, ""):
                result.notice(title, row, extra.column_letter, "Ô nằm ngoài biểu, bị bỏ qua.")

    existing = {
        (v.unit_id, v.indicator_id, v.period, v.category): v
        for v in DataValue.objects.filter(
            unit__in=[u for _, u in rows],
            indicator__in=[c[1] for c in columns],
            period__in={c[3].id for c in columns},
        )
    }
    versions = versions_of(
        units=[u for _, u in rows],
        indicators=[c[1] for c in columns],
        periods={c[3].id for c in columns},
    )
    moved = []  # (row, letter, entry, seen, current, version, touched) changed since download
    candidates = []  # entries to write, checked together below (one guard query)
    for row, row_unit in rows:
        for letter, indicator, category, column_period in columns:
            cell = ws[f"{letter}{row}"]
            current = existing.get((row_unit.pk, indicator.pk, column_period.id, category))
            try:
                value = _cell_number(cell, result, title, letter, row)
            except DataEntryError as exc:
                result.error(title, row, letter, str(exc))
                continue
            # a row of the file as prepared knows the figure's version at download (0: none);
            # a row added by hand does not, and is written as before
            seen_version, seen = None, None
            if row in sheet_meta.rows:
                seen_version, seen = sheet_meta.versions.get((row, letter), (0, None))
            version = versions.get((indicator.pk, row_unit.pk, column_period.id, category), 0)
            if (
                value is not None
                and seen_version is not None
                and seen_version != version
                and (current is None or current.value != value)
            ):
                entry = Entry(indicator, row_unit, column_period.id, value, category)
                moved.append((row, letter, entry, seen, current, version, value != seen))
                continue
            if value is None:
                if cell.value in (None, "") and current is not None:
                    result.notice(
                        title,
                        row,
                        letter,
                        f"Ô để trống nhưng đã có số liệu {format_number(current.value)}: giữ "
                        "nguyên (muốn xóa, dùng màn hình nhập số liệu).",
                    )
                continue
            if current is not None and current.value == value:
                # the figure as stored: nothing to write, nothing to check (an approved
                # figure sent back unchanged is not an error)
                result.unchanged += 1
                continue
            message = _value_problem(indicator, value)
            if message:
                result.error(title, row, letter, message)
                continue
            entry = Entry(
                indicator=indicator,
                unit=row_unit,
                period=column_period.id,
                value=value,
                category=category,
                comment=current.comment if current else "",
                expected_version=seen_version,
            )
            candidates.append((entry, current, row, letter))
    _report_moved(title, moved, result)
    outcomes = check_entries([entry for entry, *_ in candidates])
    for (entry, current, row, letter), outcome in zip(candidates, outcomes, strict=True):
        if isinstance(outcome, DataEntryError):
            result.error(title, row, letter, str(outcome))
            continue
        result.changes.append(
            Change(entry, current.value if current else None, title, f"{letter}{row}")
        )


def _report_moved(title: str, moved: list, result: UploadResult) -> None:
    """Figures changed by someone else since the download: a cell left as downloaded keeps
    the newer figure (a notice); a cell changed in the file is a conflict (an error)."""
    changes = DataValueChange.objects.select_related("changed_by").in_bulk(
        [version for *_, version, _touched in moved]
    )
    for row, letter, entry, seen, current, version, touched in moved:
        conflict = Conflict(
            entry,
            Period.parse(entry.period),
            0,
            seen,
            current.value if current is not None else None,
            changes.get(version),
        )
        if touched:
            result.error(title, row, letter, _conflict_message(conflict))
        else:
            result.unchanged += 1
            result.notice(
                title,
                row,
                letter,
                _(
                    "Ô giữ nguyên như lúc tải về (%(seen)s), nhưng số liệu đã được %(who)s "
                    "đổi thành %(current)s lúc %(when)s: giữ số mới."
                )
                % {
                    "seen": format_number(seen),
                    "who": conflict.who,
                    "current": format_number(conflict.current) or _("(trống)"),
                    "when": conflict.when,
                },
            )


def _conflict_message(conflict: Conflict) -> str:
    return _("Số liệu đã thay đổi: %(what)s. Không ghi số liệu nào của tệp.") % {
        "what": conflict.describe(since=_("khi tệp được tải về"))
    }


def _value_problem(indicator: Indicator, value: Decimal) -> str:
    try:
        indicator.check_value(value)
    except ValueRefused as exc:
        return f"Chỉ tiêu “{indicator.name}”: {exc}"
    return ""


def import_workbook(
    file, *, user, form: Form | None = None, unit: Unit | None = None, filename: str = ""
) -> UploadResult:
    """Check the whole file, then write every change in one transaction — or nothing."""
    result = check_workbook(file, user=user, form=form, unit=unit, filename=filename)
    if not result.ok:
        return result
    entries = [c.entry for c in result.changes]
    try:
        with busy_as_message(), transaction.atomic():
            if entries:
                save_values(entries, user=user, source="excel")
            audit(
                "data.excel_imported",
                actor=user,
                unit=result.unit,
                obj=result.form,
                message=f"Tải lên tệp Excel {filename}".strip()
                + f": {result.created} số liệu mới, {result.updated} số liệu sửa.",
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                periods=[p.id for p in result.periods],
            )
    except ValueConflictError as exc:  # changed by someone else between check and write
        cells = {id(c.entry): c for c in result.changes}
        for conflict in exc.conflicts:
            change = cells.get(id(conflict.entry))
            if change is None:
                result.error("", None, "", f"{conflict.field}: {_conflict_message(conflict)}")
                continue
            column, row = coordinate_from_string(change.cell)
            result.error(change.sheet, row, column, _conflict_message(conflict))
        return result
    except DataEntryError as exc:  # changed since the check (e.g. approved meanwhile)
        for line in dict.fromkeys(str(exc).splitlines()):
            result.error("", None, "", line)
        return result
    result.written = True
    return result
