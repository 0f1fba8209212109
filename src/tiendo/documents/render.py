"""Rendering a report definition: the context a template sees, then Word, Excel or PDF.

Everything a template prints comes from :func:`build_context`: figures from the aggregated
data (``f``, ``fy[2021]``, ``fp``), the header of the official document, narrative
sections (``n.KEY``, merged and attributed to their units) and annex tables.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_lazy as _
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from tiendo.core import exporters as ex
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_date_long, format_number, format_percent
from tiendo.core.uploads import UploadError
from tiendo.data.pivot import pivot
from tiendo.documents.annex import AnnexError, AnnexTable, annex_records, build_annexes
from tiendo.documents.figures import FigureSet, Recorder, TemplateDataError, YearFigures
from tiendo.documents.narrative import (
    Narrative,
    NarrativeConfigError,
    NarrativePart,
    collect,
    group_by_key,
)
from tiendo.documents.templates_build import BODY_STYLE, FONT, TABLE_STYLE, ensure_styles
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period, PeriodError


class RenderError(TiendoError, ValueError):
    """A report that cannot be rendered; the message is Vietnamese, for the user."""

    code = "render.failed"

    @classmethod
    def of(cls, error: TiendoError) -> RenderError:
        """``error`` (an upload, narrative or template-data error) as a render error, its
        code and message kept."""
        return cls(error.message, code=error.code, **error.params)


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def jinja_environment() -> SandboxedEnvironment:
    """Templates are uploaded by users: a sandbox (no ``_`` attributes, no unsafe calls) with
    only our filters and Jinja's, and no globals (``lipsum``, ``cycler``, … reach Python)."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    env.globals.clear()
    env.filters["vn_number"] = lambda v, d=None: format_number(v, d)
    env.filters["vn_percent"] = lambda v, d=2: format_percent(v, d)
    env.filters["vn_date"] = format_date
    env.filters["vn_date_long"] = format_date_long
    env.filters["lower_first"] = lower_first
    return env


def header_context(definition) -> dict:
    issued = definition.issued_on
    if issued:
        date_long = format_date_long(issued)
    else:
        # Not dated yet: the year the request is answered in, else the period's last year.
        request = definition.request if definition.request_id else None
        year = request.deadline.year if request else Period.parse(definition.period).end.year
        date_long = f"ngày      tháng      năm {year}"
    capacity = " ".join(
        part for part in (definition.signer_capacity, definition.signing_for.upper()) if part
    )
    recipients = [r for r in definition.recipients if r.strip()]
    if not any(r.lstrip("- ").startswith("Lưu") for r in recipients):
        recipients.append("Lưu: VT.")
    summary = definition.summary.strip()
    return {
        "parent_agency": definition.parent_agency.upper(),
        "issuing_agency": definition.issuing_agency.upper(),
        "number_symbol": definition.number_and_symbol,
        "place": definition.place,
        "date_long": date_long,
        "place_date": f"{definition.place}, {date_long}",
        "title": definition.doc_title.upper(),
        "summary": summary,
        "summary_sentence": f"báo cáo {lower_first(summary)}",
        "basis": definition.basis.strip(),
        "capacity_line": capacity or definition.signer_title.upper(),
        "signer_title": definition.signer_title.upper() if capacity else "",
        "signer_name": definition.signer_name,
        "recipients": recipients,
    }


@dataclass
class ReportData:
    """Everything computed for one rendering, and what it records for traceability."""

    definition: object
    period: Period
    indicators: dict[str, Indicator]
    recorder: Recorder = field(default_factory=Recorder)
    narrative: Narrative = field(default_factory=Narrative)
    annexes: list[AnnexTable] = field(default_factory=list)
    main: FigureSet | None = None
    sets: dict[str, FigureSet] = field(default_factory=dict, repr=False)

    def figure_set(self, period: Period) -> FigureSet:
        """The report unit's figures for ``period``, aggregated once per rendering."""
        if period.id not in self.sets:
            self.sets[period.id] = FigureSet(
                list(self.indicators.values()),
                self.definition.unit,
                period,
                recorder=self.recorder,
                sets=self.figure_set,
            )
        return self.sets[period.id]

    def snapshot(self) -> dict:
        d = self.definition
        return {
            "definition": d.slug,
            "title": d.title,
            "unit": {"code": d.unit.code, "name": d.unit.name, "id": d.unit.pk},
            "period": self.period.id,
            "period_label": self.period.label,
            "programmes": sorted({i.programme.code for i in self.indicators.values()}),
            "header": header_context(d),
            "figures": list(self.recorder.figures.values()),
            "request": (
                {
                    "id": d.request.pk,
                    "number_symbol": d.request.number_symbol,
                    "issued_on": d.request.issued_on.isoformat(),
                    "issuer": d.request.issuer.name,
                    "title": d.request.title,
                }
                if d.request_id
                else None
            ),
            "narrative": self.narrative.records(),
            "annexes": annex_records(self.annexes, self.period),
        }


def prepare(definition) -> ReportData:
    try:
        period = Period.parse(definition.period)
    except PeriodError as exc:
        raise RenderError(
            _("Báo cáo “%(slug)s”: %(error)s"),
            code="render.bad_period",
            slug=definition.slug,
            error=exc,
        ) from exc
    indicators = {
        i.code: i
        for i in Indicator.objects.filter(programme__in=definition.programmes.all())
        .select_related("programme", "component", "disaggregation")
        .order_by("programme__code", "order", "code")
    }
    if not indicators:
        raise RenderError(
            _("Báo cáo “%(slug)s” chưa gắn chương trình nào có chỉ tiêu."),
            code="render.no_indicators",
            slug=definition.slug,
        )
    data = ReportData(definition, period, indicators)
    data.main = data.figure_set(period)
    try:
        data.narrative = collect(definition)
    except NarrativeConfigError as exc:
        raise RenderError.of(exc) from exc
    try:
        data.annexes = build_annexes(definition, period, indicators)
    except AnnexError as exc:
        raise RenderError.of(exc) from exc
    return data


def _programmes_context(data: ReportData) -> list[dict]:
    programmes: dict[str, dict] = {}
    for figure in data.main.all():
        prog = figure.indicator.programme
        entry = programmes.setdefault(
            prog.code,
            {
                "code": prog.code,
                "name": prog.name,
                "short_name": prog.short_name or prog.name,
                "figures": [],
            },
        )
        entry["figures"].append(figure)
    return list(programmes.values())


def base_context(data: ReportData) -> dict:
    d = data.definition
    names = [p.name for p in d.programmes.order_by("code")]
    return {
        "header": header_context(d),
        "report": {
            "title": d.title,
            "unit_name": d.unit.name,
            "unit_code": d.unit.code,
            "period": data.period.id,
            "period_label": data.period.label,
            "year": data.period.end.year,
            "next_year": data.period.end.year + 1,
            "programme_name": names[0] if len(names) == 1 else "; ".join(names),
            "allocation_basis": (
                f" tại {d.options['allocation_basis']}" if d.options.get("allocation_basis") else ""
            ),
            "today": format_date_long(date.today()),
        },
        "f": data.main,
        "fp": data.main.previous,
        "fy": YearFigures(data.figure_set),
        "programmes": _programmes_context(data),
    }


# --- Word ---------------------------------------------------------------------------------------


def _style(paragraph, style_id: str) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    p_style = p_pr.find(qn("w:pStyle"))
    if p_style is None:
        p_style = OxmlElement("w:pStyle")
        p_pr.insert(0, p_style)
    p_style.set(qn("w:val"), style_id)


def _run(paragraph, text, *, size=None, bold=None, italic=None):
    run = paragraph.add_run(text)
    run.font.name = FONT
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic
    return run


class NarrativeSections:
    """``{{p n.leadership }}``: a section's paragraphs, one per line; the text of the units
    below the report's unit begins with the unit's name ("Huyện Vị Xuyên: …").
    ``{%p if n.has('results') %}`` tests whether any unit wrote under a key."""

    def __init__(self, tpl: DocxTemplate, parts: list[NarrativePart]):
        self._tpl = tpl
        self._grouped = group_by_key(parts)

    def __getattr__(self, key: str):
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def has(self, key: str) -> bool:
        return bool(self._grouped.get(key))

    def __getitem__(self, key: str):
        subdoc = self._tpl.new_subdoc()
        parts = self._grouped.get(key, [])
        if not parts:
            paragraph = subdoc.add_paragraph()
            _style(paragraph, BODY_STYLE)
            _run(paragraph, "(Chưa có nội dung.)", italic=True)
            return subdoc
        for part in parts:
            for index, line in enumerate(part.paragraphs):
                paragraph = subdoc.add_paragraph()
                _style(paragraph, BODY_STYLE)
                if not part.own and index == 0:
                    _run(paragraph, f"{part.unit_name}: ", bold=True, italic=True)
                _run(paragraph, line)
        return subdoc


def _cell_text(cell, text, *, bold=False, align="right", size=11):
    paragraph = cell.paragraphs[0]
    _style(paragraph, TABLE_STYLE)
    paragraph.alignment = {
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
    }[align]
    if text:
        _run(paragraph, text, size=size, bold=bold)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))  # a header row is never split across pages
    tr_pr.append(OxmlElement("w:tblHeader"))  # no w:val: "on", which every reader accepts


def _grid_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single")
        element.set(qn("w:sz"), "4")
        element.set(qn("w:color"), "000000")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _annex_widths(grid, lead_mm: list[int], ncols: int, total_mm: int = 255) -> None:
    rest = (total_mm - sum(lead_mm)) / max(ncols - len(lead_mm), 1)
    widths = [Mm(w) for w in lead_mm] + [Mm(rest)] * (ncols - len(lead_mm))
    grid.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    grid._tbl.tblPr.append(layout)
    for col, width in zip(grid._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(width.twips)))
    for row in grid.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width


def annex_subdoc(tpl: DocxTemplate, tables: list[AnnexTable]):
    subdoc = tpl.new_subdoc()
    if not tables:
        paragraph = subdoc.add_paragraph()
        _style(paragraph, BODY_STYLE)
        _run(paragraph, "(Báo cáo này không có bảng phụ lục.)", italic=True)
        return subdoc
    for number, table in enumerate(tables, start=1):
        title = subdoc.add_paragraph()
        _style(title, BODY_STYLE)
        _run(title, f"Biểu {number}. {table.title}", bold=True)
        heads = table.lead_headings
        lead = len(heads)
        per_col = [c.span for c in table.columns]
        ncols = lead + sum(per_col)
        # A second header row only when a column has sub-headings (plan, actual, %): a row
        # made only of vertically merged continuation cells stops LibreOffice from
        # repeating the header rows on the following pages.
        two_rows = any(width == 3 for width in per_col)
        grid = subdoc.add_table(rows=2 if two_rows else 1, cols=ncols)
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        _grid_borders(grid)
        header_rows = list(grid.rows)
        top, sub = header_rows[0], header_rows[-1]
        for i, text in enumerate(heads):
            merged = top.cells[i].merge(sub.cells[i]) if two_rows else top.cells[i]
            _cell_text(merged, text, bold=True, align="center")
        col = lead
        for column, width in zip(table.columns, per_col, strict=True):
            if width == 1:
                merged = top.cells[col].merge(sub.cells[col]) if two_rows else top.cells[col]
                _cell_text(merged, column.heading, bold=True, align="center")
            else:
                merged = top.cells[col].merge(top.cells[col + 2])
                _cell_text(merged, column.heading, bold=True, align="center")
                for offset, text in enumerate(column.sub_headings):
                    _cell_text(sub.cells[col + offset], text, bold=True, align="center")
            col += width
        for index, row in enumerate([*table.rows, table.total], start=1):
            is_total = index > len(table.rows)
            cells = grid.add_row().cells
            _cell_text(cells[0], "" if is_total else str(index), align="center", bold=is_total)
            _cell_text(
                cells[1], "Tổng cộng" if is_total else row.unit.name, align="left", bold=is_total
            )
            if table.show_parent:
                _cell_text(cells[2], row.parent_name, align="left")
            col = lead
            for cell, width in zip(row.cells, per_col, strict=True):
                texts = (
                    [cell.plan_text, cell.actual_text, cell.percent_text]
                    if width == 3
                    else [cell.actual_text]
                )
                for offset, text in enumerate(texts):
                    _cell_text(cells[col + offset], text, bold=is_total)
                col += width
        # After the rows are added: add_row copies the last row's properties.
        for row in header_rows:
            _repeat_header(row)
        _annex_widths(grid, [12, 50] + ([40] if table.show_parent else []), ncols)
        subdoc.add_paragraph()
    return subdoc


def open_template(template_bytes: bytes) -> DocxTemplate:
    """The template, with the paragraph styles the narrative and annex blocks refer to.

    The zip is inspected first (``tiendo.core.uploads``): a stored template is checked
    again at every rendering, it may predate the checks."""
    from tiendo.documents.services import inspect_docx  # noqa: PLC0415

    try:
        inspect_docx(template_bytes, filename="")
    except UploadError as exc:
        raise RenderError.of(exc) from exc
    tpl = DocxTemplate(io.BytesIO(template_bytes))
    tpl.init_docx()
    ensure_styles(tpl.docx)
    return tpl


def render_docx(data: ReportData, template_bytes: bytes) -> bytes:
    from tiendo.documents.placeholders import template_problems  # noqa: PLC0415

    tpl = open_template(template_bytes)
    env = jinja_environment()
    problems = template_problems(tpl, env)
    if problems:
        raise RenderError(
            _("Mẫu báo cáo không dùng được: %(problems)s"),
            code="render.template_unusable",
            problems=" ".join(problems),
        )
    context = base_context(data)
    context["n"] = NarrativeSections(tpl, data.narrative.parts)
    context["annexes"] = annex_subdoc(tpl, data.annexes)
    try:
        tpl.render(context, env, autoescape=True)
    except TemplateDataError as exc:
        raise RenderError.of(exc) from exc
    except UndefinedError as exc:
        raise RenderError(
            _("Mẫu báo cáo dùng biến không có: %(error)s."),
            code="render.undefined_variable",
            error=exc.message,
        ) from exc
    except SecurityError as exc:
        raise RenderError(
            _("Mẫu báo cáo dùng chỗ đặt biến không được phép: %(error)s."),
            code="render.forbidden_placeholder",
            error=exc,
        ) from exc
    except TemplateError as exc:
        raise RenderError(
            _("Mẫu báo cáo có lỗi cú pháp: %(error)s."), code="render.template_syntax", error=exc
        ) from exc
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


# --- Excel -------------------------------------------------------------------------------------

SUMMARY_HEADINGS = ("STT", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch", "Thực hiện", "% đạt", "Ghi chú")
SUMMARY_WIDTHS = [6, 60, 14, 14, 14, 10, 30]


def title_lines(definition, title: str) -> list[ex.Row]:
    """Agency, title, unit and period above a sheet of the report, and a blank line."""
    place = f"{definition.unit.name} — {Period.parse(definition.period).label}"
    return [
        ex.title_line(definition.issuing_agency.upper(), bold=True, align="center"),
        ex.title_line(title, bold=True, align="center"),
        ex.title_line(place, italic=True, align="center"),
        ex.row(),
    ]


def summary_table(data: ReportData) -> ex.Table:
    """Every indicator of the report: plan, actual and % achieved for the report's unit."""
    rows, _totals = pivot(data.definition.unit, data.period)
    rows = [r for r in rows if r.indicator.code in data.indicators]
    return ex.Table(
        "Tổng hợp",
        SUMMARY_WIDTHS,
        title=title_lines(data.definition, "Tổng hợp chỉ tiêu"),
        header=[ex.row(*(ex.text(h, bold=True) for h in SUMMARY_HEADINGS))],
        body=[_summary_row(index, row) for index, row in enumerate(rows, start=1)],
    )


def _summary_row(index: int, row) -> ex.Row:
    cell, indicator = row.cell, row.indicator
    note = f"Khoảng {row.value_text} {indicator.measure_unit}" if cell.low is not None else ""
    return ex.row(
        ex.number(index),
        ex.text(indicator.name, wrap=True),
        ex.text(indicator.measure_unit),
        ex.number(cell.target, indicator.decimals),
        ex.number(cell.value, indicator.decimals),
        ex.percent(cell.achieved),
        ex.text(note),
    )


def render_xlsx(data: ReportData) -> bytes:
    annexes = [
        table.sheet(number, title_lines(data.definition, f"Biểu {number}. {table.title}"))
        for number, table in enumerate(data.annexes, start=1)
    ]
    return ex.render_xlsx([summary_table(data), *annexes], title=data.definition.title)
