"""Change files and single events on the small two-era tree (tests/factories.py)."""

import importlib
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from tests import factories
from tiendo.core.models import AuditEntry
from tiendo.data.models import DataValue
from tiendo.data.services import Entry, save_value
from tiendo.units.changes import (
    MAX_BYTES,
    MAX_ROWS,
    Link,
    UnitChangeRefused,
    apply_changes,
    plan_changes,
    read_change_file,
    record_change,
)
from tiendo.units.event_links import attach_events
from tiendo.units.models import (
    ChangeKind,
    LegalAct,
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
HEADER = (
    "event,kind,effective,act_number,act_date,act_issuer,from_code,from_name,from_kind,"
    "from_parent,to_code,to_name,to_kind,to_parent,share,note"
)


def row(event, kind, effective, **link):
    return {"event": event, "kind": kind, "effective": effective, **ACT, **link}


def csv_file(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def load(rows, actor=None):
    plan = plan_changes(rows)
    assert not plan.problems, [str(p) for p in plan.problems]
    return apply_changes(plan, actor=actor, source="tệp thử")


def versions(code):
    return list(Unit.objects.filter(code=code).order_by("valid_from"))


def problems_of(rows):
    return [(p.code, p.row) for p in plan_changes(rows).problems]


# --- one event ------------------------------------------------------------------------


def test_a_rename_ends_the_version_and_starts_a_new_one_with_its_legal_act(tree):
    report = load(
        [row("E1", "rename", "2027-01-01", from_code="10001", to_name="Xã Mới Một Thượng")]
    )
    old, new = versions("10001")
    assert old.pk == tree.n1.pk and old.valid_to == date(2026, 12, 31) and old.name == "Xã Mới Một"
    assert new.valid_from == date(2027, 1, 1) and new.valid_to is None
    assert new.name == "Xã Mới Một Thượng" and new.parent == tree.tuyen_quang
    link = UnitChange.objects.get(predecessor=old, successor=new)
    assert (link.kind, link.share, link.partial) == (ChangeKind.RENAME, Decimal(1), False)
    event = link.event
    assert event.act.number == "12/NQ-UBTVQH15" and event.act.signed_on == date(2026, 11, 20)
    assert event.act.issuer == "Ủy ban Thường vụ Quốc hội" and event.source == "tệp thử"
    assert set(event.units.all()) == {old, new}
    assert report.units_created == 1 and report.units_changed == 1 and report.links_created == 1


def test_each_load_is_audited_with_its_counts(tree):
    user = factories.user("quantri", tree.nation)
    load(
        [
            row(
                "E1",
                "reclassify",
                "2027-01-01",
                from_code="10001",
                to_kind="ward",
                to_name="Phường Một",
            )
        ],
        actor=user,
    )
    entry = AuditEntry.objects.get(action="unit_change.events_loaded")
    assert entry.actor == user
    assert (
        entry.data["events"] == 1 and entry.data["units_created"] == 1 and entry.data["links"] == 1
    )
    assert versions("10001")[-1].kind == UnitKind.WARD


def test_a_split_with_shares_and_a_merge_into_one_of_its_units(tree):
    load(
        [
            row("S", "split", "2027-01-01", from_code="10003", to_code="10003", share="60%"),
            row(
                "S",
                "split",
                "2027-01-01",
                from_code="10003",
                to_code="10009",
                to_name="Xã Chín",
                to_kind="commune",
                to_parent="08",
                share="0.4",
            ),
            row("M", "merge", "2027-01-01", from_code="10001", to_code="10002"),
            row("M", "merge", "2027-01-01", from_code="10002", to_code="10002"),
        ]
    )
    shares = dict(
        UnitChange.objects.filter(event__kind=ChangeKind.SPLIT).values_list(
            "successor__code", "share"
        )
    )
    assert shares == {"10003": Decimal("0.6"), "10009": Decimal("0.4")}
    merged = versions("10002")[-1]
    assert set(merged.predecessor_links.values_list("predecessor__code", flat=True)) == {
        "10001",
        "10002",
    }
    assert versions("10001")[-1].valid_to == date(2026, 12, 31)


def test_a_split_without_shares_waits_for_them_as_the_2025_splits_do(tree):
    load(
        [
            row("S", "split", "2027-01-01", from_code="10003", to_code="10003"),
            row(
                "S",
                "split",
                "2027-01-01",
                from_code="10003",
                to_code="10009",
                to_name="Xã Chín",
                to_kind="commune",
                to_parent="08",
            ),
        ]
    )
    links = UnitChange.objects.filter(event__kind=ChangeKind.SPLIT)
    assert all(link.needs_share for link in links) and links.count() == 2


def test_record_change_dissolves_without_successor_and_establishes_from_nothing(tree):
    act = {"number": "5/NQ-HĐND", "signed_on": date(2027, 3, 1), "issuer": "HĐND tỉnh"}
    gone = record_change(
        kind="dissolve",
        effective=date(2027, 6, 1),
        act=act,
        links=[Link(from_code="20001")],
        note="giải thể",
    )
    assert gone.kind == ChangeKind.DISSOLVE and gone.note == "giải thể" and not gone.links.exists()
    assert list(gone.units.all()) == [tree.other_commune]
    tree.other_commune.refresh_from_db()
    assert tree.other_commune.valid_to == date(2027, 5, 31)
    born = record_change(
        kind="establish",
        effective=date(2027, 6, 1),
        act=act,
        links=[Link(to_code="20009", to_name="Xã Lập Mới", to_kind="commune", to_parent="44")],
    )
    new = born.units.get()
    assert (new.code, new.parent, new.valid_from) == (
        "20009",
        tree.other_province,
        date(2027, 6, 1),
    )
    assert LegalAct.objects.filter(number="5/NQ-HĐND").count() == 1
    # the same event again is the one recorded
    assert (
        record_change(
            kind="dissolve", effective=date(2027, 6, 1), act=act, links=[Link(from_code="20001")]
        )
        == gone
    )


def test_record_change_refuses_with_every_problem(tree):
    with pytest.raises(UnitChangeRefused) as refused:
        record_change(
            kind="rename",
            effective=date(2027, 1, 1),
            act={"number": "", "signed_on": None, "issuer": ""},
            links=[Link(from_code="10001", to_name="Xã Mới Một")],
        )
    codes = {p.code for p in refused.value.problems}
    assert codes == {"unit_change.missing_legal_basis"}
    assert len(refused.value.problems) == 3  # number, date, issuer
    assert UnitEvent.objects.count() == 0


def test_a_rename_that_keeps_the_name_changes_nothing(tree):
    assert problems_of(
        [row("E1", "rename", "2027-01-01", from_code="10001", to_name="Xã Mới Một")]
    ) == [("unit_change.nothing_changes", 1)]


# --- conflicts, by row ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [
                row("A", "rename", "2027-01-01", from_code="10001", to_name="Xã A"),
                row("B", "rename", "2027-01-01", from_code="10001", to_name="Xã B"),
            ],
            ("unit_change.ends_twice", 2),
            id="a unit ending twice",
        ),
        pytest.param(
            [
                row("A", "merge", "2025-03-01", from_code="00001", to_code="00002"),
                row("A", "merge", "2025-03-01", from_code="00002", to_code="00002"),
            ],
            ("unit_change.ends_twice", 1),
            id="a unit that already has its end",
        ),
        pytest.param(
            [row("A", "rename", "2025-03-01", from_code="00001", to_name="Xã Một Mới")],
            ("unit_change.successor_differs", 1),
            id="an earlier tree's unit that the file names otherwise",
        ),
        pytest.param(
            [row("A", "recode", "2027-01-01", from_code="10001", to_code="10002")],
            ("unit_change.code_taken", 1),
            id="two units of one code valid at once",
        ),
        pytest.param(
            [
                row("S", "split", "2027-01-01", from_code="10003", to_code="10003", share="60%"),
                row(
                    "S",
                    "split",
                    "2027-01-01",
                    from_code="10003",
                    to_code="10009",
                    to_name="Xã Chín",
                    to_kind="commune",
                    to_parent="08",
                    share="30%",
                ),
            ],
            ("unit_change.shares_not_whole", 1),
            id="shares of a split not totalling 100%",
        ),
        pytest.param(
            [row("A", "rename", "2025-01-01", from_code="10001", to_name="Xã Sớm")],
            ("unit_change.before_unit_existed", 1),
            id="a change before the unit existed",
        ),
        pytest.param(
            [row("A", "rename", "2027-01-01", from_code="99999", to_name="Xã Không")],
            ("unit_change.unknown_unit", 1),
            id="unknown code on that date",
        ),
        pytest.param(
            [row("A", "annex", "2027-01-01", from_code="10001")],
            ("unit_change.unknown_kind", 1),
            id="unknown kind",
        ),
        pytest.param(
            [row("A", "rename", "31/02/2027", from_code="10001", to_name="Xã X")],
            ("unit_change.bad_date", 1),
            id="bad date",
        ),
        pytest.param(
            [
                row("A", "rename", "2027-01-01", from_code="10001", to_name="Xã X")
                | {"act_number": ""}
            ],
            ("unit_change.missing_legal_basis", 1),
            id="missing legal basis",
        ),
        pytest.param(
            [row("A", "recode", "2027-01-01", from_code="10001", to_code="xã1")],
            ("unit_change.bad_code", 1),
            id="non-ASCII code",
        ),
        pytest.param(
            [row("A", "split", "2027-01-01", from_code="10001", to_code="10001")],
            ("unit_change.rows_for_kind", 1),
            id="a split with one successor",
        ),
        pytest.param(
            [
                row("A", "rename", "2027-01-01", from_code="10001", to_name="Xã X"),
                row("A", "rename", "2027-02-01", from_code="10002", to_name="Xã Y"),
            ],
            ("unit_change.event_mismatch", 2),
            id="rows of one event that disagree",
        ),
    ],
)
def test_each_conflict_is_named_by_its_row_and_nothing_is_written(tree, rows, expected):
    before = (Unit.objects.count(), UnitChange.objects.count(), UnitEvent.objects.count())
    plan = plan_changes(rows)
    assert (plan.problems[0].code, plan.problems[0].row) == expected
    assert str(plan.problems[0]).startswith(f"Dòng {expected[1]}: ")
    with pytest.raises(UnitChangeRefused):
        apply_changes(plan)
    assert (Unit.objects.count(), UnitChange.objects.count(), UnitEvent.objects.count()) == before


def test_rows_of_a_csv_file_are_named_by_their_line(tree):
    rows, problems = read_change_file(
        "x.csv",
        csv_file(
            "A,rename,2027-01-01,1/NQ,2026-01-01,HĐND,10001,,,,,Xã X,,,,",
            "B,rename,2027-01-01,1/NQ,2026-01-01,HĐND,99999,,,,,Xã Y,,,,",
        ),
    )
    assert not problems
    assert [(p.code, p.row) for p in plan_changes(rows).problems] == [
        ("unit_change.unknown_unit", 3)
    ]


# --- hostile files --------------------------------------------------------------------


def test_a_file_too_big_or_too_long_is_refused_before_parsing(tree):
    assert read_change_file("x.csv", b"a" * (MAX_BYTES + 1))[1][0].code == "unit_change.too_big"
    assert (
        read_change_file("x.csv", b"\n" * (MAX_ROWS + 5))[1][0].code == "unit_change.too_many_rows"
    )


@pytest.mark.parametrize(
    "text",
    [
        "- &a {event: E1}\n- *a\n",  # aliases: the billion laughs start here
        'a: &a ["x","x"]\nb: &b [*a,*a]\n',
        "- !!python/object/apply:os.system [echo]\n",
        "[[[[[[[[" * 10000,
        "event: E1\n",  # not a list
    ],
)
def test_yaml_bombs_and_tags_are_refused(tree, text):
    rows, problems = read_change_file("x.yaml", text.encode())
    assert rows == [] and problems[0].code == "unit_change.bad_file"


def test_unknown_columns_and_bad_encoding_are_refused(tree):
    assert (
        read_change_file("x.csv", b"event,kind,colour\n")[1][0].code == "unit_change.unknown_column"
    )
    assert read_change_file("x.csv", b"event\n\xff\xfe")[1][0].code == "unit_change.bad_file"


# --- idempotence, dry run, files ------------------------------------------------------


CHAIN = csv_file(
    "E1,rename,2027-01-01,1/NQ,2026-11-01,HĐND tỉnh,10001,,,,,Xã Một Thượng,,,,",
    "E2,merge,2028-01-01,2/NQ,2027-11-01,HĐND tỉnh,10001,,,,10001,,,,,",
    "E2,merge,2028-01-01,2/NQ,2027-11-01,HĐND tỉnh,10002,,,,10001,,,,,",
    "E3,rename,2029-01-01,3/NQ,2028-11-01,HĐND tỉnh,10001,,,,,Xã Một - Hai,,,,",
)


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_a_chain_of_three_events_loads_from_a_file(tree, tmp_path):
    out = StringIO()
    call_command("units", "changes", "load", _write(tmp_path, "chain.csv", CHAIN), stdout=out)
    assert "Đã ghi 3 sự kiện" in out.getvalue()
    chain = versions("10001")
    assert [v.name for v in chain] == [
        "Xã Mới Một",
        "Xã Một Thượng",
        "Xã Một Thượng",
        "Xã Một - Hai",
    ]
    assert [v.valid_to for v in chain] == [
        date(2026, 12, 31),
        date(2027, 12, 31),
        date(2028, 12, 31),
        None,
    ]
    for earlier, later in zip(chain, chain[1:], strict=False):
        assert UnitChange.objects.filter(predecessor=earlier, successor=later).exists()
    assert UnitChange.objects.filter(predecessor=versions("10002")[0], successor=chain[2]).exists()


def test_loading_a_file_twice_changes_nothing_and_says_so(tree, tmp_path):
    path = _write(tmp_path, "chain.csv", CHAIN)
    call_command("units", "changes", "load", path, stdout=StringIO())
    counts = (
        Unit.objects.count(),
        UnitChange.objects.count(),
        UnitEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    out = StringIO()
    call_command("units", "changes", "load", path, stdout=out)
    assert "không có gì thay đổi" in out.getvalue()
    assert (
        Unit.objects.count(),
        UnitChange.objects.count(),
        UnitEvent.objects.count(),
        AuditEntry.objects.count(),
    ) == counts


def test_a_file_extended_after_its_load_adds_only_the_new_events(tree, tmp_path):
    first = CHAIN.decode().splitlines()[:2]
    call_command(
        "units",
        "changes",
        "load",
        _write(tmp_path, "a.csv", ("\n".join(first) + "\n").encode()),
        stdout=StringIO(),
    )
    report = load(read_change_file("b.csv", CHAIN)[0])
    assert len(report.events) == 2 and report.already == 1


def test_a_dry_run_lists_what_would_be_added_and_writes_nothing(tree, tmp_path):
    counts = (
        Unit.objects.count(),
        UnitChange.objects.count(),
        UnitEvent.objects.count(),
        AuditEntry.objects.count(),
    )
    out = StringIO()
    call_command(
        "units", "changes", "load", _write(tmp_path, "chain.csv", CHAIN), "--dry-run", stdout=out
    )
    text = out.getvalue()
    assert "Sự kiện E1: Đổi tên ngày 01/01/2027, căn cứ 1/NQ" in text
    assert "Đơn vị mới: Xã Một - Hai (10001), hiệu lực 01/01/2029 – …" in text
    assert "Chạy thử, không ghi gì." in text
    assert (
        Unit.objects.count(),
        UnitChange.objects.count(),
        UnitEvent.objects.count(),
        AuditEntry.objects.count(),
    ) == counts


def test_a_refused_file_prints_every_problem_with_its_line(tree, tmp_path):
    bad = csv_file(
        "A,rename,31/02/2027,1/NQ,2026-01-01,HĐND,10002,,,,,Xã Y,,,,",
        "B,annex,2027-01-01,1/NQ,2026-01-01,HĐND,10001,,,,,,,,,",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 lỗi; không ghi gì"):
        call_command("units", "changes", "load", _write(tmp_path, "bad.csv", bad), stderr=err)
    assert "Dòng 2: ngày “31/02/2027” ở cột effective không hợp lệ" in err.getvalue()
    assert "Dòng 3: loại thay đổi “annex” không có" in err.getvalue()


# --- children follow their parent -----------------------------------------------------


def test_the_communes_of_a_renamed_province_get_versions_under_it(tree):
    load([row("P", "rename", "2027-01-01", from_code="08", to_name="Tỉnh Tuyên Quang Mới")])
    province = versions("08")[-1]
    moved = Unit.objects.filter(parent=province)
    assert sorted(moved.values_list("code", flat=True)) == ["10001", "10002", "10003"]
    for commune in moved:
        old = commune.predecessor_links.get()
        assert old.kind == ChangeKind.MOVE and old.share == 1
        assert old.predecessor.parent == tree.tuyen_quang and old.predecessor.valid_to == date(
            2026, 12, 31
        )
        ancestors = set(
            UnitAncestor.objects.filter(unit=commune).values_list("ancestor_id", flat=True)
        )
        assert ancestors == {commune.pk, province.pk, tree.nation.pk}
    # the tree of each day is whole
    assert set(Unit.objects.valid_on(date(2026, 6, 1)).filter(parent=tree.tuyen_quang)) == {
        tree.n1,
        tree.n2,
        tree.n3,
    }
    assert Unit.objects.valid_on(date(2026, 6, 1)).filter(parent=province).count() == 0


def test_a_commune_moved_to_another_province(tree):
    load([row("M", "move", "2027-01-01", from_code="10001", to_parent="44")])
    assert versions("10001")[-1].parent == tree.other_province


def test_a_split_province_must_place_its_communes(tree):
    rows = [
        row("S", "split", "2027-01-01", from_code="08", to_code="08", share="50%"),
        row(
            "S",
            "split",
            "2027-01-01",
            from_code="08",
            to_code="09",
            to_name="Tỉnh Chín",
            to_kind="province",
            to_parent="VN",
            share="50%",
        ),
    ]
    assert ("unit_change.children_unplaced", 1) in problems_of(rows)
    placed = rows + [
        row(f"M{code}", "move", "2027-01-01", from_code=code, to_parent=parent)
        for code, parent in (("10001", "08"), ("10002", "09"), ("10003", "09"))
    ]
    load(placed)
    assert Unit.objects.valid_on(date(2027, 1, 1)).filter(parent__code="09").count() == 2


# --- an earlier era -------------------------------------------------------------------


def test_an_earlier_merge_puts_the_existing_commune_after_it(tree):
    load(
        [
            row(
                "H",
                "merge",
                "2020-02-01",
                from_code="00001",
                from_name="Xã Một Cũ",
                to_code="00001",
            ),
            row(
                "H",
                "merge",
                "2020-02-01",
                from_code="00099",
                from_name="Xã Đã Mất",
                from_kind="commune",
                to_code="00001",
            ),
        ]
    )
    tree.c1.refresh_from_db()
    assert (tree.c1.valid_from, tree.c1.valid_to, tree.c1.name) == (
        date(2020, 2, 1),
        date(2025, 6, 30),
        "Xã Một",
    )
    earlier = Unit.objects.get(code="00001", valid_to=date(2020, 1, 31))
    gone = Unit.objects.get(code="00099")
    assert (
        earlier.name == "Xã Một Cũ"
        and earlier.parent == tree.vi_xuyen
        and earlier.valid_from is None
    )
    assert gone.parent == tree.vi_xuyen and gone.valid_to == date(2020, 1, 31)
    assert set(tree.c1.predecessor_links.values_list("predecessor", flat=True)) == {
        earlier.pk,
        gone.pk,
    }
    # the 2025 link of the commune stays on the existing row
    assert tree.c1.successor_links.get().successor == tree.n1


def test_an_earlier_rename_of_a_district_gives_its_communes_earlier_versions(tree):
    load([row("R", "rename", "2019-01-01", from_code="028", from_name="Huyện Vị Xuyên Cũ")])
    tree.vi_xuyen.refresh_from_db()
    past = Unit.objects.get(code="028", valid_to=date(2018, 12, 31))
    assert past.name == "Huyện Vị Xuyên Cũ" and tree.vi_xuyen.valid_from == date(2019, 1, 1)
    for commune in (tree.c1, tree.c2):
        commune.refresh_from_db()
        assert commune.valid_from == date(2019, 1, 1) and commune.parent == tree.vi_xuyen
        earlier = commune.predecessor_links.get(kind=ChangeKind.MOVE).predecessor
        assert earlier.parent == past and earlier.valid_to == date(2018, 12, 31)
        assert UnitAncestor.objects.filter(unit=earlier, ancestor=past).exists()
    assert Unit.objects.valid_on(date(2018, 6, 1)).filter(parent=past).count() == 2


# --- values stay where they are -------------------------------------------------------


@pytest.fixture
def indicator(db):
    return factories.indicator(factories.programme(), "HO")


def test_values_that_would_fall_outside_their_unit_are_listed_and_the_load_refused(tree, indicator):
    save_value(Entry(indicator, tree.n1, "2027", Decimal(5)))
    plan = plan_changes([row("E1", "rename", "2027-01-01", from_code="10001", to_name="Xã Khác")])
    assert [p.code for p in plan.problems] == ["unit_change.values_outside"]
    assert plan.values_outside == ["Xã Mới Một (10001), HO, kỳ 2027"]
    assert DataValue.objects.get().unit == tree.n1
    # a year that the old version still touches stays valid
    assert not plan_changes(
        [row("E1", "rename", "2027-07-01", from_code="10001", to_name="Xã Khác")]
    ).problems


def test_loading_an_earlier_era_under_existing_values_lists_them(tree, indicator):
    save_value(Entry(indicator, tree.c1, "2018", Decimal(3)))
    plan = plan_changes(
        [row("H", "rename", "2020-02-01", from_code="00001", from_name="Xã Một Cũ")]
    )
    assert [p.code for p in plan.problems] == ["unit_change.values_outside"]
    assert "Xã Một (00001), HO, kỳ 2018" in plan.values_outside[0]


def test_a_value_outside_the_unit_validity_is_still_refused(tree, indicator):
    load([row("E1", "rename", "2027-01-01", from_code="10001", to_name="Xã Khác")])
    tree.n1.refresh_from_db()
    with pytest.raises(Exception) as refused:
        save_value(Entry(indicator, tree.n1, "2028", Decimal(1)))
    assert getattr(refused.value, "code", "") == "data.unit_not_valid"


# --- the migration of existing links --------------------------------------------------


def test_the_migration_gives_old_links_events_without_changing_them(tree):
    before = list(
        UnitChange.objects.order_by("pk").values(
            "pk",
            "kind",
            "effective_date",
            "legal_basis",
            "predecessor",
            "successor",
            "partial",
            "share",
            "note",
        )
    )
    units = list(Unit.objects.order_by("pk").values())
    migration = importlib.import_module("tiendo.units.migrations.0003_events_from_links")
    migration.forwards(apps, None)
    assert (
        list(
            UnitChange.objects.order_by("pk").values(
                "pk",
                "kind",
                "effective_date",
                "legal_basis",
                "predecessor",
                "successor",
                "partial",
                "share",
                "note",
            )
        )
        == before
    )
    assert list(Unit.objects.order_by("pk").values()) == units
    assert not UnitChange.objects.filter(event__isnull=True).exists()
    # one event per new unit: Tuyên Quang, N1, N2 (from three communes), N3
    assert UnitEvent.objects.count() == 4
    n2 = UnitEvent.objects.get(links__successor=tree.n2, links__predecessor=tree.c2)
    assert n2.kind == ChangeKind.MERGE and n2.links.count() == 3
    assert set(n2.units.all()) == {tree.n2, tree.c2, tree.c3, tree.c4}
    assert n2.act.number == "202/2025/QH15" and LegalAct.objects.count() == 1
    # a second run finds nothing left to do
    assert attach_events(UnitChange, UnitEvent, LegalAct) == 0


def test_a_file_gives_the_2025_links_their_real_act_without_new_units(tree):
    attach_events(UnitChange, UnitEvent, LegalAct, source="vietnam-provinces")
    units = Unit.objects.count()
    rows = [
        row("R", "merge", "2025-07-01", from_code=code, to_code="10002")
        | {"act_number": "1684/NQ-UBTVQH15"}
        for code in ("00002", "00003")
    ]
    report = load(rows)
    assert Unit.objects.count() == units and report.links_created == 2
    event = report.events[0]
    assert set(event.links.values_list("predecessor__code", flat=True)) == {"00002", "00003"}
    assert set(event.links.values_list("legal_basis", flat=True)) == {"1684/NQ-UBTVQH15"}
    # the split commune's link stays in the event the official load made
    assert tree.c4.successor_links.get(successor=tree.n2).event.source == "vietnam-provinces"
    assert not load(rows).changed


def test_a_documented_link_cannot_point_at_a_unit_it_never_went_into(tree):
    rows = [
        row("R", "merge", "2025-07-01", from_code="00001", to_code="10002"),
        row("R", "merge", "2025-07-01", from_code="00002", to_code="10002"),
    ]
    assert ("unit_change.ends_twice", 1) in problems_of(rows)


def test_a_yaml_code_written_as_a_number_is_refused(tree):
    rows, problems = read_change_file(
        "x.yaml",
        b"- {event: E1, kind: rename, effective: 2027-01-01, act_number: 1/NQ, act_date: 2026-01-01,"
        b" act_issuer: HDND, from_code: 00700, to_name: X}\n",
    )
    assert not problems
    assert [(p.code, p.row) for p in plan_changes(rows).problems] == [("unit_change.bad_code", 1)]


def test_the_command_lists_the_values_that_would_fall_outside(tree, indicator, tmp_path):
    save_value(Entry(indicator, tree.n1, "2027", Decimal(5)))
    path = _write(
        tmp_path,
        "r.csv",
        csv_file("E1,rename,2027-01-01,1/NQ,2026-11-01,HĐND,10001,,,,,Xã Khác,,,,"),
    )
    err = StringIO()
    with pytest.raises(CommandError, match="1 lỗi"):
        call_command("units", "changes", "load", path, "--dry-run", stderr=err)
    assert "1 số liệu sẽ nằm ngoài thời gian hiệu lực" in err.getvalue()
    assert "Xã Mới Một (10001), HO, kỳ 2027" in err.getvalue()
    assert versions("10001") == [tree.n1]


def test_a_dissolved_unit_ends_its_agencies_and_a_taker_needs_its_own_row(tree):
    agency = factories.unit(
        "44.SNN",
        "Sở Nông nghiệp tỉnh Quảng Trị",
        UnitKind.AGENCY,
        2,
        tree.other_province,
        valid_from=date(2025, 7, 1),
    )
    commune_only = [row("D", "dissolve", "2027-01-01", from_code="20001", to_code="10001")]
    plan = plan_changes(commune_only)
    assert [(p.code, p.row) for p in plan.problems] == [("unit_change.code_taken", 1)]
    assert "thêm dòng 10001 → 10001" in str(plan.problems[0])
    load(
        [row("D", "dissolve", "2027-01-01", from_code="44")]
        + [row("D", "dissolve", "2027-01-01", from_code="20001")]
    )
    agency.refresh_from_db()
    assert agency.valid_to == date(2026, 12, 31)
