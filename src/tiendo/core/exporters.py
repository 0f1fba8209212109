"""Exports share one table model and one renderer per format (pretix's ``BaseExporter``).

An export says *what* it holds as :class:`Table` objects — title lines, header rows (cells
may span columns and rows, as in HTML: a position covered by a cell above is left out of
the row below), body rows of typed cells, column widths, notes — and this module says *how*
it is written: Excel (:func:`render_xlsx`, or :func:`write_table` into a workbook the caller
extends), CSV (:func:`render_csv`) and a Word table (:func:`write_docx_table`). Every export therefore has the same number formats,
header rows repeated on every printed page, A4 print setup fitted to the page width, and
frozen panes.

Numbers are stored as numbers with the format code ``#,##0`` or ``#,##0.0…``; in a format
code "," and "." mean "thousands separator" and "decimal mark", and Excel draws them with
the reader's regional settings: ``66.992`` and ``234,9`` on a computer set to Vietnamese.
A percent is given as a percentage (``98.45``) and stored as the fraction with ``0.0%``.

CSV is written for Excel set to Vietnamese: UTF-8 with a byte-order mark (without it
Excel reads the diacritics as Windows-1252), ``;`` between fields (the Vietnamese list
separator: ``,`` is the decimal mark), numbers with a decimal comma and no thousands
separator so Excel reads them back as numbers, dates as ``dd/mm/yyyy``.

A text is never a formula: a unit's name or a reason typed by a user may begin with ``=``
(``=HYPERLINK(…)``), and a spreadsheet would run it. Excel cells are written as strings
with a quote prefix; in CSV such a text is prefixed with ``'`` (what OWASP advises against
"CSV injection").
"""

from __future__ import annotations

import abc
import csv
import io
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter

from tiendo.core.formatting import format_date, format_number, format_percent

TEXT, NUMBER, PERCENT, DATE, BLANK = "text", "number", "percent", "date", "blank"
FULL_WIDTH = 0  # a cell's ``span``: every column of the table (a title line)
FONT = "Times New Roman"
DATE_FORMAT = "DD/MM/YYYY"
TEXT_FORMAT = "@"
FOOTER = "Trang &P/&N"
SHADE = "EDEDED"  # a body cell not to be typed over
# Beyond this sum of column widths (Excel's character widths) a table is printed landscape:
# A4 portrait holds about a hundred characters across.
PORTRAIT_WIDTH = 100
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CSV_SEPARATOR = ";"
# What a spreadsheet reads as the start of a formula in a CSV field.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- The model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    value: object = None
    kind: str = TEXT
    decimals: int = 0
    span: int = 1  # columns taken; FULL_WIDTH for the whole table
    down: int = 1  # rows taken (header cells)
    bold: bool = False
    italic: bool = False
    size: int | None = None
    align: str | None = None  # "left", "center", "right"; None: the kind's own
    valign: str | None = None  # "top", "center"; None: top when wrapped
    wrap: bool = False
    shade: bool = False
    editable: bool = False  # left unlocked when the sheet is protected


def text(value, **style) -> Cell:
    return Cell("" if value is None else str(value), TEXT, **style)


def number(value, decimals: int = 0, **style) -> Cell:
    return Cell(value, NUMBER, decimals, **style)


def percent(value, decimals: int = 1, **style) -> Cell:
    """``value`` is a percentage (``98.45``), shown ``98,5%`` with one decimal."""
    return Cell(value, PERCENT, decimals, **style)


def day(value, **style) -> Cell:
    return Cell(value, DATE, **style)


def blank(**style) -> Cell:
    return Cell(None, BLANK, **style)


@dataclass
class Row:
    cells: list[Cell]
    height: float | None = None


def row(*cells: Cell, height: float | None = None) -> Row:
    return Row(list(cells), height)


def title_line(value: str, *, size: int = 12, height: float | None = None, **style) -> Row:
    """A line above (or below) the table, one text across its whole width."""
    return row(text(value, span=FULL_WIDTH, size=size, **style), height=height)


@dataclass
class Table:
    name: str  # the sheet's name
    widths: list[float]  # one per column: the table's width
    title: list[Row] = field(default_factory=list)
    header: list[Row] = field(default_factory=list)
    body: list[Row] = field(default_factory=list)
    notes: list[Row] = field(default_factory=list)
    frozen_columns: int = 0  # lead columns kept in view when scrolling right
    header_fill: str | None = None
    border_color: str = "000000"
    protected: bool = False  # header and shaded cells locked (no password: not security)
    wide: bool | None = None  # printed landscape; None: when the columns are too wide

    @property
    def first_header_row(self) -> int:
        return len(self.title) + 1

    @property
    def first_body_row(self) -> int:
        return self.first_header_row + len(self.header)

    @property
    def landscape(self) -> bool:
        return sum(self.widths) > PORTRAIT_WIDTH if self.wide is None else self.wide


class Exporter(abc.ABC):
    """A download made of tables: a subclass gives :meth:`tables` and a file name, the base
    writes the file in every format."""

    filename = "export"  # without extension, ASCII
    formats = ("xlsx", "csv")

    @abc.abstractmethod
    def tables(self) -> list[Table]:
        """The tables of the download, in order (one sheet each in Excel)."""

    def render(self, fmt: str = "xlsx") -> bytes:
        if fmt == "csv":
            return render_csv(self.tables())
        return render_xlsx(self.tables(), title=self.filename)

    def response(self, fmt: str = "xlsx") -> HttpResponse:
        fmt = fmt if fmt in self.formats else self.formats[0]
        content_type = CSV_CONTENT_TYPE if fmt == "csv" else XLSX_CONTENT_TYPE
        response = HttpResponse(self.render(fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{self.filename}.{fmt}"'
        return response


def ascii_name(value: str) -> str:
    """``"123/UBND-VP"`` → ``"123-UBND-VP"``: a part of a file name safe everywhere."""
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in value)


# --- Number formats ------------------------------------------------------------------------


def number_format(cell: Cell) -> str | None:
    if cell.kind == NUMBER:
        return "#,##0" + ("." + "0" * cell.decimals if cell.decimals else "")
    if cell.kind == PERCENT:
        return "0" + ("." + "0" * cell.decimals if cell.decimals else "") + "%"
    if cell.kind == DATE:
        return DATE_FORMAT
    return TEXT_FORMAT if cell.kind == TEXT else None


def _excel_number(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return value


def excel_value(cell: Cell):
    if cell.kind == NUMBER:
        return _excel_number(cell.value)
    if cell.kind == PERCENT:
        return None if cell.value is None else float(Decimal(str(cell.value)) / 100)
    if cell.kind == TEXT:
        return ILLEGAL_CHARACTERS_RE.sub("", cell.value) if cell.value else None
    return cell.value


def csv_value(cell: Cell) -> str:
    value = cell.value
    if value is None or cell.kind == BLANK:
        return ""
    if cell.kind == TEXT:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if cell.kind == DATE:
        return (value.date() if isinstance(value, datetime) else value).strftime("%d/%m/%Y")
    figure = Decimal(str(value)).quantize(Decimal(1).scaleb(-cell.decimals), ROUND_HALF_UP)
    shown = f"{figure:f}".replace(".", ",")
    return shown + "%" if cell.kind == PERCENT else shown


# --- Where cells go ------------------------------------------------------------------------


def placed(rows: list[Row], width: int, first_row: int = 1):
    """``(row, column, cell)`` of every cell, skipping positions covered by a span, and
    the merged ranges ``(row, column, last_row, last_column)``."""
    covered: set[tuple[int, int]] = set()
    cells, merges = [], []
    for r, line in enumerate(rows, start=first_row):
        c = 1
        for cell in line.cells:
            while (r, c) in covered:
                c += 1
            span = width - c + 1 if cell.span == FULL_WIDTH else cell.span
            cells.append((r, c, cell))
            if span > 1 or cell.down > 1:
                merges.append((r, c, r + cell.down - 1, c + span - 1))
                covered |= {(r2, c2) for r2 in range(r, r + cell.down) for c2 in range(c, c + span)}
            c += span
    return cells, merges


# --- Excel ---------------------------------------------------------------------------------


def new_workbook(title: str = "") -> Workbook:
    book = Workbook()
    book.remove(book.active)
    book.properties.language = "vi-VN"
    book.properties.title = title
    book.properties.creator = "Tiến Độ"
    return book


def workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_xlsx(tables: list[Table], *, title: str = "") -> bytes:
    book = new_workbook(title)
    for table in tables:
        write_table(book.create_sheet(table.name), table)
    return workbook_bytes(book)


@dataclass
class _Look:
    """The styles of one table, made once."""

    box: Border
    fill: PatternFill | None
    shade: PatternFill

    @classmethod
    def of(cls, table: Table) -> _Look:
        side = Side(style="thin", color=table.border_color)
        fill = PatternFill("solid", fgColor=table.header_fill) if table.header_fill else None
        return cls(Border(left=side, right=side, top=side, bottom=side), fill, _solid(SHADE))


def _solid(color: str) -> PatternFill:
    return PatternFill("solid", fgColor=color)


def write_table(sheet, table: Table) -> None:
    """Write ``table`` from A1 into ``sheet``, with its print setup."""
    look = _Look.of(table)
    width = len(table.widths)
    _write_title(sheet, table.title, width)
    _write_header(sheet, table, look)
    _write_rows(sheet, table.body, width, table.first_body_row, look)
    _write_title(sheet, table.notes, width, table.first_body_row + len(table.body) + 1)
    for index, column_width in enumerate(table.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column_width
    sheet.freeze_panes = sheet.cell(row=table.first_body_row, column=table.frozen_columns + 1)
    _print_setup(sheet, table)


def _write_title(sheet, rows: list[Row], width: int, first_row: int = 1) -> None:
    cells, merges = placed(rows, width, first_row)
    for r, c, cell in cells:
        _put(sheet.cell(row=r, column=c), cell)
    _merge(sheet, merges)
    _heights(sheet, rows, first_row)


def _write_header(sheet, table: Table, look: _Look) -> None:
    width, first = len(table.widths), table.first_header_row
    cells, merges = placed(table.header, width, first)
    for r, c, cell in cells:
        _put(
            sheet.cell(row=r, column=c),
            replace(cell, align=cell.align or "center", valign="center", wrap=True),
        )
    for r in range(first, table.first_body_row):
        for c in range(1, width + 1):  # covered positions too: the borders of a merge
            target = sheet.cell(row=r, column=c)
            target.border = look.box
            if look.fill:
                target.fill = look.fill
    _merge(sheet, merges)
    _heights(sheet, table.header, first)


def _write_rows(sheet, rows: list[Row], width: int, first_row: int, look: _Look) -> None:
    cells, merges = placed(rows, width, first_row)
    for r, c, cell in cells:
        target = sheet.cell(row=r, column=c)
        _put(target, cell)
        target.border = look.box
        if cell.shade:
            target.fill = look.shade
    _merge(sheet, merges)
    _heights(sheet, rows, first_row)


def _put(target, cell: Cell) -> None:
    target.value = excel_value(cell)
    if cell.kind == TEXT and target.value is not None:
        target.data_type = "s"  # "=…" stays a text, never a formula
        target.quotePrefix = target.value.startswith("=")
    fmt = number_format(cell)
    if fmt:
        target.number_format = fmt
    target.font = Font(name=FONT, size=cell.size or 11, bold=cell.bold, italic=cell.italic)
    if cell.align or cell.valign or cell.wrap:
        vertical = cell.valign or ("top" if cell.wrap else None)
        target.alignment = Alignment(horizontal=cell.align, vertical=vertical, wrap_text=cell.wrap)
    if cell.editable:
        target.protection = Protection(locked=False)


def _merge(sheet, merges) -> None:
    for r, c, last_r, last_c in merges:
        sheet.merge_cells(start_row=r, start_column=c, end_row=last_r, end_column=last_c)


def _heights(sheet, rows: list[Row], first_row: int) -> None:
    for r, line in enumerate(rows, start=first_row):
        if line.height:
            sheet.row_dimensions[r].height = line.height


def _print_setup(sheet, table: Table) -> None:
    sheet.page_setup.orientation = "landscape" if table.landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if table.header:
        sheet.print_title_rows = f"{table.first_header_row}:{table.first_body_row - 1}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = FOOTER
    if table.protected:
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False  # widening a column is harmless
        sheet.protection.formatRows = False


# --- CSV -----------------------------------------------------------------------------------


def render_csv(tables: list[Table]) -> bytes:
    """The tables one below the other, a blank line between them."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        for line in _grid(table):
            writer.writerow(line)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _grid(table: Table) -> list[list[str]]:
    """The table's rows as fields, a merged cell's text in its first position."""
    width = len(table.widths)
    rows = [*table.title, *table.header, *table.body]
    rows += [row(), *table.notes] if table.notes else []
    grid = [[""] * width for _ in rows]
    cells, _merges = placed(rows, width)
    for r, c, cell in cells:
        if c <= width:
            grid[r - 1][c - 1] = csv_value(cell)
    return grid


# --- Word ----------------------------------------------------------------------------------

WORD_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}
WORD_TABLE_WIDTH_MM = 255  # A4 landscape less the margins


def shown(cell: Cell) -> str:
    """The cell as a Vietnamese official writes it: ``66.992``, ``98,5%``, ``10/12/2024``."""
    if cell.value is None or cell.kind == BLANK:
        return ""
    if cell.kind == NUMBER:
        return format_number(cell.value, cell.decimals)
    if cell.kind == PERCENT:
        return format_percent(cell.value, cell.decimals)
    if cell.kind == DATE:
        return format_date(cell.value)
    return cell.value


def docx_style(paragraph, style_id: str) -> None:
    """Give ``paragraph`` the paragraph style ``style_id`` (by id: the template's own names
    may be translated)."""
    p_pr = paragraph._p.get_or_add_pPr()
    p_style = p_pr.find(qn("w:pStyle"))
    if p_style is None:
        p_style = OxmlElement("w:pStyle")
        p_pr.insert(0, p_style)
    p_style.set(qn("w:val"), style_id)


def docx_run(paragraph, value: str, *, size=None, bold=None, italic=None):
    run = paragraph.add_run(value)
    run.font.name = FONT
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic
    return run


def write_docx_table(container, table: Table, *, style_id: str) -> None:
    """Add ``table``'s header and body (not its title lines) to a python-docx document or
    sub-document, as wide as the page, its header rows repeated on every page.

    A header row must have a cell of its own: a row made only of the continuations of
    cells merged from above stops LibreOffice from repeating the header rows."""
    width = len(table.widths)
    grid = container.add_table(rows=len(table.header), cols=width)
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    _docx_borders(grid)
    cells, _merges = placed(table.header, width)
    for r, c, cell in cells:
        span = width - c + 1 if cell.span == FULL_WIDTH else cell.span
        target = grid.cell(r - 1, c - 1)
        if span > 1 or cell.down > 1:
            target = target.merge(grid.cell(r + cell.down - 2, c + span - 2))
        _docx_cell(target, replace(cell, align="center"), style_id)
    header_rows = list(grid.rows)
    for line in table.body:
        row_cells = grid.add_row().cells
        for target, cell in zip(row_cells, line.cells, strict=False):
            _docx_cell(target, cell, style_id)
    # After the rows are added: add_row copies the last row's properties.
    for header_row in header_rows:
        _docx_repeat(header_row)
    _docx_widths(grid, table.widths)


def _docx_cell(target, cell: Cell, style_id: str) -> None:
    paragraph = target.paragraphs[0]
    docx_style(paragraph, style_id)
    paragraph.alignment = WORD_ALIGN[cell.align or ("left" if cell.kind == TEXT else "right")]
    value = shown(cell)
    if value:
        docx_run(paragraph, value, size=cell.size or 11, bold=cell.bold)


def _docx_repeat(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))  # a header row is never split across pages
    tr_pr.append(OxmlElement("w:tblHeader"))  # no w:val: "on", which every reader accepts


def _docx_borders(grid) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), "4")
        element.set(qn("w:color"), "000000")
        borders.append(element)
    grid._tbl.tblPr.append(borders)


def _docx_widths(grid, widths: list[float]) -> None:
    """Column widths in proportion to the table's, across the page (a fixed layout: Word
    and LibreOffice would otherwise size the columns by their contents)."""
    scale = WORD_TABLE_WIDTH_MM / sum(widths)
    sizes = [Mm(w * scale) for w in widths]
    grid.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    grid._tbl.tblPr.append(layout)
    for col, size in zip(grid._tbl.tblGrid.findall(qn("w:gridCol")), sizes, strict=True):
        col.set(qn("w:w"), str(int(size.twips)))
    for row in grid.rows:
        for target, size in zip(row.cells, sizes, strict=False):
            target.width = size
