"""The unit pages of issue 10: the tree on any date (``/don-vi/?ngay=31/12/2019``), a unit's
lineage (``/don-vi/<pk>/lich-su/``) and the page that records a change."""

from datetime import date

import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.units.models import ChangeKind, Level, UnitChange, UnitKind


@pytest.fixture
def coordinator(tree):
    return factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)


def main(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return html.split("<main>")[1].split("</main>")[0] if "<main>" in html else html


def get(client, name, *args, **params):
    return client.get(reverse(name, args=args), params)


# --- the tree on a date -------------------------------------------------------------------


def test_the_tree_on_a_date_typed_the_vietnamese_way(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay="31/12/2019"))
    assert "Cây đơn vị tại ngày 31/12/2019" in html
    assert "Tỉnh Hà Giang" in html and "Huyện Vị Xuyên" in html
    assert "Tỉnh Tuyên Quang" not in html
    assert 'name="ngay" value="31/12/2019"' in html


def test_the_tree_defaults_to_today(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:list"))
    assert f"Cây đơn vị tại ngày {date.today():%d/%m/%Y}" in html
    assert "Tỉnh Tuyên Quang" in html and "Tỉnh Hà Giang" not in html


@pytest.mark.parametrize("typed", ["31/02/2019", "hôm qua", "2019-13-01", "00/00/0000"])
def test_an_invalid_date_gets_a_message_not_an_error(client, tree, coordinator, typed):
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay=typed))
    assert "không hợp lệ" in html and typed in html
    assert "Tỉnh Tuyên Quang" in html  # today's tree instead


def test_expanding_a_node_keeps_the_date_of_the_tree(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:list", ngay="31/12/2019"))
    assert f"{reverse('units:children', args=[tree.vi_xuyen.pk])}?ngay=31/12/2019" in html
    children = get(client, "units:children", tree.vi_xuyen.pk, ngay="31/12/2019").content.decode()
    assert "Xã Một" in children and "Xã Hai" in children


def test_the_tree_shows_the_names_of_that_day(client, tree, coordinator):
    """A rename is a new version: the tree of a day shows the name of that day."""
    renamed = factories.unit(
        "00001",
        "Xã Một Mới",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.vi_xuyen,
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 6, 30),
    )
    tree.c1.valid_to = date(2023, 12, 31)
    tree.c1.save()
    UnitChange.objects.create(
        kind=ChangeKind.RENAME,
        effective_date=date(2024, 1, 1),
        legal_basis="99/NQ-HĐND",
        predecessor=tree.c1,
        successor=renamed,
    )
    client.force_login(coordinator)
    before = get(client, "units:children", tree.vi_xuyen.pk, ngay="31/12/2023").content.decode()
    after = get(client, "units:children", tree.vi_xuyen.pk, ngay="01/01/2024").content.decode()
    assert "Xã Một<" in before and "Xã Một Mới" not in before
    assert "Xã Một Mới" in after


# --- the lineage --------------------------------------------------------------------------


def test_the_lineage_of_a_split_commune_goes_forward_to_both_parts(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.c4.pk))
    assert "Lịch sử Xã Bốn" in html
    later = html.split('class="here"')[1]
    assert "01/07/2025" in later and "Chia tách" in later and "202/2025/QH15" in later
    assert "Xã Mới Hai" in later and "Xã Mới Ba" in later
    assert "chưa có tỷ lệ phân bổ" in later


def test_the_lineage_of_a_new_commune_goes_back_to_every_predecessor(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.n2.pk))
    earlier = html.split('<li class="here">')[0]
    for name in ("Xã Hai", "Xã Ba", "Xã Bốn"):
        assert name in earlier
    assert "Sáp nhập" in earlier


def test_the_lineage_follows_a_chain_of_events_in_date_order(client, tree, coordinator):
    """Xã Hai → Xã Mới Hai (2025) → renamed Xã Hai Mới (2027): both steps, oldest first, and
    the renamed unit is a version of Xã Mới Hai."""
    renamed = factories.unit(
        "10002",
        "Xã Hai Mới",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.tuyen_quang,
        valid_from=date(2027, 1, 1),
    )
    tree.n2.valid_to = date(2026, 12, 31)
    tree.n2.save()
    UnitChange.objects.create(
        kind=ChangeKind.RENAME,
        effective_date=date(2027, 1, 1),
        legal_basis="12/NQ-UBTVQH16",
        predecessor=tree.n2,
        successor=renamed,
    )
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.c2.pk))
    assert html.index("01/07/2025") < html.index("01/01/2027")
    assert "Xã Hai Mới" in html and "12/NQ-UBTVQH16" in html and "Đổi tên" in html
    versions = main(get(client, "units:history", tree.n2.pk)).split("Các phiên bản")[1]
    assert "Xã Mới Hai" in versions and "Xã Hai Mới" in versions
    assert "Xã Hai<" not in versions  # merged into it, not a version of it


def test_a_unit_without_changes_says_so(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:history", tree.agency.pk))
    assert "chưa qua lần sắp xếp nào" in html


def test_the_unit_page_links_to_its_lineage(client, tree, coordinator):
    client.force_login(coordinator)
    html = main(get(client, "units:detail", tree.c1.pk))
    assert reverse("units:history", args=[tree.c1.pk]) in html


def test_units_outside_the_scope_are_named_but_not_linked(client, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    html = main(get(client, "units:history", tree.c1.pk))
    assert "Xã Mới Một" in html
    assert reverse("units:detail", args=[tree.n1.pk]) not in html


# --- access ---------------------------------------------------------------------------------


def test_the_lineage_asks_an_anonymous_visitor_to_log_in(client, tree):
    response = get(client, "units:history", tree.c1.pk)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_lineage_of_another_units_commune_is_refused(client, tree):
    client.force_login(factories.user("xa.khac", tree.other_commune, Role.COMMUNE_OFFICER))
    assert get(client, "units:history", tree.c1.pk).status_code == 403
    assert get(client, "units:list", ngay="31/12/2019").status_code == 200


def test_a_leader_reads_the_tree_and_the_lineage(client, tree):
    client.force_login(factories.user("lanhdao", tree.tuyen_quang, Role.LEADER))
    assert "Tỉnh Hà Giang" in main(get(client, "units:list", ngay="31/12/2019"))
    assert "Xã Mới Hai" in main(get(client, "units:history", tree.c2.pk))


def test_an_unknown_unit_is_not_found(client, tree, coordinator):
    client.force_login(coordinator)
    assert client.get("/don-vi/999999/lich-su/").status_code == 404
