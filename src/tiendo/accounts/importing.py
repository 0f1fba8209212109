"""Reading a list of accounts from a CSV or Excel (.xlsx) file.

The file has a header row naming its columns — username, full name, email, unit code,
role, in English or Vietnamese (``tên đăng nhập``, ``họ và tên``, ``email``, ``mã đơn vị``,
``vai trò``) — and one account per row. This module only reads: sizes and the number of
rows are capped before anything is parsed (an .xlsx is inspected by
:func:`tiendo.core.uploads.inspect_zip` first), and every row comes back as plain text with
its line number. :func:`tiendo.accounts.services.check_import` checks the rows and
:func:`tiendo.accounts.services.import_accounts` writes them.
"""

from __future__ import annotations

import csv
import io
import unicodedata

from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.core.uploads import default_limits, inspect_zip

MAX_ROWS = 1000
MAX_CSV_BYTES = 1024 * 1024
FIELDS = ("username", "full_name", "email", "unit_code", "role")
REQUIRED = ("username", "unit_code", "role")
COLUMN_LABELS = {
    "username": _("tên đăng nhập"),
    "full_name": _("họ và tên"),
    "email": _("email"),
    "unit_code": _("mã đơn vị"),
    "role": _("vai trò"),
}
_HEADERS = {
    "username": ("username", "user", "login", "ten dang nhap", "tai khoan"),
    "full_name": ("full name", "full_name", "fullname", "name", "ho va ten", "ho ten"),
    "email": ("email", "e-mail", "mail", "thu dien tu"),
    "unit_code": ("unit code", "unit_code", "unit", "ma don vi", "don vi"),
    "role": ("role", "vai tro"),
}


class ImportFileError(TiendoError):
    """The file as a whole cannot be read as a list of accounts."""

    code = "account.import_unreadable"


def _plain(text: str) -> str:
    """``Mã đơn vị`` → ``ma don vi``: headers are matched without case or accents."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().replace("_", " ").split())


_HEADER_INDEX = {_plain(alias): name for name, aliases in _HEADERS.items() for alias in aliases}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _size(upload) -> int:
    position = upload.tell()
    upload.seek(0, io.SEEK_END)
    size = upload.tell()
    upload.seek(position)
    return size


def read_rows(upload, filename: str) -> list[dict]:
    """The rows of ``upload`` (a binary file) as dicts of :data:`FIELDS` plus ``line``."""
    name = filename or str(_("(không tên)"))
    lower = name.lower()
    upload.seek(0)
    if lower.endswith(".xlsx"):
        table = _xlsx_table(upload, name)
    elif lower.endswith((".csv", ".txt")):
        table = _csv_table(upload, name)
    else:
        raise ImportFileError(
            _(
                "Tệp “%(name)s” không phải bảng tính: xin tải lên tệp Excel (.xlsx) hoặc CSV "
                "(.csv)."
            ),
            code="account.import_not_spreadsheet",
            name=name,
        )
    return _rows(table, name)


def _too_many(name: str) -> ImportFileError:
    return ImportFileError(
        _("Tệp “%(name)s” có hơn %(max)s dòng tài khoản; xin chia thành nhiều tệp nhỏ hơn."),
        code="account.import_too_many_rows",
        name=name,
        max=format_number(MAX_ROWS),
    )


def _csv_table(upload, name: str):
    raw = upload.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise ImportFileError(
            _("Tệp “%(name)s” lớn hơn %(mb)s MB."),
            code="upload.too_large",
            name=name,
            mb=format_number(MAX_CSV_BYTES // (1024 * 1024)),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ImportFileError(
            _(
                "Tệp “%(name)s” không phải tệp CSV văn bản mã UTF-8; xin lưu lại bảng tính dạng "
                "“CSV UTF-8” hoặc tải lên tệp .xlsx."
            ),
            code="account.import_not_text",
            name=name,
        )
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    lines = text.splitlines()
    if len(lines) > MAX_ROWS + 1 and sum(1 for line in lines if line.strip()) > MAX_ROWS + 1:
        raise _too_many(name)
    return csv.reader(io.StringIO(text), delimiter=delimiter)


def _xlsx_table(upload, name: str):
    from openpyxl import load_workbook

    limits = default_limits(streamed=("xl/worksheets/sheet",))
    inspect_zip(
        upload,
        filename=name,
        kind=str(_("bảng tính Excel (.xlsx)")),
        limits=limits,
        required=("xl/workbook.xml",),
    )
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # openpyxl on a hostile or broken file: any error is a refusal
        raise ImportFileError(
            _("Tệp “%(name)s” không đọc được như một bảng tính Excel."),
            code="account.import_unreadable",
            name=name,
        ) from exc
    if (sheet.max_row or 0) > _max_sheet_rows():  # the sheet's declared size, before reading
        raise _too_many(name)
    # read to the sheet's last row, not to its declared one: a file that understates its
    # size would otherwise lose its last rows without a word
    sheet.reset_dimensions()
    return _capped_rows(sheet, name)


def _max_sheet_rows() -> int:
    """Rows of a sheet, blank ones included: a list has some blank rows, not thousands."""
    return MAX_ROWS * 2 + 1


def _capped_rows(sheet, name: str):
    # the declared size may understate the sheet (or be missing): every row, the blank ones
    # :func:`_rows` skips too, is counted here as it is read
    for count, row in enumerate(sheet.iter_rows(values_only=True, max_col=20), start=1):
        if count > _max_sheet_rows():
            raise _too_many(name)
        yield [_cell_text(value) for value in row]


def _rows(table, name: str) -> list[dict]:
    header = None
    rows = []
    try:
        for line, cells in enumerate(table, start=1):
            cells = [(c or "").strip() for c in cells]
            if not any(cells):
                continue
            if header is None:
                header = _header(cells, name, line)
                continue
            row = {"line": line}
            for index, field_name in header.items():
                row[field_name] = cells[index] if index < len(cells) else ""
            for field_name in FIELDS:  # a column the file lacks: None, "leave as it is"
                row.setdefault(field_name, None)
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise _too_many(name)
    except csv.Error as exc:
        raise ImportFileError(
            _("Tệp “%(name)s” không đọc được như một tệp CSV."),
            code="account.import_unreadable",
            name=name,
        ) from exc
    if not rows:
        raise ImportFileError(
            _("Tệp “%(name)s” không có dòng tài khoản nào (dòng đầu là tên các cột)."),
            code="account.import_empty",
            name=name,
        )
    return rows


def _header(cells: list[str], name: str, line: int) -> dict[int, str]:
    header: dict[int, str] = {}
    for index, cell in enumerate(cells):
        field_name = _HEADER_INDEX.get(_plain(cell))
        if field_name is not None and field_name not in header.values():
            header[index] = field_name
    missing = [f for f in REQUIRED if f not in header.values()]
    if missing:
        raise ImportFileError(
            _(
                "Tệp “%(name)s”, dòng %(line)s: thiếu cột “%(column)s”. Dòng đầu phải là tên các "
                "cột: tên đăng nhập, họ và tên, email, mã đơn vị, vai trò."
            ),
            code="account.import_missing_column",
            name=name,
            line=line,
            column=COLUMN_LABELS[missing[0]],
        )
    return header
