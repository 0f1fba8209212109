import unicodedata
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import NEW_START, OLD_END, unit
from tiendo.units.models import ChangeKind, Level, UnitChange, UnitKind
from tiendo.units.services import (
    UnitNotFound,
    current_successors,
    map_to_today,
    resolve_unit,
    search_units,
)

TODAY = date(2026, 3, 1)


def test_resolve_unit_by_code(tree):
    assert resolve_unit("02") == tree.ha_giang
    assert resolve_unit(" 10001 ") == tree.n1
    with pytest.raises(UnitNotFound, match="Không có đơn vị nào mang mã “99”"):
        resolve_unit("99")


def test_resolve_unit_prefers_the_unit_valid_on_the_day(tree):
    old_tq = unit(
        "08", "Tỉnh Tuyên Quang", UnitKind.PROVINCE, Level.PROVINCE, tree.nation, valid_to=OLD_END
    )
    assert resolve_unit("08") == tree.tuyen_quang
    assert resolve_unit("08", on=date(2024, 5, 1)) == old_tq
    assert resolve_unit("08", on=NEW_START) == tree.tuyen_quang


def test_resolve_unit_falls_back_to_the_most_recent(tree):
    first = unit(
        "X1",
        "Đơn vị một",
        UnitKind.AGENCY,
        Level.DISTRICT,
        tree.ha_giang,
        valid_to=date(2020, 1, 1),
    )
    later = unit(
        "X1",
        "Đơn vị một (sau)",
        UnitKind.AGENCY,
        Level.DISTRICT,
        tree.ha_giang,
        valid_from=date(2020, 1, 2),
        valid_to=date(2022, 1, 1),
    )
    assert resolve_unit("X1", on=date(2019, 1, 1)) == first
    assert resolve_unit("X1", on=date(2024, 1, 1)) == later


def test_current_successors(tree):
    assert current_successors(tree.c1, TODAY) == [tree.n1]
    assert current_successors(tree.c4, TODAY) == [tree.n2, tree.n3]
    # No link of its own: through its province.
    assert current_successors(tree.vi_xuyen, TODAY) == [tree.tuyen_quang]
    assert current_successors(tree.agency, TODAY) == [tree.tuyen_quang]
    assert current_successors(tree.n2, TODAY) == [tree.n2]
    # On a day of the old tree a unit is its own successor.
    assert current_successors(tree.c1, date(2024, 1, 1)) == [tree.c1]


def test_current_successors_follow_chains(tree):
    interim = unit(
        "10009",
        "Xã Tạm",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.tuyen_quang,
        valid_from=NEW_START,
        valid_to=date(2025, 12, 31),
    )
    final = unit(
        "10010",
        "Xã Cuối",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        tree.tuyen_quang,
        valid_from=date(2026, 1, 1),
    )
    old = unit("00010", "Xã Mười", UnitKind.COMMUNE, Level.COMMUNE, tree.vi_xuyen, valid_to=OLD_END)
    for a, b, day in ((old, interim, NEW_START), (interim, final, date(2026, 1, 1))):
        UnitChange.objects.create(
            kind=ChangeKind.MERGE, effective_date=day, predecessor=a, successor=b, share=1
        )
    assert current_successors(old, TODAY) == [final]
    assert current_successors(old, date(2025, 9, 1)) == [interim]


def test_map_to_today_counts_a_whole_old_province(tree):
    mapping = map_to_today(tree.tuyen_quang)
    assert mapping.flagged == []
    expected = {
        tree.ha_giang,
        tree.vi_xuyen,
        tree.bac_quang,
        tree.agency,
        tree.c1,
        tree.c2,
        tree.c3,
        tree.c4,
    }
    assert mapping.factors == {u.pk: Decimal(1) for u in expected}


def test_map_to_today_flags_a_split_without_shares(tree):
    mapping = map_to_today(tree.n2)
    assert mapping.factors == {tree.c2.pk: Decimal(1), tree.c3.pk: Decimal(1)}
    [(old, reason)] = mapping.flagged
    assert old == tree.c4
    assert "Xã Bốn được chia cho nhiều đơn vị (Xã Mới Ba, Xã Mới Hai)" in reason
    assert "chưa có tỷ lệ phân bổ" in reason
    assert map_to_today(tree.n1).factors == {tree.c1.pk: Decimal(1)}


def test_map_to_today_uses_shares_once_entered(tree):
    UnitChange.objects.filter(predecessor=tree.c4, successor=tree.n2).update(share=Decimal("0.6"))
    UnitChange.objects.filter(predecessor=tree.c4, successor=tree.n3).update(share=Decimal("0.4"))
    n2 = map_to_today(tree.n2)
    assert n2.flagged == [] and n2.factors[tree.c4.pk] == Decimal("0.6")
    assert map_to_today(tree.n3).factors == {tree.c4.pk: Decimal("0.4")}
    assert map_to_today(tree.other_province).factors == {}


def test_search_units(tree):
    decomposed = unicodedata.normalize("NFD", "Vị Xuyên")
    assert list(search_units(decomposed)) == [tree.vi_xuyen]
    assert list(search_units("02")) == [tree.ha_giang]
    assert list(search_units("  ")) == []
    assert set(search_units("Tuyên Quang", on=date(2024, 1, 1))) == set()
    assert set(search_units("Xã Mới", on=TODAY)) == {tree.n1, tree.n2, tree.n3}
    assert set(search_units("Xã Mới", on=date(2024, 1, 1))) == set()
