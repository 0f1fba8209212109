"""The Excel import of household lists: a commune's (or a province's) register in one file.

The file (.xlsx) has a sheet of households — ``mã hộ``, ``họ tên chủ hộ``, ``năm sinh``,
``giới tính``, ``dân tộc``, ``số CCCD``, ``thôn``, … (:data:`HOUSEHOLD_COLUMNS`), with
``mã xã`` when the list covers more than one commune — and optional sheets of loans
(``Khoản vay``) and plots (``Thửa đất``) whose rows name a household of the first sheet
by its ``mã hộ``. :func:`template` builds an empty file with the headers and an example.

It goes in twice, through the same code: :func:`check` (the dry run) reads the whole file
and returns a :class:`Plan` with every problem, each naming its sheet, row and column in
Vietnamese, and the duplicates — the same ID number (by its blind index, so no number is
decrypted) twice in the file or already in the register is an error; the same head's
name and birth year twice in one commune is a warning to look at. :func:`write` then
writes a plan without errors in one transaction, all or nothing, with an "added" change
row per record (source ``import``) and one :func:`tiendo.households.events.changed` for
the communes touched. Both run as background jobs (:func:`run_check`, :func:`run_import`,
registered in the app's ``ready``), since a province's 100.000 households take tens of
seconds.

Before any row is parsed the file is capped: its size (``UPLOAD_MAX_BYTES``), its zip
structure and XML (:func:`tiendo.core.uploads.inspect_zip`, with the import's own caps on
unpacked sizes: worksheets are streamed by openpyxl's read-only mode), and the rows the
sheets declare; rows are counted again as they are read (a file may understate its size).
Text is normalised to Unicode NFC and converted from TCVN3 or VNI when a cell was typed in
one of those old encodings (:mod:`tiendo.core.legacy_encoding`), as the form imports do.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiendo.accounts.scope import may_see_records
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.core.jobs import JobFailed
from tiendo.core.legacy_encoding import clean_text
from tiendo.core.numbers import to_ascii
from tiendo.core.uploads import default_limits, inspect_zip
from tiendo.households import crypto, events, identity
from tiendo.households.models import Household, Loan, Plot, RecordChange, Sex
from tiendo.programmes.models import Programme
from tiendo.units.models import Level, Unit

SOURCE = "import"
CHECK_JOB, IMPORT_JOB = "households.import_check", "households.import"
BATCH = 2000
# the most warnings a plan keeps for its page (all are counted)
MAX_WARNINGS = 1000

HOUSEHOLDS, LOANS, PLOTS = "households", "loans", "plots"
SHEET_LABELS = {
    HOUSEHOLDS: gettext_lazy("Hộ"),
    LOANS: gettext_lazy("Khoản vay"),
    PLOTS: gettext_lazy("Thửa đất"),
}
_SHEET_NAMES = {
    HOUSEHOLDS: ("ho", "ho gia dinh", "danh sach ho", "households"),
    LOANS: ("khoan vay", "vay", "vay von", "loans"),
    PLOTS: ("thua dat", "dat", "vuon", "thua dat vuon", "plots"),
}


class HouseholdImportError(TiendoError):
    """The file as a whole cannot be read as a household list."""

    code = "households.import_unreadable"


@lru_cache(maxsize=4096)  # the same few words (Nam, Nữ, có, không) on every row
def _plain(text) -> str:
    """``Họ tên chủ hộ*`` → ``ho ten chu ho``: headers and sheet names are matched without
    case, accents, stars or a parenthesised unit."""
    text = str(text or "").replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\(.*?\)", " ", text.lower().replace("*", " ").replace("_", " "))
    return " ".join(text.replace(",", " ").split())


# --- the columns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy Vietnamese header, as the template writes it
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: object = ""


def _col(key, label, *aliases, required=False, example=""):
    return Column(key, label, tuple(aliases), required, example)


COMMUNE = _col("commune", gettext_lazy("mã xã"), "ma xa", "ma don vi", "xa")
HOUSEHOLD_COLUMNS = (
    COMMUNE,
    _col(
        "code", gettext_lazy("mã hộ"), "ma ho", "so thu tu", "stt ho", required=True, example="H001"
    ),
    _col(
        "head_name",
        gettext_lazy("họ tên chủ hộ"),
        "ho ten chu ho",
        "ho va ten chu ho",
        "chu ho",
        "ho ten",
        required=True,
        example="Nguyễn Văn An",
    ),
    _col(
        "birth_year",
        gettext_lazy("năm sinh"),
        "nam sinh",
        "nam sinh chu ho",
        required=True,
        example=1985,
    ),
    _col(
        "sex",
        gettext_lazy("giới tính"),
        "gioi tinh",
        "gioi tinh chu ho",
        required=True,
        example="Nam",
    ),
    _col("ethnicity", gettext_lazy("dân tộc"), "dan toc", example="Tày"),
    _col(
        "id_number",
        gettext_lazy("số CCCD"),
        "so cccd",
        "cccd",
        "so can cuoc",
        "so can cuoc cong dan",
        "so dinh danh",
        example="002085001234",
    ),
    _col(
        "village",
        gettext_lazy("thôn"),
        "thon",
        "thon ban",
        "thon ban to dan pho",
        example="Thôn Nà Thác",
    ),
    _col(
        "phone", gettext_lazy("số điện thoại"), "so dien thoai", "dien thoai", example="0912345678"
    ),
    _col("note", gettext_lazy("ghi chú"), "ghi chu"),
)
LOAN_COLUMNS = (
    COMMUNE,
    _col("code", gettext_lazy("mã hộ"), "ma ho", required=True, example="H001"),
    _col(
        "programme", gettext_lazy("mã chương trình"), "ma chuong trinh", required=True, example="P1"
    ),
    _col("contract", gettext_lazy("số hợp đồng"), "so hop dong", "so khe uoc", example="HD-01"),
    _col(
        "amount",
        gettext_lazy("số tiền vay (triệu đồng)"),
        "so tien vay",
        "so tien",
        required=True,
        example=50,
    ),
    _col(
        "disbursed_on",
        gettext_lazy("ngày giải ngân"),
        "ngay giai ngan",
        required=True,
        example="15/03/2024",
    ),
    _col(
        "term_months",
        gettext_lazy("thời hạn (tháng)"),
        "thoi han",
        required=True,
        example=36,
    ),
    _col("purpose", gettext_lazy("mục đích vay"), "muc dich vay", "muc dich", example="Trồng cam"),
    _col("interest_rate", gettext_lazy("lãi suất (%/năm)"), "lai suat", example="6,6"),
)
PLOT_COLUMNS = (
    COMMUNE,
    _col("code", gettext_lazy("mã hộ"), "ma ho", required=True, example="H001"),
    _col(
        "crop",
        gettext_lazy("cây trồng"),
        "cay trong",
        "cay trong vat nuoi",
        required=True,
        example="Cam sành",
    ),
    _col("area_ha", gettext_lazy("diện tích (ha)"), "dien tich", required=True, example="0,5"),
    _col("land_commune", gettext_lazy("mã xã nơi có đất"), "ma xa noi co dat", "xa noi co dat"),
    _col("programme", gettext_lazy("mã chương trình"), "ma chuong trinh", example="P1"),
    _col("is_garden", gettext_lazy("vườn hộ"), "vuon ho", "la vuon ho", example="không"),
    _col("year_renovated", gettext_lazy("năm cải tạo"), "nam cai tao"),
    _col("income_before", gettext_lazy("thu nhập trước (triệu đồng/năm)"), "thu nhap truoc"),
    _col("income_after", gettext_lazy("thu nhập sau (triệu đồng/năm)"), "thu nhap sau"),
)
COLUMNS = {HOUSEHOLDS: HOUSEHOLD_COLUMNS, LOANS: LOAN_COLUMNS, PLOTS: PLOT_COLUMNS}
MAX_COLUMNS = 30
# a sheet's rows beyond HOUSEHOLD_IMPORT_MAX_ROWS: its header and a few blank rows
SLACK_ROWS = 10


# --- problems and the plan -----------------------------------------------------------------


@dataclass
class Problem:
    sheet: str  # HOUSEHOLDS, LOANS, PLOTS
    row: int  # the sheet's row number, as Excel shows it
    column: str  # the column's header, or "" for the whole row
    message: str

    def as_dict(self) -> dict:
        return {
            "sheet": str(SHEET_LABELS[self.sheet]),
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = _("Trang “%(sheet)s”, dòng %(row)s") % {
            "sheet": SHEET_LABELS[self.sheet],
            "row": self.row,
        }
        if self.column:
            where += ", " + _("cột “%(column)s”") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class Plan:
    unit: Unit
    filename: str
    households: list[dict] = field(default_factory=list)
    loans: list[dict] = field(default_factory=list)
    plots: list[dict] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    converted: int = 0  # cells whose text was converted from TCVN3/VNI or recomposed
    # texts repeat (villages, ethnicities, crops): each is converted once
    cleaned: dict = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> bool:
        return not self.error_count

    def error(self, sheet, row, column, message) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_WARNINGS:
            self.errors.append(Problem(sheet, row, str(column), str(message)))

    def warn(self, sheet, row, column, message) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(Problem(sheet, row, str(column), str(message)))

    def summary(self) -> dict:
        """The JSON a job keeps: counts, and the problems (capped) for its page."""
        return {
            "filename": self.filename,
            "unit": self.unit.pk,
            "valid": self.valid,
            "households": len(self.households),
            "loans": len(self.loans),
            "plots": len(self.plots),
            "errors": self.error_count,
            "warnings": self.warning_count,
            "converted": self.converted,
            "warning_rows": [w.as_dict() for w in self.warnings],
        }


# --- reading the workbook ------------------------------------------------------------------


def _limits():
    return default_limits(
        streamed=("xl/worksheets/sheet",),
        max_unpacked=settings.HOUSEHOLD_IMPORT_MAX_UNPACKED_BYTES,
        max_xml_part=settings.HOUSEHOLD_IMPORT_MAX_XML_PART_BYTES,
    )


def _too_many_rows(name: str) -> HouseholdImportError:
    return HouseholdImportError(
        _("Một trang của tệp “%(name)s” có hơn %(max)s dòng; xin chia thành nhiều tệp nhỏ hơn."),
        code="households.import_too_many_rows",
        name=name,
        max=format_number(settings.HOUSEHOLD_IMPORT_MAX_ROWS),
    )


def inspect(data: bytes, filename: str) -> None:
    """Refuse ``data`` before it is parsed: not an .xlsx, or beyond the caps
    (:class:`HouseholdImportError` or :class:`~tiendo.core.uploads.UploadError`, both
    Vietnamese)."""
    name = filename or _("(không tên)")
    if not name.lower().endswith(".xlsx"):
        raise HouseholdImportError(
            _("Tệp “%(name)s” không phải bảng tính Excel (.xlsx); xin lưu lại dạng .xlsx."),
            code="households.import_not_xlsx",
            name=name,
        )
    inspect_zip(
        data,
        filename=name,
        kind=_("bảng tính Excel (.xlsx)"),
        limits=_limits(),
        required=("xl/workbook.xml",),
    )


def open_workbook(data: bytes, filename: str):
    """The workbook of ``data`` (read-only: rows are streamed), after :func:`inspect` and
    the rows its sheets declare."""
    inspect(data, filename)
    name = filename or _("(không tên)")
    source = io.BytesIO(data)
    from openpyxl import load_workbook  # noqa: PLC0415 - a heavy import, only when needed

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl on a broken file: any error is a refusal
        raise HouseholdImportError(
            _("Tệp “%(name)s” không đọc được như một bảng tính Excel."),
            code="households.import_unreadable",
            name=name,
        ) from exc
    limit = settings.HOUSEHOLD_IMPORT_MAX_ROWS + SLACK_ROWS
    if any((sheet.max_row or 0) > limit for sheet in workbook.worksheets):
        raise _too_many_rows(name)  # the size a sheet declares, before any row is read
    return workbook


def _sheets(workbook, name: str) -> dict[str, object]:
    """The workbook's sheets by what they hold; the first sheet holds the households when
    none is named for them."""
    found: dict[str, object] = {}
    for sheet in workbook.worksheets:
        plain = _plain(sheet.title)
        for kind, names in _SHEET_NAMES.items():
            if plain in names and kind not in found:
                found[kind] = sheet
    if HOUSEHOLDS not in found:
        first = workbook.worksheets[0] if workbook.worksheets else None
        if first is None or first in found.values():
            raise HouseholdImportError(
                _("Tệp “%(name)s” không có trang danh sách hộ (trang “Hộ”)."),
                code="households.import_no_sheet",
                name=name,
            )
        found[HOUSEHOLDS] = first
    return found


class _RowCounter:
    def __init__(self, name: str):
        self.name, self.count = name, 0

    def rows(self, sheet) -> Iterator[tuple[int, tuple]]:
        """The rows of ``sheet``, at most ``HOUSEHOLD_IMPORT_MAX_ROWS`` (and a header and
        a few blank rows); ``count`` is the rows of every sheet read so far."""
        for read, (number, row) in enumerate(_sheet_rows(sheet), start=1):
            if read > settings.HOUSEHOLD_IMPORT_MAX_ROWS + SLACK_ROWS:
                raise _too_many_rows(self.name)
            self.count += 1
            yield number, row


def _sheet_rows(sheet) -> Iterator[tuple[int, tuple]]:
    """``(row number, values)`` of every row the sheet holds, to its last one whatever its
    declared size, values as openpyxl's read-only mode reads them (shared strings, dates
    by their cell style).

    openpyxl parses worksheets through defusedxml's ElementTree parser, whose handlers are
    pure Python: reading a province's 300.000 rows took three times longer than through
    the standard library's C parser. Here openpyxl's own row parser is fed by the C parser.
    What defusedxml guards against — DOCTYPE and ENTITY declarations — was refused in every
    part of the file by :func:`~tiendo.core.uploads.inspect_zip` before this runs. (Uses
    openpyxl's read-only internals, pinned in pyproject.)"""
    from xml.etree.ElementTree import iterparse  # noqa: PLC0415, S405 - see above

    from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser  # noqa: PLC0415

    book = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for _event, element in iterparse(source):  # noqa: S314 - inspected, see above
            if element.tag != ROW_TAG:
                continue
            number, cells = parser.parse_row(element)
            element.clear()
            values = [None] * MAX_COLUMNS
            for cell in cells:
                if 0 < cell["column"] <= MAX_COLUMNS:
                    values[cell["column"] - 1] = cell["value"]
            yield number, tuple(values)


def _header(kind: str, cells: tuple, name: str, number: int) -> dict[int, Column]:
    by_alias = {}
    for column in COLUMNS[kind]:
        for alias in (_plain(column.label), *column.aliases):
            by_alias.setdefault(alias, column)
    header: dict[int, Column] = {}
    for index, cell in enumerate(cells):
        column = by_alias.get(_plain(cell))
        if column is not None and column not in header.values():
            header[index] = column
    missing = [c for c in COLUMNS[kind] if c.required and c not in header.values()]
    if missing:
        raise HouseholdImportError(
            _(
                "Tệp “%(name)s”, trang “%(sheet)s”, dòng %(row)s: thiếu cột “%(column)s” "
                "(dòng đầu của trang là tên các cột; xem tệp mẫu)."
            ),
            code="households.import_missing_column",
            name=name,
            sheet=SHEET_LABELS[kind],
            row=number,
            column=missing[0].label,
        )
    return header


def _records(kind: str, sheet, counter: _RowCounter, name: str):
    """``(row number, {key: raw value})`` for each non-blank row after the header."""
    header = None
    for number, cells in counter.rows(sheet):
        if not any(c is not None and str(c).strip() for c in cells):
            continue
        if header is None:
            header = _header(kind, cells, name, number)
            continue
        yield number, {col.key: cells[i] if i < len(cells) else None for i, col in header.items()}


# --- cell values ---------------------------------------------------------------------------


_SPACE = re.compile(r"\s")


class _Bad(Exception):
    """A cell's value is wrong; the message says why."""


def _text(plan: Plan, value, max_length: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    raw = str(value).strip()
    if not raw:
        return ""
    cleaned = plan.cleaned.get(raw)
    if cleaned is None:
        cleaned = plan.cleaned[raw] = clean_text(raw)
    if cleaned.changed:
        plan.converted += 1
    text = " ".join(cleaned.text.split())
    if len(text) > max_length:
        raise _Bad(_("dài quá %(n)s ký tự.") % {"n": max_length})
    return text


def _code(value, max_length: int = 40) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text.isascii():
        text = to_ascii(text)
    if not text:
        return ""
    if not text.isascii() or _SPACE.search(text):
        raise _Bad(_("mã chỉ gồm chữ cái không dấu, chữ số và dấu gạch, không có dấu cách."))
    if len(text) > max_length:
        raise _Bad(_("dài quá %(n)s ký tự.") % {"n": max_length})
    return text


def _number(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _Bad(_("không phải một số."))
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = to_ascii(str(value)).replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _Bad(_("“%(text)s” không phải một số.") % {"text": str(value)[:40]}) from None
    if not number.is_finite():
        raise _Bad(_("không phải một số."))
    return number


def _amount(value, *, places: int, maximum: Decimal) -> Decimal | None:
    number = _number(value)
    if number is None:
        return None
    if number < 0:
        raise _Bad(_("không được âm."))
    if number >= maximum:
        raise _Bad(_("quá lớn."))
    if number != round(number, places):
        raise _Bad(_("có quá %(n)s chữ số sau dấu phẩy.") % {"n": places})
    return number


def _whole(value, *, low: int, high: int) -> int | None:
    number = _number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _Bad(_("phải là số nguyên."))
    if not low <= number <= high:
        raise _Bad(_("phải trong khoảng %(low)s–%(high)s.") % {"low": low, "high": high})
    return int(number)


_SEXES = {"nam": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE, "nu": Sex.FEMALE, "f": Sex.FEMALE}
_SEXES["female"] = Sex.FEMALE
_YES = {"co", "x", "1", "yes", "true", "dung"}
_NO = {"khong", "0", "no", "false", ""}


def _sex(value) -> str:
    key = _plain(value)
    if key not in _SEXES:
        raise _Bad(_("ghi “Nam” hoặc “Nữ”."))
    return _SEXES[key]


def _yes_no(value) -> bool:
    key = _plain(value)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise _Bad(_("ghi “có” hoặc “không”."))


def _date(value) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _date_text(str(value))


@lru_cache(maxsize=4096)  # a list's loans share a few disbursement dates
def _date_text(value: str) -> date:
    text = to_ascii(value).strip()
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _Bad(_("ngày ghi dạng ngày/tháng/năm, ví dụ 15/03/2024."))


def _id_number(value) -> str:
    """The ID number as typed; a number cell lost its leading zeros (every province code
    starts with 0), which are put back."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 < value < 10**12:
        return f"{value:012d}"
    return identity.normalise(to_ascii(str(value)))


# --- checking ------------------------------------------------------------------------------

Progress = Callable[[int, int | None, str | None], None]


def _no_progress(done, total=None, message=None) -> None:
    return None


class _Communes:
    """The communes a row may name: the import's own unit when it is a commune, else the
    communes below it (by code; a code used in both trees, the one in force today)."""

    def __init__(self, unit: Unit):
        self.unit = unit
        self.single = unit if unit.level == Level.COMMUNE else None
        self._by_code: dict[str, Unit] | None = None

    def by_code(self) -> dict[str, Unit]:
        if self._by_code is None:
            found: dict[str, Unit] = {}
            today = date.today()
            below = Unit.objects.filter(path__startswith=self.unit.path, level=Level.COMMUNE)
            for commune in below.order_by("valid_from"):
                current = found.get(commune.code)
                if current is None or commune.is_valid_on(today):
                    found[commune.code] = commune
            self._by_code = found
        return self._by_code

    def resolve(self, code: str, *, required: bool) -> Unit | None:
        if not code:
            if self.single is not None:
                return self.single
            if required:
                raise _Bad(_("cần mã xã khi nhập cho đơn vị trên cấp xã."))
            return None
        if self.single is not None and code == self.single.code:
            return self.single
        commune = self.by_code().get(code)
        if commune is None:
            raise _Bad(
                _("không có xã mã %(code)s trong %(unit)s.")
                % {"code": code, "unit": self.unit.name}
            )
        return commune


def _label(kind: str, key: str) -> str:
    return str(next(c.label for c in COLUMNS[kind] if c.key == key))


def check(data: bytes, filename: str, unit: Unit, *, user, progress: Progress = _no_progress):
    """The dry run: every row of ``data`` read and checked against the register; the
    :class:`Plan` says what :func:`write` would write and what is wrong."""
    workbook = open_workbook(data, filename)
    name = filename
    try:
        sheets = _sheets(workbook, name)
        declared = sum(sheet.max_row or 0 for sheet in sheets.values())
        plan = Plan(unit=unit, filename=filename)
        communes = _Communes(unit)
        counter = _RowCounter(name)
        report = _Reporter(progress, counter, declared)
        programmes = {p.code: p.pk for p in Programme.objects.only("pk", "code")}
        _check_households(plan, sheets[HOUSEHOLDS], counter, communes, report)
        if LOANS in sheets:
            _check_loans(plan, sheets[LOANS], counter, communes, programmes, report)
        if PLOTS in sheets:
            _check_plots(plan, sheets[PLOTS], counter, communes, programmes, report)
    finally:
        workbook.close()
    if not plan.households and not plan.error_count:
        raise HouseholdImportError(
            _("Tệp “%(name)s” không có hộ nào (dòng đầu của trang “Hộ” là tên các cột)."),
            code="households.import_empty",
            name=name,
        )
    _check_register(plan, user)
    progress(counter.count, counter.count, _("Đã kiểm tra xong tệp."))
    return plan


class _Reporter:
    def __init__(self, progress: Progress, counter: _RowCounter, declared: int):
        self.progress, self.counter, self.declared = progress, counter, declared

    def __call__(self) -> None:
        if self.counter.count % 500 == 0:
            total = max(self.declared, self.counter.count)
            self.progress(self.counter.count, total, _("Đang đọc và kiểm tra tệp."))


def _check_households(plan: Plan, sheet, counter, communes: _Communes, report) -> None:
    kind = HOUSEHOLDS
    codes: dict[tuple[int, str], int] = {}
    indexes: dict[str, int] = {}
    people: dict[tuple[int, str, int], int] = {}
    this_year = date.today().year
    for number, raw in _records(kind, sheet, counter, plan.filename):
        report()
        row: dict = {"row": number}
        cell = _Cells(plan, kind, number, raw)

        commune = cell("commune", lambda v: communes.resolve(_code(v, 32), required=True))
        row["code"] = cell("code", _code)
        row["head_name"] = cell("head_name", lambda v: _text(plan, v, 200))
        row["birth_year"] = cell("birth_year", _whole, low=1900, high=this_year)
        row["sex"] = cell("sex", _sex)
        row["ethnicity"] = cell("ethnicity", lambda v: _text(plan, v, 60))
        row["village"] = cell("village", lambda v: _text(plan, v, 200))
        row["phone"] = cell("phone", lambda v: _code(v, 20))
        row["note"] = cell("note", lambda v: _text(plan, v, 2000))
        for key in ("code", "head_name", "birth_year"):
            if cell.ok and not row[key] and row[key] != 0:
                cell.fail(key, _("ô này không được để trống."))
        id_number = _id_number(raw.get("id_number"))
        row["id_index"] = row["id_last3"] = row["id_number"] = ""
        if id_number:
            id_number, problems = identity.check(
                id_number, birth_year=row["birth_year"], sex=row["sex"]
            )
            for problem in problems:
                cell.fail("id_number", problem)
            if not problems:
                row["id_number"], row["id_last3"] = id_number, id_number[-3:]
                row["id_index"] = crypto.blind_index(id_number)
        if not cell.ok or commune is None:
            continue
        row["unit_id"] = commune.pk
        key = (commune.pk, row["code"])
        if key in codes:
            plan.error(
                kind,
                number,
                _label(kind, "code"),
                _("mã hộ %(code)s trùng với dòng %(row)s.")
                % {"code": row["code"], "row": codes[key]},
            )
            continue
        codes[key] = number
        if row["id_index"]:
            if row["id_index"] in indexes:
                plan.error(
                    kind,
                    number,
                    _label(kind, "id_number"),
                    _("số căn cước trùng với dòng %(row)s.") % {"row": indexes[row["id_index"]]},
                )
                continue
            indexes[row["id_index"]] = number
        person = (commune.pk, row["head_name"].casefold(), row["birth_year"])
        if person in people:
            plan.warn(
                kind,
                number,
                "",
                _(
                    "cùng họ tên chủ hộ và năm sinh với dòng %(row)s, cùng xã: xin kiểm tra có "
                    "phải một hộ ghi hai lần."
                )
                % {"row": people[person]},
            )
        else:
            people[person] = number
        plan.households.append(row)


class _Cells:
    """Reads a row's cells: ``cells(key, parse, …)`` is the parsed value, or ``None`` with
    the problem recorded against the row and column (and ``ok`` cleared)."""

    def __init__(self, plan: Plan, kind: str, number: int, raw: dict, *, ok: bool = True):
        self.plan, self.kind, self.number, self.raw, self.ok = plan, kind, number, raw, ok

    def __call__(self, key, parse, *args, **kwargs):
        try:
            return parse(self.raw.get(key), *args, **kwargs)
        except _Bad as bad:
            self.fail(key, bad)
            return None

    def fail(self, key, message) -> None:
        self.ok = False
        self.plan.error(self.kind, self.number, _label(self.kind, key), message)


def _household_of(plan: Plan, kind, number, raw, communes: _Communes, keys) -> int | None:
    """The index in ``plan.households`` of the household a loan or plot row names."""
    try:
        commune = communes.resolve(_code(raw.get("commune"), 32), required=True)
        code = _code(raw.get("code"))
    except _Bad as bad:
        plan.error(kind, number, _label(kind, "commune"), bad)
        return None
    if not code:
        plan.error(kind, number, _label(kind, "code"), _("ô này không được để trống."))
        return None
    position = keys.get((commune.pk, code))
    if position is None:
        plan.error(
            kind,
            number,
            _label(kind, "code"),
            _("mã hộ %(code)s không có trong trang “%(sheet)s” (hoặc dòng của hộ đó có lỗi).")
            % {"code": code, "sheet": SHEET_LABELS[HOUSEHOLDS]},
        )
    return position


def _programme(programmes: dict, value, *, required: bool):
    code = _code(value)
    if not code:
        if required:
            raise _Bad(_("ô này không được để trống."))
        return None
    if code not in programmes:
        raise _Bad(_("không có chương trình mã %(code)s.") % {"code": code})
    return programmes[code]


MAX_MONEY = Decimal(10) ** 11  # 14 digits, 3 after the mark


def _check_loans(plan, sheet, counter, communes, programmes, report) -> None:
    kind = LOANS
    keys = {(h["unit_id"], h["code"]): i for i, h in enumerate(plan.households)}
    for number, raw in _records(kind, sheet, counter, plan.filename):
        report()
        position = _household_of(plan, kind, number, raw, communes, keys)
        row: dict = {"row": number, "household": position}
        cell = _Cells(plan, kind, number, raw, ok=position is not None)

        row["programme_id"] = cell("programme", lambda v: _programme(programmes, v, required=True))
        row["contract"] = cell("contract", lambda v: _text(plan, v, 60))
        row["amount"] = cell("amount", _amount, places=3, maximum=MAX_MONEY)
        row["disbursed_on"] = cell("disbursed_on", _date)
        row["term_months"] = cell("term_months", _whole, low=1, high=600)
        row["purpose"] = cell("purpose", lambda v: _text(plan, v, 300))
        row["interest_rate"] = cell("interest_rate", _amount, places=3, maximum=Decimal(1000))
        for key in ("amount", "disbursed_on", "term_months"):
            if cell.ok and row[key] is None:
                cell.fail(key, _("ô này không được để trống."))
        if cell.ok:
            plan.loans.append(row)


def _check_plots(plan, sheet, counter, communes, programmes, report) -> None:
    kind = PLOTS
    keys = {(h["unit_id"], h["code"]): i for i, h in enumerate(plan.households)}
    this_year = date.today().year
    for number, raw in _records(kind, sheet, counter, plan.filename):
        report()
        position = _household_of(plan, kind, number, raw, communes, keys)
        row: dict = {"row": number, "household": position}
        cell = _Cells(plan, kind, number, raw, ok=position is not None)

        row["crop"] = cell("crop", lambda v: _text(plan, v, 120))
        row["area_ha"] = cell("area_ha", _amount, places=4, maximum=Decimal(10) ** 8)
        land = cell("land_commune", lambda v: communes.resolve(_code(v, 32), required=False))
        row["programme_id"] = cell("programme", lambda v: _programme(programmes, v, required=False))
        row["is_garden"] = cell("is_garden", _yes_no)
        row["year_renovated"] = cell("year_renovated", _whole, low=1900, high=this_year)
        row["income_before"] = cell("income_before", _amount, places=3, maximum=MAX_MONEY)
        row["income_after"] = cell("income_after", _amount, places=3, maximum=MAX_MONEY)
        for key in ("crop", "area_ha"):
            if cell.ok and not row[key]:
                cell.fail(key, _("ô này không được để trống."))
        if not cell.ok:
            continue
        row["land_unit_id"] = land.pk if land else plan.households[position]["unit_id"]
        plan.plots.append(row)


def _check_register(plan: Plan, user) -> None:
    """The file's households against the register: a code already used in the commune, an
    ID number already registered (anywhere), a head already listed in the commune."""
    kind = HOUSEHOLDS
    rows = plan.households
    unit_ids = {h["unit_id"] for h in rows}
    taken = set(Household.objects.filter(unit_id__in=unit_ids).values_list("unit_id", "code"))
    listed = {
        (unit_id, name.casefold(), year)
        for unit_id, name, year in Household.objects.active()
        .filter(unit_id__in=unit_ids)
        .values_list("unit_id", "head_name", "head_birth_year")
    }
    registered: dict[str, tuple[int, str]] = {}
    indexes = [h["id_index"] for h in rows if h["id_index"]]
    for start in range(0, len(indexes), BATCH):
        found = Household.objects.active().filter(head_id_index__in=indexes[start : start + BATCH])
        for index, unit_id, code in found.values_list("head_id_index", "unit_id", "code"):
            registered[index] = (unit_id, code)
    units = {u.pk: u for u in Unit.objects.filter(pk__in={u for u, _c in registered.values()})}
    for row in rows:
        if (row["unit_id"], row["code"]) in taken:
            plan.error(
                kind,
                row["row"],
                _label(kind, "code"),
                _("mã hộ %(code)s đã có trong sổ hộ của xã.") % {"code": row["code"]},
            )
        if row["id_index"] in registered:
            unit_id, code = registered[row["id_index"]]
            unit = units.get(unit_id)
            if unit is not None and may_see_records(user, unit):
                message = _("số căn cước đã có trong sổ hộ (hộ %(code)s, %(unit)s).") % {
                    "code": code,
                    "unit": unit.name,
                }
            else:
                message = _("số căn cước đã có trong sổ hộ của một xã khác.")
            plan.error(kind, row["row"], _label(kind, "id_number"), message)
        if (row["unit_id"], row["head_name"].casefold(), row["birth_year"]) in listed:
            plan.warn(
                kind,
                row["row"],
                "",
                _(
                    "sổ hộ của xã đã có một chủ hộ cùng họ tên và năm sinh: xin kiểm tra có phải "
                    "cùng một hộ."
                ),
            )


# --- writing -------------------------------------------------------------------------------


def write(plan: Plan, *, user, progress: Progress = _no_progress) -> dict:
    """Write a plan without errors: every record, or none (one transaction)."""
    if not plan.valid:
        raise HouseholdImportError(
            _("Tệp có lỗi; không có gì được ghi."), code="households.import_has_errors"
        )
    user_id = user.pk if user is not None and user.is_authenticated else None
    total = len(plan.households) + len(plan.loans) + len(plan.plots)
    # encryption (Fernet, the costliest step per row) before the transaction: CPU only
    households = [
        {
            "unit_id": row["unit_id"],
            "code": row["code"],
            "village": row["village"],
            "head_name": row["head_name"],
            "head_birth_year": row["birth_year"],
            "head_sex": row["sex"],
            "ethnicity": row["ethnicity"],
            "head_id_encrypted": crypto.encrypt(row["id_number"]),
            "head_id_index": row["id_index"],
            "head_id_last3": row["id_last3"],
            "phone": row["phone"],
            "note": row["note"],
            "updated_by_id": user_id,
        }
        for row in plan.households
    ]
    loans = [
        {
            "programme_id": row["programme_id"],
            "contract_number": row["contract"],
            "amount": row["amount"],
            "disbursed_on": row["disbursed_on"],
            "term_months": row["term_months"],
            "purpose": row["purpose"],
            "interest_rate": row["interest_rate"],
            "updated_by_id": user_id,
        }
        for row in plan.loans
    ]
    plots = [
        {
            "land_unit_id": row["land_unit_id"],
            "programme_id": row["programme_id"],
            "area_ha": row["area_ha"],
            "crop": row["crop"],
            "is_garden": bool(row["is_garden"]),
            "year_renovated": row["year_renovated"],
            "income_before": row["income_before"],
            "income_after": row["income_after"],
            "updated_by_id": user_id,
        }
        for row in plan.plots
    ]
    done = 0
    message = _("Đang ghi vào sổ hộ.")
    progress(0, total, message)

    def step(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total, message)

    with transaction.atomic():
        inserter = _Inserter(timezone.now())
        household_ids = inserter.insert(Household, households, step)
        for values, row in zip(loans, plan.loans, strict=True):
            values["household_id"] = household_ids[row["household"]]
        for values, row in zip(plots, plan.plots, strict=True):
            values["household_id"] = household_ids[row["household"]]
        loan_ids = inserter.insert(Loan, loans, step)
        plot_ids = inserter.insert(Plot, plots, step)
        changes = []
        for record, ids, rows, label in (
            ("household", household_ids, households, lambda v: f"{v['code']} {v['head_name']}"),
            ("loan", loan_ids, loans, lambda v: f"{v['amount']} {v['disbursed_on']}"),
            ("plot", plot_ids, plots, lambda v: f"{v['crop']} {v['area_ha']} ha"),
        ):
            for pk, values in zip(ids, rows, strict=True):
                changes.append(
                    {
                        "household_id": values.get("household_id", pk),
                        "record": record,
                        "record_id": pk,
                        "field": "*",
                        "new": label(values)[:300],
                        "version": 1,
                        "source": SOURCE,
                        "changed_by_id": user_id,
                    }
                )
        inserter.insert(RecordChange, changes, returning=False)
        unit_ids = {h["unit_id"] for h in households} | {p["land_unit_id"] for p in plots}
        events.changed(unit_ids, user=user, source=SOURCE)
    return {
        "households": len(households),
        "loans": len(loans),
        "plots": len(plots),
        "units": sorted(unit_ids),
    }


class _Inserter:
    """Multi-row INSERTs straight from the models' metadata.

    ``bulk_create`` builds a model instance per row and prepares each value through its
    field: for the 600.000 rows of a province's list (records and their change rows) that
    was most of the import's time. Here every column of the model is written — the given
    values, else the field's default (``auto_now`` fields: the import's time) — converted
    once per column kind for the database, and the new ids come back with ``RETURNING``
    (PostgreSQL, SQLite ≥ 3.35), in the order of the rows as ``bulk_create`` relies on."""

    def __init__(self, now):
        self.connection = transaction.get_connection()
        self.now = now

    def _columns(self, model, sample: dict):
        ops = self.connection.ops
        columns = []
        for f in model._meta.concrete_fields:
            if f.primary_key:
                continue
            if f.attname in sample:
                columns.append((f.column, f.attname, self._adapter(f), None))
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = self.now
            else:
                value = f.get_default()
            constant = f.get_db_prep_save(value, self.connection)
            columns.append((f.column, None, None, constant))
        return columns, ops.quote_name

    def _adapter(self, f):
        internal = f.get_internal_type()
        ops = self.connection.ops
        if internal == "DecimalField":
            return lambda v: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
        if internal == "DateField":
            return ops.adapt_datefield_value
        return None

    def _values(self, columns, row: dict) -> list:
        values = []
        for _column, attname, adapt, constant in columns:
            if attname is None:
                values.append(constant)
            else:
                value = row[attname]
                values.append(adapt(value) if adapt and value is not None else value)
        return values

    def insert(self, model, rows: list[dict], step=None, *, returning=True) -> list[int]:
        if not rows:
            return []
        columns, qn = self._columns(model, rows[0])
        if self.connection.vendor == "postgresql":
            return self._copy(model, columns, qn, rows, step, returning=returning)
        names = ", ".join(qn(column) for column, *_rest in columns)
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        table = qn(model._meta.db_table)
        # below SQLite's limit on parameters per statement (32766)
        per = max(1, min(BATCH, 30000 // len(columns)))
        ids: list[int] = []
        with self.connection.cursor() as cursor:
            for start in range(0, len(rows), per):
                chunk = rows[start : start + per]
                params = [value for row in chunk for value in self._values(columns, row)]
                sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}"
                if returning:
                    cursor.execute(f"{sql} RETURNING {qn(model._meta.pk.column)}", params)
                    ids.extend(pk for (pk,) in cursor.fetchall())
                else:
                    cursor.execute(sql, params)
                if step is not None:
                    step(len(chunk))
        return ids

    def _copy(self, model, columns, qn, rows, step, *, returning: bool) -> list[int]:
        """PostgreSQL: ``COPY … FROM STDIN``, the ids taken from the table's sequence first.

        A multi-row INSERT cost more in psycopg than in the server: Django binds parameters
        client-side, and psycopg splits the text of a statement with more than 50 of them
        again on every execution (a third of the import's time). ``nextval`` reserves the
        ids for this transaction alone, whatever else inserts meanwhile."""
        table = model._meta.db_table
        pk = model._meta.pk.column
        names = [column for column, *_rest in columns]
        ids: list[int] = []
        with self.connection.cursor() as cursor:
            if returning:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, pk, len(rows)],
                )
                ids = [value for (value,) in cursor.fetchall()]
                names = [pk, *names]
            statement = f"COPY {qn(table)} ({', '.join(qn(n) for n in names)}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for position, row in enumerate(rows):
                    values = self._values(columns, row)
                    copy.write_row([ids[position], *values] if returning else values)
                    if step is not None and position % BATCH == BATCH - 1:
                        step(BATCH)
        if step is not None and len(rows) % BATCH:
            step(len(rows) % BATCH)
        return ids


# --- the jobs ------------------------------------------------------------------------------


def run_check(job) -> dict:
    """The dry run as a job: its result is the plan's summary, its errors the rows'. A
    valid plan replaces the file in the job's ``upload`` (encrypted, as the file was): the
    import job writes it after checking it against the register again, without reading
    the file a second time (a province's list takes half a minute to read)."""
    data = crypto.decrypt_bytes(job.upload)
    if not data:
        raise JobFailed(_("Tệp đã được nhập hoặc đã bị xóa; xin tải tệp lên lại."))
    try:
        plan = check(data, job.upload_name, job.unit, user=job.started_by, progress=job.progress)
    except TiendoError as err:
        type(job).objects.filter(pk=job.pk).update(upload=b"")
        raise JobFailed(str(err)) from err
    summary = plan.summary()
    if not plan.valid:
        # a file with errors is never imported: it is not kept
        type(job).objects.filter(pk=job.pk).update(upload=b"")
        raise JobFailed(
            _("Tệp có %(n)s lỗi; không có gì được ghi. Xin sửa tệp rồi tải lên lại.")
            % {"n": format_number(plan.error_count)},
            errors=[p.as_dict() for p in plan.errors],
            result=summary,
        )
    type(job).objects.filter(pk=job.pk).update(upload=crypto.encrypt_bytes(dump_plan(plan)))
    job.message = _("Đã kiểm tra: tệp không có lỗi.")
    return summary


def run_import(job) -> dict:
    """The import as a job: the plan of its dry run (``params["check_job"]``) checked
    again against the register (which may have changed since), then written; the plan is
    erased once written."""
    Job = type(job)
    source = Job.objects.get(pk=job.params["check_job"])
    data = crypto.decrypt_bytes(source.upload)
    if not data:
        raise JobFailed(_("Tệp đã được nhập hoặc đã bị xóa; xin tải tệp lên lại."))
    plan = load_plan(data, job.unit, source.upload_name)
    job.progress(0, len(plan.households), _("Đang kiểm tra lại với sổ hộ."), force=True)
    _check_register(plan, job.started_by)
    if not plan.valid:
        raise JobFailed(
            _("Sổ hộ đã thay đổi từ lúc kiểm tra: tệp nay có %(n)s lỗi; không có gì được ghi.")
            % {"n": format_number(plan.error_count)},
            errors=[p.as_dict() for p in plan.errors],
            result=plan.summary(),
        )
    counts = write(plan, user=job.started_by, progress=job.progress)
    Job.objects.filter(pk=source.pk).update(upload=b"")
    job.message = _("Đã nhập vào sổ hộ.")
    return {**plan.summary(), **counts, "finished": timezone.now().isoformat()}


# a checked plan as the import job reads it: its rows, values as JSON text
_DECIMALS = frozenset({"amount", "interest_rate", "area_ha", "income_before", "income_after"})
_DATES = frozenset({"disbursed_on"})


def dump_plan(plan: Plan) -> bytes:
    def plain(value):
        if isinstance(value, (Decimal, date)):
            return str(value)
        raise TypeError(type(value))

    payload = {
        "households": plan.households,
        "loans": plan.loans,
        "plots": plan.plots,
        "converted": plan.converted,
    }
    return zlib.compress(json.dumps(payload, default=plain).encode(), 1)


def load_plan(data: bytes, unit: Unit, filename: str) -> Plan:
    payload = json.loads(zlib.decompress(data))
    for kind in (LOANS, PLOTS):
        for row in payload[kind]:
            for key in _DECIMALS.intersection(row):
                if row[key] is not None:
                    row[key] = Decimal(row[key])
            for key in _DATES.intersection(row):
                if row[key] is not None:
                    row[key] = date.fromisoformat(row[key])
    return Plan(
        unit=unit,
        filename=filename,
        households=payload[HOUSEHOLDS],
        loans=payload[LOANS],
        plots=payload[PLOTS],
        converted=payload["converted"],
    )


# --- the template --------------------------------------------------------------------------


def template(*, with_commune: bool, examples: dict[str, str] | None = None) -> bytes:
    """An .xlsx with the three sheets' headers and one example row each; ``examples`` (by
    column key: ``programme``, ``commune``) puts real codes in the example, so that a list
    filled in beside it reads as the user's own."""
    examples = examples or {}
    from openpyxl import Workbook  # noqa: PLC0415

    workbook = Workbook()
    for index, kind in enumerate((HOUSEHOLDS, LOANS, PLOTS)):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = str(SHEET_LABELS[kind])
        columns = [c for c in COLUMNS[kind] if with_commune or c is not COMMUNE]
        sheet.append([str(c.label) + ("*" if c.required else "") for c in columns])
        sheet.append(
            [examples.get(c.key, c.example if c is not COMMUNE else "00001") for c in columns]
        )
        for position, column in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=position).column_letter
            sheet.column_dimensions[letter].width = max(12, len(str(column.label)) + 4)
            if column.key in ("id_number", "code", "commune", "phone"):
                # as text, so Excel keeps the leading zeros
                sheet.cell(row=2, column=position).number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
