"""Every page, four personas: anonymous, another unit, read-only, allowed.

The personas work in the mini tree: Tuyên Quang (today) took over Hà Giang (before 2025);
Quảng Trị is another province. Every view answers through ``tiendo.accounts.scope``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue
from tiendo.programmes.models import Programme


@pytest.fixture
def world(tree):
    prog = factories.programme("P1", "Chương trình thử")
    factories.indicator(prog, "HH", name="Số hộ tham gia")
    return {
        "tree": tree,
        "prog": prog,
        "officer": factories.user("canbo.bacquang", tree.bac_quang, Role.AGENCY_OFFICER),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": factories.user("canbo.quangtri", tree.other_province, Role.COORDINATOR),
    }


def unit_pages(tree):
    """(name, url) of every page that shows one unit of the tree: Bắc Quang here."""
    unit = tree.bac_quang.pk
    return [
        ("unit detail", reverse("units:detail", args=[unit])),
        ("unit children", reverse("units:children", args=[unit])),
        ("programme table", reverse("programmes:detail", args=["P1"]) + f"?unit={unit}"),
        (
            "programme drill",
            reverse("programmes:drill", args=["P1"]) + f"?unit={unit}&indicator=HH&period=2024",
        ),
        ("data entry", reverse("data:entry") + f"?programme=P1&unit={unit}&period=2024"),
    ]


def all_pages(tree):
    return [
        ("home", reverse("home")),
        ("unit list", reverse("units:list")),
        ("programme list", reverse("programmes:list")),
        *unit_pages(tree),
    ]


def entry_post(tree, value="12"):
    ind = Programme.objects.get(code="P1").indicators.get(code="HH")
    return {
        "programme": "P1",
        "unit": tree.bac_quang.pk,
        "period": "2024",
        f"v-{ind.pk}-": value,
        f"c-{ind.pk}-": "",
    }


def test_anonymous_is_sent_to_the_login_page_from_every_page(client, world):
    for name, url in all_pages(world["tree"]):
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_anonymous_cannot_post_data(client, world):
    response = client.post(reverse("data:entry"), entry_post(world["tree"]))
    assert response.status_code == 302
    assert not DataValue.objects.exists()


def test_a_user_of_another_unit_gets_403_on_every_unit_page(client, world):
    client.force_login(world["stranger"])
    for name, url in unit_pages(world["tree"]):
        assert client.get(url).status_code == 403, name


def test_a_user_of_another_unit_cannot_post_data(client, world):
    client.force_login(world["stranger"])
    response = client.post(reverse("data:entry"), entry_post(world["tree"]))
    assert response.status_code == 403
    assert not DataValue.objects.exists()


def test_a_user_of_another_unit_does_not_find_it_in_lists(client, world):
    client.force_login(world["stranger"])
    tree = world["tree"]
    search = client.get(reverse("units:list"), {"q": "Bắc Quang", "date": "2024-12-31"})
    assert search.status_code == 200
    assert "Huyện Bắc Quang" not in search.content.decode()
    old_tree = client.get(reverse("units:list"), {"date": "2024-12-31"}).content.decode()
    assert "Tỉnh Hà Giang" not in old_tree
    entry = client.get(reverse("data:entry"), {"programme": "P1", "period": "2024"})
    assert f'value="{tree.bac_quang.pk}"' not in entry.content.decode()


def test_the_leader_reads_every_page(client, world):
    client.force_login(world["leader"])
    for name, url in all_pages(world["tree"]):
        assert client.get(url).status_code == 200, name


def test_the_leader_cannot_write(client, world):
    client.force_login(world["leader"])
    page = client.get(
        reverse("data:entry"),
        {"programme": "P1", "unit": world["tree"].bac_quang.pk, "period": "2024"},
    )
    assert "Lưu số liệu" not in page.content.decode()
    response = client.post(reverse("data:entry"), entry_post(world["tree"]))
    assert response.status_code == 403
    assert not DataValue.objects.exists()


def test_the_officer_reads_every_page_of_the_unit(client, world):
    client.force_login(world["officer"])
    for name, url in all_pages(world["tree"]):
        assert client.get(url).status_code == 200, name


def test_the_officer_saves(client, world):
    client.force_login(world["officer"])
    response = client.post(reverse("data:entry"), entry_post(world["tree"], "1.234"))
    assert response.status_code == 200
    value = DataValue.objects.get()
    assert value.unit == world["tree"].bac_quang
    assert value.value == 1234


def test_the_officer_cannot_read_above_the_unit(client, world):
    client.force_login(world["officer"])
    tree = world["tree"]
    assert client.get(reverse("units:detail", args=[tree.ha_giang.pk])).status_code == 403
    assert client.get(reverse("units:detail", args=[tree.vi_xuyen.pk])).status_code == 403
    url = reverse("programmes:detail", args=["P1"]) + f"?unit={tree.ha_giang.pk}"
    assert client.get(url).status_code == 403
