import unicodedata
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import NEW_START, OLD_END, unit
from tiendo.core.models import AuditEntry
from tiendo.units.models import ChangeKind, Level, UnitChange, UnitKind
from tiendo.units.services import (
    UnitNotFound,
    UnitRefused,
    create_agency,
    current_successors,
    map_to_today,
    resolve_unit,
    search_units,
    set_split_shares,
)

TODAY = date(2026, 3, 1)


def test_resolve_unit_by_code(tree):
    assert resolve_unit("02") == tree.ha_giang
    assert resolve_unit(" 10001 ") == tree.n1
    with pytest.raises(UnitNotFound) as refused:
        resolve_unit("99")
    assert refused.value.code == "unit.not_found"


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


def test_an_agency_is_created_with_its_audit_entry(tree):
    agency = create_agency(tree.ha_giang, agency_code="02.LMHTX", name="Liên minh HTX")
    assert (agency.kind, agency.level, agency.valid_to) == (
        UnitKind.AGENCY,
        Level.DISTRICT,
        tree.ha_giang.valid_to,
    )
    entry = AuditEntry.objects.get(action="unit.agency_created", object_id=str(agency.pk))
    assert entry.data["old"] is None
    assert entry.data["new"]["code"] == "02.LMHTX"
    assert entry.data["new"]["valid_to"] == str(tree.ha_giang.valid_to)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"agency_code": "02 LM"}, "unit.agency_code_malformed"),
        ({"agency_code": "02.SNN"}, "unit.agency_code_taken"),
        (
            {"valid_from": date(2020, 1, 1), "valid_to": date(2019, 1, 1)},
            "unit.agency_ends_before_start",
        ),
        ({"valid_to": date(2026, 1, 1)}, "unit.agency_outlives_unit"),
    ],
)
def test_an_agency_that_breaks_a_rule_is_refused_with_its_code(tree, fields, code):
    fields = {"agency_code": "02.MOI", "name": "Cơ quan mới", **fields}
    with pytest.raises(UnitRefused) as refused:
        create_agency(tree.ha_giang, **fields)
    assert refused.value.code == code
    assert not AuditEntry.objects.filter(action="unit.agency_created").exists()


def test_an_agency_cannot_start_before_its_unit(tree):
    with pytest.raises(UnitRefused) as refused:
        create_agency(tree.n2, agency_code="X", name="X", valid_from=date(2025, 1, 1))
    assert (refused.value.code, refused.value.argument) == (
        "unit.agency_precedes_unit",
        "valid_from",
    )


def _c4_links():
    return {lk.successor.code: lk for lk in UnitChange.objects.filter(predecessor__code="00004")}


def test_split_shares_are_stored_and_audited_with_old_and_new(tree):
    links = _c4_links()
    shares = {links["10002"].pk: Decimal("0.25"), links["10003"].pk: Decimal("0.75")}
    changed = set_split_shares(tree.c4, shares)
    assert [(c["successor"], c["old"], c["new"]) for c in changed] == [
        ("10002", None, Decimal("0.25")),
        ("10003", None, Decimal("0.75")),
    ]
    entry = AuditEntry.objects.get(action="unit_change.shares_set")
    assert entry.data["changes"][0] == {"successor": "10002", "old": None, "new": "0.25"}
    assert set_split_shares(tree.c4, shares) == []  # nothing changed, nothing audited
    assert AuditEntry.objects.filter(action="unit_change.shares_set").count() == 1


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"10002": Decimal("0.3"), "10003": Decimal("0.6")}, "unit_change.shares_not_whole"),
        ({"10002": Decimal("1.5"), "10003": Decimal("-0.5")}, "unit_change.share_out_of_range"),
        ({"10002": Decimal(1)}, "unit_change.successors_changed"),
    ],
)
def test_split_shares_that_do_not_make_the_whole_are_refused(tree, values, code):
    links = _c4_links()
    with pytest.raises(UnitRefused) as refused:
        set_split_shares(tree.c4, {links[c].pk: v for c, v in values.items()})
    assert refused.value.code == code
    assert not UnitChange.objects.filter(predecessor=tree.c4, share__isnull=False).exists()


def test_a_unit_that_was_not_split_has_no_shares(tree):
    with pytest.raises(UnitRefused) as refused:
        set_split_shares(tree.c1, {})
    assert refused.value.code == "unit_change.not_split"
