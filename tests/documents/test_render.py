"""The two demo reports rendered from the data: figures, structure, header and layout."""

import io
import re
import shutil
import subprocess

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from tiendo.documents.models import GeneratedDocument, ReportDefinition, ReportTemplate
from tiendo.documents.services import generate, render_bytes, upload_template

pytestmark = pytest.mark.slow

HG = "hagiang-nq04-nq05-2022"
QT = "quangtri-lmhtx-ntm-2020"

# Every figure of shared/seeds/FIGURES.md for seed 000, as the report must write it.
SEED_000_FIGURES = [
    "4.757 hộ",
    "2.441 hộ",
    "10 - 15 triệu đồng/năm",
    "39,7 triệu đồng/ha",
    "gấp 2,2 lần",
    "4 sản phẩm",
    "66.992 triệu đồng",
    "1.032 hộ/30.355 triệu đồng",
    "1.242 hộ/36.637 triệu đồng",
    "5.128 triệu đồng",
    "234,9 ha",
    "2.326 hộ/2,6 ha",
    "1.935 vườn",
    "36.362 triệu đồng",
    "gấp 2 - 3 lần",
    "18,8 triệu đồng/hộ/năm",
    "2.274 người",
    "17.286 triệu đồng (đạt 98,45% kế hoạch)",
    "167 hộ/292,9 ha (đạt 48,8% so với chỉ tiêu giai đoạn 2021 - 2025)",
    "từ 18 triệu đồng lên 82 triệu đồng/ha",
    "khoảng 334 người",
    "406 lớp/33.973 lượt người",
    "300 - 500 tấn",
    "8,5 ha",
    "7 ha",
    "9 xã, thị trấn",
]

SEED_003_FIGURES = [
    "500 triệu đồng",
    "Phân bổ năm 2020 là: 400 triệu đồng",
    "đào tạo, tập huấn 200 triệu đồng, xúc tiến thương mại 200 triệu đồng",
    "đến 31/10/2020 là 197,3 triệu đồng, đạt 49,3%",
    "đến 31/12/2020 là 400 triệu đồng, đạt 100% kế hoạch",
]


def docx_of(document) -> Document:
    return Document(io.BytesIO(bytes(document.content)))


def body_text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def all_text(doc) -> str:
    parts = [body_text(doc)]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
    return "\n".join(parts)


def test_the_programme_report_carries_every_seed_figure(demo_db, rendered):
    text = body_text(docx_of(rendered[HG]))
    missing = [figure for figure in SEED_000_FIGURES if figure not in text]
    assert missing == []
    assert "tăng 20,7% so với năm 2021" in text  # computed: 36.637 on 30.355
    assert "{{" not in text and "{%" not in text


def test_the_programme_report_follows_the_sections_of_seed_000(demo_db, rendered):
    doc = docx_of(rendered[HG])
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Tiendo Heading")]
    headings += [p.text for p in doc.paragraphs if p.style.name == "Tiendo Subheading"]
    order = [
        "1. Thuận lợi, khó khăn",
        "2. Kết quả thực hiện",
        "2.1. Công tác lãnh đạo, chỉ đạo",
        "2.2. Kết quả tổng quan",
        "2.3. Kết quả từng nội dung",
        "2.4. Một số mô hình, cách làm hay",
        "3. Đánh giá chung",
        "3.1. Kết quả đạt được",
        "3.2. Hạn chế, vướng mắc, nguyên nhân",
        "4. Nhiệm vụ trong thời gian tiếp theo",
        "5. Một số đề xuất, kiến nghị",
    ]
    text = body_text(doc)
    positions = [text.find(title) for title in order]
    assert -1 not in positions and positions == sorted(positions)
    assert all(any(h.startswith(title) for h in headings) for title in order)
    # narrative from the seed, and the districts it names
    for district in ["Vị Xuyên", "Bắc Quang", "Yên Minh", "Hoàng Su Phì", "Bắc Mê", "Đồng Văn"]:
        assert district in text
    assert "BÁO CÁO TÓM TẮT" in text


def test_the_programme_report_has_annex_tables_by_unit(demo_db, rendered):
    doc = docx_of(rendered[HG])
    annex_tables = [t for t in doc.tables if t.rows[0].cells[0].text == "STT"]
    assert len(annex_tables) == 2
    districts, communes = annex_tables
    assert [c.text for c in districts.rows[1].cells[-3:]] == ["Kế hoạch", "Thực hiện", "% đạt"]
    total = districts.rows[-1].cells
    assert total[1].text == "Tổng cộng" and total[-2].text == "17.286"
    assert total[-1].text == "98,5%"  # 17.286 / 17.558 at one decimal
    assert communes.rows[-1].cells[-3].text == "66.992"
    assert len(communes.rows) > 60  # one row per commune with data, plus headers and total
    assert doc.sections[-1].page_width > doc.sections[-1].page_height  # landscape annex


def _paragraphs_printed_twice(doc) -> list[str]:
    seen, twice = set(), []
    for paragraph in doc.paragraphs:
        text = " ".join(paragraph.text.split())
        if len(text) > 30 and text in seen:
            twice.append(text)
        seen.add(text)
    return twice


def test_the_programme_report_takes_its_narrative_from_the_approved_submissions(demo_db, rendered):
    doc = docx_of(rendered[HG])
    text = body_text(doc)
    # the province's own text (seed 000, as the officer typed it), not attributed
    assert "quán triệt Nghị quyết, nhất là ở cấp cơ sở" in text
    assert "Tỉnh Hà Giang:" not in text
    # the districts' text, merged under the sections and attributed
    assert "Huyện Vị Xuyên: Thuận lợi: cấp ủy, chính quyền các xã vùng cam" in text
    assert "Huyện Xín Mần: Đề nghị tỉnh hỗ trợ xây dựng kho lạnh" in text
    assert text.index("Huyện Xín Mần: Đề nghị") > text.index("5. Một số đề xuất")
    # the results the template writes from the data are not printed a second time
    assert _paragraphs_printed_twice(doc) == []
    assert text.count("Nguồn vốn giải ngân 66.992") == 1
    snapshot = rendered[HG].snapshot
    assert snapshot["request"]["number_symbol"] == "25/BCĐ-NQ"
    parts = snapshot["narrative"]["parts"]
    own = [p for p in parts if p["own"]]
    assert {p["approved_by"] for p in own} == {"Đỗ Văn Trưởng Ban (truongban.hagiang)"}
    assert {p["section"] for p in snapshot["narrative"]["from_data"]} == {"2.2", "2.3"}
    assert snapshot["narrative"]["unplaced"] == []
    units = {p["unit_name"] for p in parts if not p["own"]}
    assert units == {"Huyện Vị Xuyên", "Huyện Xín Mần"}


def test_the_agency_report_takes_its_narrative_from_the_alliances_submission(demo_db, rendered):
    doc = docx_of(rendered[QT])
    text = body_text(doc)
    definition = ReportDefinition.objects.get(slug=QT)
    assert definition.request.number_symbol == "228/VPĐP-NTM"
    # seed 003 as the Alliance typed it (a line broken in mid-sentence joined again)
    assert "Liên minh HTX tinh đã chủ động phối hợp" in text
    assert "tập trung quy mô lớn còn bách cập" in text
    assert "Hình thành các Liên hiệp HTX" in text
    assert text.count("Phân bổ năm 2020 là") == 1  # written from the data only
    assert _paragraphs_printed_twice(doc) == []
    narrative = rendered[QT].snapshot["narrative"]
    [alliance] = [s for s in narrative["submissions"] if s["counted"]]
    assert alliance["unit"] == "45.LMHTX" and alliance["state"] == "approved"
    assert alliance["approved_by"] == "Phạm Văn Điều Phối (vpdp.quangtri)"
    assert alliance["approved_at"].startswith("2020-11-18T14:00")


def test_a_district_renders_its_own_report_from_its_submission(demo_db):
    from tiendo.documents.services import generate_for_submission
    from tiendo.reporting.models import Submission

    submission = Submission.objects.get(
        request__number_symbol="25/BCĐ-NQ", unit__name="Huyện Vị Xuyên"
    )
    document = generate_for_submission(submission, "docx")
    doc = docx_of(document)
    text = body_text(doc)
    assert "Thuận lợi: cấp ủy, chính quyền các xã vùng cam" in text
    assert "Huyện Vị Xuyên:" not in text and "Huyện Xín Mần" not in text
    assert "quán triệt Nghị quyết, nhất là ở cấp cơ sở" not in text  # the province's text
    header = doc.tables[0].rows[0].cells[0].text
    assert "ỦY BAN NHÂN DÂN HUYỆN VỊ XUYÊN" in header and "/BC-UBND" in header
    figures = {f["indicator"]: f for f in document.snapshot["figures"]}
    assert figures["NQ05_DISBURSED"]["unit_name"] == "Huyện Vị Xuyên"
    province = next(f for f in rendered_province_figures() if f["indicator"] == "NQ05_DISBURSED")
    assert float(figures["NQ05_DISBURSED"]["value"]) < float(province["value"])
    annexes = document.snapshot["annexes"]
    assert [a["level"] for a in annexes] == ["commune"]
    assert {r["unit_name"] for r in annexes[0]["rows"][-1:]} == {"Huyện Vị Xuyên"}
    assert document.template.unit.code == "02"  # Hà Giang's template serves its districts


def rendered_province_figures():
    return GeneratedDocument.objects.filter(definition__slug=HG).latest("pk").snapshot["figures"]


def test_the_agency_report_has_the_header_signature_and_recipients_of_seed_003(demo_db, rendered):
    doc = docx_of(rendered[QT])
    header, signature = doc.tables[0], doc.tables[-1]
    left, right = header.rows[0].cells
    assert "LIÊN MINH HỢP TÁC XÃ TỈNH QUẢNG TRỊ" in left.text
    assert "Số:" in left.text and "/BC-LMHTX" in left.text
    assert right.paragraphs[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert right.paragraphs[1].text == "Độc lập - Tự do - Hạnh phúc"
    place = next(p for p in right.paragraphs if p.text.startswith("Quảng Trị"))
    assert place.text == "Quảng Trị, ngày 16 tháng 11 năm 2020"
    assert all(run.italic for run in place.runs if run.text)
    recipients, signer = signature.rows[0].cells
    assert [p.text for p in recipients.paragraphs if p.text] == [
        "Nơi nhận:",
        "- VPĐP nông thôn mới;",
        "- Lưu: VT.",
    ]
    lines = [p.text for p in signer.paragraphs if p.text]
    assert lines[0] == "TM. LIÊN MINH HỢP TÁC XÃ" and lines[-1] == "Cấp Kim Thành"
    text = body_text(doc)
    assert "BÁO CÁO" in text
    assert "Kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2020" in text
    assert "Thực hiện Công văn số 228/VPĐP-NTM ngày 09/11/2020" in text


def test_the_agency_report_carries_its_figures_and_sections(demo_db, rendered):
    text = body_text(docx_of(rendered[QT]))
    assert [f for f in SEED_003_FIGURES if f not in text] == []
    order = [
        "Phần thứ nhất",
        "ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN NĂM 2020",
        "1. Công tác chỉ đạo, hướng dẫn",
        "2. Kết quả thực hiện các tiêu chí",
        "Không được phân công.",
        "3. Kết quả đầu tư, hỗ trợ lồng ghép",
        "4. Kết quả giải ngân vốn sự nghiệp tại Quyết định 3771/QĐ-UBND ngày 31/12/2019",
        "5. Những khó khăn, tồn tại, kiến nghị",
        "6. Mục tiêu, nhiệm vụ, giải pháp năm 2021",
        "6.1. Mục tiêu",
        "6.2. Nhiệm vụ và giải pháp",
        "Liên minh Hợp tác xã tỉnh Quảng Trị báo cáo./.",
    ]
    positions = [text.find(title) for title in order]
    assert -1 not in positions and positions == sorted(positions)


def _fonts(run_or_style) -> set[str]:
    rpr = run_or_style.element.rPr if hasattr(run_or_style, "element") else None
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    return (
        {fonts.get(qn(a)) for a in ("w:ascii", "w:hAnsi", "w:cs")} if fonts is not None else set()
    )


def test_the_layout_follows_decree_30(demo_db, rendered):
    doc = docx_of(rendered[QT])
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert 20 <= round(section.top_margin.mm) <= 25 and 20 <= round(section.bottom_margin.mm) <= 25
    assert 30 <= round(section.left_margin.mm) <= 35
    assert 15 <= round(section.right_margin.mm) <= 20
    # fonts: Times New Roman everywhere, body 13-14 pt
    for name in ("Normal", "Tiendo Body", "Tiendo Heading"):
        style = doc.styles[name]
        assert style.font.name == "Times New Roman"
        assert _fonts(style) == {"Times New Roman"}
        assert Pt(13) <= style.font.size <= Pt(14)
    body = [p for p in doc.paragraphs if p.style.name == "Tiendo Body" and p.text]
    assert len(body) > 20
    # header table: two columns, no borders, capitals in the right sizes
    header = doc.tables[0]
    assert len(header.columns) == 2
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}
    left, right = header.rows[0].cells
    agency = next(p for p in left.paragraphs if "LIÊN MINH" in p.text)
    assert all(r.bold and Pt(12) <= r.font.size <= Pt(13) for r in agency.runs if r.text)
    motto_top, motto = right.paragraphs[0], right.paragraphs[1]
    assert all(r.bold and Pt(12) <= r.font.size <= Pt(13) for r in motto_top.runs if r.text)
    assert all(r.bold and Pt(13) <= r.font.size <= Pt(14) for r in motto.runs if r.text)
    rule = right.paragraphs[2]._p.pPr.find(qn("w:pBdr"))
    assert rule is not None and rule.find(qn("w:top")).get(qn("w:val")) == "single"
    # title and summary bold, centred
    title = next(p for p in doc.paragraphs if p.text == "BÁO CÁO")
    assert all(r.bold for r in title.runs if r.text)
    # page numbers: centred in the header from page 2, none on page 1
    assert section.different_first_page_header_footer
    instr = " ".join(t.text for t in section.header._element.iter(qn("w:instrText")))
    assert "PAGE" in instr
    assert section.header.paragraphs[0].alignment == 1  # centre
    assert not list(section.first_page_header._element.iter(qn("w:instrText")))
    # "Nơi nhận:" 12 pt bold italic, the list 11 pt
    recipients = doc.tables[-1].rows[0].cells[0].paragraphs
    heading = recipients[0].runs[0]
    assert heading.bold and heading.italic and heading.font.size == Pt(12)
    assert all(r.font.size == Pt(11) for p in recipients[1:] for r in p.runs if r.text)


def test_an_officers_edited_template_still_renders(demo_db):
    definition = ReportDefinition.objects.get(slug=QT)
    template = ReportTemplate.objects.get(kind=definition.kind, unit__isnull=True, active=True)
    doc = Document(io.BytesIO(bytes(template.content)))
    paragraphs = doc.paragraphs
    # move the "6." heading and its two sub-sections before section 5
    five = next(p for p in paragraphs if p.text.startswith("5. Những khó khăn"))
    six = next(p for p in paragraphs if p.text.startswith("6. Mục tiêu"))
    five._p.addprevious(six._p)
    # change wording, keeping the placeholders
    for p in doc.paragraphs:
        if p.text.startswith("Phân bổ {{ report.period_label }} là:"):
            p.runs[0].text = p.runs[0].text.replace("Phân bổ", "Vốn được giao")
        if p.text == "Phần thứ nhất":
            p.runs[0].text = "PHẦN I"
    edited = io.BytesIO()
    doc.save(edited)
    upload_template(
        user=None,
        unit=definition.unit,
        kind=definition.kind,
        data=edited.getvalue(),
        name="Mẫu Liên minh HTX sửa",
    )
    content, snapshot, used = render_bytes(definition, "docx")
    assert used.unit_id == definition.unit_id and used.version == 1
    text = body_text(Document(io.BytesIO(content)))
    assert "Vốn được giao năm 2020 là: 400 triệu đồng" in text
    assert "PHẦN I" in text and "Phần thứ nhất" not in text
    assert text.find("6. Mục tiêu") < text.find("5. Những khó khăn")
    assert "197,3 triệu đồng" in text


def test_a_template_with_a_broken_placeholder_is_refused(demo_db):
    from tiendo.documents.services import TemplateUploadError

    definition = ReportDefinition.objects.get(slug=QT)
    template = ReportTemplate.objects.get(kind=definition.kind, unit__isnull=True, active=True)
    doc = Document(io.BytesIO(bytes(template.content)))
    doc.add_paragraph("{{ f.NTM_RECURRENT_ALLOCATED ")
    broken = io.BytesIO()
    doc.save(broken)
    before = ReportTemplate.objects.count()
    with pytest.raises(TemplateUploadError) as caught:
        upload_template(
            user=None, unit=definition.unit, kind=definition.kind, data=broken.getvalue(), name="x"
        )
    assert caught.value.code == "template.bad_placeholders"
    assert ReportTemplate.objects.count() == before


def test_the_stored_document_is_the_rendered_file_with_its_data(demo_db, rendered):
    document = GeneratedDocument.objects.get(pk=rendered[QT].pk)
    import hashlib

    assert hashlib.sha256(bytes(document.content)).hexdigest() == document.sha256
    figures = {f["indicator"]: f for f in document.snapshot["figures"]}
    disbursed = figures["NTM_RECURRENT_DISBURSED"]
    assert disbursed["text"] == "197,3" and disbursed["as_of"] == "2020-10-31"
    sources = document.snapshot["sources"]
    ids = sources["by_figure"][disbursed["key"]]
    values = [sources["values"][str(i)] for i in ids]
    assert {v["unit"] for v in values} == {"45.LMHTX"}
    assert sorted(v["value"] for v in values) == ["0", "197.3"]
    # a computed figure traces to the operands it was computed from
    rate_key = next(k for k in sources["by_figure"] if k.startswith("NTM_RECURRENT_ALLOCATED@"))
    assert len(sources["by_figure"][rate_key]) == 2


def test_a_period_is_aggregated_once_per_rendering(demo_db):
    from tiendo.documents.render import base_context, prepare

    data = prepare(ReportDefinition.objects.get(slug=HG))
    context = base_context(data)
    fy = context["fy"]
    # fy[2022].NQ05_DISBURSED.change() reads 2021: the same set as fy[2021], not a second pass
    assert fy[2022].previous is fy[2021]
    assert fy["2021-2025"] is context["f"] is data.main
    assert context["fp"] is fy["2016-2020"]
    assert str(fy[2022].NQ05_DISBURSED.change(1)).startswith(("tăng", "giảm", "bằng"))


def test_sources_are_collected_per_unit_and_period_not_per_figure(
    demo_db, rendered, django_assert_max_num_queries
):
    from tiendo.documents.services import collect_sources

    document = GeneratedDocument.objects.get(pk=rendered[HG].pk)
    figures = document.snapshot["figures"]
    groups = {(f["unit_id"], f["period"]) for f in figures}
    formulas = {f["indicator"] for f in figures if f["formula"]}
    assert len(groups) + len(formulas) + 1 < len(figures)
    # one query for the indicators and one for the units, one per formula's operands, one
    # per (unit, period), and where a cumulative figure is among them three to pick each
    # unit's latest value (the Aggregator's query, the ceased units' links, their successors')
    with django_assert_max_num_queries(2 + len(formulas) + 4 * len(groups)):
        sources = collect_sources(figures)
    assert sources == document.snapshot["sources"]


def test_the_excel_annex_stores_numbers_with_formats(demo_db):
    definition = ReportDefinition.objects.get(slug=HG)
    document = generate(definition, "xlsx")
    book = load_workbook(io.BytesIO(bytes(document.content)))
    assert book.sheetnames == ["Tổng hợp", "Phụ lục 1", "Phụ lục 2"]
    sheet = book["Phụ lục 1"]
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.print_title_rows == "$5:$6"
    last = sheet.max_row
    assert sheet.cell(last, 2).value == "Tổng cộng"
    plan, actual, percent = (sheet.cell(last, c) for c in (3, 4, 5))
    assert (plan.value, actual.value) == (17558, 17286)
    assert isinstance(actual.value, (int, float)) and actual.number_format == "#,##0"
    assert percent.number_format == "0.0%" and round(percent.value, 4) == 0.9845
    communes = book["Phụ lục 2"]
    area = communes.cell(communes.max_row, 5)
    assert area.value == pytest.approx(234.9) and area.number_format == "#,##0.0"


def _soffice():
    path = shutil.which("soffice")
    assert path, (
        "LibreOffice (soffice) không có trên máy: cài libreoffice-writer-nogui, "
        "fonts-liberation2 và poppler-utils (apt-get install -y --no-install-recommends ...)."
    )
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "Thiếu poppler-utils."


def test_the_pdf_shows_the_text_with_its_diacritics(demo_db, tmp_path):
    _soffice()
    document = generate(ReportDefinition.objects.get(slug=HG), "pdf")
    pdf = tmp_path / "hg.pdf"
    pdf.write_bytes(bytes(document.content))
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    for expected in ["Hà Giang", "nông thôn mới", "66.992", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]:
        assert expected in flat
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 2 and all(p.stat().st_size > 5000 for p in pages)
    # the annex runs over several pages, each with the table's header rows
    commune_pages = [p for p in text.split("\f") if re.search(r"Xã .* Huyện ", p)]
    assert len(commune_pages) >= 2
    assert all("STT" in p and "Trực thuộc" in p for p in commune_pages)


def test_parallel_pdf_conversions_do_not_collide(demo_db):
    from concurrent.futures import ThreadPoolExecutor

    from tiendo.documents.pdf import docx_to_pdf

    _soffice()
    definition = ReportDefinition.objects.get(slug=QT)
    docx, _, _ = render_bytes(definition, "docx")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: docx_to_pdf(docx), range(3)))
    assert all(r.startswith(b"%PDF") for r in results)


def test_without_libreoffice_the_message_says_what_to_install(settings):
    from tiendo.documents.pdf import PdfError, docx_to_pdf

    settings.SOFFICE_PATH = "/nonexistent/soffice"
    with pytest.raises(PdfError) as caught:
        docx_to_pdf(b"PK")
    assert caught.value.code == "pdf.no_libreoffice"
    assert "libreoffice-writer-nogui" in str(caught.value)


def test_the_benchmark_renders_a_provincial_report_with_every_commune(demo_db):
    from bench.documents import bench_render

    _soffice()
    timings = bench_render()
    assert timings["communes"] > 150  # every commune of old Hà Giang, data or not
    assert timings["docx_bytes"] > 0 and timings["pdf_bytes"] > 0
    assert {"compute_s", "docx_s", "pdf_s"} <= set(timings)
    assert not ReportDefinition.objects.filter(slug="bench-provincial-report").exists()
