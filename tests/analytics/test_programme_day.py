"""The programme page in the tree of a day (``?ngay=dd/mm/yyyy``)."""

# ruff: noqa: F811 (the page tests' fixtures, imported)

import pytest
from django.urls import reverse

from tests import factories
from tests.analytics.test_programme_page import coordinator, main_html, prog  # noqa: F401
from tiendo.accounts.models import Role


def page_url() -> str:
    return reverse("analytics:programme", args=["NQ04"])


@pytest.fixture
def officer(tree):
    return factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)


def test_the_tree_of_a_day_maps_the_old_units_into_the_units_of_that_day(client, prog, officer):
    client.force_login(officer)
    html = main_html(client.get(page_url(), {"ngay": "01/03/2026"}))
    assert ">66.992<" in html
    assert "Số liệu quy về cây đơn vị ngày 01/03/2026" in html
    assert 'value="01/03/2026"' in html
    assert "ngay=01/03/2026" in html  # the figures' links keep the day


def test_a_day_typed_with_full_width_digits_is_read(client, prog, officer):
    client.force_login(officer)
    html = main_html(client.get(page_url(), {"ngay": "０１/０３/２０２６"}))
    assert "Số liệu quy về cây đơn vị ngày 01/03/2026" in html and ">66.992<" in html


def test_an_old_unit_on_a_day_it_was_valid_keeps_its_tree(client, prog, coordinator, tree):
    client.force_login(coordinator)
    url = page_url()
    html = main_html(client.get(url, {"unit": tree.ha_giang.pk, "ngay": "30/06/2025"}))
    assert "<strong>Tỉnh Hà Giang</strong>" in html and ">66.992<" in html
    client.force_login(factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR))
    later = main_html(client.get(url, {"unit": tree.ha_giang.pk, "ngay": "2026-03-01"}))
    assert "<strong>Tỉnh Tuyên Quang</strong>" in later and "nay thuộc Tỉnh Tuyên Quang" in later


def test_a_day_that_cannot_be_read_is_said_and_the_history_true_view_shown(
    client,
    prog,
    officer,
):
    client.force_login(officer)
    html = main_html(client.get(page_url(), {"ngay": "32/13/2025"}))
    assert "không đúng dạng ngày/tháng/năm" in html
    assert ">66.992<" not in html  # nothing was entered in Tuyên Quang's own tree


def test_the_drill_down_of_a_day_breaks_the_figure_over_the_children_of_that_day(
    client, prog, officer, tree
):
    client.force_login(officer)
    response = client.get(
        reverse("analytics:drill", args=["NQ04"]),
        {"unit": tree.tuyen_quang.pk, "indicator": "VON", "period": "2022", "ngay": "01/03/2026"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Xã Mới Hai" in html and "26.992" in html


def test_the_page_of_a_day_for_anonymous_another_unit_and_a_leader(client, prog, tree):
    url = page_url()
    assert client.get(url, {"ngay": "01/03/2026"}).status_code == 302
    other = factories.user("khac", tree.other_province, Role.COORDINATOR)
    client.force_login(other)
    assert client.get(url, {"unit": tree.tuyen_quang.pk, "ngay": "01/03/2026"}).status_code == 403
    leader = factories.user("lanhdao", tree.tuyen_quang, Role.LEADER)
    client.force_login(leader)
    assert ">66.992<" in main_html(client.get(url, {"ngay": "01/03/2026"}))


def test_the_old_units_left_out_are_listed_with_their_number_of_values(client, prog, tree):
    officer = factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)
    client.force_login(officer)
    html = main_html(client.get(page_url(), {"unit": tree.n2.pk, "ngay": "01/03/2026"}))
    # Xã Bốn, split without shares, holds one value of the phase (its 10 ha of 2024)
    assert "Xã Bốn được chia cho nhiều đơn vị" in html
    assert "(1 số liệu không được tính)" in html
