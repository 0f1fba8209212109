"""The rows a change file writes, in bulk: paths, closure rows, events and their units.

The loads below are those where writing the whole file at once could differ from writing
it unit by unit (``Unit.save``): parents created in the same file as their children, an
existing unit with children placed under a version the file creates, several events
sharing acts. Every test ends by checking the whole tree: each path is its parent's path
and its own pk, each unit's closure rows are exactly those of its path.
"""

from datetime import date

from tests import factories
from tiendo.units.changes import apply_changes, plan_changes
from tiendo.units.models import (
    ChangeKind,
    LegalAct,
    Level,
    Unit,
    UnitAncestor,
    UnitChange,
    UnitEvent,
    UnitKind,
)

ACT = {
    "act_number": "12/NQ-UBTVQH15",
    "act_date": "2026-11-20",
    "act_issuer": "Ủy ban Thường vụ Quốc hội",
}


def row(event, kind, effective, **link):
    return {"event": event, "kind": kind, "effective": effective, **ACT, **link}


def load(rows):
    plan = plan_changes(rows)
    assert not plan.problems, [str(p) for p in plan.problems]
    return apply_changes(plan, source="tệp thử")


def closure(unit: Unit) -> list[tuple[int, int]]:
    """(ancestor, depth) rows of a unit, nearest first."""
    return list(
        UnitAncestor.objects.filter(unit=unit).order_by("depth").values_list("ancestor", "depth")
    )


def assert_tree_whole() -> None:
    """Every path is the parent's path and the unit's pk; the closure table is the paths."""
    units = {
        pk: (parent, path) for pk, parent, path in Unit.objects.values_list("pk", "parent", "path")
    }
    for pk, (parent, path) in units.items():
        expected = f"{units[parent][1] if parent else '/'}{pk}/"
        assert path == expected, f"unit #{pk}: path {path}, expected {expected}"
    wanted = {
        (pk, int(a), d)
        for pk, (_, path) in units.items()
        for d, a in enumerate(reversed(path.strip("/").split("/")))
    }
    have = list(UnitAncestor.objects.values_list("unit", "ancestor", "depth"))
    assert len(have) == len(set(have))
    assert set(have) == wanted


def test_a_province_its_district_and_commune_established_in_one_file(tree):
    report = load(
        [
            row(
                "P",
                "establish",
                "2027-01-01",
                to_code="09",
                to_name="Tỉnh Chín",
                to_kind="province",
                to_parent="VN",
            ),
            row(
                "D",
                "establish",
                "2027-01-01",
                to_code="091",
                to_name="Huyện Chín Một",
                to_kind="rural_district",
                to_parent="09",
            ),
            row(
                "C",
                "establish",
                "2027-01-01",
                to_code="90001",
                to_name="Xã Chín",
                to_kind="commune",
                to_parent="091",
            ),
        ]
    )
    province, district, commune = (Unit.objects.get(code=c) for c in ("09", "091", "90001"))
    assert (district.parent, commune.parent, province.parent) == (province, district, tree.nation)
    assert commune.path == f"/{tree.nation.pk}/{province.pk}/{district.pk}/{commune.pk}/"
    assert closure(commune) == [
        (commune.pk, 0),
        (district.pk, 1),
        (province.pk, 2),
        (tree.nation.pk, 3),
    ]
    assert {u.source for u in (province, district, commune)} == {"tệp thay đổi"}
    assert report.units_created == 3 and report.units_changed == 0
    events = {e.fingerprint: e for e in report.events}
    assert len(events) == 3 and UnitEvent.objects.count() == 3
    assert {tuple(e.units.all()) for e in report.events} == {
        (province,),
        (district,),
        (commune,),
    }
    assert not UnitChange.objects.filter(event__in=report.events).exists()
    assert_tree_whole()


def test_a_renamed_province_gives_new_versions_to_its_communes_with_their_closure(tree):
    report = load([row("P", "rename", "2027-01-01", from_code="08", to_name="Tỉnh Mới")])
    old, new = Unit.objects.filter(code="08").order_by("valid_from")
    communes = list(Unit.objects.filter(parent=new).order_by("code"))
    assert [c.code for c in communes] == ["10001", "10002", "10003"]
    for commune in communes:
        assert commune.path == f"{new.path}{commune.pk}/"
        assert closure(commune) == [(commune.pk, 0), (new.pk, 1), (tree.nation.pk, 2)]
        link = commune.predecessor_links.get()
        assert link.kind == ChangeKind.MOVE and link.event == report.events[0]
    event = report.events[0]
    assert set(event.units.all()) == {
        old,
        new,
        *communes,
        tree.n1,
        tree.n2,
        tree.n3,
    }
    assert event.links.count() == 4 and report.links_created == 4
    assert_tree_whole()


def test_an_existing_unit_with_children_is_placed_under_the_earlier_version_it_falls_in(tree):
    """Cutting a province in two: a district of it that ended before the date, with its
    commune, moves under the province's earlier version (its subtree's paths and closure
    rows follow); the districts still valid get earlier versions, and so do their
    communes, under the earlier version created in the same load."""
    gone = factories.unit(
        "099",
        "Huyện Đã Mất",
        UnitKind.RURAL_DISTRICT,
        Level.DISTRICT,
        tree.ha_giang,
        valid_to=date(2005, 12, 31),
    )
    below = factories.unit(
        "00098",
        "Xã Đã Mất",
        UnitKind.COMMUNE,
        Level.COMMUNE,
        gone,
        valid_to=date(2005, 12, 31),
    )
    report = load([row("R", "rename", "2010-01-01", from_code="02", from_name="Tỉnh Hà Giang Cũ")])
    past = Unit.objects.get(code="02", valid_to=date(2009, 12, 31))
    tree.ha_giang.refresh_from_db()
    assert past.name == "Tỉnh Hà Giang Cũ" and tree.ha_giang.valid_from == date(2010, 1, 1)
    gone.refresh_from_db()
    below.refresh_from_db()
    assert gone.parent == past and below.parent == gone
    assert gone.path == f"{past.path}{gone.pk}/" and below.path == f"{gone.path}{below.pk}/"
    assert closure(below) == [(below.pk, 0), (gone.pk, 1), (past.pk, 2), (tree.nation.pk, 3)]
    assert closure(gone) == [(gone.pk, 0), (past.pk, 1), (tree.nation.pk, 2)]
    # three levels created in one load: the province, its districts, their communes
    district = Unit.objects.get(code="028", valid_to=date(2009, 12, 31))
    commune = Unit.objects.get(code="00001", valid_to=date(2009, 12, 31))
    assert district.parent == past and commune.parent == district
    assert closure(commune) == [
        (commune.pk, 0),
        (district.pk, 1),
        (past.pk, 2),
        (tree.nation.pk, 3),
    ]
    tree.c1.refresh_from_db()
    assert tree.c1.valid_from == date(2010, 1, 1) and tree.c1.parent == tree.vi_xuyen
    assert UnitChange.objects.get(successor=tree.c1, kind=ChangeKind.MOVE).predecessor == commune
    # the event lists every version it ended or started, not the unit only moved
    earlier = set(Unit.objects.filter(valid_to=date(2009, 12, 31)))
    later = set(Unit.objects.filter(valid_from=date(2010, 1, 1)))
    assert len(earlier) == len(later) == 8  # province, 2 districts, agency, 4 communes
    event = report.events[0]
    assert set(event.units.all()) == earlier | later
    assert event.links.count() == 8 and report.units_created == 8
    assert report.units_changed == 9  # the 8 later versions and the district moved
    assert_tree_whole()


def test_events_of_one_file_share_their_acts_and_each_lists_its_own_units(tree):
    other = {"act_number": "7/NQ-HĐND", "act_date": "2026-12-01", "act_issuer": "HĐND tỉnh"}
    LegalAct.objects.create(number="7/NQ-HĐND", issuer="HĐND tỉnh")  # no date, no title
    report = load(
        [
            row("A", "rename", "2027-01-01", from_code="10001", to_name="Xã A"),
            row("B", "rename", "2027-01-01", from_code="10002", to_name="Xã B"),
            row("C", "rename", "2027-01-01", from_code="10003", to_name="Xã C") | other,
            row("D", "rename", "2028-01-01", from_code="10001", to_name="Xã A Hai")
            | {"act_title": "Về việc đổi tên"},
        ]
    )
    assert LegalAct.objects.count() == 2
    act = LegalAct.objects.get(number="12/NQ-UBTVQH15")
    # the first event naming the act gives its date; a later one fills the blank title
    assert act.signed_on == date(2026, 11, 20) and act.title == "Về việc đổi tên"
    assert LegalAct.objects.get(number="7/NQ-HĐND").signed_on == date(2026, 12, 1)
    by_name = {}
    for event in report.events:
        link = event.links.get()
        by_name[link.successor.name] = event
        assert set(event.units.all()) == {link.predecessor, link.successor}
        assert link.legal_basis == event.act.number and link.effective_date == event.effective_date
    assert by_name["Xã C"].act.number == "7/NQ-HĐND"
    assert {by_name[n].act for n in ("Xã A", "Xã B", "Xã A Hai")} == {act}
    first, second, third = Unit.objects.filter(code="10001").order_by("valid_from")
    assert (first.valid_to, second.valid_from, second.valid_to) == (
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 12, 31),
    )
    assert third.name == "Xã A Hai" and third.valid_from == date(2028, 1, 1)
    assert UnitEvent.units.through.objects.count() == 8
    assert_tree_whole()
    # the same file again writes nothing
    assert not load(
        [
            row("A", "rename", "2027-01-01", from_code="10001", to_name="Xã A"),
        ]
    ).changed
