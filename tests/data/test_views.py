import pytest
from django.urls import reverse

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import CategoryOption, Disaggregation


@pytest.fixture
def prog(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    factories.indicator(prog, "KH", name="Kế hoạch vốn", measure_unit="triệu đồng", order=1)
    factories.indicator(
        prog,
        "GN",
        name="Vốn giải ngân",
        measure_unit="triệu đồng",
        order=2,
        disaggregation=source,
    )
    factories.indicator(prog, "DT", name="Diện tích cải tạo", measure_unit="ha", order=3)
    factories.indicator(
        prog, "TL", name="Tỷ lệ giải ngân", measure_unit="%", formula="GN / KH * 100", order=4
    )
    return prog


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)


def indicator(prog, code):
    return prog.indicators.get(code=code)


def form_url(tree, period="2024"):
    return reverse("data:entry") + f"?programme=NQ05&unit={tree.c1.pk}&period={period}"


def posted(prog, tree, period="2024", **values):
    data = {"programme": "NQ05", "unit": tree.c1.pk, "period": period}
    for key, value in values.items():
        code, _, category = key.partition("_")
        pk = indicator(prog, code).pk
        data[f"v-{pk}-{category}"] = value
    return data


def test_the_form_lists_stored_indicators_with_category_columns(client, prog, tree, officer):
    client.force_login(officer)
    html = client.get(form_url(tree)).content.decode()
    assert "Kế hoạch vốn" in html and "Diện tích cải tạo" in html
    assert "Tỷ lệ giải ngân" not in html  # computed: never typed
    assert "Trung ương</th>" in html and "Địa phương</th>" in html
    gn = indicator(prog, "GN").pk
    assert f'name="v-{gn}-TW"' in html and f'name="c-{gn}-DP"' in html


def test_a_single_writable_unit_is_chosen_for_the_user(client, prog, tree, officer):
    client.force_login(officer)
    html = client.get(reverse("data:entry"), {"period": "2024"}).content.decode()
    assert f'<option value="{tree.c1.pk}" selected>' in html
    assert "Kế hoạch vốn" in html  # one programme, one unit: the form opens at once


def test_current_values_are_prefilled_the_vietnamese_way(client, prog, tree, officer):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(66992)))
    save_value(Entry(indicator(prog, "DT"), tree.c1, "2024", D("234.9"), comment="đo lại"))
    client.force_login(officer)
    html = client.get(form_url(tree)).content.decode()
    assert 'value="66.992"' in html
    assert 'value="234,9"' in html
    assert 'value="đo lại"' in html


def test_numbers_typed_as_officials_type_them_are_saved_with_history(client, prog, tree, officer):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(50000)))
    client.force_login(officer)
    data = posted(prog, tree, KH="66.992", DT="234,9", GN_TW="1.234,5")
    data[f"c-{indicator(prog, 'DT').pk}-"] = "Theo biên bản nghiệm thu"
    response = client.post(reverse("data:entry"), data)
    html = response.content.decode()
    assert response.status_code == 200
    values = {
        (v.indicator.code, v.category): v.value
        for v in DataValue.objects.select_related("indicator")
    }
    assert values == {("KH", ""): D(66992), ("DT", ""): D("234.9"), ("GN", "TW"): D("1234.5")}
    assert DataValue.objects.get(indicator__code="DT").comment == "Theo biên bản nghiệm thu"
    # what changed, old → new
    changes = html.split("Vừa thay đổi")[1].split("</table>")[0]
    assert "50.000" in changes and "66.992" in changes and "1.234,5" in changes
    assert "Đã lưu 3 số liệu." in html
    # the history panel: who, old, new
    history = html.split("Lịch sử")[1]
    assert "xa.mot" in history and "Kế hoạch vốn" in history and "Trung ương" in history
    assert DataValueChange.objects.filter(changed_by=officer).count() == 3


def test_one_bad_value_saves_nothing_and_says_why(client, prog, tree, officer):
    client.force_login(officer)
    response = client.post(reverse("data:entry"), posted(prog, tree, KH="100", DT="abc"))
    html = response.content.decode()
    assert "Chưa lưu được" in html
    assert "Chỉ tiêu “Diện tích cải tạo”: “abc” không phải là số." in html
    assert 'value="abc"' in html and 'value="100"' in html  # what was typed stays
    assert not DataValue.objects.exists()


def test_a_service_error_is_shown_and_nothing_is_saved(client, prog, tree, officer):
    client.force_login(officer)
    # Xã Một ended on 30/06/2025: it cannot report for 2026
    response = client.post(reverse("data:entry"), posted(prog, tree, "2026", KH="5", DT="1"))
    html = response.content.decode()
    assert "không còn hoặc chưa tồn tại trong năm 2026" in html
    assert not DataValue.objects.exists()


def test_a_bad_period_gets_the_period_message(client, prog, tree, officer):
    client.force_login(officer)
    html = client.get(form_url(tree, "2024Q5")).content.decode()
    assert "Kỳ báo cáo “2024Q5” không hợp lệ" in html
    assert 'name="v-' not in html


def test_clearing_a_value_deletes_it_and_keeps_the_old_one_in_history(client, prog, tree, officer):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(10)))
    client.force_login(officer)
    client.post(reverse("data:entry"), posted(prog, tree, KH=""))
    assert not DataValue.objects.exists()
    last = DataValueChange.objects.first()
    assert (last.action, last.old_value, last.new_value) == ("delete", D(10), None)


def test_saving_the_same_figures_changes_nothing(client, prog, tree, officer):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(66992)))
    client.force_login(officer)
    html = client.post(reverse("data:entry"), posted(prog, tree, KH="66.992")).content.decode()
    assert "Không có số liệu nào thay đổi." in html
    assert DataValueChange.objects.count() == 1


def test_the_unit_list_holds_only_units_the_user_may_write(client, prog, tree):
    district = factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER)
    client.force_login(district)
    html = client.get(reverse("data:entry"), {"period": "2024"}).content.decode()
    for unit in (tree.vi_xuyen, tree.c1, tree.c2):
        assert f'value="{unit.pk}"' in html
    for unit in (tree.ha_giang, tree.c3, tree.other_commune):
        assert f'value="{unit.pk}"' not in html


def test_the_leader_sees_the_figures_read_only(client, prog, tree):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(66992)))
    leader = factories.user("lanhdao", tree.ha_giang, Role.LEADER)
    client.force_login(leader)
    html = client.get(form_url(tree)).content.decode()
    assert "66.992" in html
    assert "Bạn chỉ có quyền xem" in html
    assert 'name="v-' not in html


def test_a_broken_rule_is_shown_beside_the_field_and_the_value_stays_saved(
    client, prog, tree, officer
):
    from tiendo.data.models import ValidationRule

    ValidationRule.objects.create(
        programme=prog,
        code="GN_TRONG_KH",
        name="Giải ngân không vượt kế hoạch",
        expression="GN <= KH",
        importance="high",
        message="Vốn giải ngân ({left}) vượt kế hoạch vốn ({right}).",
    )
    client.force_login(officer)
    page = client.post(
        form_url(tree), posted(prog, tree, KH="100", GN_TW="80", GN_DP="40")
    ).content.decode()
    assert "field-warning" in page
    warning = page.split("field-warning")[1].split("</p>")[0]
    assert "Vốn giải ngân (120" in warning and "vượt kế hoạch vốn (100" in warning, warning
    assert DataValue.objects.filter(unit=tree.c1).count() == 3
    calm = client.post(
        form_url(tree), posted(prog, tree, KH="200", GN_TW="80", GN_DP="40")
    ).content.decode()
    assert "field-warning" not in calm


def test_an_officer_of_a_commune_merged_in_2025_is_offered_it_before_choosing_a_period(
    client, prog, tree, officer
):
    client.force_login(officer)  # Xã Một existed until 30/06/2025
    page = client.get(reverse("data:entry") + "?programme=NQ05").content.decode()
    assert "Xã Một" in page and "không có quyền nhập số liệu cho đơn vị nào" not in page
