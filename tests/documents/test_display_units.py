"""Documents write an indicator's figures in its display unit (tỷ đồng for a figure kept
in triệu đồng), exactly, and an annex's plan column by category is the category's target."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.data.services import Entry, save_value
from tiendo.documents.models import TemplateKind
from tiendo.documents.render import prepare
from tiendo.documents.services import create_definition, render_bytes
from tiendo.programmes.models import CategoryOption, Disaggregation, Target


@pytest.fixture
def capital(tree):
    prog = factories.programme("VON", "Vốn")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="NS", name="Ngân sách", order=0)
    CategoryOption.objects.create(disaggregation=source, code="VAY", name="Vốn vay", order=1)
    indicator = factories.indicator(
        prog,
        "VON_GN",
        name="Vốn giải ngân",
        measure_unit="triệu đồng",
        decimals=1,
        display_unit="tỷ đồng",
        display_factor=1000,
        disaggregation=source,
    )
    save_value(Entry(indicator, tree.c1, "2024", D(1500), category="NS"))
    save_value(Entry(indicator, tree.c1, "2024", D("40.5"), category="VAY"))
    for category, value in (("NS", 3000), ("VAY", 100)):
        Target.objects.create(
            indicator=indicator, unit=tree.c1, period="2024", category=category, value=value
        )
    return {"prog": prog, "user": factories.user("vpdp.hg", tree.ha_giang, Role.COORDINATOR)}


def definition(tree, capital, columns):
    spec = {
        "slug": "von-2024",
        "title": "Báo cáo vốn",
        "kind": TemplateKind.SECTIONS,
        "unit": tree.ha_giang,
        "issuing_agency": "UBND tỉnh Hà Giang",
        "symbol": "BC-UBND",
        "place": "Hà Giang",
        "summary": "Vốn năm 2024",
        "signer_name": "A",
        "period": "2024",
        "programmes": [capital["prog"]],
        "sections": [],
        "annexes": [
            {"title": "Vốn theo xã", "rows": "units", "units": ["00001"], "columns": columns}
        ],
    }
    return create_definition(user=capital["user"], spec=spec)


def test_figures_are_written_in_the_display_unit(tree, capital):
    data = prepare(definition(tree, capital, [{"indicator": "VON_GN", "plan": "target"}]))
    figure = data.main["VON_GN"]
    assert figure.with_unit == "1,5405 tỷ đồng"
    assert figure.target == "3,1" and figure.achieved() == "49,7%"
    assert figure.breakdown() == "ngân sách 1,5 tỷ đồng, vốn vay 0,0405 tỷ đồng"
    assert figure.category_target("NS") == "3" and figure.category_achieved("NS") == "50%"
    record = figure.as_record()
    assert (record["value"], record["measure_unit"]) == ("1540.5", "triệu đồng")
    assert (record["text"], record["display_unit"]) == ("1,5405", "tỷ đồng")


def test_an_annex_plan_by_category_is_the_categorys_target(tree, capital):
    columns = [{"indicator": "VON_GN", "plan": "target", "categories": "columns"}]
    [table] = prepare(definition(tree, capital, columns)).annexes
    assert [c.heading for c in table.columns] == [
        "Vốn giải ngân — Ngân sách (tỷ đồng)",
        "Vốn giải ngân — Vốn vay (tỷ đồng)",
    ]
    total = table.total.cells
    assert [(c.plan_text, c.actual_text, c.percent_text) for c in total] == [
        ("3", "1,5", "50%"),
        ("0,1", "0,0405", "40,5%"),
    ]
    sheet = table.sheet(1, title=[])
    figures = [cell.value for cell in sheet.body[-1].cells[2:]]
    assert figures[:2] == [D(3), D("1.5")]  # plan and actual, in tỷ đồng


def test_an_annex_with_a_sub_row_per_category_has_its_plan(tree, capital):
    columns = [{"indicator": "VON_GN", "plan": "target", "categories": "rows"}]
    [table] = prepare(definition(tree, capital, columns)).annexes
    lines = [
        (r.label or r.unit.name, r.cells[0].plan_text, r.cells[0].percent_text) for r in table.rows
    ]
    assert lines == [
        ("Xã Một", "3,1", "49,7%"),
        ("Ngân sách", "3", "50%"),
        ("Vốn vay", "0,1", "40,5%"),
    ]


def test_the_word_document_has_the_annex_in_the_display_unit(tree, capital):
    columns = [{"indicator": "VON_GN", "plan": "target", "categories": "columns"}]
    content, _snapshot, _used = render_bytes(definition(tree, capital, columns), "docx")
    doc = Document(io.BytesIO(content))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    assert "Vốn giải ngân — Ngân sách (tỷ đồng)" in cells
    assert "1,5" in cells and "0,0405" in cells and "40,5%" in cells


def test_the_excel_summary_is_in_the_display_unit(tree, capital):
    columns = [{"indicator": "VON_GN", "plan": "target"}]
    content, _snapshot, _used = render_bytes(definition(tree, capital, columns), "xlsx")
    sheet = load_workbook(io.BytesIO(content))["Tổng hợp"]
    [line] = [r for r in sheet.iter_rows(values_only=True) if "Vốn giải ngân" in r]
    assert line[2:5] == ("tỷ đồng", 3.1, 1.5405)
