"""The one helper that answers "may this user read or write this unit?"."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from tests.factories import user
from tiendo.accounts.models import Role
from tiendo.accounts.scope import can_read, can_write, check_unit, readable_units


def test_a_commune_officer_reads_and_writes_only_their_commune(tree):
    officer = user("xa1", tree.c1, Role.COMMUNE_OFFICER)
    assert can_read(officer, tree.c1) and can_write(officer, tree.c1)
    assert not can_read(officer, tree.c2)
    assert not can_read(officer, tree.vi_xuyen)
    assert set(readable_units(officer)) == {tree.c1}


def test_a_district_officer_reads_and_writes_the_communes_below(tree):
    officer = user("huyen", tree.vi_xuyen, Role.AGENCY_OFFICER)
    assert can_write(officer, tree.c1) and can_write(officer, tree.c2)
    assert not can_read(officer, tree.c3)
    assert set(readable_units(officer)) == {tree.vi_xuyen, tree.c1, tree.c2}


def test_a_leader_reads_everything_below_but_writes_nothing(tree):
    leader = user("lanhdao", tree.ha_giang, Role.LEADER)
    assert can_read(leader, tree.c4) and can_read(leader, tree.agency)
    assert not can_write(leader, tree.ha_giang)
    with pytest.raises(PermissionDenied, match="không có quyền ghi"):
        check_unit(leader, tree.c1, write=True)
    assert check_unit(leader, tree.c1) == tree.c1


def test_a_unit_of_today_reads_the_units_it_was_formed_from_but_does_not_write_them(tree):
    officer = user("tq", tree.tuyen_quang, Role.COORDINATOR)
    assert can_read(officer, tree.ha_giang) and can_read(officer, tree.c4)
    assert not can_write(officer, tree.c1)
    assert can_write(officer, tree.n1)
    assert not can_read(officer, tree.other_province)
    new_commune = user("n2", tree.n2, Role.COMMUNE_OFFICER)
    # N2 was formed from Xã Hai, Xã Ba and part of Xã Bốn
    assert {u.code for u in readable_units(new_commune)} == {"10002", "00002", "00003", "00004"}


def test_anonymous_and_unit_less_users_see_nothing(tree):
    anonymous = AnonymousUser()
    assert not can_read(anonymous, tree.c1) and not can_write(anonymous, tree.c1)
    assert not readable_units(anonymous).exists()
    homeless = user("khong-don-vi", None, Role.COMMUNE_OFFICER)
    assert not can_read(homeless, tree.c1)
    with pytest.raises(PermissionDenied, match="không có quyền xem"):
        check_unit(homeless, tree.c1)


def test_an_administrator_reads_and_writes_everywhere(tree):
    admin = user("quantri", tree.nation, Role.ADMIN)
    assert can_write(admin, tree.other_commune) and can_read(admin, tree.c4)
    assert readable_units(admin).count() == 15
