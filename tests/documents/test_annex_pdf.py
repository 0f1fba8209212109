"""Annex tables that run over several pages repeat their header rows in the PDF."""

import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Mm

from tiendo.documents.annex import AnnexCell, AnnexColumn, AnnexRow, AnnexTable
from tiendo.documents.pdf import docx_to_pdf
from tiendo.documents.render import annex_subdoc, jinja_environment, open_template
from tiendo.programmes.models import Indicator
from tiendo.units.models import Unit

pytestmark = pytest.mark.slow


def _table(title, columns, rows=90):
    table = AnnexTable(title, "commune", columns)
    for n in range(1, rows + 1):
        cells = [AnnexCell(Decimal(100 + n), Decimal(90 + n), 0) for _ in columns]
        table.rows.append(AnnexRow(Unit(code=f"{n:05d}", name=f"Xã Số {n}"), "Huyện Thử", cells))
    total = [AnnexCell(Decimal(1000), Decimal(900), 0) for _ in columns]
    table.total = AnnexRow(Unit(code="00", name="Tỉnh"), "", total)
    return table


def _pages(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "annex.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [re.sub(r"\s+", " ", page) for page in text.split("\f") if page.strip()]


def test_the_header_rows_repeat_on_every_page_of_a_long_annex(tmp_path):
    assert shutil.which("soffice") and shutil.which("pdftotext"), (
        "Cần LibreOffice và poppler-utils: apt-get install libreoffice-writer-nogui poppler-utils"
    )
    disbursed = Indicator(code="GN", name="Vốn giải ngân", measure_unit="triệu đồng")
    gardens = Indicator(code="VUON", name="Số vườn cải tạo", measure_unit="vườn")
    with_plan = _table("Giải ngân theo xã", [AnnexColumn(disbursed, "target")])
    actual_only = _table("Vườn theo xã", [AnnexColumn(gardens), AnnexColumn(disbursed)])

    doc = Document()
    section = doc.sections[0]  # landscape A4, as the annex section of the shipped templates
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(20)
    doc.add_paragraph("{{p annexes }}")
    source = io.BytesIO()
    doc.save(source)
    tpl = open_template(source.getvalue())  # a template without the Tiendo styles
    tpl.render({"annexes": annex_subdoc(tpl, [with_plan, actual_only])}, jinja_environment())
    out = io.BytesIO()
    tpl.save(out)

    rendered = Document(io.BytesIO(out.getvalue()))
    first, second = rendered.tables
    # two header rows where a column has plan / actual / %, one where none has
    assert [c.text for c in first.rows[1].cells[-3:]] == ["Kế hoạch", "Thực hiện", "% đạt"]
    assert second.rows[1].cells[0].text == "1"

    pages = _pages(docx_to_pdf(out.getvalue()), tmp_path)
    assert len(pages) >= 4  # 2 × 90 rows: each table runs over at least two pages
    for page in pages:
        assert "STT" in page and "Đơn vị" in page, page[:200]
    plan_pages = [p for p in pages if "Kế hoạch Thực hiện % đạt" in p]
    garden_pages = [p for p in pages if "Số vườn cải tạo (vườn)" in p]
    assert len(plan_pages) >= 2 and len(garden_pages) >= 2
