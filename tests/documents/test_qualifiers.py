"""A qualified figure ("khoảng 334") is printed with its word by the Word documents: in the
text, and in the annex tables — its own row and the total it is part of."""

import io

import pytest
from docx import Document

from tiendo.data.models import DataValue
from tiendo.data.services import Entry, computed_write, save_value
from tiendo.documents.models import ReportDefinition
from tiendo.documents.services import generate

pytestmark = pytest.mark.slow

HG = "hagiang-nq04-nq05-2022"


def annex_of(doc, unit_name: str) -> tuple[list[str], list[str]]:
    """The row of a unit in the annex tables, and the total row of its table."""
    for table in doc.tables:
        if table.rows[0].cells[0].text != "STT":
            continue
        rows = [[c.text for c in row.cells] for row in table.rows]
        for cells in rows:
            if cells[1] == unit_name:
                return cells, rows[-1]
    raise AssertionError(unit_name)


def test_a_qualified_value_is_printed_with_its_word_in_the_text_and_the_annexes(demo_db):
    definition = ReportDefinition.objects.get(slug=HG)
    stored = (
        DataValue.objects.filter(indicator__code="NQ05_DISBURSED", category="")
        .select_related("indicator", "unit")
        .order_by("-value")
        .first()
    )
    # the demo's disbursements come from its loans register; the qualifier is written as a
    # figure of the engine would be (the documents do not care who wrote it)
    with computed_write():
        save_value(
            Entry(stored.indicator, stored.unit, stored.period, stored.value, qualifier="about")
        )
    doc = Document(io.BytesIO(bytes(generate(definition, "docx").content)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "khoảng 66.992 triệu đồng" in text  # the total it is part of
    assert "khoảng khoảng" not in text
    commune, total = annex_of(doc, stored.unit.name)
    assert any(cell.startswith("khoảng ") for cell in commune), commune
    assert total[1] == "Tổng cộng" and "khoảng 66.992" in total
