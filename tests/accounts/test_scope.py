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


def took_over_many(communes: int = 48):
    """A province of today whose communes were formed, through two reorganisations, from
    ``2 × communes`` communes of provinces that were not themselves merged into it."""
    from datetime import date

    from tests.factories import NEW_START, OLD_END, unit
    from tiendo.units.models import ChangeKind, Level, UnitChange, UnitKind

    nation = unit("VN", "Việt Nam", UnitKind.NATION, Level.NATION)
    older = unit(
        "90", "Tỉnh Cũ Hơn", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_to=date(2019, 12, 31)
    )
    old = unit("91", "Tỉnh Cũ", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_to=OLD_END)
    today = unit("92", "Tỉnh Mới", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_from=NEW_START)
    new_communes = [
        unit(
            f"920{i:02}",
            f"Xã Mới {i}",
            UnitKind.COMMUNE,
            Level.COMMUNE,
            today,
            valid_from=NEW_START,
        )
        for i in range(communes // 4)
    ]
    changes = []
    leaves = []
    for i in range(communes):
        a = unit(
            f"900{i:02}",
            f"Xã Xưa {i}",
            UnitKind.COMMUNE,
            Level.COMMUNE,
            older,
            valid_to=date(2019, 12, 31),
        )
        b = unit(f"910{i:02}", f"Xã Cũ {i}", UnitKind.COMMUNE, Level.COMMUNE, old, valid_to=OLD_END)
        leaves += [a, b]
        changes += [
            UnitChange(
                kind=ChangeKind.MERGE,
                effective_date=date(2020, 1, 1),
                legal_basis="thử",
                predecessor=a,
                successor=b,
            ),
            UnitChange(
                kind=ChangeKind.MERGE,
                effective_date=NEW_START,
                legal_basis="thử",
                predecessor=b,
                successor=new_communes[i // 4],
            ),
        ]
    UnitChange.objects.bulk_create(changes)
    return today, leaves, old


def test_the_scope_of_a_unit_that_took_over_many_units_costs_two_queries(
    db, django_assert_num_queries
):
    today, leaves, old_province = took_over_many()
    leader = user("lanhdao.tinhmoi", today, Role.LEADER)
    leader = type(leader).objects.get(pk=leader.pk)  # nothing cached on the object
    with django_assert_num_queries(2):  # the user's unit, then every predecessor at once
        assert all(can_read(leader, u) for u in leaves)
        assert not can_read(leader, old_province)
        readable_units(leader)  # no further query: the paths are kept on the user
    assert set(leaves) <= set(readable_units(leader))
    assert old_province not in set(readable_units(leader))


def test_the_home_page_costs_as_many_queries_for_a_unit_that_took_over_many_units(
    db, client, django_assert_num_queries
):
    from django.urls import reverse

    today, leaves, _ = took_over_many()
    client.force_login(user("lanhdao.tinhmoi", today, Role.LEADER))
    # session, user, scope paths, programmes, the unread notifications, the key figures
    with django_assert_num_queries(8):
        assert client.get(reverse("home")).status_code == 200
