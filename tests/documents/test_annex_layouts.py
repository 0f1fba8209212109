"""Annex tables defined without code: which units are the rows, and how a disaggregated
indicator shows its categories (a column each, or a sub-row each)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.data.services import Entry, save_value
from tiendo.documents.definitions import DefinitionInvalid
from tiendo.documents.models import TemplateKind
from tiendo.documents.render import prepare
from tiendo.documents.services import create_definition
from tiendo.programmes.models import CategoryOption, Disaggregation


@pytest.fixture
def capital(tree):
    prog = factories.programme("VON", "Vốn")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="NS", name="Ngân sách", order=0)
    CategoryOption.objects.create(disaggregation=source, code="VAY", name="Vốn vay", order=1)
    indicator = factories.indicator(
        prog, "VON_GN", name="Vốn giải ngân", measure_unit="triệu đồng", disaggregation=source
    )
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    save_value(Entry(indicator, tree.c1, "2024", D(100), category="NS"), user=officer)
    save_value(Entry(indicator, tree.c1, "2024", D(40), category="VAY"), user=officer)
    save_value(Entry(indicator, tree.c3, "2024", D(7), category="NS"), user=officer)
    return {"prog": prog, "user": factories.user("vpdp.hg", tree.ha_giang, Role.COORDINATOR)}


def _spec(tree, capital, annex, **extra):
    return {
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
        "annexes": [annex],
        **extra,
    }


def _table(tree, capital, annex):
    definition = create_definition(user=capital["user"], spec=_spec(tree, capital, annex))
    [table] = prepare(definition).annexes
    return table


def _cells(table):
    return [
        [row.label or row.unit.name, *(c.actual_text for c in row.cells)]
        for row in [*table.rows, table.total]
    ]


def test_rows_are_the_units_directly_below_with_a_column_per_category(tree, capital):
    annex = {
        "title": "Vốn theo huyện",
        "rows": "children",
        "columns": [{"indicator": "VON_GN", "categories": "columns"}],
    }
    table = _table(tree, capital, annex)
    assert [c.heading for c in table.columns] == [
        "Vốn giải ngân — Ngân sách (triệu đồng)",
        "Vốn giải ngân — Vốn vay (triệu đồng)",
    ]
    assert _cells(table) == [
        ["Huyện Vị Xuyên", "100", "40"],
        ["Huyện Bắc Quang", "7", ""],
        ["Sở Nông nghiệp tỉnh Hà Giang", "", ""],  # an agency directly below is a row too
        ["Tỉnh Hà Giang", "107", "40"],
    ]
    assert AuditEntry.objects.filter(action="report_definition.created").exists()


def test_a_chosen_list_of_units_with_a_sub_row_per_category(tree, capital):
    annex = {
        "title": "Vốn của hai xã",
        "rows": "units",
        "units": ["00003", "00001"],
        "columns": [{"indicator": "VON_GN", "categories": "rows"}],
    }
    table = _table(tree, capital, annex)
    assert _cells(table) == [
        ["Xã Ba", "7"],
        ["Ngân sách", "7"],
        ["Vốn vay", ""],
        ["Xã Một", "140"],
        ["Ngân sách", "100"],
        ["Vốn vay", "40"],
        ["Tỉnh Hà Giang", "147"],
    ]
    sheet = table.sheet(1, title=[])
    names = [row.cells[1].value for row in sheet.body]
    assert names == [
        "Xã Ba",
        "- Ngân sách",
        "- Vốn vay",
        "Xã Một",
        "- Ngân sách",
        "- Vốn vay",
        "Tổng cộng",
    ]
    numbers = [row.cells[0].value for row in sheet.body]
    assert numbers[0] == 1 and numbers[3] == 2  # sub-rows take no number


def test_a_unit_outside_the_issuing_unit_is_refused(tree, capital):
    annex = {
        "title": "Ngoài tỉnh",
        "rows": "units",
        "units": ["20001"],
        "columns": [{"indicator": "VON_GN"}],
    }
    with pytest.raises(DefinitionInvalid) as caught:
        create_definition(user=capital["user"], spec=_spec(tree, capital, annex))
    assert caught.value.codes == ["definition.unit_outside"]


def test_rows_follow_the_official_order_not_the_order_units_were_added(tree, capital):
    """A district and a commune added after the agency (as a reorganisation or a package
    would) still come before it, by official code; communes stay under their districts."""
    from tiendo.units.models import Level, UnitKind

    city = factories.unit(
        "024", "Thành phố Hà Giang", UnitKind.PROVINCIAL_CITY, Level.DISTRICT, tree.ha_giang
    )
    factories.unit("00000", "Phường Trần Phú", UnitKind.WARD, Level.COMMUNE, city)
    factories.unit("00005", "Xã Năm", UnitKind.COMMUNE, Level.COMMUNE, tree.vi_xuyen)
    children = {"title": "Theo huyện", "rows": "children", "columns": [{"indicator": "VON_GN"}]}
    names = [row.unit.name for row in _table(tree, capital, children).rows]
    assert names == [
        "Thành phố Hà Giang",
        "Huyện Vị Xuyên",
        "Huyện Bắc Quang",
        "Sở Nông nghiệp tỉnh Hà Giang",  # agencies after every administrative unit
    ]
    communes = {"title": "Theo xã", "rows": "communes", "columns": [{"indicator": "VON_GN"}]}
    definition = create_definition(
        user=capital["user"], spec=_spec(tree, capital, communes, slug="von-xa-2024")
    )
    [table] = prepare(definition).annexes
    rows = [(row.unit.name, row.parent_name) for row in table.rows]
    assert rows == [
        ("Phường Trần Phú", "Thành phố Hà Giang"),
        ("Xã Một", "Huyện Vị Xuyên"),
        ("Xã Hai", "Huyện Vị Xuyên"),
        ("Xã Năm", "Huyện Vị Xuyên"),
        ("Xã Ba", "Huyện Bắc Quang"),
        ("Xã Bốn", "Huyện Bắc Quang"),
    ]
    # the Word annex prints the rows in the same order as the table the page reads
    sheet = table.sheet(1, title=[])
    assert [row.cells[1].value for row in sheet.body][:-1] == [name for name, _p in rows]
