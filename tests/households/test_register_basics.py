"""The register's foundations: ID numbers checked, encrypted at rest, found by blind index,
masked; the personal-data scope rules (Decree 13/2023/NĐ-CP)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from tests import factories
from tiendo.accounts import scope
from tiendo.accounts.models import Role
from tiendo.households import crypto, identity
from tiendo.households.models import Household

NUMBER = "002085012345"  # Hà Giang (002), a man born in 1985


@pytest.mark.parametrize(
    ("raw", "kw", "expected"),
    [
        ("002 085 012 345", {"birth_year": 1985, "sex": "M"}, []),
        ("002.185.012.345", {"birth_year": 1985, "sex": "F"}, []),
        ("002300012345", {"birth_year": 2000, "sex": "F"}, []),
        ("", {}, ["Số căn cước trống."]),
        ("00208501234", {}, ["Số căn cước phải có 12 chữ số (số đã nhập có 11)."]),
        ("00208501234５", {}, ["Số căn cước chỉ gồm chữ số."]),
        ("00208501234a", {}, ["Số căn cước chỉ gồm chữ số."]),
        (
            "003085012345",
            {},
            ["Ba chữ số đầu của số căn cước (003) không phải mã tỉnh nơi đăng ký khai sinh."],
        ),
        (
            NUMBER,
            {"birth_year": 1986},
            ["Năm sinh 1986 không khớp với số căn cước (chữ số 4–6 cho năm 1985)."],
        ),
        (NUMBER, {"sex": "F"}, ["Giới tính không khớp với chữ số thứ 4 của số căn cước (nam)."]),
    ],
)
def test_identity_number_checked(raw, kw, expected):
    assert identity.check(raw, **kw)[1] == expected


def test_a_message_never_repeats_the_number():
    _, problems = identity.check("002085012345", birth_year=1990, sex="F")
    assert len(problems) == 2
    assert not any("012345" in p for p in problems)


def test_encrypted_at_rest_and_found_by_blind_index(tree):
    household = Household(
        unit=tree.c1, code="H1", head_name="Nguyễn Văn A", head_birth_year=1985, head_sex="M"
    )
    household.set_head_id(NUMBER)
    household.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT head_id_encrypted, head_id_index FROM households_household")
        stored, index = cursor.fetchone()
    assert NUMBER not in stored and NUMBER not in index
    assert Household.objects.get().head_id() == NUMBER
    assert Household.objects.get(head_id_index=crypto.blind_index(NUMBER)) == household
    assert household.head_id_masked == "•••••••••345"


def test_rotating_keys_old_tokens_still_open():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(PERSONAL_DATA_KEYS=[old]):
        token = crypto.encrypt(NUMBER)
    with override_settings(PERSONAL_DATA_KEYS=[new, old]):
        assert crypto.decrypt(token) == NUMBER
        rotated = crypto.rotate(token)
    with override_settings(PERSONAL_DATA_KEYS=[new]):
        assert crypto.decrypt(rotated) == NUMBER
        with pytest.raises(crypto.InvalidToken):
            crypto.decrypt(token)


def test_production_without_a_key_refuses():
    with (
        override_settings(PERSONAL_DATA_KEYS=[], DEBUG=False),
        pytest.raises(crypto.KeyMissing),
    ):
        crypto.encrypt(NUMBER)


def test_debug_without_a_key_derives_one():
    with override_settings(PERSONAL_DATA_KEYS=[], DEBUG=True):
        assert crypto.decrypt(crypto.encrypt(NUMBER)) == NUMBER


def test_who_sees_records_and_id_numbers(tree):
    officer = factories.user("xa.c1", tree.c1, Role.COMMUNE_OFFICER)
    district = factories.user("huyen.vx", tree.vi_xuyen, Role.AGENCY_OFFICER)
    leader = factories.user("lanhdao.hg", tree.ha_giang, Role.LEADER)
    stranger = factories.user("qt", tree.other_province, Role.COORDINATOR)
    assert scope.may_see_records(officer, tree.c1) and scope.may_see_id_numbers(officer, tree.c1)
    assert not scope.may_see_records(officer, tree.c2)
    assert scope.may_see_records(district, tree.c1)
    assert not scope.may_see_id_numbers(district, tree.c1)
    assert not scope.may_see_records(leader, tree.c1)
    assert not scope.may_see_records(stranger, tree.c1)
    assert scope.may_edit_records(officer, tree.c1) and not scope.may_edit_records(leader, tree.c1)


@pytest.mark.django_db
def test_rekey_moves_every_number_to_the_new_key_and_duplicates_are_still_found(tree):
    from django.core.management import call_command

    from tests.households import helpers
    from tiendo.households import services
    from tiendo.households.models import Household, Member

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(PERSONAL_DATA_KEYS=[old]):
        household = helpers.household(tree.c1)
        services.save_member(
            household,
            {"name": "Nguyễn Thị B", "id_number": helpers.OTHER_NUMBER},
            expected_version=None,
        )
    with override_settings(PERSONAL_DATA_KEYS=[new, old]):
        # the new key indexes differently: before the rekey the duplicate is not found
        assert not Household.objects.filter(head_id_index=crypto.blind_index(helpers.NUMBER))
        out = io.StringIO()
        call_command("households", "rekey", stdout=out)
        assert "1 chủ hộ và 1 thành viên" in out.getvalue()
    with override_settings(PERSONAL_DATA_KEYS=[new]):  # the old key is gone
        household.refresh_from_db()
        assert household.head_id() == helpers.NUMBER
        assert Household.objects.filter(head_id_index=crypto.blind_index(helpers.NUMBER)).exists()
        member = Member.objects.get()
        assert crypto.decrypt(member.id_encrypted) == helpers.OTHER_NUMBER
        assert services.find_duplicates(head_id=helpers.NUMBER)
