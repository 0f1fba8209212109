from datetime import date

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import (
    Aggregation,
    CategoryOption,
    Component,
    Disaggregation,
    DocumentKind,
    LegalDocument,
    Target,
)
from tiendo.units.models import Level, UnitKind


def put(indicator, unit, period, value, category=""):
    save_value(Entry(indicator, unit, period, D(value), category))


@pytest.fixture
def prog(tree):
    prog = factories.programme("NQ04", "Phát triển cây cam sành bền vững")
    prog.documents.add(
        LegalDocument.objects.create(
            number="58/2020/NQ-HĐND",
            kind=DocumentKind.RESOLUTION,
            issued_on=date(2020, 12, 9),
            issuer="HĐND tỉnh Hà Giang",
            summary="Quy định chính sách hỗ trợ phát triển cam sành",
        )
    )
    loans = Component.objects.create(programme=prog, code="VAY", name="Hỗ trợ lãi suất", order=1)
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    money = factories.indicator(
        prog,
        "VON",
        name="Vốn giải ngân",
        measure_unit="triệu đồng",
        component=loans,
        disaggregation=source,
    )
    area = factories.indicator(
        prog, "DT", name="Diện tích cải tạo", measure_unit="ha", decimals=1, component=loans
    )
    gain = factories.indicator(
        prog,
        "THU",
        name="Thu nhập tăng thêm",
        measure_unit="triệu đồng/hộ",
        aggregation=Aggregation.RANGE,
    )
    put(money, tree.c1, "2021", 40000, "TW")
    put(money, tree.c2, "2022", 26992, "DP")
    put(area, tree.c3, "2023", "234.9")
    put(area, tree.c4, "2024", "10")
    put(gain, tree.c1, "2022", 10)
    put(gain, tree.c3, "2022", 15)
    Target.objects.create(indicator=money, unit=tree.ha_giang, period="2021-2025", value=68045)
    return prog


@pytest.fixture
def coordinator(tree):
    return factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)


def main_html(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    return html.split("<main>")[1].split("</main>")[0]


def test_the_page_shows_documents_components_and_the_table_of_the_users_unit(
    client, prog, coordinator
):
    client.force_login(coordinator)
    html = main_html(client.get(reverse("analytics:programme", args=["NQ04"])))
    assert "58/2020/NQ-HĐND" in html and "09/12/2020" in html and "Nghị quyết" in html
    assert "HĐND tỉnh Hà Giang" in html and "Quy định chính sách" in html
    assert "Hỗ trợ lãi suất" in html
    # the user's unit by default; a column per year and the phase
    assert "<strong>Tỉnh Hà Giang</strong>" in html
    for year in ("2021", "2022", "2023", "2024", "2025"):
        assert f">{year}</th>" in html
    assert "Cả giai đoạn 2021-2025" in html
    assert ">66.992<" in html  # phase total, thousands with a dot
    assert ">68.045<" in html  # target
    assert "98,45%" in html  # achieved
    assert ">234,9<" in html  # one decimal, comma
    assert ">244,9<" in html
    assert ">10 - 15<" in html  # a range
    assert "Trung ương" in html and ">40.000<" in html  # category sub-rows
    assert "triệu đồng/hộ" in html


def test_a_figure_drills_down_to_the_children(client, prog, coordinator, tree):
    client.force_login(coordinator)
    html = main_html(client.get(reverse("analytics:programme", args=["NQ04"])))
    drill = reverse("analytics:drill", args=["NQ04"])
    assert (
        f'hx-get="{drill}?unit={tree.ha_giang.pk}&amp;indicator=VON&amp;period=2021-2025"' in html
    )
    response = client.get(
        drill,
        {"unit": tree.ha_giang.pk, "indicator": "VON", "period": "2021-2025"},
        headers={"HX-Request": "true"},
    )
    part = response.content.decode()
    assert response.status_code == 200 and "<html" not in part
    assert "Huyện Vị Xuyên" in part and ">66.992<" in part
    assert "Huyện Bắc Quang" in part
    assert f"?unit={tree.vi_xuyen.pk}" in part


def test_the_drill_down_works_without_javascript_too(client, prog, coordinator, tree):
    client.force_login(coordinator)
    url = reverse("analytics:programme", args=["NQ04"])
    params = {"unit": tree.bac_quang.pk, "indicator": "DT", "period": "2023"}
    html = main_html(client.get(url, params))
    assert "Xã Ba" in html and "năm 2023" in html


def test_choosing_a_child_unit_returns_the_table_alone_to_htmx(client, prog, coordinator, tree):
    client.force_login(coordinator)
    url = reverse("analytics:programme", args=["NQ04"])
    response = client.get(url, {"unit": tree.vi_xuyen.pk}, headers={"HX-Request": "true"})
    part = response.content.decode()
    assert part.lstrip().startswith('<section id="indicator-table"')
    assert "<strong>Huyện Vị Xuyên</strong>" in part
    assert ">66.992<" in part and "234,9" not in part


def test_todays_view_re_expresses_old_units_and_lists_the_flagged_ones(client, prog, tree):
    officer = factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)
    client.force_login(officer)
    url = reverse("analytics:programme", args=["NQ04"])
    history = main_html(client.get(url))
    assert ">66.992<" not in history  # nothing was entered in Tuyên Quang's own tree
    today = main_html(client.get(url, {"today": "1"}))
    assert ">66.992<" in today
    assert "chưa có tỷ lệ phân bổ" not in today  # Xã Bốn was split inside the province
    commune = main_html(client.get(url, {"today": "1", "unit": tree.n2.pk}))
    assert "Xã Bốn được chia cho nhiều đơn vị" in commune
    assert "chưa có tỷ lệ phân bổ" in commune
    assert ">26.992<" in commune  # Xã Hai merged whole into Xã Mới Hai


def test_todays_view_of_an_old_unit_moves_to_its_successor(client, prog, tree, coordinator):
    officer = factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)
    client.force_login(officer)
    url = reverse("analytics:programme", args=["NQ04"])
    html = main_html(client.get(url, {"unit": tree.ha_giang.pk, "today": "1"}))
    assert "<strong>Tỉnh Tuyên Quang</strong>" in html
    assert "nay thuộc Tỉnh Tuyên Quang" in html


def test_the_unit_selector_offers_only_readable_units(client, prog, coordinator, tree):
    client.force_login(coordinator)
    html = main_html(client.get(reverse("analytics:programme", args=["NQ04"])))
    assert f'value="{tree.vi_xuyen.pk}"' in html
    assert f'value="{tree.other_province.pk}"' not in html


def test_the_page_takes_a_bounded_number_of_queries(
    client, prog, coordinator, tree, django_assert_max_num_queries
):
    client.force_login(coordinator)
    url = reverse("analytics:programme", args=["NQ04"])
    with django_assert_max_num_queries(60):
        client.get(url)
    # more districts, communes and indicators do not add queries
    for n in range(30):
        district = factories.unit(
            f"9{n:02d}",
            f"Huyện {n}",
            UnitKind.RURAL_DISTRICT,
            Level.DISTRICT,
            tree.ha_giang,
            valid_to=date(2025, 6, 30),
        )
        commune = factories.unit(
            f"9{n:04d}",
            f"Xã {n}",
            UnitKind.COMMUNE,
            Level.COMMUNE,
            district,
            valid_to=date(2025, 6, 30),
        )
        indicator = factories.indicator(prog, f"X{n}", name=f"Chỉ tiêu {n}")
        put(indicator, commune, "2022", n + 1)
    with django_assert_max_num_queries(60):
        response = client.get(url)
    assert "Chỉ tiêu 29" in response.content.decode()
    with django_assert_max_num_queries(30):
        client.get(
            reverse("analytics:drill", args=["NQ04"]),
            {"unit": tree.ha_giang.pk, "indicator": "X3", "period": "2022"},
        )


def test_an_unknown_indicator_or_bad_period_in_a_drill_down(client, prog, coordinator, tree):
    client.force_login(coordinator)
    url = reverse("analytics:drill", args=["NQ04"])
    assert (
        client.get(
            url, {"unit": tree.ha_giang.pk, "indicator": "NOPE", "period": "2022"}
        ).status_code
        == 404
    )
    bad = client.get(url, {"unit": tree.ha_giang.pk, "indicator": "DT", "period": "2022X"})
    assert "không hợp lệ" in bad.content.decode()


def test_the_menu_marks_the_programmes_section_on_a_programme_page(client, prog, coordinator):
    client.force_login(coordinator)
    html = client.get(reverse("analytics:programme", args=["NQ04"])).content.decode()
    menu = f'<a href="{reverse("programmes:list")}" aria-current="page">'
    assert menu in html
