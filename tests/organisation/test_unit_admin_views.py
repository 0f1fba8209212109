"""Agencies created on a page, and allocation shares of split communes."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import user
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.units.models import Unit, UnitChange, UnitKind


@pytest.fixture
def coordinator(tree):
    return user("vpdp", tree.ha_giang, Role.COORDINATOR)


@pytest.fixture
def new_coordinator(tree):
    return user("vpdp.tq", tree.tuyen_quang, Role.COORDINATOR)


AGENCY = {
    "code": "02.LMHTX",
    "name": "Liên minh Hợp tác xã tỉnh Hà Giang",
    "valid_from": "",
    "valid_to": "",
}


def test_anonymous_is_sent_to_login(client, tree):
    for url in (
        reverse("units:agency_create", args=[tree.ha_giang.pk]),
        reverse("units:shares_edit", args=[tree.c4.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/dang-nhap/" in response["Location"]


def test_a_coordinator_of_another_province_cannot_add_an_agency(client, tree):
    client.force_login(user("khac", tree.other_province, Role.COORDINATOR))
    assert (
        client.post(reverse("units:agency_create", args=[tree.ha_giang.pk]), AGENCY).status_code
        == 403
    )
    assert not Unit.objects.filter(code="02.LMHTX").exists()


@pytest.mark.parametrize("role", [Role.LEADER, Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER])
def test_other_roles_of_the_province_cannot_add_an_agency(client, tree, role):
    client.force_login(user("nguoi", tree.ha_giang, role))
    assert (
        client.post(reverse("units:agency_create", args=[tree.ha_giang.pk]), AGENCY).status_code
        == 403
    )


def test_the_coordinator_adds_an_agency_that_ends_with_its_province(client, tree, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("units:detail", args=[tree.ha_giang.pk])).content.decode()
    assert "Thêm cơ quan, tổ chức" in page
    response = client.post(reverse("units:agency_create", args=[tree.ha_giang.pk]), AGENCY)
    agency = Unit.objects.get(code="02.LMHTX")
    assert response.status_code == 302
    assert (agency.kind, agency.parent, agency.valid_to) == (
        UnitKind.AGENCY,
        tree.ha_giang,
        tree.ha_giang.valid_to,
    )
    assert agency.path.startswith(tree.ha_giang.path)
    assert AuditEntry.objects.filter(
        action="unit.agency_created", object_id=str(agency.pk)
    ).exists()


def test_a_bad_agency_form_names_the_field_and_saves_nothing(client, tree, coordinator):
    client.force_login(coordinator)
    bad = {"code": "02 LM HTX", "name": "", "valid_from": "2020-01-01", "valid_to": "2019-01-01"}
    page = client.post(
        reverse("units:agency_create", args=[tree.ha_giang.pk]), bad
    ).content.decode()
    assert "Mã chỉ gồm chữ" in page and "Ngày hết hiệu lực phải sau" in page
    duplicate = dict(AGENCY, code="02.SNN")  # the factory's Sở Nông nghiệp
    assert (
        "Đã có cơ quan mang mã"
        in client.post(
            reverse("units:agency_create", args=[tree.ha_giang.pk]), duplicate
        ).content.decode()
    )
    assert Unit.objects.filter(kind=UnitKind.AGENCY).count() == 1


def test_shares_of_a_split_commune_must_make_the_whole(client, tree, new_coordinator):
    client.force_login(new_coordinator)
    url = reverse("units:shares_edit", args=[tree.c4.pk])
    links = {lk.successor.code: lk for lk in UnitChange.objects.filter(predecessor=tree.c4)}
    fields = {f"share_{links['10002'].pk}": "30", f"share_{links['10003'].pk}": "60"}
    assert "Tổng tỷ lệ phân bổ phải bằng 100%" in client.post(url, fields).content.decode()
    assert UnitChange.objects.filter(predecessor=tree.c4, share__isnull=False).count() == 0
    fields[f"share_{links['10003'].pk}"] = "70"
    assert client.post(url, fields).status_code == 302
    shares = dict(
        UnitChange.objects.filter(predecessor=tree.c4).values_list("successor__code", "share")
    )
    assert shares == {"10002": Decimal("0.3"), "10003": Decimal("0.7")}
    assert AuditEntry.objects.filter(action="unit_change.shares_set").count() == 1


def test_shares_need_a_manager_of_every_successor(client, tree):
    client.force_login(user("xa.moi", tree.n2, Role.COORDINATOR))  # manages N2 only, not N3
    assert client.get(reverse("units:shares_edit", args=[tree.c4.pk])).status_code == 403
    client.force_login(user("lanhdao.tq", tree.tuyen_quang, Role.LEADER))
    assert client.get(reverse("units:shares_edit", args=[tree.c4.pk])).status_code == 403


def test_a_unit_that_was_not_split_has_no_shares_page(client, tree, new_coordinator):
    client.force_login(new_coordinator)
    assert client.get(reverse("units:shares_edit", args=[tree.c1.pk])).status_code == 404
