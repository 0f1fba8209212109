"""History-true and mapped views through chains of changes (two and three events).

The tree (``chains`` fixture):

- old province Tỉnh Cũ (until 30/06/2025) with Huyện Một (until 30/06/2025) and Huyện Hai
  (until 31/12/2019, abolished in 2020);
- Xã Xưa (Huyện Hai, until 31/12/2017) merged on 01/01/2018 into Xã A (Huyện Hai, until
  31/12/2019), which merged on 01/01/2020 with Xã B0 (Huyện Một) into Xã B (Huyện Một,
  2020 - 30/06/2025), which merged on 01/07/2025 into Xã C of the new Tỉnh Mới: three
  events for Xã Xưa, two for Xã A;
- Xã S (Huyện Một, until 31/12/2021) split on 01/01/2022, 0,6 into Xã T1 and 0,4 into Xã
  T2 (both Huyện Một), which merged on 01/07/2025 into Xã C and Xã E (Tỉnh Mới);
- Xã W (Huyện Một, until 31/12/2020) merged into Xã U (Huyện Một), split on 01/07/2025
  without shares between Xã C and Xã F of another new province, Tỉnh Khác.
"""

import io
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import D, indicator, programme, unit
from tiendo.data.aggregation import Aggregator
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Aggregation
from tiendo.units.chains import map_units
from tiendo.units.models import ChangeKind, Level, Unit, UnitChange, UnitKind

OLD_END = date(2025, 6, 30)
NEW_START = date(2025, 7, 1)
TODAY = date(2026, 3, 1)
COMMUNE = (UnitKind.COMMUNE, Level.COMMUNE)


@dataclass
class Chains:
    nation: Unit
    old: Unit
    d1: Unit
    d2: Unit
    xua: Unit
    a: Unit
    b0: Unit
    b: Unit
    s: Unit
    t1: Unit
    t2: Unit
    w: Unit
    u: Unit
    new: Unit
    c: Unit
    e: Unit
    other: Unit
    f: Unit


def link(old, new, day, share=None, partial=False, kind=ChangeKind.MERGE):
    UnitChange.objects.create(
        kind=kind, effective_date=day, predecessor=old, successor=new, share=share, partial=partial
    )


@pytest.fixture
def chains(db) -> Chains:
    nation = unit("VN", "Việt Nam", UnitKind.NATION, Level.NATION)
    old = unit("91", "Tỉnh Cũ", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_to=OLD_END)
    d1 = unit("911", "Huyện Một", UnitKind.RURAL_DISTRICT, Level.DISTRICT, old, valid_to=OLD_END)
    d2 = unit(
        "912",
        "Huyện Hai",
        UnitKind.RURAL_DISTRICT,
        Level.DISTRICT,
        old,
        valid_to=date(2019, 12, 31),
    )
    xua = unit("90001", "Xã Xưa", *COMMUNE, d2, valid_to=date(2017, 12, 31))
    a = unit("90002", "Xã A", *COMMUNE, d2, valid_to=date(2019, 12, 31))
    b0 = unit("90003", "Xã B0", *COMMUNE, d1, valid_to=date(2019, 12, 31))
    b = unit("90004", "Xã B", *COMMUNE, d1, valid_from=date(2020, 1, 1), valid_to=OLD_END)
    s = unit("90005", "Xã S", *COMMUNE, d1, valid_to=date(2021, 12, 31))
    t1 = unit("90006", "Xã T1", *COMMUNE, d1, valid_from=date(2022, 1, 1), valid_to=OLD_END)
    t2 = unit("90007", "Xã T2", *COMMUNE, d1, valid_from=date(2022, 1, 1), valid_to=OLD_END)
    w = unit("90008", "Xã W", *COMMUNE, d1, valid_to=date(2020, 12, 31))
    u = unit("90009", "Xã U", *COMMUNE, d1, valid_to=OLD_END)
    new = unit("92", "Tỉnh Mới", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_from=NEW_START)
    c = unit("92001", "Xã C", *COMMUNE, new, valid_from=NEW_START)
    e = unit("92002", "Xã E", *COMMUNE, new, valid_from=NEW_START)
    other = unit("93", "Tỉnh Khác", UnitKind.PROVINCE, Level.PROVINCE, nation, valid_from=NEW_START)
    f = unit("93001", "Xã F", *COMMUNE, other, valid_from=NEW_START)
    link(old, new, NEW_START)
    link(xua, a, date(2018, 1, 1))
    link(a, b, date(2020, 1, 1))
    link(b0, b, date(2020, 1, 1))
    link(b, c, NEW_START)
    split = {"kind": ChangeKind.SPLIT, "partial": True}
    link(s, t1, date(2022, 1, 1), share=D("0.6"), **split)
    link(s, t2, date(2022, 1, 1), share=D("0.4"), **split)
    link(t1, c, NEW_START)
    link(t2, e, NEW_START)
    link(w, u, date(2021, 1, 1))
    link(u, c, NEW_START, **split)
    link(u, f, NEW_START, **split)
    return Chains(nation, old, d1, d2, xua, a, b0, b, s, t1, t2, w, u, new, c, e, other, f)


@pytest.fixture
def indicators(chains):
    prog = programme("PCH")
    return {
        "sum": indicator(prog, "HH", name="Số hộ"),
        "avg": indicator(prog, "AV", aggregation=Aggregation.AVERAGE, name="Bình quân"),
        "last": indicator(prog, "ST", aggregation=Aggregation.LAST, measure_unit="ha"),
        "rate": indicator(prog, "RATE", formula="HH / AV", decimals=2),
        "count": indicator(prog, "REPORTING", measure_unit="xã", formula="count_units(ST > 0)"),
    }


def put(ind, unit_obj, period, value):
    save_value(Entry(ind, unit_obj, period, D(value)))


def cells(indicators, unit_obj, period, **view):
    return Aggregator(list(indicators.values()), period, **view).for_unit(unit_obj)


def value(indicators, key, unit_obj, period, **view):
    return cells(indicators, unit_obj, period, **view)[indicators[key].code].value


# --- the mapping --------------------------------------------------------------------------
def test_a_chain_of_three_events_maps_the_oldest_commune_into_todays(chains):
    mapping = map_units([chains.c], TODAY)[chains.c.pk]
    assert mapping.factors == {
        chains.xua.pk: D(1),
        chains.a.pk: D(1),
        chains.b0.pk: D(1),
        chains.b.pk: D(1),
        chains.s.pk: D("0.6"),
        chains.t1.pk: D(1),
    }
    flagged = {old.code: reason for old, reason in mapping.flagged}
    assert set(flagged) == {"90008", "90009"}  # Xã W through Xã U, and Xã U itself
    assert "Xã U được chia cho nhiều đơn vị (Xã C, Xã F)" in flagged["90009"]
    assert flagged["90008"].startswith("Xã W sau này thuộc Xã U;")


def test_split_shares_multiply_along_the_chain_and_a_province_counts_both_parts(chains):
    assert map_units([chains.e], TODAY)[chains.e.pk].factors == {
        chains.s.pk: D("0.4"),
        chains.t2.pk: D(1),
    }
    # Tỉnh Mới holds both parts of Xã S and the whole old province but Xã U's other part
    mapping = map_units([chains.new], TODAY)[chains.new.pk]
    assert mapping.factors[chains.s.pk] == D(1)
    assert mapping.factors[chains.xua.pk] == D(1)
    assert mapping.factors[chains.d2.pk] == D(1)  # a district follows its province
    assert {old.code for old, _r in mapping.flagged} == {"90008", "90009"}
    assert chains.u.pk not in mapping.factors and chains.w.pk not in mapping.factors


def test_the_tree_of_an_earlier_day_follows_only_the_links_in_effect_then(chains):
    # on 31/12/2020 Xã B is current: Xã Xưa, Xã A and Xã B0 count in it, nothing else
    mapping = map_units([chains.b], date(2020, 12, 31))[chains.b.pk]
    assert mapping.factors == {chains.xua.pk: D(1), chains.a.pk: D(1), chains.b0.pk: D(1)}
    assert mapping.flagged == []
    # on 31/12/2019 Xã A is still valid: only Xã Xưa maps into it
    assert map_units([chains.a], date(2019, 12, 31))[chains.a.pk].factors == {chains.xua.pk: D(1)}


def test_a_unit_still_valid_keeps_its_data_whatever_it_gave_away(chains):
    # a part of Xã B0 moved to Xã S in 2019 while Xã B0 went on until its merge
    link(chains.b0, chains.s, date(2019, 6, 1), share=D("0.1"), partial=True)
    assert map_units([chains.s], date(2019, 12, 31))[chains.s.pk].factors == {}


# --- the views --------------------------------------------------------------------------
@pytest.fixture
def reported(chains, indicators):
    hh, av, st = indicators["sum"], indicators["avg"], indicators["last"]
    put(hh, chains.xua, "2017", 7)
    put(hh, chains.a, "2019", 10)
    put(hh, chains.b0, "2019", 20)
    put(hh, chains.s, "2019", 50)
    put(hh, chains.w, "2019", 1000)
    put(hh, chains.b, "2022", 30)
    put(av, chains.a, "2019", 4)
    put(av, chains.b0, "2019", 8)
    put(st, chains.xua, "2017", 3)
    put(st, chains.s, "2021", 100)
    put(st, chains.w, "2020", 9)
    return indicators


def test_values_of_2019_roll_up_through_the_districts_of_2019(chains, reported):
    ind = reported
    # history-true, and the same in the tree of 31/12/2019
    for view in ({}, {"on": date(2019, 12, 31)}):
        assert value(ind, "sum", chains.d2, "2019", **view) == D(10)
        assert value(ind, "sum", chains.d1, "2019", **view) == D(1070)
        assert value(ind, "sum", chains.old, "2019", **view) == D(1080)
        assert value(ind, "avg", chains.d2, "2019", **view) == D(4)
    # in the tree of 31/12/2019, Xã Xưa's 2017 households count in Xã A, which absorbed it
    assert value(ind, "sum", chains.a, "2017", on=date(2019, 12, 31)) == D(7)
    assert value(ind, "sum", chains.a, "2017") is None


def test_todays_view_maps_every_step_and_leaves_out_the_split_without_share(chains, reported):
    ind = reported
    view = {"on": TODAY}
    # Xã C: Xã A 10 + Xã B0 20 + 0,6 of Xã S 50; Xã W's 1000 is left out, not counted
    assert value(ind, "sum", chains.c, "2019", **view) == D(60)
    assert value(ind, "sum", chains.e, "2019", **view) == D(20)
    assert value(ind, "sum", chains.new, "2019", **view) == D(80)
    assert value(ind, "sum", chains.c, "2017", **view) == D(7)
    assert value(ind, "sum", chains.c, "2022", **view) == D(30)
    assert value(ind, "avg", chains.c, "2019", **view) == D(6)
    assert value(ind, "rate", chains.c, "2019", **view) == D(10)  # 60 ÷ 6
    # ``today=True`` is the same view
    assert value(ind, "sum", chains.new, "2019", today=True) == D(80)

    aggregator = Aggregator(list(ind.values()), "2019", on=TODAY)
    aggregator.for_units([chains.c, chains.new])
    assert {old.code for old, _r in aggregator.flagged} == {"90008", "90009"}
    left = {old.code: n for old, _reason, n in aggregator.left_out([chains.c, chains.new])}
    assert left == {"90008": 1, "90009": 0}  # Xã W's one value of 2019
    assert Aggregator(list(ind.values()), "2019").left_out([chains.c]) == []


def test_last_values_follow_the_chain_and_the_newest_version_supersedes(chains, reported):
    ind = reported
    view = {"on": TODAY}
    # Xã Xưa's stock (2017) reaches Xã C through three events; 0,6 of Xã S's; not Xã W's
    assert value(ind, "last", chains.c, "2025", **view) == D(63)
    assert value(ind, "last", chains.e, "2025", **view) == D(40)
    assert value(ind, "last", chains.new, "2025", **view) == D(103)
    assert value(ind, "count", chains.new, "2025", **view) == D(2)  # Xã Xưa, Xã S

    # Xã C reports its stock: it includes what it inherited from every step before it
    put(ind["last"], chains.c, "2025Q4", 70)
    assert value(ind, "last", chains.c, "2025", **view) == D(70)
    assert value(ind, "last", chains.new, "2025", **view) == D(110)  # 70 + 0,4 × 100
    # a whole unit is counted: Xã S no longer is once a unit it became (Xã C) reported
    assert value(ind, "count", chains.new, "2025", **view) == D(1)
    # history-true, the nation holds every tree and the same rule applies: 0,4 of Xã S
    # still counts; Xã W went on through a split without shares, so Xã C's report
    # supersedes it whole (never counted twice)
    assert value(ind, "last", chains.nation, "2025") == D(70 + 40)
    assert value(ind, "last", chains.nation, "2025Q2") == D(3 + 100 + 9)


def test_a_report_two_steps_down_the_chain_supersedes_the_oldest_value(chains, reported):
    ind = reported
    # Xã A never reported; Xã B, two events after Xã Xưa, does
    put(ind["last"], chains.b, "2023", 12)
    assert value(ind, "last", chains.d1, "2023") == D(12 + 100 + 9)
    assert value(ind, "last", chains.old, "2023") == D(12 + 100 + 9)  # not + 3 (Xã Xưa)
    assert value(ind, "last", chains.c, "2025", on=TODAY) == D(12 + 60)


# --- the commands -------------------------------------------------------------------------
def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_units_tree_prints_the_tree_of_a_day(chains):
    printed = run("units", "tree", "--unit", "91", "--on", "31/12/2019")
    assert "Tỉnh Cũ (91)" in printed
    assert "Huyện Hai (912)" in printed and "Xã A (90002)" in printed
    assert "Xã B (90004)" not in printed  # created on 01/01/2020
    assert "Xã Xưa" not in printed  # ceased in 2017
    later = run("units", "tree", "--unit", "91", "--on", "2022-06-01")
    assert "Huyện Hai" not in later and "Xã T1 (90006)" in later and "Xã S" not in later
    with pytest.raises(CommandError, match="ngày"):
        run("units", "tree", "--unit", "91", "--on", "32/13/2019")
    with pytest.raises(CommandError, match="31/12/2030"):
        run("units", "tree", "--unit", "91", "--on", "31/12/2030")


def test_pivot_takes_the_tree_of_a_day(chains, reported):
    printed = run("pivot", "--unit", "92001", "--period", "2019", "--on", TODAY.isoformat())
    assert "Xã C (92001)" in printed
    assert "Số hộ" in printed and " 60 " in printed
    assert "Không tính Xã W (90008)" in printed and "1 số liệu" in printed
    history = run("pivot", "--unit", "912", "--period", "2019", "--on", "31/12/2019")
    assert "Huyện Hai (912)" in history and " 10 " in history
