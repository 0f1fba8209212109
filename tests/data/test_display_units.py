"""An indicator kept in triệu đồng shown and entered in tỷ đồng: converted exactly both ways
on the entry page, in its history, in Excel forms, the pivot and its CSV, the programme page,
the drill-down and documents; a figure that cannot be stored exactly is refused, never
rounded. Targets set per category (the capital plan by funding source) and "% đạt" against
them."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests import factories
from tests.factories import D, form_inputs
from tests.reporting.excel_helpers import open_book, save_book
from tiendo.accounts.models import Role
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import Entry, save_value
from tiendo.data.validation import find_outliers
from tiendo.programmes.models import (
    CategoryDisplay,
    CategoryOption,
    Disaggregation,
    Target,
    ValueRefused,
)
from tiendo.reporting.excel import build_workbook, check_workbook, import_workbook
from tiendo.reporting.models import Form, FormIndicator

SHEET = "Năm 2024"


@pytest.fixture
def prog(tree):
    prog = factories.programme("VON", "Vốn đầu tư")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    factories.indicator(
        prog,
        "GN",
        name="Vốn giải ngân",
        measure_unit="triệu đồng",
        decimals=2,
        display_unit="tỷ đồng",
        display_factor=1000,
        order=1,
    )
    factories.indicator(
        prog,
        "NGUON_GN",
        name="Vốn theo nguồn",
        measure_unit="triệu đồng",
        decimals=0,
        display_unit="tỷ đồng",
        display_factor=1000,
        disaggregation=source,
        order=2,
    )
    factories.indicator(prog, "HO", name="Số hộ", order=3)
    return prog


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)


def ind(prog, code):
    return prog.indicators.get(code=code)


def url(tree):
    return reverse("data:entry") + f"?programme=VON&unit={tree.c1.pk}&period=2024"


def field(prog, code, category=""):
    return f"v-{ind(prog, code).pk}-{category}"


def shown_form(client, tree) -> dict:
    fields = form_inputs(client.get(url(tree)).content.decode())
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def stored(prog, code, unit, category=""):
    row = DataValue.objects.filter(indicator=ind(prog, code), unit=unit, category=category)
    return row.values_list("value", flat=True).first()


# -- the conversion itself ---------------------------------------------------------------


def test_a_figure_typed_in_the_display_unit_is_stored_exactly(prog):
    gn = ind(prog, "GN")
    assert gn.entered(D("1.23456")) == D("1234.56")
    assert gn.to_display(D("1234.56")) == D("1.23456")
    assert gn.display_text(D("66992")) == "66,992"
    assert gn.display_text(D("1234.56")) == "1,23456"
    assert gn.shown_unit == "tỷ đồng"


def test_a_figure_that_the_stored_unit_cannot_hold_exactly_is_refused(prog):
    with pytest.raises(ValueRefused) as refused:
        ind(prog, "GN").entered(D("1.2345678"))
    assert refused.value.code == "value.display_inexact"
    message = str(refused.value)
    assert "1,2345678 tỷ đồng" in message and "1.234,5678 triệu đồng" in message
    assert "2 chữ số thập phân" in message and "không làm tròn" in message


def test_an_indicator_without_a_display_unit_is_entered_as_stored(prog):
    ho = ind(prog, "HO")
    assert ho.entered(D("12.5")) == D("12.5") and ho.shown_unit == "hộ"
    assert ho.display_text(D(12)) == "12"


# -- the entry page ------------------------------------------------------------------------


def test_the_entry_page_shows_and_reads_the_display_unit(client, prog, tree, officer):
    save_value(Entry(ind(prog, "GN"), tree.c1, "2024", D("1234.56")))
    client.force_login(officer)
    html = client.get(url(tree)).content.decode()
    assert '<td class="nowrap measure">tỷ đồng</td>' in html
    fields = shown_form(client, tree)
    assert fields[field(prog, "GN")] == "1,23456"
    fields[field(prog, "GN")] = "2,5"
    fields[field(prog, "NGUON_GN", "TW")] = "1.234,5"  # tỷ đồng: 1.234.500 triệu đồng
    response = client.post(reverse("data:entry"), fields)
    assert response.status_code == 200
    assert stored(prog, "GN", tree.c1) == D(2500)
    assert stored(prog, "NGUON_GN", tree.c1, "TW") == D(1234500)
    # the form shown again is in tỷ đồng, the history too
    again = shown_form(client, tree)
    assert again[field(prog, "GN")] == "2,5"
    history = client.get(url(tree)).content.decode().split('id="lich-su"')[1]
    assert "1,23456" in history and "2,5 tỷ đồng" in history


def test_sending_the_form_back_as_shown_changes_nothing(client, prog, tree, officer):
    save_value(Entry(ind(prog, "GN"), tree.c1, "2024", D("1234.56")))
    # 0,000001 triệu đồng is 0,000000001 tỷ đồng: shown and read back exactly
    save_value(Entry(ind(prog, "NGUON_GN"), tree.c1, "2024", D("0.000001"), category="DP"))
    client.force_login(officer)
    before = DataValueChange.objects.count()
    response = client.post(reverse("data:entry"), shown_form(client, tree), follow=True)
    assert "Không có số liệu nào thay đổi." in response.content.decode()
    assert DataValueChange.objects.count() == before


def test_an_entry_that_cannot_be_stored_exactly_is_refused_naming_the_field(
    client, prog, tree, officer
):
    client.force_login(officer)
    fields = shown_form(client, tree)
    fields[field(prog, "GN")] = "1,2345678"
    fields[field(prog, "HO")] = "5"
    html = client.post(reverse("data:entry"), fields).content.decode()
    assert "Chỉ tiêu “Vốn giải ngân”: 1,2345678 tỷ đồng là 1.234,5678 triệu đồng" in html
    assert 'value="1,2345678"' in html  # what was typed stays in the field
    assert not DataValue.objects.exists()  # nothing half-saved


def test_a_figure_changed_meanwhile_is_a_conflict_told_in_the_display_unit(
    client, prog, tree, officer
):
    save_value(Entry(ind(prog, "GN"), tree.c1, "2024", D(1000)))
    client.force_login(officer)
    fields = shown_form(client, tree)
    save_value(Entry(ind(prog, "GN"), tree.c1, "2024", D(3000)))  # someone else
    fields[field(prog, "GN")] = "2"
    html = client.post(reverse("data:entry"), fields).content.decode()
    assert "đã sửa thành 3" in html and "(lúc đó: 1)" in html and "giá trị bạn nhập: 2" in html
    assert stored(prog, "GN", tree.c1) == D(3000)


# -- Excel forms -------------------------------------------------------------------------


@pytest.fixture
def form(prog):
    form = Form.objects.create(
        code="VON-XA",
        name="Vốn cấp xã",
        programme=prog,
        unit_kinds=["commune"],
        period_type="year",
    )
    for order, code in enumerate(("GN", "HO"), start=1):
        FormIndicator.objects.create(form=form, indicator=ind(prog, code), order=order)
    return form


@pytest.fixture
def district(tree):
    return factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER)


def test_the_excel_form_is_in_the_display_unit_both_ways(prog, form, tree, district):
    save_value(Entry(ind(prog, "GN"), tree.c1, "2024", D("1234.56")))
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=district))
    ws = wb[SHEET]
    assert ws["D4"].value == "Vốn giải ngân" and ws["D6"].value == "(tỷ đồng)"
    assert ws["D7"].value == pytest.approx(1.23456)
    assert ws["D7"].number_format == "#,##0.00000"  # 2 decimals in triệu đồng
    assert "(tỷ đồng)" in ws.data_validations.dataValidation[0].error
    # sent back untouched: nothing to write
    unchanged = check_workbook(save_book(wb), user=district, form=form)
    assert unchanged.ok and unchanged.changes == [] and unchanged.unchanged == 1
    ws["D7"], ws["D8"] = 2.5, "0,75"
    result = import_workbook(save_book(wb), user=district, form=form, unit=tree.vi_xuyen)
    assert result.ok and result.written, result.errors
    assert stored(prog, "GN", tree.c1) == D(2500) and stored(prog, "GN", tree.c2) == D(750)
    again = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=district))[SHEET]
    assert again["D7"].value == 2.5 and again["D8"].value == 0.75


def test_an_excel_figure_that_cannot_be_stored_exactly_is_refused(prog, form, tree, district):
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=district))
    wb[SHEET]["D7"] = 1.2345678
    result = import_workbook(save_book(wb), user=district, form=form)
    assert not result.written and [p.code for p in result.errors] == ["value.display_inexact"]
    [problem] = result.errors
    assert problem.cell == "D7" and "Chỉ tiêu “Vốn giải ngân”" in problem.message
    assert not DataValue.objects.exists()


# -- per-category targets ------------------------------------------------------------------


@pytest.fixture
def capital_plan(prog, tree):
    """Vị Xuyên's capital plan by funding source, set on its communes; what they spent."""
    by_source = ind(prog, "NGUON_GN")
    for unit, tw, dp in ((tree.c1, 2000, 1000), (tree.c2, 2000, 0)):
        Target.objects.create(
            indicator=by_source, unit=unit, period="2024", category="TW", value=tw
        )
        Target.objects.create(
            indicator=by_source, unit=unit, period="2024", category="DP", value=dp
        )
    save_value(Entry(by_source, tree.c1, "2024", D(3000), category="TW"))
    save_value(Entry(by_source, tree.c1, "2024", D(250), category="DP"))
    return by_source


def test_a_target_by_category_is_summed_below_and_measured_per_category(capital_plan, tree):
    cell = Aggregator([capital_plan], "2024").for_unit(tree.vi_xuyen)["NGUON_GN"]
    assert cell.category_targets == {"TW": D(4000), "DP": D(1000)}
    assert cell.target == D(5000)  # the total is the sum of the parts
    assert cell.category_achieved("TW") == D(75) and cell.category_achieved("DP") == D(25)
    own = Aggregator([capital_plan], "2024").for_unit(tree.c1)["NGUON_GN"]
    assert own.category_targets == {"TW": D(2000), "DP": D(1000)}
    assert own.category_achieved("TW") == D(150)


def test_the_pivot_csv_names_its_units_and_gives_the_targets_by_category(capital_plan, tree):
    out = io.StringIO()
    call_command(
        "pivot",
        "--unit",
        "028",
        "--period",
        "2024",
        "--format",
        "csv",
        stdout=out,
        stderr=io.StringIO(),
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {"measure_unit", "display_unit", "value", "value_text"} <= set(rows[0])
    tw = next(r for r in rows if r["code"] == "NGUON_GN" and r["category"] == "TW")
    # value and target in the stored unit, value_text in the display unit
    assert (tw["measure_unit"], tw["value"], tw["target"]) == ("triệu đồng", "3000", "4000")
    assert (tw["display_unit"], tw["value_text"], tw["achieved_percent"]) == ("tỷ đồng", "3", "75")
    total = next(r for r in rows if r["code"] == "NGUON_GN" and r["category"] == "")
    assert total["value_text"] == "3,25" and total["target"] == "5000"


def test_the_pivot_csv_gives_a_target_column_per_category_shown_as_columns(capital_plan, tree):
    capital_plan.show_categories = CategoryDisplay.COLUMNS
    capital_plan.save()
    out = io.StringIO()
    call_command(
        "pivot",
        "--unit",
        "028",
        "--period",
        "2024",
        "--format",
        "csv",
        stdout=out,
        stderr=io.StringIO(),
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    line = next(r for r in rows if r["code"] == "NGUON_GN")
    assert (line["NGUON:TW"], line["NGUON:TW:target"]) == ("3000", "4000")
    assert (line["NGUON:DP"], line["NGUON:DP:target"]) == ("250", "1000")


def test_the_programme_page_shows_display_units_and_targets_per_category(
    client, capital_plan, tree
):
    client.force_login(factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR))
    response = client.get(reverse("analytics:programme", args=["VON"]), {"unit": tree.vi_xuyen.pk})
    html = response.content.decode()
    assert '<td class="nowrap">tỷ đồng</td>' in html
    sub = html.split("<td>Trung ương</td>")[1].split("</tr>")[0]
    # the phase's figure, the category's own target and % đạt against it
    assert '<td class="num phase">3</td><td class="num">4</td><td class="num">75%</td>' in sub
    drill = client.get(
        reverse("analytics:drill", args=["VON"]),
        {"unit": tree.vi_xuyen.pk, "indicator": "NGUON_GN", "period": "2024"},
    ).content.decode()
    assert "Thực hiện (tỷ đồng)" in drill and ">3,25<" in drill and ">5<" in drill


def test_the_programme_page_puts_the_category_target_in_a_category_column(
    client, capital_plan, tree
):
    capital_plan.show_categories = CategoryDisplay.COLUMNS
    capital_plan.save()
    client.force_login(factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR))
    html = client.get(
        reverse("analytics:programme", args=["VON"]), {"unit": tree.vi_xuyen.pk}
    ).content.decode()
    assert 'Địa phương: 0,25 <span class="muted small">(kế hoạch 1, đạt 25%)</span>' in html


def test_a_figure_out_of_bounds_is_told_in_the_display_unit(prog, tree):
    gn = ind(prog, "GN")
    save_value(Entry(gn, tree.c1, "2024", D(2500)))
    gn.max_value = D(2000)  # tightened after the figure was entered
    gn.save()
    [outlier] = find_outliers(tree.c1, "2024")
    assert outlier.reason == "Giá trị 2,5 lớn hơn mức cao nhất cho phép (2 tỷ đồng)."
