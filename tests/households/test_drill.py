"""The drill-down from a register figure to the records behind it: who sees what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.households.world import fill
from tiendo.accounts.models import Role
from tiendo.households.models import PersonalDataExport

NUMBER = "002085012345"


@pytest.fixture
def drilled(world):
    tree, t1, t2 = world
    a, b, c = fill(tree, t1, t2)
    a.set_head_id(NUMBER)
    a.save()
    people = {
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "other_commune": factories.user("xa.ba", tree.c3, Role.COMMUNE_OFFICER),
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }
    return tree, people, (a, b, c)


def url(code, unit, period="2021-2025"):
    return reverse("households:drill", args=[code, unit.pk, period])


def test_anonymous_is_sent_to_log_in(client, drilled):
    tree, _people, _h = drilled
    response = client.get(url("T_BORROWERS", tree.c1))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("who", "unit", "status"),
    [
        ("stranger", "c1", 403),
        ("other_commune", "c1", 403),
        ("leader", "ha_giang", 403),
        ("leader", "c1", 403),
        ("officer", "c1", 200),
        ("coordinator", "ha_giang", 200),
    ],
)
def test_who_may_open_the_records_behind_a_figure(client, drilled, who, unit, status):
    tree, people, _h = drilled
    client.force_login(people[who])
    assert client.get(url("T_BORROWERS", getattr(tree, unit))).status_code == status


def test_the_commune_officer_sees_names_and_full_id_numbers_of_the_commune(client, drilled):
    tree, people, (a, b, c) = drilled
    client.force_login(people["officer"])
    page = client.get(url("T_BORROWERS", tree.c1)).content.decode()
    assert a.head_name in page and NUMBER in page
    assert b.head_name not in page  # B never borrowed from T1


def test_the_province_sees_names_but_masked_id_numbers_and_every_commune(client, drilled):
    tree, people, (a, b, c) = drilled
    client.force_login(people["coordinator"])
    page = client.get(url("T_BORROWERS", tree.ha_giang)).content.decode()
    assert a.head_name in page and c.head_name in page
    assert NUMBER not in page and "•••••••••345" in page
    # the records of one year only for an in-period figure; summed field shown
    page = client.get(url("T_DISBURSED", tree.ha_giang, "2021")).content.decode()
    assert "1 bản ghi" in page


def test_an_export_is_audited(client, drilled):
    tree, people, (a, _b, _c) = drilled
    client.force_login(people["officer"])
    response = client.get(url("T_BORROWERS", tree.c1) + "?xuat=csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert a.head_name in text and NUMBER in text
    export = PersonalDataExport.objects.get()
    assert (export.kind, export.rows, export.with_id_numbers) == ("drill", 1, True)
    assert export.filters == {"indicator": "T_BORROWERS", "period": "2021-2025"}


@pytest.mark.parametrize(("code", "period"), [("T_TYPED", "2021"), ("T_BORROWERS", "20x1")])
def test_a_figure_not_from_the_register_or_a_bad_period_is_not_found(client, drilled, code, period):
    tree, people, _h = drilled
    client.force_login(people["officer"])
    assert client.get(url(code, tree.c1, period)).status_code == 404
