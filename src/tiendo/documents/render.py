"""Rendering a report definition: the context a template sees, then Word, Excel or PDF.

Everything a template prints comes from :func:`build_context`: figures from the aggregated
data (``f``, ``fy[2021]``, ``fp``), the header of the official document, narrative
sections (``n.KEY``, merged and attributed to their units) and annex tables.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
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
    Section,
    collect,
    definition_sections,
    generated_parts,
    group_by_key,
)
from tiendo.documents.templates_build import BODY_STYLE, TABLE_STYLE, ensure_styles
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period


class RenderError(TiendoError, ValueError):
    """A report that cannot be rendered; the message is Vietnamese, for the user."""

    code = "render.failed"

    @classmethod
    def of(cls, error: TiendoError) -> RenderError:
        """``error`` (an upload, narrative or template-data error) as a render error, its
        code and message kept."""
        return cls(error.message, code=error.code, **error.params)


def in_site_language(function):
    """Run ``function`` in the site's language: a report is stored and read by many, so
    its words (period names and the like) never depend on who had it rendered."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return function(*args, **kwargs)

    return wrapper


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


# Words a summary may begin with that the closing sentence says already ("báo cáo …") or
# that do not read after it ("về việc …", "V/v …").
_SUMMARY_LEADS = re.compile(r"^(?:v/v\.?|về việc|về)\s+", re.IGNORECASE)
_REPORT_WORD = re.compile(r"^báo cáo\b\s*", re.IGNORECASE)


def summary_sentence(summary: str) -> str:
    """The closing "Trên đây là báo cáo …" of a summary, the word "báo cáo" said once
    whether or not the summary (or the letter's title it came from) begins with it:
    "Báo cáo kết quả …" and "Kết quả …" both give "báo cáo kết quả …"."""
    rest = _SUMMARY_LEADS.sub("", summary.strip())
    rest = _REPORT_WORD.sub("", rest)
    rest = _SUMMARY_LEADS.sub("", rest)  # "Báo cáo về việc …"
    return f"báo cáo {lower_first(rest)}".strip()


def summary_under_title(summary: str, doc_title: str) -> str:
    """The summary printed under the document's title: under "BÁO CÁO" a summary that
    begins with "Báo cáo" loses it ("BÁO CÁO / Kết quả …", not "BÁO CÁO / Báo cáo kết
    quả …")."""
    summary = summary.strip()
    if doc_title.strip().lower() != "báo cáo" or not _REPORT_WORD.match(summary):
        return summary
    rest = _REPORT_WORD.sub("", summary)
    return rest[:1].upper() + rest[1:] if rest else summary


def header_context(definition) -> dict:
    issued = definition.issued_on
    if issued:
        date_long = format_date_long(issued)
    else:
        # Not dated yet: the year the request is answered in, else the period's last year.
        request = definition.request if definition.request_id else None
        year = request.deadline.year if request else definition.period.end.year
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
        "summary": summary_under_title(summary, definition.doc_title),
        "summary_sentence": summary_sentence(summary),
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
    sections: list[Section] = field(default_factory=list)
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

    @in_site_language
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
            "sections": [s.as_option() for s in self.sections],
            "annexes": annex_records(self.annexes, self.period),
        }


def definition_programmes(definition):
    """The definition's programmes; one answering a letter without programmes of its own
    (the default definition of a letter) covers the programmes of the letter's forms."""
    from tiendo.programmes.models import Programme  # noqa: PLC0415

    chosen = definition.programmes.all()
    if definition.request_id and not chosen.exists():
        return Programme.objects.filter(forms__requests=definition.request_id).distinct()
    return chosen


@in_site_language
def prepare(definition) -> ReportData:
    period = definition.period
    if not isinstance(period, Period):  # a stored text that names no period
        raise RenderError(
            _("Báo cáo “%(slug)s”: kỳ báo cáo “%(period)s” không hợp lệ."),
            code="render.bad_period",
            slug=definition.slug,
            period=period,
        )
    indicators = {
        i.code: i
        for i in Indicator.objects.filter(programme__in=definition_programmes(definition))
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
        # parts written from NTM data, after the unit's own text under their keys
        data.narrative.parts += generated_parts(definition, period)
        data.sections = definition_sections(definition)
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
            ex.docx_style(paragraph, BODY_STYLE)
            ex.docx_run(paragraph, "(Chưa có nội dung.)", italic=True)
            return subdoc
        for part in parts:
            for index, line in enumerate(part.paragraphs):
                paragraph = subdoc.add_paragraph()
                ex.docx_style(paragraph, BODY_STYLE)
                if not part.own and index == 0:
                    ex.docx_run(paragraph, f"{part.unit_name}: ", bold=True, italic=True)
                ex.docx_run(paragraph, line)
        return subdoc


@dataclass
class SectionView:
    """One section as a template loop sees it: ``{{ s.number }}. {{ s.heading }}`` then
    ``{{p s.body }}`` (the definition's own text, then what the units wrote under it)."""

    number: int
    key: str
    heading: str
    text: str
    body: object


def section_views(tpl: DocxTemplate, data: ReportData) -> list[SectionView]:
    grouped = group_by_key(data.narrative.parts)
    views = []
    for number, section in enumerate(data.sections, start=1):
        subdoc = tpl.new_subdoc()
        own = NarrativePart(section.key, section.heading, "", "", section.text, own=True)
        parts = ([own] if section.text.strip() else []) + grouped.get(section.key, [])
        if not parts:
            paragraph = subdoc.add_paragraph()
            ex.docx_style(paragraph, BODY_STYLE)
            ex.docx_run(paragraph, "(Chưa có nội dung.)", italic=True)
        for part in parts:
            for index, line in enumerate(part.paragraphs):
                paragraph = subdoc.add_paragraph()
                ex.docx_style(paragraph, BODY_STYLE)
                if not part.own and index == 0:
                    ex.docx_run(paragraph, f"{part.unit_name}: ", bold=True, italic=True)
                ex.docx_run(paragraph, line)
        views.append(SectionView(number, section.key, section.heading, section.text, subdoc))
    return views


def annex_subdoc(tpl: DocxTemplate, tables: list[AnnexTable]):
    subdoc = tpl.new_subdoc()
    if not tables:
        paragraph = subdoc.add_paragraph()
        ex.docx_style(paragraph, BODY_STYLE)
        ex.docx_run(paragraph, "(Báo cáo này không có bảng phụ lục.)", italic=True)
        return subdoc
    for number, table in enumerate(tables, start=1):
        title = subdoc.add_paragraph()
        ex.docx_style(title, BODY_STYLE)
        ex.docx_run(title, f"Biểu {number}. {table.title}", bold=True)
        ex.write_docx_table(subdoc, table.sheet(number, title=[]), style_id=TABLE_STYLE)
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


@in_site_language
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
    context["sections"] = section_views(tpl, data)
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
    place = f"{definition.unit.name} — {definition.period.label}"
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
    note = f"Khoảng {row.value_text} {indicator.shown_unit}" if cell.low is not None else ""
    decimals = indicator.decimals + indicator.display_places  # in the display unit
    return ex.row(
        ex.number(index),
        ex.text(indicator.name, wrap=True),
        ex.text(indicator.shown_unit),
        ex.number(indicator.to_display(cell.target), decimals),
        ex.number(indicator.to_display(cell.value), decimals),
        ex.percent(cell.achieved),
        ex.text(note),
    )


@in_site_language
def render_xlsx(data: ReportData) -> bytes:
    annexes = [
        table.sheet(number, title_lines(data.definition, f"Biểu {number}. {table.title}"))
        for number, table in enumerate(data.annexes, start=1)
    ]
    return ex.render_xlsx([summary_table(data), *annexes], title=data.definition.title)
