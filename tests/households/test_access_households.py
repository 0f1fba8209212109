"""Every page of the register, four personas (tests/test_access.py's style): anonymous to
the login page; a user of another unit and a leader 403 on every page (names are
personal data, leaders see aggregates only); the commune's officer allowed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.households import helpers
from tiendo.accounts.models import Role
from tiendo.households.models import Household, PersonalDataExport


@pytest.fixture
def world(tree):
    programme, component = helpers.loan_programme()
    household = helpers.household(tree.c1)
    loan = helpers.loan(household, programme, component)
    plot = helpers.plot(household, tree.c1, programme, component)
    household.refresh_from_db()
    people = {
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
        "neighbour": factories.user("xa.hai", tree.c2, Role.COMMUNE_OFFICER),
    }
    return {"tree": tree, "household": household, "loan": loan, "plot": plot, **people}


def routes(w):
    """(name, url, allowed persona) of every page; GET."""
    h, unit = w["household"], w["tree"].c1
    return [
        ("households:list", reverse("households:list", args=[unit.pk]), "officer"),
        ("households:export_list", reverse("households:export_list", args=[unit.pk]), "officer"),
        ("households:create", reverse("households:create", args=[unit.pk]), "officer"),
        ("households:eligibility", reverse("households:eligibility", args=[unit.pk]), "officer"),
        (
            "households:export_audit",
            reverse("households:export_audit", args=[unit.pk]),
            "coordinator",
        ),
        ("households:detail", reverse("households:detail", args=[h.pk]), "officer"),
        ("households:edit", reverse("households:edit", args=[h.pk]), "officer"),
        ("households:remove", reverse("households:remove", args=[h.pk]), "officer"),
        (
            "households:export_household",
            reverse("households:export_household", args=[h.pk]),
            "officer",
        ),
        ("households:poverty", reverse("households:poverty", args=[h.pk]), "officer"),
        (
            "households:repayment",
            reverse("households:repayment", args=[h.pk, w["loan"].pk]),
            "officer",
        ),
        (
            "households:record_add",
            reverse("households:record_add", args=[h.pk, "vay"]),
            "officer",
        ),
        (
            "households:record_edit",
            reverse("households:record_edit", args=[h.pk, "dat", w["plot"].pk]),
            "officer",
        ),
    ]


def test_anonymous_is_sent_to_the_login_page(client, world):
    for name, url, _allowed in [
        *routes(world),
        ("households:index", reverse("households:index"), ""),
    ]:
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("persona", ["stranger", "neighbour", "leader"])
def test_others_and_leaders_get_403_on_every_page(client, world, persona):
    client.force_login(world[persona])
    for name, url, _allowed in routes(world):
        response = client.get(url)
        assert response.status_code == 403, (name, persona)
        assert "Nguyễn Văn A" not in response.content.decode(), name
    assert not PersonalDataExport.objects.exists()


def test_the_allowed_persona_reads_every_page(client, world):
    for name, url, allowed in routes(world):
        client.force_login(world[allowed])
        assert client.get(url).status_code == 200, name


def test_the_officer_does_not_read_the_export_audit(client, world):
    client.force_login(world["officer"])
    url = reverse("households:export_audit", args=[world["tree"].c1.pk])
    assert client.get(url).status_code == 403


def test_index_sends_each_to_their_register_and_the_leader_nowhere(client, world):
    client.force_login(world["officer"])
    response = client.get(reverse("households:index"))
    assert response["Location"] == reverse("households:list", args=[world["tree"].c1.pk])
    client.force_login(world["leader"])
    assert client.get(reverse("households:index")).status_code == 403


def test_a_household_that_does_not_exist_is_404(client, world):
    client.force_login(world["officer"])
    assert client.get(reverse("households:detail", args=[999999])).status_code == 404
    url = reverse("households:record_add", args=[world["household"].pk, "khac"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("persona", ["stranger", "neighbour", "leader", "anonymous"])
def test_nobody_else_writes(client, world, persona):
    if persona != "anonymous":
        client.force_login(world[persona])
    h = world["household"]
    posts = [
        (
            reverse("households:edit", args=[h.pk]),
            {
                "code": "H1",
                "head_name": "X",
                "head_birth_year": 1985,
                "head_sex": "M",
                "version": h.version,
            },
        ),
        (reverse("households:remove", args=[h.pk]), {"reason": "x", "version": h.version}),
        (
            reverse("households:create", args=[world["tree"].c1.pk]),
            {"code": "H9", "head_name": "X", "head_birth_year": 1985, "head_sex": "M"},
        ),
        (reverse("households:record_remove", args=[h.pk, "vay", world["loan"].pk]), {"version": 1}),
        (
            reverse("households:poverty", args=[h.pk]),
            {"year": 2024, "level": "poor", "version": h.version},
        ),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (302, 403), url
        if persona != "anonymous":
            assert response.status_code == 403, url
    household = Household.objects.get()
    assert household.version == h.version and household.removed_at is None
    assert Household.objects.count() == 1 and household.loans.count() == 1


def test_a_coordinator_above_sees_masked_ids_the_commune_officer_in_full(client, world):
    h = world["household"]
    client.force_login(world["coordinator"])
    page = client.get(reverse("households:detail", args=[h.pk])).content.decode()
    assert helpers.NUMBER not in page and "•••••••••345" in page
    client.force_login(world["officer"])
    page = client.get(reverse("households:detail", args=[h.pk])).content.decode()
    assert helpers.NUMBER in page
