import unicodedata
from datetime import date

import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.units.models import Level, UnitKind


@pytest.fixture
def coordinator(tree):
    return factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)


@pytest.fixture
def admin(tree):
    return factories.user("quantri", tree.nation, Role.ADMIN)


def page(client, name, *args, **params):
    """The main part of a page (the top bar names the user's own unit on every page)."""
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200
    html = response.content.decode()
    return html.split("<main>")[1].split("</main>")[0] if "<main>" in html else html


def test_search_normalises_the_query_to_nfc(client, tree, coordinator):
    client.force_login(coordinator)
    decomposed = unicodedata.normalize("NFD", "Vị Xuyên")
    assert decomposed != "Vị Xuyên"
    html = page(client, "units:list", q=decomposed)
    results = html.split("Kết quả tìm")[1].split("Cây đơn vị tại ngày")[0]
    assert "Huyện Vị Xuyên" in results


def test_search_by_code_finds_only_units_the_user_may_read(client, tree, coordinator):
    client.force_login(coordinator)
    assert "Huyện Bắc Quang" in page(client, "units:list", q="032")
    assert "Xã Khác" not in page(client, "units:list", q="Khác")


def test_the_tree_of_today_shows_the_new_province(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:list")
    assert "Tỉnh Tuyên Quang" in html
    assert "Xã Mới Hai" in html  # opened one level
    assert "Tỉnh Hà Giang" not in html


def test_the_tree_on_a_past_date_shows_ha_giang_with_its_districts(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:list", date="2024-12-31")
    assert "Cây đơn vị tại ngày 31/12/2024" in html
    assert "Tỉnh Hà Giang" in html
    assert "Huyện Vị Xuyên" in html and "Huyện Bắc Quang" in html
    assert "Tỉnh Tuyên Quang" not in html


def test_the_administrator_sees_the_nation_and_its_provinces_of_the_day(client, tree, admin):
    client.force_login(admin)
    html = page(client, "units:list", date="2024-12-31")
    assert "Việt Nam" in html and "Tỉnh Hà Giang" in html
    assert "Tỉnh Quảng Trị" not in html


def test_a_bad_date_falls_back_to_today_with_a_message(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:list", date="31/13/2024")
    assert "không hợp lệ" in html
    assert "Tỉnh Tuyên Quang" in html


def test_a_date_typed_the_vietnamese_way_is_understood(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:list", date="31/12/2024")
    assert "Cây đơn vị tại ngày 31/12/2024" in html and "Tỉnh Hà Giang" in html


def test_a_user_of_a_merged_unit_first_sees_the_tree_of_its_last_day(client, tree):
    client.force_login(factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR))
    html = page(client, "units:list")
    assert "Cây đơn vị tại ngày 30/06/2025" in html
    assert "Huyện Vị Xuyên" in html


def test_expanding_a_node_returns_its_children_on_the_date(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:children", tree.vi_xuyen.pk, date="2024-12-31")
    assert "Xã Một" in html and "Xã Hai" in html
    assert "<html" not in html


def test_the_unit_page_shows_kind_code_dates_breadcrumbs_and_children(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:detail", tree.vi_xuyen.pk)
    assert "Huyện" in html and "028" in html
    assert "30/06/2025" in html  # valid until, Vietnamese format
    assert "Tỉnh Hà Giang" in html  # parent chain
    assert "Xã Một" in html and "Xã Hai" in html
    assert "Đơn vị trực thuộc tại ngày 30/06/2025" in html


def test_the_unit_page_shows_successors_and_flags_a_split_without_share(client, tree, coordinator):
    client.force_login(coordinator)
    html = page(client, "units:detail", tree.c4.pk)
    assert "Xã Mới Hai" in html and "Xã Mới Ba" in html
    assert "01/07/2025" in html
    assert "Chia tách" in html
    assert "chưa có tỷ lệ phân bổ" in html


def test_the_new_commune_lists_its_predecessors_with_the_share(client, tree, coordinator):
    link = tree.c4.successor_links.get(successor=tree.n3)
    link.share = factories.D("0.25")
    link.save()
    client.force_login(coordinator)
    html = page(client, "units:detail", tree.n3.pk)
    assert "Hình thành từ" in html and "Xã Bốn" in html
    assert "25%" in html
    merged = page(client, "units:detail", tree.n2.pk)
    assert "Sáp nhập" in merged and "Xã Hai" in merged and "Xã Ba" in merged


def test_many_children_are_paged(client, tree, coordinator):
    for number in range(120):
        factories.unit(
            f"3{number:04d}",
            f"Xã Thứ {number}",
            UnitKind.COMMUNE,
            Level.COMMUNE,
            tree.tuyen_quang,
            valid_from=date(2025, 7, 1),
        )
    client.force_login(coordinator)
    first = page(client, "units:detail", tree.tuyen_quang.pk)
    assert "123 đơn vị" in first and "Trang 1/3" in first
    children = first.split("Đơn vị trực thuộc tại ngày")[1]
    assert children.count("<tr>") == 1 + 50  # header + one page
    last = page(client, "units:detail", tree.tuyen_quang.pk, page=3)
    assert "Trang 3/3" in last and "Xã Thứ 119" in last and "Xã Thứ 0<" not in last


def test_the_unit_page_shows_its_events_with_their_legal_basis(client, tree, coordinator):
    from tiendo.units.changes import Link, record_change

    record_change(
        kind="rename",
        effective=date(2027, 1, 1),
        act={
            "number": "125/QĐ-UBND",
            "signed_on": date(2026, 10, 5),
            "issuer": "Ủy ban nhân dân tỉnh Tuyên Quang",
            "title": "Quyết định đổi tên xã",
        },
        links=[Link(from_code="10001", to_name="Xã Mới Một Thượng")],
    )
    client.force_login(coordinator)
    html = page(client, "units:detail", tree.n1.pk)
    events = html.split('id="events"')[1]
    assert "Sự kiện thay đổi" in html
    assert "01/01/2027" in events and "Đổi tên" in events and "đơn vị hết hiệu lực" in events
    assert "125/QĐ-UBND" in events and "ngày 05/10/2026" in events
    assert "Ủy ban nhân dân tỉnh Tuyên Quang" in events and "Quyết định đổi tên xã" in events
    newer = tree.n1.successor_links.get().successor
    assert "đơn vị bắt đầu hiệu lực" in page(client, "units:detail", newer.pk)


def test_a_unit_without_events_shows_no_event_section(client, tree, coordinator):
    client.force_login(coordinator)
    assert 'id="events"' not in page(client, "units:detail", tree.n2.pk)


def test_the_events_of_another_province_are_not_shown_to_its_neighbour(client, tree, coordinator):
    from tiendo.units.changes import Link, record_change

    record_change(
        kind="rename",
        effective=date(2027, 1, 1),
        act={"number": "7/QĐ-UBND", "signed_on": date(2026, 10, 5), "issuer": "UBND tỉnh"},
        links=[Link(from_code="20001", to_name="Xã Khác Mới")],
    )
    client.force_login(coordinator)
    response = client.get(reverse("units:detail", args=[tree.other_commune.pk]))
    assert response.status_code == 403
