"""The programme page's figures: formulas that cannot be evaluated, targets of another
period, categories."""

import pytest
from django.urls import reverse

from tests import factories
from tests.analytics.test_programme_page import main_html, put
from tiendo.accounts.models import Role
from tiendo.programmes.models import Aggregation, Target


@pytest.fixture
def prog(tree):
    prog = factories.programme("P9", "Chương trình thử")
    plan = factories.indicator(prog, "PLAN", name="Kế hoạch vốn", measure_unit="triệu đồng")
    factories.indicator(prog, "RATE", name="Tỷ lệ", measure_unit="%", formula="PAID / PLAN * 100")
    factories.indicator(prog, "GROWTH", name="Tăng thêm", formula="PLAN - prev(PLAN)")
    factories.indicator(prog, "LOOP", name="Vòng quanh", formula="LOOP + 1")
    factories.indicator(prog, "BROKEN", name="Hỏng", formula="PLAN * (")
    area = factories.indicator(prog, "AREA", name="Diện tích", aggregation=Aggregation.LAST)
    put(plan, tree.c1, "2021", 100)
    put(plan, tree.c1, "2022", 150)
    put(area, tree.c1, "2024-12-31", 30)
    Target.objects.create(indicator=area, unit=tree.ha_giang, period="2025-06-30", value=120)
    return prog


@pytest.fixture
def coordinator(tree):
    return factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)


def test_formulas_that_cannot_be_evaluated_say_why_in_their_cell(client, prog, coordinator):
    client.force_login(coordinator)
    html = main_html(client.get(reverse("analytics:programme", args=["P9"])))
    assert "Công thức vòng quanh" in html and "LOOP → LOOP" in html
    assert 'class="formula-error"' in html
    assert ">50<" in html  # prev(): 2022's 150 less 2021's 100
    assert "PAID" in html  # RATE reads an indicator that does not exist: said in its cell


def test_a_drill_down_of_a_broken_formula_says_why(client, prog, coordinator, tree):
    client.force_login(coordinator)
    response = client.get(
        reverse("analytics:drill", args=["P9"]),
        {"unit": tree.ha_giang.pk, "indicator": "LOOP", "period": "2022"},
    )
    assert response.status_code == 200
    assert "Công thức vòng quanh" in response.content.decode()


def test_a_target_of_another_period_is_shown_with_its_period(client, prog, coordinator):
    client.force_login(coordinator)
    html = main_html(client.get(reverse("analytics:programme", args=["P9"])))
    # the mid-2025 target beside the 2021-2025 figure (as of end 2024)
    assert ">120 <span" in html and "(đến ngày 30/06/2025)" in html
    assert 'title="so với kế hoạch 120 (đến ngày 30/06/2025)">25%' in html


def test_the_page_of_another_unit_or_anonymous(client, prog, tree):
    url = reverse("analytics:programme", args=["P9"])
    assert client.get(url).status_code == 302  # to the login page
    other = factories.user("khac", tree.other_province, Role.COORDINATOR)
    client.force_login(other)
    assert client.get(url, {"unit": tree.ha_giang.pk}).status_code == 403
    leader = factories.user("lanhdao", tree.ha_giang, Role.LEADER)
    client.force_login(leader)
    assert "Công thức vòng quanh" in main_html(client.get(url))


def test_categories_show_as_sub_rows_or_beside_the_figure_as_the_indicator_says(
    client, coordinator, tree
):
    from tiendo.programmes.models import CategoryDisplay, CategoryOption, Disaggregation

    prog = factories.programme("P8")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    paid = factories.indicator(prog, "PAID", name="Giải ngân", disaggregation=source)
    put(paid, tree.c1, "2022", 30, "TW")
    put(paid, tree.c2, "2022", 20, "DP")
    client.force_login(coordinator)
    url = reverse("analytics:programme", args=["P8"])
    html = main_html(client.get(url))
    assert '<tr class="sub">\n        <td>Trung ương</td>' in html and "cell-categories" not in html
    paid.show_categories = CategoryDisplay.COLUMNS
    paid.save()
    html = main_html(client.get(url))
    assert '<tr class="sub">' not in html
    assert (
        '<span class="cell-categories"><span>Trung ương: 30</span><span>Địa phương: 20</span>'
        in html
    )


def test_a_count_of_units_drills_down_to_each_childs_count(client, coordinator, tree):
    prog = factories.programme("P7")
    met = factories.indicator(prog, "CRIT", name="Số tiêu chí đạt", aggregation=Aggregation.LAST)
    factories.indicator(
        prog, "ALL", name="Số xã đạt chuẩn", measure_unit="xã", formula="count_units(CRIT >= 19)"
    )
    put(met, tree.c1, "2022", 19)
    put(met, tree.c2, "2023", 19)
    put(met, tree.c3, "2023", 18)
    client.force_login(coordinator)
    part = client.get(
        reverse("analytics:drill", args=["P7"]),
        {"unit": tree.ha_giang.pk, "indicator": "ALL", "period": "2023"},
    ).content.decode()
    rows = {
        name: part.split(name)[1].split('<td class="num">')[1].split("<")[0]
        for name in ("Huyện Vị Xuyên", "Huyện Bắc Quang", "Tổng")
    }
    assert rows == {"Huyện Vị Xuyên": "2", "Huyện Bắc Quang": "0", "Tổng": "2"}
