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

A figure with a qualifier (``tiendo.data.qualifiers``) is written as text, ``khoảng 334``,
and a cell typed ``khoảng 334`` or ``ước 12,5`` is read with its qualifier (no notice: text
is the only way to write the word). Excel's data validation therefore only warns (it
cannot tell a qualified figure from a typo); the upload checks every cell again.

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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from tiendo.accounts import scope
from tiendo.core import exporters as ex
from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.core.legacy_encoding import clean_text, notice_for
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
    format_figure,
    indicator_figure,
    parse_number,
    parse_qualified,
    save_values,
    versions_of,
)
from tiendo.programmes.models import Indicator, ValueRefused, ValueType
from tiendo.programmes.periods import PERIOD_TYPE_LABELS, Period, PeriodError, PeriodType
from tiendo.reporting.models import Form, FormIndicator, ReportRequest, period_under_rule
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


class ExcelError(TiendoError, ValueError):
    """A workbook that cannot be prepared, or a refusal of an uploaded file (its sheet, row
    and column are the :class:`Problem`'s)."""

    code = "excel.refused"


# --- What a form asks of a unit ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    letter: str
    indicator: Indicator
    category: str
    category_name: str
    period: Period


def line_period(line: FormIndicator, period: Period, report_request=None) -> Period:
    """The period a form line's figure is entered for: the request's rule when the file is
    for a request (:meth:`ReportRequest.period_for`), else the same rule in ``period``."""
    if report_request is not None:
        return report_request.period_for(line.period_rule)
    return period_under_rule(period, line.period_rule)


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
    units = [u for u in below.order_by("code", "pk") if form.programme.applies_at(u)]
    if units:
        return units
    if form.applies_to(unit):
        return [unit]
    raise ExcelError(
        _(
            "Biểu “%(form)s” không áp dụng cho %(unit)s và không có đơn vị nào trực thuộc "
            "phải báo cáo biểu này trong %(period)s."
        ),
        code="excel.form_not_for_unit",
        form=form.code,
        unit=unit.name,
        period=period.label,
    )


# --- Download ------------------------------------------------------------------------------


def _decimals(indicator: Indicator, places: int) -> int:
    """Decimals shown in a column: the indicator's, or more when a stored figure has more,
    plus those a figure gains in the display unit (a column in tỷ đồng of triệu đồng: 3)."""
    if indicator.value_type == ValueType.INTEGER:
        return indicator.display_places
    return max(indicator.decimals, places) + indicator.display_places


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return min(-exponent, 6) if isinstance(exponent, int) and exponent < 0 else 0


def _validation(indicator: Indicator) -> DataValidation:
    """The cell rule, in the column's unit (``display_unit``): whole numbers for integers
    kept as typed, ≥ 0 where a figure cannot be negative, the indicator's min/max."""
    whole = indicator.value_type == ValueType.INTEGER and indicator.display_factor == 1
    kind = "whole" if whole else "decimal"
    low = indicator.min_value
    if low is None and indicator.is_non_negative:
        low = Decimal(0)
    low, high = (
        None if v is None else indicator.to_display(v).normalize()
        for v in (low, indicator.max_value)
    )
    what = "số nguyên" if kind == "whole" else "số"
    if low is not None and high is not None:
        dv = DataValidation(
            type=kind, operator="between", formula1=f"{low:f}", formula2=f"{high:f}"
        )
        rule = f"{what} từ {format_number(low)} đến {format_number(high)}"
    elif low is not None:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{low:f}")
        rule = f"{what} không âm" if low == 0 else f"{what} từ {format_number(low)} trở lên"
    elif high is not None:
        dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=f"{high:f}")
        rule = f"{what} không lớn hơn {format_number(high)}"
    else:
        limit = str(MAX_ABS_VALUE - 1)
        dv = DataValidation(type=kind, operator="between", formula1=f"-{limit}", formula2=limit)
        rule = what
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.errorStyle = "warning"  # "khoảng 334" must be typeable (see the module's head)
    dv.errorTitle = "Số liệu không hợp lệ"
    dv.error = (
        f"Chỉ tiêu “{indicator.name[:120]}” nhận {rule} ({indicator.shown_unit}); "
        "có thể ghi khoảng, hơn, dưới, gần hoặc ước trước số (khoảng 334)."
    )
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


def check_programme_reaches(form: Form, unit: Unit) -> None:
    """Refuse a form whose programme applies neither to ``unit`` nor below it: one province's
    form is never filled in another."""
    if not form.programme.reaches_into(unit):
        raise ExcelError(
            _("Biểu “%(form)s” thuộc chương trình “%(programme)s”, không áp dụng cho %(unit)s."),
            code="excel.programme_not_for_unit",
            form=form.code,
            programme=form.programme.code,
            unit=unit.name,
        )


def build_workbook(
    form: Form, unit: Unit, periods, *, user, report_request: ReportRequest | None = None
) -> bytes:
    """An .xlsx of ``form`` for ``unit`` and ``periods`` (identifiers or Period objects)."""
    scope.check_unit(user, unit)
    check_programme_reaches(form, unit)
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
            raise ExcelError(
                _("Biểu “%(form)s” chưa có chỉ tiêu nào để nhập."),
                code="excel.form_empty",
                form=form.code,
            )
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
                _("Kỳ %(period)s (%(label)s) không phải loại kỳ của biểu “%(form)s” (%(type)s)."),
                code="excel.period_type",
                period=period.id,
                label=period.label,
                form=form.code,
                type=PERIOD_TYPE_LABELS[PeriodType(form.period_type)],
            )
        if period not in parsed:
            parsed.append(period)
    if not parsed:
        raise ExcelError(_("Xin chọn ít nhất một kỳ báo cáo."), code="excel.no_period")
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
    qualifiers: dict = field(default_factory=dict)  # the qualified figures' qualifiers

    @classmethod
    def load(cls, units: list[Unit], columns: list[Column]) -> _Prefill:
        indicators = {c.indicator.pk for c in columns}
        periods = {c.period.id for c in columns}
        stored = DataValue.objects.filter(
            unit__in=units, indicator__in=indicators, period__in=periods
        )
        values, qualifiers = {}, {}
        for v in stored:
            values[v.unit_id, v.indicator_id, v.period, v.category] = v.value
            if v.qualifier:
                qualifiers[v.unit_id, v.indicator_id, v.period, v.category] = v.qualifier
        versions = versions_of(units=units, indicators=indicators, periods=periods)
        places = {c.letter: 0 for c in columns}
        for key, value in values.items():
            for col in columns:
                if (col.indicator.pk, col.period.id, col.category) == key[1:]:
                    places[col.letter] = max(places[col.letter], _places(value))
        return cls(values, versions, places, qualifiers)

    def value(self, unit: Unit, col: Column):
        return self.values.get((unit.pk, col.indicator.pk, col.period.id, col.category))

    def cell(self, unit: Unit, col: Column) -> ex.Cell:
        """The figure's cell: a number, or the text ``khoảng 334`` when it is qualified."""
        indicator = col.indicator
        value = indicator.to_display(self.value(unit, col))
        decimals = _decimals(indicator, self.places[col.letter])
        qualifier = self.qualifiers.get((unit.pk, indicator.pk, col.period.id, col.category))
        if qualifier:
            return ex.text(format_figure(value, qualifier, decimals), editable=True)
        return ex.number(value, decimals, editable=True)

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
            *(prefill.cell(row_unit, col) for col in columns),
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
        unit_line = col.indicator.shown_unit
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
    code: str = ""  # a refusal's stable code (``excel.formula``, ``value.negative``, …)

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}" if self.column and self.row else ""


@dataclass(frozen=True)
class Change:
    entry: Entry
    old: Decimal | None
    sheet: str
    cell: str
    old_qualifier: str = ""

    @property
    def new(self) -> Decimal | None:
        return self.entry.value

    @property
    def old_text(self) -> str:
        return indicator_figure(self.entry.indicator, self.old, self.old_qualifier)

    @property
    def new_text(self) -> str:
        return indicator_figure(self.entry.indicator, self.entry.value, self.entry.qualifier)

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

    def error(self, sheet: str, row: int | None, column: str, error: Exception) -> None:
        """Refuse the file for ``error`` at that place: its message, and its code (a domain
        error of another app without one counts as ``excel.refused``)."""
        code = getattr(error, "code", ExcelError.code)
        self.errors.append(Problem(sheet, row, column, str(error), code))

    def notice(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.notices.append(Problem(sheet, row, column, str(message)))

    @property
    def created(self) -> int:
        return sum(1 for c in self.changes if c.old is None)

    @property
    def updated(self) -> int:
        return sum(1 for c in self.changes if c.old is not None)


class _MetaError(ExcelError):
    """The ``_meta`` sheet is missing, changed or of an old format."""

    code = "excel.meta_changed"
    default_message = _("Trang ẩn “_meta” đã bị sửa hoặc hỏng; xin tải lại biểu mẫu.")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# The widths the rows of _meta were signed with (their empty category cells included).
_META_WIDTHS = {
    "format": 2,
    "form": 2,
    "unit": 3,
    "request": 2,
    "sheet": 3,
    "col": 6,
    "row": 5,
    "ver": 6,
}


def _meta_rows(ws) -> list[list[str]]:
    """The non-empty rows of ``_meta`` as text, without trailing empty cells (they differ
    between the programs that saved the file), padded back to the widths they were signed
    with."""
    rows = [
        [_text(v) for v in row]
        for row in ws.iter_rows(values_only=True, max_row=MAX_META_ROWS)
        if any(v not in (None, "") for v in row)
    ]
    rows = [row[: max(i for i, v in enumerate(row) if v) + 1] for row in rows]
    return [row + [""] * (_META_WIDTHS.get(row[0], len(row)) - len(row)) for row in rows]


def _read_meta(wb) -> list[list[str]]:
    """The signed rows of ``_meta``, the signature checked."""
    if META_SHEET not in wb.sheetnames:
        raise _MetaError(
            _(
                "Tệp không có trang ẩn “_meta” của hệ thống: chỉ tải lên tệp biểu mẫu đã tải về "
                "từ Tiến Độ (không chép sang tệp khác)."
            ),
            code="excel.meta_missing",
        )
    rows = _meta_rows(wb[META_SHEET])
    if not rows or rows[-1][0] != "signature" or len(rows[-1]) < 2:
        raise _MetaError()
    body, signature = rows[:-1], rows[-1][1]
    if not hmac.compare_digest(signature, _sign(body)):
        raise _MetaError()
    if body[0] != ["format", FORMAT_VERSION]:
        raise _MetaError(
            _("Tệp theo mẫu cũ không còn dùng; xin tải lại biểu mẫu."), code="excel.meta_outdated"
        )
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

    @property
    def form_end(self) -> int:
        """The last row the file was prepared with."""
        return max(self.rows, default=FIRST_DATA_ROW - 1)

    def seen(self, row: int, letter: str) -> tuple[int | None, Decimal | None]:
        """The version and value of the figure at download (0 and None: none). A row added
        by hand knows neither (None, None), and is written as before."""
        if row not in self.rows:
            return None, None
        return self.versions.get((row, letter), (0, None))


def _sheet_metas(meta: list[list[str]]) -> dict[str, _SheetMeta]:
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
    return sheets


def _refuse_non_figure(cell) -> None:
    """Refuse a formula, a true/false and a date: none of them is a figure typed in."""
    value = cell.value
    if isinstance(value, (ArrayFormula, DataTableFormula)) or cell.data_type == "f":
        formula = value.text if isinstance(value, ArrayFormula) else str(value)
        raise ExcelError(
            _(
                "Ô chứa công thức (%(formula)s); xin chép rồi dán dạng giá trị "
                "(Paste Special → Values) và tải lên lại."
            ),
            code="excel.formula",
            formula=formula[:60],
        )
    if isinstance(value, bool):
        raise ExcelError(_("Ô chứa giá trị đúng/sai, không phải là số."), code="excel.boolean")
    if isinstance(value, (datetime, date, time)):
        raise ExcelError(
            _(
                "Ô chứa ngày tháng, không phải là số (Excel có thể đã tự đổi số thành ngày; "
                "xin định dạng ô là Số rồi gõ lại)."
            ),
            code="excel.date",
        )


def _stored_number(value) -> Decimal | None:
    try:
        return parse_number(value)
    except DataEntryError as exc:  # a crafted file can hold inf or NaN in a numeric cell
        raise ExcelError(
            _("“%(value)s” không phải là số."), code="excel.not_a_number", value=value
        ) from exc


def _typed_number(raw: str, ref: str, notice) -> tuple[Decimal | None, str]:
    """A figure typed as text (``66.992``, ``234,9``), read with a notice; or with a
    qualifier (``khoảng 334``), read without one."""
    cleaned = clean_text(raw)
    if cleaned.changed or cleaned.unrecognised:
        notice(notice_for(ref, cleaned))
    text = cleaned.text.strip()
    if not text:
        return None, ""
    try:
        number, qualifier = parse_qualified(text, field=ref)
    except DataEntryError as exc:  # says why: an exponent, an underscore, too long…
        reason = str(exc).removeprefix(f"{ref}: ")  # the Problem names the cell already
        raise ExcelError(reason, code=getattr(exc, "code", "excel.not_a_number")) from exc
    if qualifier:
        return number, qualifier
    notice(
        _(
            "Số gõ dạng chữ “%(text)s” được đọc là %(number)s; lần sau xin gõ số để Excel "
            "lưu dạng số."
        )
        % {"text": text[:30], "number": format_number(number)}
    )
    return number, ""


def _cell_number(cell, ref: str, notice) -> tuple[Decimal | None, str]:
    """The cell's number and qualifier, (None, "") when blank; an :class:`ExcelError` when
    it is not a number. ``notice`` receives what the reader should know (text converted,
    number typed as text)."""
    if cell.value is None:
        return None, ""
    _refuse_non_figure(cell)
    if isinstance(cell.value, (int, float, Decimal)):
        return _stored_number(cell.value), ""
    return _typed_number(str(cell.value), ref, notice)


class _Unreadable(ExcelError):
    """The file cannot be read as a workbook."""

    code = "excel.unreadable"


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
    except UploadError as exc:  # its message says what is wrong; its code, once it has one
        raise _Unreadable(str(exc), code=getattr(exc, "code", _Unreadable.code)) from exc
    try:
        return load_workbook(file, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl on a hostile file: any error is a refusal
        raise _Unreadable(
            _(
                "Tệp không đọc được: chỉ nhận bảng tính Excel dạng .xlsx (tệp “%(name)s” hỏng: "
                "%(error)s)."
            ),
            name=filename or _("tải lên"),
            error=exc.__class__.__name__,
        ) from exc


@dataclass(frozen=True)
class _Blank:
    column_letter: str
    value: None = None
    data_type: str = "n"


class _Grid:
    """A sheet's cells up to the rows the form can have, read once from the stream.

    Offers what ``_SheetCheck`` asks of a worksheet: ``grid["C7"]``, ``grid[7]`` (columns
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
    except _Unreadable as exc:
        result.error("", None, "", exc)
        return result
    try:
        meta = _read_meta(wb)
    except _MetaError as exc:
        result.error(META_SHEET, None, "", exc)
    except Exception as exc:  # a part openpyxl reads only now (the _meta sheet) is broken
        unreadable = ExcelError(
            _("Trang ẩn “_meta” không đọc được (%(error)s); xin tải lại biểu mẫu."),
            code="excel.meta_unreadable",
            error=exc.__class__.__name__,
        )
        result.error(META_SHEET, None, "", unreadable)
    else:
        _check_opened(wb, meta, result, user=user, form=form, unit=unit)
    finally:
        wb.close()
    return result


def _file_form(meta: list[list[str]], chosen: Form | None) -> Form:
    """The form the file was prepared for; it must be the one chosen on the page."""
    form_code = meta[1][1]
    form = Form.objects.filter(code=form_code).first()
    if form is None:
        raise ExcelError(
            _("Biểu “%(form)s” không còn trong hệ thống."), code="excel.form_gone", form=form_code
        )
    if chosen is not None and form.pk != chosen.pk:
        raise ExcelError(
            _("Tệp là biểu “%(form)s” (%(name)s), không phải biểu “%(chosen)s”."),
            code="excel.other_form",
            form=form.code,
            name=form.name,
            chosen=chosen.code,
        )
    return form


def _named(unit: Unit) -> dict[str, str]:
    """A unit as the messages name it: ``%(unit)s`` and its code ``%(unit_code)s``."""
    return {"unit": unit.name, "unit_code": unit.code}


def _unit_gone(unit_code: str) -> ExcelError:
    """A unit the file was prepared for (or one of its rows) deleted since the download."""
    return ExcelError(
        _("Đơn vị mã “%(unit_code)s” không còn trong hệ thống."),
        code="excel.unit_gone",
        unit_code=unit_code,
    )


def _file_unit(meta: list[list[str]], chosen: Unit | None) -> Unit:
    """The unit the file was prepared for; it must lie within the one chosen on the page."""
    root = Unit.objects.filter(pk=int(meta[2][1])).first()
    if root is None:
        raise _unit_gone(meta[2][2])
    if chosen is None or root.is_within(chosen):
        return root
    raise ExcelError(
        _("Tệp lập cho %(unit)s (mã %(unit_code)s), không thuộc %(chosen)s."),
        code="excel.outside_unit",
        **_named(root),
        chosen=chosen.name,
    )


@dataclass
class _FileCheck:
    """What the checks of every sheet of one file share."""

    result: UploadResult
    user: object
    form: Form
    root: Unit
    indicators: dict[str, Indicator]  # by code: the indicators the file's columns name
    form_indicator_ids: set[int]

    @classmethod
    def of(cls, result: UploadResult, user, sheets: dict[str, _SheetMeta]) -> _FileCheck:
        codes = {c[1] for s in sheets.values() for c in s.columns}
        indicators = Indicator.objects.filter(code__in=codes).select_related("disaggregation")
        form_indicator_ids = FormIndicator.objects.filter(form=result.form).values_list(
            "indicator_id", flat=True
        )
        return cls(
            result,
            user,
            result.form,
            result.unit,
            {i.code: i for i in indicators},
            set(form_indicator_ids),
        )


def _check_opened(wb, meta, result: UploadResult, *, user, form, unit) -> None:
    try:
        result.form = _file_form(meta, form)
        result.unit = _file_unit(meta, unit)
        check_programme_reaches(result.form, result.unit)
    except ExcelError as exc:
        result.error(META_SHEET, None, "", exc)
        return
    sheets = _sheet_metas(meta)
    file = _FileCheck.of(result, user, sheets)
    for name in wb.sheetnames:
        if name not in sheets and name != META_SHEET:
            result.notice(name, None, "", _("Trang không thuộc biểu mẫu, bị bỏ qua."))
    for sheet_meta in sheets.values():
        try:
            grid = _read_sheet(wb, sheet_meta)
        except ExcelError as exc:
            result.error(sheet_meta.title, None, "", exc)
            continue
        _SheetCheck(file, grid, sheet_meta).run()
    _sort_problems(result, sheets)


def _read_sheet(wb, sheet_meta: _SheetMeta) -> _Grid:
    if sheet_meta.title not in wb.sheetnames:
        raise ExcelError(
            _("Thiếu trang này của biểu mẫu (đã bị xóa?)."), code="excel.sheet_missing"
        )
    max_col = max(
        (column_index_from_string(c[0]) for c in sheet_meta.columns), default=FIRST_DATA_COL
    )
    try:
        return _Grid.read(wb[sheet_meta.title], sheet_meta.form_end, max_col + MAX_EXTRA_COLUMNS)
    except Exception as exc:  # the sheet's XML holds something openpyxl cannot read
        raise ExcelError(
            _("Trang không đọc được (%(error)s); xin lưu lại bằng Excel."),
            code="excel.sheet_unreadable",
            error=exc.__class__.__name__,
        ) from exc


def _sort_problems(result: UploadResult, sheets: dict[str, _SheetMeta]) -> None:
    """Reading order: the file, ``_meta``, then sheet by sheet, row by row, column by column."""
    order = {title: i for i, title in enumerate(["", META_SHEET, *sheets])}

    def position(problem: Problem):
        column = (len(problem.column), problem.column)
        return (order.get(problem.sheet, len(order)), problem.row or 0, column)

    result.errors.sort(key=position)
    result.notices.sort(key=position)


class _FileColumn(NamedTuple):
    letter: str
    indicator: Indicator
    category: str
    period: Period


class _Moved(NamedTuple):
    """A figure changed by someone else since the download."""

    row: int
    letter: str
    entry: Entry
    seen: Decimal | None  # at download
    current: DataValue | None
    version: int  # the change that moved it
    touched: bool  # the cell differs from the download


class _Candidate(NamedTuple):
    """A figure to write, checked with the others of its sheet in one guard query."""

    entry: Entry
    current: DataValue | None
    row: int
    letter: str


class _SheetCheck:
    """The check of one sheet: its period, its columns, its rows, then every figure."""

    def __init__(self, file: _FileCheck, grid: _Grid, sheet_meta: _SheetMeta):
        self.file, self.ws, self.meta = file, grid, sheet_meta
        self.title = sheet_meta.title
        self.result = file.result

    def error(self, row: int | None, column: str, error: Exception) -> None:
        self.result.error(self.title, row, column, error)

    def notice(self, row: int | None, column: str, message: str) -> None:
        self.result.notice(self.title, row, column, message)

    def run(self) -> None:
        period = self._period()
        if period is None:
            return
        self.result.periods.append(period)
        columns = self._columns(period)
        if not self._reaches_too_far():
            self._check_figures(self._rows(period), columns)

    def _period(self) -> Period | None:
        """The sheet's period; None (with an error) when it no longer fits the form."""
        form = self.file.form
        try:
            period = Period.parse(self.meta.period_id)
        except PeriodError as exc:
            self.error(None, "", exc)
            return None
        if period.type != form.period_type:
            refusal = ExcelError(
                _(
                    "Kỳ %(period)s không đúng loại kỳ của biểu “%(form)s” (%(type)s); xin tải "
                    "lại biểu mẫu."
                ),
                code="excel.period_type",
                period=period.label,
                form=form.code,
                type=PERIOD_TYPE_LABELS[PeriodType(form.period_type)],
            )
            self.error(None, "", refusal)
            return None
        return period

    # --- the columns

    def _columns(self, period: Period) -> list[_FileColumn]:
        columns = []
        for letter, code, category, period_id in self.meta.columns:
            try:
                indicator, column_period = self._column(period, code, period_id)
            except ExcelError as exc:
                self.error(HEADER_ROWS[0], letter, exc)
                continue
            columns.append(_FileColumn(letter, indicator, category, column_period))
        return columns

    def _column(self, period: Period, code: str, period_id: str) -> tuple[Indicator, Period]:
        indicator = self.file.indicators.get(code)
        if indicator is None:
            raise ExcelError(
                _("Chỉ tiêu mã “%(indicator_code)s” không còn trong hệ thống."),
                code="excel.indicator_gone",
                indicator_code=code,
            )
        if indicator.pk not in self.file.form_indicator_ids:
            raise ExcelError(
                _("Chỉ tiêu “%(indicator)s” không còn thuộc biểu “%(form)s”."),
                code="excel.indicator_not_in_form",
                indicator=indicator.name,
                form=self.file.form.code,
            )
        column_period = Period.parse(period_id)
        if not period.contains(column_period):
            raise ExcelError(
                _("Kỳ của cột (%(column)s) không nằm trong kỳ của trang (%(sheet)s)."),
                code="excel.column_period",
                column=column_period.label,
                sheet=period.label,
            )
        return indicator, column_period

    # --- the rows

    def _reaches_too_far(self) -> bool:
        """Data far below the form's last row (stray cells, or a hostile file) refuses the
        sheet before its rows are read."""
        if self.ws.max_row <= self.meta.form_end + MAX_EXTRA_ROWS:
            return False
        refusal = ExcelError(
            _(
                "Trang có dữ liệu đến dòng %(last)s, quá xa dòng cuối của biểu "
                "(%(form_end)s); xin xóa các dòng thừa rồi tải lên lại."
            ),
            code="excel.too_many_rows",
            last=self.ws.max_row,
            form_end=self.meta.form_end,
        )
        self.error(None, "", refusal)
        return True

    def _rows(self, period: Period) -> list[tuple[int, Unit]]:
        """The rows to read and their units (rows refused are left out, with an error)."""
        units_by_id = Unit.objects.in_bulk([u for u, _code in self.meta.rows.values()])
        letters = {c[0] for c in self.meta.columns}
        rows: list[tuple[int, Unit]] = []
        first_rows: dict[int, int] = {}  # unit id → the row it is on
        for row in range(FIRST_DATA_ROW, max(self.ws.max_row, self.meta.form_end) + 1):
            code = clean_text(_text(self.ws[f"{CODE_COL}{row}"].value)).text
            has_data = any(self.ws[f"{letter}{row}"].value not in (None, "") for letter in letters)
            if row not in self.meta.rows and not code and not has_data:
                continue
            try:
                row_unit = self._row_unit(row, code, period, units_by_id)
                self._check_first_row(row, row_unit, first_rows)
                self._check_name(row, row_unit)
                if has_data:
                    self._check_may_write(row_unit)
            except ExcelError as exc:
                self.error(row, CODE_COL, exc)
                continue
            rows.append((row, row_unit))
            self._notice_cells_outside(row, letters)
        return rows

    def _row_unit(self, row: int, code: str, period: Period, units_by_id: dict) -> Unit:
        if row in self.meta.rows:
            return self._prepared_row_unit(row, code, units_by_id)
        return self._added_row_unit(code, period)

    def _prepared_row_unit(self, row: int, code: str, units_by_id: dict) -> Unit:
        """The unit of a row the file was prepared with: its code must be left as it was."""
        unit_id, meta_code = self.meta.rows[row]
        row_unit = units_by_id.get(unit_id)
        if row_unit is None:
            raise _unit_gone(meta_code)
        if code != meta_code:
            raise ExcelError(
                _(
                    "Mã đơn vị “%(typed)s” khác với tệp đã tải về (“%(unit_code)s”): không sửa "
                    "mã, không chèn, xóa hay sắp xếp lại dòng."
                ),
                code="excel.unit_code_changed",
                typed=code,
                unit_code=meta_code,
            )
        return row_unit

    def _added_row_unit(self, code: str, period: Period) -> Unit:
        """The unit of a row added by hand: by its code, below the file's unit, existing
        during the period and reporting the form."""
        if not code:
            raise ExcelError(
                _("Dòng có số liệu nhưng không có mã đơn vị."), code="excel.unit_code_missing"
            )
        root = self.file.root
        found = list(
            Unit.objects.filter(code=code).valid_during(period).filter(path__startswith=root.path)
        )
        if len(found) != 1:
            raise ExcelError(
                _("Không có đơn vị mã “%(unit_code)s” thuộc %(root)s trong %(period)s."),
                code="excel.unit_unknown",
                unit_code=code,
                root=root.name,
                period=period.label,
            )
        if not self.file.form.applies_to(found[0]):
            raise ExcelError(
                _("%(unit)s không phải báo cáo biểu “%(form)s”."),
                code="excel.unit_not_reporting",
                **_named(found[0]),
                form=self.file.form.code,
            )
        return found[0]

    def _check_first_row(self, row: int, row_unit: Unit, first_rows: dict[int, int]) -> None:
        """One row a unit: a second row of the same unit is refused."""
        if row_unit.pk in first_rows:
            raise ExcelError(
                _("%(unit)s (mã %(unit_code)s) đã có ở dòng %(first)s; mỗi đơn vị chỉ một dòng."),
                code="excel.unit_twice",
                **_named(row_unit),
                first=first_rows[row_unit.pk],
            )
        first_rows[row_unit.pk] = row

    def _check_name(self, row: int, row_unit: Unit) -> None:
        """The name column is not read, only compared: notices for a legacy encoding or
        another name."""
        name_raw = _text(self.ws[f"{NAME_COL}{row}"].value)
        if not name_raw:
            return
        cleaned = clean_text(name_raw)
        if cleaned.changed or cleaned.unrecognised:
            self.notice(row, NAME_COL, notice_for(f"{NAME_COL}{row}", cleaned))
        if cleaned.text.casefold() != row_unit.name.casefold():
            message = _(
                "Tên “%(typed)s” khác tên trong hệ thống (“%(unit)s”); số liệu ghi cho đơn vị "
                "mã %(unit_code)s."
            ) % {"typed": cleaned.text, "unit": row_unit.name, "unit_code": row_unit.code}
            self.notice(row, NAME_COL, message)

    def _check_may_write(self, row_unit: Unit) -> None:
        if not scope.can_write(self.file.user, row_unit):
            raise ExcelError(
                _("Bạn không có quyền ghi số liệu của %(unit)s (mã %(unit_code)s)."),
                code="excel.no_write_permission",
                **_named(row_unit),
            )

    def _notice_cells_outside(self, row: int, letters: set[str]) -> None:
        for extra in self.ws[row][FIRST_DATA_COL - 1 :]:
            if extra.column_letter not in letters and extra.value not in (None, ""):
                self.notice(row, extra.column_letter, _("Ô nằm ngoài biểu, bị bỏ qua."))

    # --- the figures

    def _check_figures(self, rows: list[tuple[int, Unit]], columns: list[_FileColumn]) -> None:
        units = [u for _row, u in rows]
        indicators = [c.indicator for c in columns]
        periods = {c.period.id for c in columns}
        existing = {
            (v.unit_id, v.indicator_id, v.period, v.category): v
            for v in DataValue.objects.filter(
                unit__in=units, indicator__in=indicators, period__in=periods
            )
        }
        versions = versions_of(units=units, indicators=indicators, periods=periods)
        moved: list[_Moved] = []
        candidates: list[_Candidate] = []
        for row, row_unit in rows:
            for column in columns:
                current = existing.get(
                    (row_unit.pk, column.indicator.pk, column.period.id, column.category)
                )
                version = versions.get(
                    (column.indicator.pk, row_unit.pk, column.period.id, column.category), 0
                )
                found = self._check_figure(row, row_unit, column, current, version)
                if isinstance(found, _Moved):
                    moved.append(found)
                elif found is not None:
                    candidates.append(found)
        _report_moved(self.title, moved, self.result)
        self._check_candidates(candidates)

    def _check_figure(
        self, row: int, row_unit: Unit, column: _FileColumn, current, version: int
    ) -> _Moved | _Candidate | None:
        """What one cell asks: to write a figure, a figure moved since the download, or
        nothing (a blank, the figure as stored, or an error)."""
        letter = column.letter
        cell = self.ws[f"{letter}{row}"]
        try:
            value, qualifier = _cell_number(
                cell, f"{letter}{row}", lambda m: self.notice(row, letter, m)
            )
            value = _entered(column.indicator, value)
        except (ExcelError, DataEntryError) as exc:
            self.error(row, letter, exc)
            return None
        seen_version, seen = self.meta.seen(row, letter)
        stored = current.value if current is not None else None
        if value is None:
            if cell.value in (None, "") and current is not None:
                self._notice_blank_kept(row, letter, column.indicator, stored)
            return None
        entry = Entry(
            column.indicator,
            row_unit,
            column.period.id,
            value,
            column.category,
            qualifier=qualifier,
        )
        as_stored = current is not None and (stored, current.qualifier) == (value, qualifier)
        if seen_version not in (None, version) and not as_stored:
            return _Moved(row, letter, entry, seen, current, version, value != seen)
        if as_stored:
            # the figure as stored: nothing to write, nothing to check (an approved figure
            # sent back unchanged is not an error)
            self.result.unchanged += 1
            return None
        try:
            _check_value(column.indicator, value)
        except ExcelError as exc:
            self.error(row, letter, exc)
            return None
        comment = current.comment if current else ""
        entry = replace(entry, comment=comment, expected_version=seen_version)
        return _Candidate(entry, current, row, letter)

    def _notice_blank_kept(self, row: int, letter: str, indicator, stored: Decimal) -> None:
        message = _(
            "Ô để trống nhưng đã có số liệu %(value)s: giữ nguyên (muốn xóa, dùng màn hình "
            "nhập số liệu)."
        ) % {"value": indicator.exact_text(stored)}
        self.notice(row, letter, message)

    def _check_candidates(self, candidates: list[_Candidate]) -> None:
        """Check the figures to write in one go (the write guards: locked, approved…)."""
        outcomes = check_entries([c.entry for c in candidates])
        for candidate, outcome in zip(candidates, outcomes, strict=True):
            if isinstance(outcome, DataEntryError):
                self.error(candidate.row, candidate.letter, outcome)
                continue
            old = candidate.current.value if candidate.current else None
            old_qualifier = candidate.current.qualifier if candidate.current else ""
            cell = f"{candidate.letter}{candidate.row}"
            self.result.changes.append(
                Change(candidate.entry, old, self.title, cell, old_qualifier)
            )


def _report_moved(title: str, moved: list[_Moved], result: UploadResult) -> None:
    """Figures changed by someone else since the download: a cell left as downloaded keeps
    the newer figure (a notice); a cell changed in the file is a conflict (an error)."""
    changes = DataValueChange.objects.select_related("changed_by").in_bulk(
        [m.version for m in moved]
    )
    for m in moved:
        current = m.current.value if m.current is not None else None
        period = Period.parse(m.entry.period)
        conflict = Conflict(m.entry, period, 0, m.seen, current, changes.get(m.version))
        if m.touched:
            result.error(title, m.row, m.letter, _conflict_error(conflict))
            continue
        result.unchanged += 1
        message = _(
            "Ô giữ nguyên như lúc tải về (%(seen)s), nhưng số liệu đã được %(who)s "
            "đổi thành %(current)s lúc %(when)s: giữ số mới."
        ) % {
            "seen": m.entry.indicator.exact_text(m.seen),
            "who": conflict.who,
            "current": m.entry.indicator.exact_text(conflict.current) or _("(trống)"),
            "when": conflict.when,
        }
        result.notice(title, m.row, m.letter, message)


def _conflict_error(conflict: Conflict, *, named: bool = False) -> ExcelError:
    """A figure changed since the download and in the file: nothing of the file is written.
    ``named``: the message names the figure (when no cell of the file points at it)."""
    what = conflict.describe(since=_("khi tệp được tải về"))
    if named:
        message = _("%(field)s: Số liệu đã thay đổi: %(what)s. Không ghi số liệu nào của tệp.")
    else:
        message = _("Số liệu đã thay đổi: %(what)s. Không ghi số liệu nào của tệp.")
    return ExcelError(message, code="excel.conflict", what=what, field=conflict.field)


def _entered(indicator: Indicator, value: Decimal | None) -> Decimal | None:
    """A cell's figure (in the column's unit, ``display_unit``) as stored, exactly."""
    try:
        return indicator.entered(value)
    except ValueRefused as exc:
        raise ExcelError(
            _("Chỉ tiêu “%(indicator)s”: %(reason)s"),
            code=exc.code,
            indicator=indicator.name,
            reason=str(exc),
        ) from exc


def _check_value(indicator: Indicator, value: Decimal) -> None:
    """The indicator's rule (:meth:`Indicator.check_value`), its message naming the
    indicator; the code stays the rule's (``value.negative``, …)."""
    try:
        indicator.check_value(value)
    except ValueRefused as exc:
        raise ExcelError(
            _("Chỉ tiêu “%(indicator)s”: %(reason)s"),
            code=exc.code,
            indicator=indicator.name,
            reason=str(exc),
        ) from exc


def import_workbook(
    file, *, user, form: Form | None = None, unit: Unit | None = None, filename: str = ""
) -> UploadResult:
    """Check the whole file, then write every change in one transaction — or nothing."""
    result = check_workbook(file, user=user, form=form, unit=unit, filename=filename)
    if not result.ok:
        return result
    try:
        _write(result, user=user, filename=filename)
    except ValueConflictError as exc:  # changed by someone else between check and write
        _report_write_conflicts(result, exc)
        return result
    except DataEntryError as exc:  # changed since the check (e.g. approved meanwhile)
        for line in dict.fromkeys(str(exc).splitlines()):
            refusal = ExcelError(line, code=getattr(exc, "code", ExcelError.code))
            result.error("", None, "", refusal)
        return result
    result.written = True
    return result


def _write(result: UploadResult, *, user, filename: str) -> None:
    entries = [c.entry for c in result.changes]
    with busy_as_message(), transaction.atomic():
        if entries:
            save_values(entries, user=user, source="excel")
        audit(
            "data.excel_imported",
            actor=user,
            unit=result.unit,
            obj=result.form,
            filename=filename,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            periods=[p.id for p in result.periods],
        )


def _report_write_conflicts(result: UploadResult, exc: ValueConflictError) -> None:
    """Name the cell of every figure changed between the check and the write."""
    cells = {id(c.entry): c for c in result.changes}
    for conflict in exc.conflicts:
        change = cells.get(id(conflict.entry))
        if change is None:
            result.error("", None, "", _conflict_error(conflict, named=True))
            continue
        column, row = coordinate_from_string(change.cell)
        result.error(change.sheet, row, column, _conflict_error(conflict))
