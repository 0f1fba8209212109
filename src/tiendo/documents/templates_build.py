"""The Word templates shipped with the system, built with python-docx.

The layout follows Decree 30/2020/NĐ-CP, Appendix I (shared/DOMAIN.md): A4 portrait,
margins 20/20/30/15 mm, Times New Roman, the two-column borderless header with the national
motto and its rule, "Số: …/BC-…", the italic place and date, the bold title and summary,
page numbers centred at the top from page 2, the signature block and "Nơi nhận:".

Placeholders are Jinja (docxtpl): ``{{ f.NQ05_DISBURSED }}`` for a figure,
``{{p n.leadership }}`` for a narrative section, ``{%p for … %}`` for repeated paragraphs.
The page /bao-cao/mau/bien/ documents every variable. An officer downloads a template,
edits it in Word (wording, order, styles) and uploads it as a new version for their unit.

``tiendo report templates --out DIR`` writes the shipped templates to DIR.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tiendo.documents.models import TemplateKind

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 13
MOTTO_TOP_PT = 12
RECIPIENTS_TITLE_PT = 12
RECIPIENTS_PT = 11
TEXT_WIDTH_MM = 210 - 30 - 15

# Paragraph style ids used by the templates and by the renderer's narrative and annex
# blocks (which refer to them by id, so an officer who restyles them restyles both).
BODY_STYLE = "TiendoBody"
HEADING_STYLE = "TiendoHeading"
SUBHEADING_STYLE = "TiendoSubheading"
CENTRED_STYLE = "TiendoCentred"
TABLE_STYLE = "TiendoTable"


@dataclass(frozen=True)
class Block:
    """One paragraph of a template body.

    ``kind``: ``h1`` (bold heading), ``h2`` (bold italic sub-heading), ``p`` (justified body
    with a first-line indent), ``c`` (centred bold), ``tag`` (a paragraph-level Jinja tag such
    as ``{%p if … %}``, which docxtpl removes with its paragraph), ``n`` (a narrative
    section: ``{{p n.KEY }}``).
    """

    kind: str
    text: str


# h1("2. Kết quả") is Block("h1", "2. Kết quả"): one constructor per kind.
h1, h2, p, c, tag, n = (partial(Block, kind) for kind in ("h1", "h2", "p", "c", "tag", "n"))


def n_if(key):
    """A narrative section printed only when some unit wrote under ``key``."""
    return [tag(f"{{%p if n.has('{key}') %}}"), n(key), tag("{%p endif %}")]


# --- the programme results report, in the shape of seed 000 ---------------------------------

GENERIC_RESULTS = [
    h2("2.2. Kết quả tổng quan"),
    n("overall"),
    h2("2.3. Kết quả từng nghị quyết, nội dung"),
    tag("{%p for prog in programmes %}"),
    p("- Kết quả triển khai {{ prog.short_name }}"),
    tag("{%p for x in prog.figures %}"),
    p(
        "+ {{ x.name }}: {{ x.with_unit }}{% if x.cell.target %} (đạt {{ x.achieved(1) }}"
        " kế hoạch){% endif %}."
    ),
    tag("{%p endfor %}"),
    tag("{%p endfor %}"),
    *n_if("results"),
    h2("2.4. Các kết quả khác"),
    n("other_results"),
    h2("2.5. Một số mô hình, cách làm hay"),
    n("good_models"),
]


def programme_results_body(results: Iterable[Block] = GENERIC_RESULTS) -> list[Block]:
    return [
        tag("{%p if header.basis %}"),
        p("{{ header.basis }}"),
        tag("{%p endif %}"),
        h1("1. Thuận lợi, khó khăn trong việc triển khai thực hiện"),
        n("advantages_difficulties"),
        h1("2. Kết quả thực hiện"),
        h2("2.1. Công tác lãnh đạo, chỉ đạo, triển khai thực hiện"),
        n("leadership"),
        *results,
        h1("3. Đánh giá chung"),
        *n_if("assessment"),
        h2("3.1. Kết quả đạt được"),
        n("achievements"),
        h2("3.2. Hạn chế, vướng mắc, nguyên nhân"),
        n("limitations"),
        h1("4. Nhiệm vụ trong thời gian tiếp theo"),
        n("tasks"),
        h1("5. Một số đề xuất, kiến nghị"),
        n("proposals"),
        p("Trên đây là {{ header.summary_sentence }}./."),
    ]


# --- an agency's annual report on the NTM programme, in the shape of seed 003 ---------------

AGENCY_NTM_BODY = [
    tag("{%p if header.basis %}"),
    p("{{ header.basis }}"),
    tag("{%p endif %}"),
    c("Phần thứ nhất"),
    c("ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN {{ report.period_label|upper }}"),
    h1(
        "1. Công tác chỉ đạo, hướng dẫn các địa phương, triển khai thực hiện chương trình theo"
        " chức năng, nhiệm vụ quản lý của cơ quan, công tác đỡ đầu, phụ trách các xã"
    ),
    n("direction"),
    h1("2. Kết quả thực hiện các tiêu chí"),
    n("criteria"),
    h1(
        "3. Kết quả đầu tư, hỗ trợ lồng ghép nguồn lực từ các chương trình, dự án thuộc nhiệm"
        " vụ quản lý của cơ quan"
    ),
    n("investment"),
    tag("{%p if f.has('NTM_MOBILISED_SUPPORT') %}"),
    p(
        "Tổng giá trị nguồn lực kêu gọi, hỗ trợ {{ report.period_label }}:"
        " {{ f.NTM_MOBILISED_SUPPORT.with_unit }}."
    ),
    tag("{%p endif %}"),
    h1("4. Kết quả giải ngân vốn sự nghiệp{{ report.allocation_basis }}"),
    p(
        "Phân bổ {{ report.period_label }} là: {{ f.NTM_RECURRENT_ALLOCATED.with_unit }}"
        "{% if f.NTM_RECURRENT_ALLOCATED.breakdown() %}, trong đó"
        " {{ f.NTM_RECURRENT_ALLOCATED.breakdown() }}{% endif %}."
        " Kết quả giải ngân đến {{ f.NTM_RECURRENT_DISBURSED.as_of }} là"
        " {{ f.NTM_RECURRENT_DISBURSED.with_unit }}, đạt"
        " {{ f.NTM_RECURRENT_DISBURSED.percent_of(f.NTM_RECURRENT_ALLOCATED, 1) }}."
        " Ước đến {{ f.NTM_RECURRENT_ESTIMATE.as_of }} là"
        " {{ f.NTM_RECURRENT_ESTIMATE.with_unit }}, đạt"
        " {{ f.NTM_RECURRENT_ESTIMATE.percent_of(f.NTM_RECURRENT_ALLOCATED, 0) }} kế hoạch."
    ),
    *n_if("disbursement"),
    h1("5. Những khó khăn, tồn tại, kiến nghị, đề xuất giải pháp khắc phục"),
    n("difficulties"),
    h1("6. Mục tiêu, nhiệm vụ, giải pháp năm {{ report.next_year }}"),
    *n_if("plans"),
    h2("6.1. Mục tiêu"),
    n("objectives"),
    h2("6.2. Nhiệm vụ và giải pháp"),
    n("solutions"),
    p("Trên đây là {{ header.summary_sentence }}. {{ report.unit_name }} báo cáo./."),
]


# --- a report made of the definition's own sections (the default answer to a letter) -------

SECTIONS_BODY = [
    tag("{%p if header.basis %}"),
    p("{{ header.basis }}"),
    tag("{%p endif %}"),
    tag("{%p for s in sections %}"),
    h1("{{ s.number }}. {{ s.heading }}"),
    p("{{p s.body }}"),
    tag("{%p endfor %}"),
    p("Trên đây là {{ header.summary_sentence }}./."),
]


# --- building -------------------------------------------------------------------------------


def _set_run_font(run, size=None, bold=None, italic=None):
    run.font.name = FONT
    _font_for_every_script(run._r.get_or_add_rPr())
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if italic is not None:
        run.font.italic = italic


def _style_fonts(style, size, bold=False, italic=False):
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    _font_for_every_script(style.element.get_or_add_rPr())


def _font_for_every_script(rpr) -> None:
    """FONT in each of Word's per-script font slots, so no letter falls back to another."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _add_paragraph_style(doc, style_id, name, size, *, bold=False, italic=False, align=None):
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), style_id)
    style.base_style = doc.styles["Normal"]
    _style_fonts(style, size, bold, italic)
    fmt = style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(6)
    fmt.line_spacing = 1.15
    if align is not None:
        fmt.alignment = align
    return style


def _body_style(doc):
    body = _add_paragraph_style(
        doc, BODY_STYLE, "Tiendo Body", BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY
    )
    body.paragraph_format.first_line_indent = Mm(10)


def _heading_style(doc):
    heading = _add_paragraph_style(
        doc, HEADING_STYLE, "Tiendo Heading", BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY
    )
    heading.paragraph_format.first_line_indent = Mm(10)
    heading.paragraph_format.keep_with_next = True


def _subheading_style(doc):
    sub = _add_paragraph_style(
        doc,
        SUBHEADING_STYLE,
        "Tiendo Subheading",
        BODY_PT,
        bold=True,
        italic=True,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    sub.paragraph_format.first_line_indent = Mm(10)
    sub.paragraph_format.keep_with_next = True


def _centred_style(doc):
    centred = _add_paragraph_style(
        doc, CENTRED_STYLE, "Tiendo Centred", BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    centred.paragraph_format.keep_with_next = True


def _table_style(doc):
    table = _add_paragraph_style(doc, TABLE_STYLE, "Tiendo Table", RECIPIENTS_PT)
    table.paragraph_format.space_after = Pt(0)
    table.paragraph_format.line_spacing = 1.0


PARAGRAPH_STYLES = {
    BODY_STYLE: _body_style,
    HEADING_STYLE: _heading_style,
    SUBHEADING_STYLE: _subheading_style,
    CENTRED_STYLE: _centred_style,
    TABLE_STYLE: _table_style,
}


def ensure_styles(doc) -> list[str]:
    """Add the paragraph styles the renderer refers to by id when a template lacks them.

    An officer's template written from scratch may not have them, and LibreOffice lays out
    the cells of a table whose paragraphs name a missing style as loose paragraphs.
    Returns the ids added.
    """
    present = {style.style_id for style in doc.styles}
    added = []
    for style_id, add in PARAGRAPH_STYLES.items():
        if style_id not in present:
            add(doc)
            added.append(style_id)
    return added


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    _style_fonts(normal, BODY_PT)
    normal.paragraph_format.space_after = Pt(0)
    for add in PARAGRAPH_STYLES.values():
        add(doc)


def _page_setup(section) -> None:
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    section.top_margin = Mm(20)
    section.bottom_margin = Mm(20)
    section.left_margin = Mm(30)
    section.right_margin = Mm(15)
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def _page_number_header(section) -> None:
    """Page number centred in the top margin, not on the first page."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _set_run_font(run, HEADER_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2")):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text.strip() == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)
    first = section.first_page_header.paragraphs[0]
    first.text = ""


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _fixed_widths(table, widths_mm) -> None:
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    # Narrow cell margins: the motto line needs almost the whole column.
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        m = OxmlElement(f"w:{side}")
        m.set(qn("w:w"), str(int(Mm(1).twips)))
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    table._tbl.tblPr.append(margins)


def _cell_paragraph(cell, text, size, *, bold=False, italic=False, first=False, align="center"):
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
    }[align]
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    if text:
        _set_run_font(paragraph.add_run(text), size, bold, italic)
    return paragraph


def _rule(paragraph, width_mm, column_mm) -> None:
    """A horizontal rule ``width_mm`` long, centred in a ``column_mm`` wide column."""
    side = max((column_mm - width_mm) / 2, 0)
    paragraph.paragraph_format.left_indent = Mm(side)
    paragraph.paragraph_format.right_indent = Mm(side)
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    top.set(qn("w:val"), "single")
    top.set(qn("w:sz"), "6")
    top.set(qn("w:space"), "1")
    top.set(qn("w:color"), "000000")
    borders.append(top)
    p_pr.append(borders)
    run = paragraph.add_run()
    _set_run_font(run, 4)


LEFT_MM, RIGHT_MM = 62, TEXT_WIDTH_MM - 62


def _header_table(doc) -> None:
    table = doc.add_table(rows=1, cols=2)
    _fixed_widths(table, [LEFT_MM, RIGHT_MM])
    _no_borders(table)
    left, right = table.rows[0].cells
    _cell_paragraph(left, "{%p if header.parent_agency %}", HEADER_PT, first=True)
    _cell_paragraph(left, "{{ header.parent_agency }}", HEADER_PT)
    _cell_paragraph(left, "{%p endif %}", HEADER_PT)
    _cell_paragraph(left, "{{ header.issuing_agency }}", HEADER_PT, bold=True)
    _rule(_cell_paragraph(left, "", 4), 22, LEFT_MM)
    number = _cell_paragraph(left, "Số: {{ header.number_symbol }}", HEADER_PT)
    number.paragraph_format.space_before = Pt(4)

    _cell_paragraph(
        right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", MOTTO_TOP_PT, bold=True, first=True
    )
    _cell_paragraph(right, "Độc lập - Tự do - Hạnh phúc", HEADER_PT + 1, bold=True)
    _rule(_cell_paragraph(right, "", 4), 64, RIGHT_MM)
    place = _cell_paragraph(right, "{{ header.place_date }}", HEADER_PT + 1, italic=True)
    place.paragraph_format.space_before = Pt(6)


def _title(doc) -> None:
    title = doc.add_paragraph(style=doc.styles["Tiendo Centred"])
    title.paragraph_format.space_before = Pt(18)
    title.paragraph_format.space_after = Pt(0)
    _set_run_font(title.add_run("{{ header.title }}"), BODY_PT, bold=True)
    summary = doc.add_paragraph(style=doc.styles["Tiendo Centred"])
    summary.paragraph_format.space_after = Pt(0)
    summary.paragraph_format.left_indent = Mm(10)
    summary.paragraph_format.right_indent = Mm(10)
    _set_run_font(summary.add_run("{{ header.summary }}"), BODY_PT, bold=True)
    rule = doc.add_paragraph()
    rule.paragraph_format.space_after = Pt(12)
    _rule(rule, 40, TEXT_WIDTH_MM)


STYLE_NAMES = {
    "h1": "Tiendo Heading",
    "h2": "Tiendo Subheading",
    "p": "Tiendo Body",
    "c": "Tiendo Centred",
    "tag": "Tiendo Body",
    "n": "Tiendo Body",
}


def _body(doc, blocks: Iterable[Block]) -> None:
    for block in blocks:
        paragraph = doc.add_paragraph(style=doc.styles[STYLE_NAMES[block.kind]])
        text = f"{{{{p n.{block.text} }}}}" if block.kind == "n" else block.text
        paragraph.add_run(text)


def _signature(doc) -> None:
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_after = Pt(6)
    table = doc.add_table(rows=1, cols=2)
    widths = [80, TEXT_WIDTH_MM - 80]
    _fixed_widths(table, widths)
    _no_borders(table)
    left, right = table.rows[0].cells
    _cell_paragraph(
        left, "Nơi nhận:", RECIPIENTS_TITLE_PT, bold=True, italic=True, first=True, align="left"
    )
    _cell_paragraph(left, "{%p for r in header.recipients %}", RECIPIENTS_PT, align="left")
    _cell_paragraph(left, "- {{ r }}", RECIPIENTS_PT, align="left")
    _cell_paragraph(left, "{%p endfor %}", RECIPIENTS_PT, align="left")

    _cell_paragraph(right, "{{ header.capacity_line }}", BODY_PT, bold=True, first=True)
    _cell_paragraph(right, "{%p if header.signer_title %}", BODY_PT)
    _cell_paragraph(right, "{{ header.signer_title }}", BODY_PT, bold=True)
    _cell_paragraph(right, "{%p endif %}", BODY_PT)
    for _ in range(4):
        _cell_paragraph(right, "", BODY_PT)
    _cell_paragraph(right, "{{ header.signer_name }}", BODY_PT, bold=True)


def _annex_section(doc) -> None:
    """A landscape section for the annex tables, numbered on."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin = Mm(20)
    section.bottom_margin = Mm(20)
    section.left_margin = Mm(20)
    section.right_margin = Mm(15)
    section.different_first_page_header_footer = False
    heading = doc.add_paragraph(style=doc.styles["Tiendo Centred"])
    heading.add_run("PHỤ LỤC")
    sub = doc.add_paragraph(style=doc.styles["Tiendo Centred"])
    _set_run_font(
        sub.add_run("(Kèm theo Báo cáo số {{ header.number_symbol }} {{ header.date_long }})"),
        HEADER_PT,
        bold=False,
        italic=True,
    )
    doc.add_paragraph(style=doc.styles["Tiendo Body"]).add_run("{{p annexes }}")


def build_template(blocks: Iterable[Block], *, annexes: bool = False, title: str = "") -> bytes:
    doc = Document()
    _styles(doc)
    section = doc.sections[0]
    _page_setup(section)
    _page_number_header(section)
    _header_table(doc)
    _title(doc)
    _body(doc, blocks)
    _signature(doc)
    if annexes:
        _annex_section(doc)
    props = doc.core_properties
    props.title = title
    props.author = "Tiến Độ"
    props.created = props.modified = datetime(2026, 1, 1)
    props.last_modified_by = "Tiến Độ"
    props.revision = 1
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Shipped:
    kind: str
    name: str
    build: callable


SHIPPED = [
    Shipped(
        TemplateKind.PROGRAMME_RESULTS,
        "Báo cáo kết quả thực hiện chương trình, nghị quyết",
        lambda: build_template(
            programme_results_body(), annexes=True, title="Báo cáo kết quả thực hiện"
        ),
    ),
    Shipped(
        TemplateKind.AGENCY_NTM_ANNUAL,
        "Báo cáo năm của cơ quan, đơn vị về Chương trình MTQG xây dựng nông thôn mới",
        lambda: build_template(AGENCY_NTM_BODY, title="Báo cáo kết quả thực hiện Chương trình NTM"),
    ),
    Shipped(
        TemplateKind.SECTIONS,
        "Báo cáo theo các mục, kèm phụ lục",
        lambda: build_template(SECTIONS_BODY, annexes=True, title="Báo cáo"),
    ),
]


def content_digest(data: bytes) -> str:
    """sha256 of the parts of a .docx, ignoring the zip's own timestamps."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            digest.update(name.encode())
            digest.update(archive.read(name))
    return digest.hexdigest()


def write_shipped(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for shipped in SHIPPED:
        path = directory / f"{shipped.kind}.docx"
        path.write_bytes(shipped.build())
        paths.append(path)
    return paths
