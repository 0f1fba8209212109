from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.factories import NEW_START, OLD_END, unit
from tiendo.units.models import ChangeKind, Level, Unit, UnitAncestor, UnitChange, UnitKind


def closure(u: Unit) -> dict[int, int]:
    return dict(u.ancestor_links.values_list("depth", "ancestor_id"))


def test_paths_are_built_from_primary_keys(tree):
    assert tree.nation.path == f"/{tree.nation.pk}/"
    assert tree.ha_giang.path == f"/{tree.nation.pk}/{tree.ha_giang.pk}/"
    assert tree.c1.path == f"{tree.vi_xuyen.path}{tree.c1.pk}/"
    assert tree.n1.path == f"{tree.tuyen_quang.path}{tree.n1.pk}/"
    tree.c1.refresh_from_db()
    assert tree.c1.path == f"{tree.vi_xuyen.path}{tree.c1.pk}/"


def test_closure_rows_are_kept_for_every_unit(tree):
    assert closure(tree.c1) == {
        0: tree.c1.pk,
        1: tree.vi_xuyen.pk,
        2: tree.ha_giang.pk,
        3: tree.nation.pk,
    }
    assert closure(tree.nation) == {0: tree.nation.pk}
    assert UnitAncestor.objects.count() == sum(
        len(u.path.strip("/").split("/")) for u in Unit.objects.all()
    )


def test_ancestors_and_is_within(tree):
    assert tree.c3.ancestor_ids == [tree.nation.pk, tree.ha_giang.pk, tree.bac_quang.pk]
    assert tree.c3.ancestors() == [tree.nation, tree.ha_giang, tree.bac_quang]
    assert tree.c3.is_within(tree.ha_giang)
    assert tree.c3.is_within(tree.c3)
    assert not tree.c3.is_within(tree.vi_xuyen)
    assert not tree.n1.is_within(tree.ha_giang)


def test_subtree(tree):
    hg = set(Unit.objects.subtree(tree.ha_giang))
    assert hg == {
        tree.ha_giang,
        tree.vi_xuyen,
        tree.bac_quang,
        tree.c1,
        tree.c2,
        tree.c3,
        tree.c4,
        tree.agency,
    }
    assert tree.ha_giang not in set(Unit.objects.subtree(tree.ha_giang, include_self=False))
    assert set(Unit.objects.subtree(tree.vi_xuyen)) == {tree.vi_xuyen, tree.c1, tree.c2}
    assert set(Unit.objects.subtree(tree.ha_giang).agencies()) == {tree.agency}
    assert tree.agency not in set(Unit.objects.subtree(tree.ha_giang).administrative())


def test_validity(tree):
    before, after = date(2024, 12, 31), date(2025, 7, 1)
    assert tree.ha_giang.is_valid_on(OLD_END) and not tree.ha_giang.is_valid_on(after)
    assert tree.tuyen_quang.is_valid_on(NEW_START) and not tree.tuyen_quang.is_valid_on(OLD_END)
    assert tree.nation.is_valid_on(date(1990, 1, 1)) and tree.nation.is_current
    on_old = set(Unit.objects.valid_on(before))
    assert tree.ha_giang in on_old and tree.c4 in on_old and tree.tuyen_quang not in on_old
    on_new = set(Unit.objects.valid_on(after))
    assert tree.n2 in on_new and tree.ha_giang not in on_new and tree.nation in on_new
    assert set(Unit.objects.current()) == on_new
    assert not tree.ha_giang.is_current


def test_moving_a_unit_moves_its_subtree_and_closure(tree):
    bq = tree.bac_quang
    bq.parent = tree.other_province
    bq.save()
    bq.refresh_from_db()
    assert bq.path == f"{tree.other_province.path}{bq.pk}/"
    for commune in (tree.c3, tree.c4):
        commune.refresh_from_db()
        assert commune.path == f"{bq.path}{commune.pk}/"
        assert closure(commune) == {
            0: commune.pk,
            1: bq.pk,
            2: tree.other_province.pk,
            3: tree.nation.pk,
        }
    assert set(Unit.objects.subtree(tree.ha_giang)) == {
        tree.ha_giang,
        tree.vi_xuyen,
        tree.c1,
        tree.c2,
        tree.agency,
    }
    assert not UnitAncestor.objects.filter(ancestor=tree.ha_giang, unit=tree.c3).exists()


def test_a_stale_parent_instance_does_not_corrupt_the_path(tree):
    stale_district = Unit.objects.get(pk=tree.bac_quang.pk)
    tree.bac_quang.parent = tree.other_province
    tree.bac_quang.save()
    child = unit(
        "00009", "Xã Chín", UnitKind.COMMUNE, Level.COMMUNE, stale_district, valid_to=OLD_END
    )
    bq = Unit.objects.get(pk=tree.bac_quang.pk)
    assert child.path == f"{bq.path}{child.pk}/"
    assert child.is_within(tree.other_province)


def test_saving_without_moving_keeps_the_path(tree):
    path = tree.c2.path
    tree.c2.name = "Xã Hai Mới"
    tree.c2.save()
    tree.c2.refresh_from_db()
    assert (tree.c2.path, tree.c2.name) == (path, "Xã Hai Mới")
    assert len(closure(tree.c2)) == 4


def test_a_code_is_unique_per_level_kind_and_start(tree):
    with transaction.atomic(), pytest.raises(IntegrityError):
        unit("02", "Tỉnh Hà Giang (trùng)", UnitKind.PROVINCE, Level.PROVINCE, tree.nation)
    with transaction.atomic(), pytest.raises(IntegrityError):
        unit(
            "08",
            "Tỉnh Tuyên Quang (trùng)",
            UnitKind.PROVINCE,
            Level.PROVINCE,
            tree.nation,
            NEW_START,
        )
    # The same code in another era is another unit (Tuyên Quang is 08 before and after).
    old_tq = unit(
        "08", "Tỉnh Tuyên Quang", UnitKind.PROVINCE, Level.PROVINCE, tree.nation, valid_to=OLD_END
    )
    assert old_tq.pk != tree.tuyen_quang.pk


def test_unit_change(tree):
    whole = UnitChange.objects.get(predecessor=tree.c1)
    assert str(whole) == "Xã Một → Xã Mới Một (Sáp nhập)"
    assert not whole.needs_share
    split = UnitChange.objects.get(predecessor=tree.c4, successor=tree.n2)
    assert split.kind == ChangeKind.SPLIT and split.needs_share
    split.share = Decimal("0.5")
    split.save()
    assert not split.needs_share
    with transaction.atomic(), pytest.raises(IntegrityError):
        UnitChange.objects.create(
            kind=ChangeKind.MERGE, effective_date=NEW_START, predecessor=tree.c1, successor=tree.n1
        )
