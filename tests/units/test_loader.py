"""The official tree loaded from vietnam-provinces.

The tests read the tree the session's demo database was built on (tests/demo_database.py:
the official tree loaded once into an emptied database, then the demo data set), in this
module's copy of it, instead of loading the tree again; ``test_first_load_creates_everything``
reads the report of that first load. Every test runs in a transaction that is rolled back,
so the reloads below see the tree as first loaded.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from vietnam_provinces import legacy

from tiendo.core.formatting import format_number
from tiendo.units.loader import (
    COMMUNE_LEGAL_BASIS,
    PROVINCE_LEGAL_BASIS,
    load_official_tree,
    read_official_tree,
)
from tiendo.units.models import (
    PRE_REFORM_END,
    REFORM_DATE,
    ChangeKind,
    Level,
    Unit,
    UnitAncestor,
    UnitChange,
    UnitKind,
)
from tiendo.units.services import current_successors, map_to_today, resolve_unit

pytestmark = pytest.mark.slow

OLD = {"valid_from": None, "valid_to": PRE_REFORM_END}
NEW = {"valid_from": REFORM_DATE, "valid_to": None}


@pytest.fixture
def loaded(demo_database, demo_db):
    """The report of the tree's first load, with the database holding that tree."""
    return demo_database.tree_report


def unit(code: str, level: int, era: dict) -> Unit:
    return Unit.objects.get(code=code, level=level, **era)


def link(old: Unit, new: Unit) -> UnitChange:
    return UnitChange.objects.get(predecessor=old, successor=new)


# --- what was loaded ----------------------------------------------------------------------


def test_first_load_creates_everything(loaded):
    assert loaded.units_created == 1 + 63 + 696 + 10051 + 34 + 3321
    assert loaded.units_updated == loaded.units_unchanged == 0
    assert loaded.links_created == UnitChange.objects.count()
    assert loaded.paths_fixed == loaded.units_created
    official = UnitAncestor.objects.exclude(unit__kind=UnitKind.AGENCY)
    assert loaded.ancestors_created == official.count()


def test_one_national_root(loaded):
    nation = Unit.objects.get(level=Level.NATION)
    assert (nation.code, nation.name, nation.kind) == ("VN", "Việt Nam", UnitKind.NATION)
    assert nation.valid_from is None and nation.valid_to is None
    assert nation.parent_id is None and nation.path == f"/{nation.pk}/"
    assert Unit.objects.filter(level=Level.PROVINCE).exclude(parent=nation).count() == 0


def test_counts_of_the_tree_before_the_reform(loaded):
    old = Unit.objects.administrative().filter(**OLD)
    assert old.filter(level=Level.PROVINCE).count() == 63
    assert old.filter(level=Level.PROVINCE, kind=UnitKind.CENTRAL_CITY).count() == 6
    assert old.filter(level=Level.DISTRICT).count() == 696
    by_kind = dict(
        (kind, old.filter(level=Level.DISTRICT, kind=kind).count())
        for kind in (
            UnitKind.RURAL_DISTRICT,
            UnitKind.URBAN_DISTRICT,
            UnitKind.DISTRICT_TOWN,
            UnitKind.PROVINCIAL_CITY,
        )
    )
    assert by_kind == {
        UnitKind.RURAL_DISTRICT: 509,
        UnitKind.URBAN_DISTRICT: 49,
        UnitKind.DISTRICT_TOWN: 52,
        UnitKind.PROVINCIAL_CITY: 86,
    }
    communes = old.filter(level=Level.COMMUNE)
    assert communes.count() == 10051
    assert communes.filter(kind=UnitKind.COMMUNE).count() == 7717
    assert communes.filter(kind=UnitKind.WARD).count() == 1716
    assert communes.filter(kind=UnitKind.TOWNSHIP).count() == 618
    assert communes.filter(parent__level=Level.DISTRICT).count() == 10051


def test_counts_of_the_tree_since_the_reform(loaded):
    new = Unit.objects.administrative().filter(**NEW)
    assert new.filter(level=Level.PROVINCE).count() == 34
    assert new.filter(level=Level.DISTRICT).count() == 0
    communes = new.filter(level=Level.COMMUNE)
    assert communes.count() == 3321
    assert communes.filter(kind=UnitKind.COMMUNE).count() == 2621
    assert communes.filter(kind=UnitKind.WARD).count() == 687
    assert communes.filter(kind=UnitKind.SPECIAL_ZONE).count() == 13
    assert (
        communes.filter(parent__level=Level.PROVINCE, parent__valid_from=REFORM_DATE).count()
        == 3321
    )
    assert Unit.objects.administrative().count() == 1 + 63 + 696 + 10051 + 34 + 3321


def test_codes_are_zero_padded_and_names_official_and_nfc(loaded):
    ha_giang = unit("02", Level.PROVINCE, OLD)
    assert (ha_giang.name, ha_giang.kind) == ("Tỉnh Hà Giang", UnitKind.PROVINCE)
    district = unit("024", Level.DISTRICT, OLD)
    assert district.parent_id == ha_giang.pk
    commune = unit("00715", Level.COMMUNE, OLD)
    assert commune.parent.parent_id == ha_giang.pk
    assert unit("01", Level.PROVINCE, OLD).kind == UnitKind.CENTRAL_CITY
    official = Unit.objects.administrative()  # the demo's agencies have codes of their own
    assert {
        len(c) for c in official.filter(level=Level.COMMUNE).values_list("code", flat=True)
    } == {5}
    assert {
        len(c) for c in official.filter(level=Level.DISTRICT).values_list("code", flat=True)
    } == {3}
    assert {
        len(c) for c in official.filter(level=Level.PROVINCE).values_list("code", flat=True)
    } == {2}
    for name in Unit.objects.values_list("name", flat=True):
        assert unicodedata.normalize("NFC", name) == name
    communes = Unit.objects.filter(kind=UnitKind.COMMUNE).values_list("name", flat=True)
    assert all(name.startswith("Xã ") for name in communes)
    # The package writes "xã Bắc Sơn" for this one.
    assert unit("06325", Level.COMMUNE, NEW).name == "Xã Bắc Sơn"


def test_ha_giang_and_its_districts(loaded):
    ha_giang = unit("02", Level.PROVINCE, OLD)
    districts = set(ha_giang.children.administrative().values_list("name", flat=True))
    for name in (
        "Huyện Vị Xuyên",
        "Huyện Bắc Quang",
        "Huyện Yên Minh",
        "Huyện Hoàng Su Phì",
        "Huyện Bắc Mê",
        "Huyện Đồng Văn",
        "Huyện Xín Mần",
    ):
        assert name in districts
    assert len(districts) == 11
    assert unit("024", Level.DISTRICT, OLD).kind == UnitKind.PROVINCIAL_CITY
    assert Unit.objects.get(name="Huyện Vị Xuyên").kind == UnitKind.RURAL_DISTRICT


def test_the_subtree_of_ha_giang_is_exactly_its_districts_and_communes(loaded):
    ha_giang = unit("02", Level.PROVINCE, OLD)
    districts = set(ha_giang.children.values_list("pk", flat=True))
    communes = set(Unit.objects.filter(parent__in=districts).values_list("pk", flat=True))
    expected_communes = {
        f"{int(w.code):05d}" for w in legacy.Ward.iter_by_province(legacy.ProvinceCode(2))
    }
    assert (
        set(Unit.objects.filter(pk__in=communes).values_list("code", flat=True))
        == expected_communes
    )
    below = set(Unit.objects.subtree(ha_giang, include_self=False).values_list("pk", flat=True))
    assert below == districts | communes
    by_closure = set(
        UnitAncestor.objects.filter(ancestor=ha_giang, depth__gt=0).values_list(
            "unit_id", flat=True
        )
    )
    assert by_closure == below


def test_paths_and_closure_are_consistent_everywhere(loaded):
    rows = {
        pk: (parent, path)
        for pk, parent, path in Unit.objects.values_list("pk", "parent_id", "path")
    }
    for pk, (parent, path) in rows.items():
        expected = (rows[parent][1] if parent else "/") + f"{pk}/"
        assert path == expected
    closure = {}
    for unit_id, ancestor_id, depth in UnitAncestor.objects.values_list(
        "unit_id", "ancestor_id", "depth"
    ):
        closure.setdefault(unit_id, {})[depth] = ancestor_id
    assert closure.keys() == rows.keys()
    for pk, (_, path) in rows.items():
        ids = [int(p) for p in path.strip("/").split("/")]
        assert closure[pk] == dict(enumerate(reversed(ids)))


# --- the 2025 conversion ------------------------------------------------------------------


def test_province_links(loaded):
    ha_giang = unit("02", Level.PROVINCE, OLD)
    tuyen_quang = unit("08", Level.PROVINCE, NEW)
    hg = link(ha_giang, tuyen_quang)
    assert (hg.kind, hg.partial, hg.share) == (ChangeKind.MERGE, False, Decimal(1))
    assert hg.effective_date == date(2025, 7, 1)
    assert hg.legal_basis == PROVINCE_LEGAL_BASIS
    assert link(unit("08", Level.PROVINCE, OLD), tuyen_quang).kind == ChangeKind.MERGE

    quang_tri = unit("44", Level.PROVINCE, NEW)
    assert quang_tri.name == "Tỉnh Quảng Trị"
    old_qt, old_qb = unit("45", Level.PROVINCE, OLD), unit("44", Level.PROVINCE, OLD)
    assert (old_qt.name, old_qb.name) == ("Tỉnh Quảng Trị", "Tỉnh Quảng Bình")
    assert {lk.predecessor for lk in quang_tri.predecessor_links.all()} == {old_qt, old_qb}
    assert link(old_qt, quang_tri).kind == link(old_qb, quang_tri).kind == ChangeKind.MERGE

    # Hà Nội went on alone under its code.
    ha_noi = link(unit("01", Level.PROVINCE, OLD), unit("01", Level.PROVINCE, NEW))
    assert (ha_noi.kind, ha_noi.share) == (ChangeKind.RECODE, Decimal(1))
    # Every old province has exactly one successor (the package's stray Tiền Giang → Tây
    # Ninh pair comes from a Long An commune filed under Tiền Giang, and is dropped).
    old_provinces = Unit.objects.filter(level=Level.PROVINCE, **OLD)
    for province in old_provinces:
        assert province.successor_links.count() == 1
    tien_giang = unit("82", Level.PROVINCE, OLD)
    assert tien_giang.successor_links.get().successor == unit("82", Level.PROVINCE, NEW)
    assert any("Tiền Giang" in w for w in loaded.warnings)
    assert UnitChange.objects.filter(predecessor__level=Level.PROVINCE).count() == 63


def test_commune_links(loaded):
    links = UnitChange.objects.filter(predecessor__level=Level.COMMUNE)
    assert links.count() == 10554
    assert links.filter(partial=True).count() == 1103
    assert links.filter(partial=True).values("predecessor").distinct().count() == 572
    assert not links.filter(partial=True, share__isnull=False).exists()
    assert not links.filter(partial=False, share__isnull=True).exists()
    assert links.filter(partial=False).exclude(share=1).count() == 0
    assert links.exclude(legal_basis=COMMUNE_LEGAL_BASIS).count() == 0
    assert links.exclude(effective_date=REFORM_DATE).count() == 0
    # 5 island districts without communes became special zones.
    islands = UnitChange.objects.filter(predecessor__level=Level.DISTRICT)
    assert islands.count() == 5
    assert set(islands.values_list("successor__kind", flat=True)) == {UnitKind.SPECIAL_ZONE}
    con_dao = islands.get(predecessor__name="Huyện Côn Đảo")
    assert (con_dao.successor.name, con_dao.successor.parent.code) == ("Đặc khu Côn Đảo", "79")
    assert UnitChange.objects.count() == 10554 + 5 + 63


def test_a_whole_merge_has_share_one(loaded):
    # Phường Phúc Xá (00001, Ba Đình) went whole into the new Phường Hồng Hà (00097).
    old = unit("00001", Level.COMMUNE, OLD)
    (only,) = old.successor_links.all()
    assert only.successor.name == "Phường Hồng Hà"
    assert (only.kind, only.partial, only.share) == (ChangeKind.MERGE, False, Decimal(1))


def test_a_split_commune_is_partial_with_no_share(loaded):
    # Phường Trúc Bạch (00016) was split between Ba Đình (00004) and Ngọc Hà (00008).
    old = unit("00016", Level.COMMUNE, OLD)
    links = list(old.successor_links.order_by("successor__code"))
    assert [lk.successor.code for lk in links] == ["00004", "00008"]
    for lk in links:
        assert (lk.kind, lk.partial, lk.share) == (ChangeKind.SPLIT, True, None)
        assert lk.needs_share
    # A commune flagged as partly merged into a single commune is partial too.
    ngoc_long = unit("00859", Level.COMMUNE, OLD).successor_links.get()
    assert (ngoc_long.partial, ngoc_long.share, ngoc_long.kind) == (True, None, ChangeKind.SPLIT)
    assert ngoc_long.note


def test_reading_the_package_is_pure_and_matches_the_database(loaded):
    tree = read_official_tree()
    assert len(tree.units) == Unit.objects.administrative().count()
    assert len(tree.links) == UnitChange.objects.count()


# --- services on the real tree ------------------------------------------------------------


def test_resolve_unit_on_the_real_tree(loaded):
    tuyen_quang = resolve_unit("08")
    assert (tuyen_quang.name, tuyen_quang.valid_from) == ("Tỉnh Tuyên Quang", REFORM_DATE)
    ha_giang = resolve_unit("02")
    assert (ha_giang.name, ha_giang.valid_to) == ("Tỉnh Hà Giang", PRE_REFORM_END)
    assert resolve_unit("08", on=date(2024, 12, 31)).valid_to == PRE_REFORM_END
    assert resolve_unit("00715").level == Level.COMMUNE


def test_ha_giang_maps_into_the_new_tuyen_quang(loaded):
    ha_giang = resolve_unit("02")
    tuyen_quang = resolve_unit("08")
    agency = Unit.objects.create(
        code="02.SNN",
        name="Sở Nông nghiệp và Phát triển nông thôn tỉnh Hà Giang",
        kind=UnitKind.AGENCY,
        level=Level.DISTRICT,
        parent=ha_giang,
        valid_to=PRE_REFORM_END,
    )
    vi_xuyen = ha_giang.children.get(name="Huyện Vị Xuyên")
    assert current_successors(ha_giang, date(2026, 1, 1)) == [tuyen_quang]
    assert current_successors(vi_xuyen, date(2026, 1, 1)) == [tuyen_quang]
    assert current_successors(agency, date(2026, 1, 1)) == [tuyen_quang]

    mapping = map_to_today(tuyen_quang)
    assert mapping.flagged == []
    old_subtree = set(Unit.objects.subtree(ha_giang).values_list("pk", flat=True))
    assert old_subtree <= mapping.factors.keys()
    assert {mapping.factors[pk] for pk in old_subtree} == {Decimal(1)}
    assert agency.pk in mapping.factors and vi_xuyen.pk in mapping.factors
    # Nothing from another old province.
    ha_noi = Unit.objects.get(code="01", level=Level.PROVINCE, **OLD)
    assert not mapping.factors.keys() & set(
        Unit.objects.subtree(ha_noi).values_list("pk", flat=True)
    )


def test_a_split_commune_is_flagged_when_mapping_to_today(loaded):
    ba_dinh = unit("00004", Level.COMMUNE, NEW)
    mapping = map_to_today(ba_dinh)
    flagged = {old.code for old, _ in mapping.flagged}
    assert "00016" in flagged
    assert unit("00016", Level.COMMUNE, OLD).pk not in mapping.factors
    assert mapping.factors[unit("00004", Level.COMMUNE, OLD).pk] == Decimal(1)
    successors = current_successors(unit("00016", Level.COMMUNE, OLD), date(2026, 1, 1))
    assert [u.code for u in successors] == ["00004", "00008"]


# --- reloading ----------------------------------------------------------------------------


def test_loading_twice_changes_nothing_and_keeps_agencies_and_shares(loaded):
    ha_giang = resolve_unit("02")
    agency = Unit.objects.create(
        code="02.LMHTX",
        name="Liên minh Hợp tác xã tỉnh Hà Giang",
        kind=UnitKind.AGENCY,
        level=Level.DISTRICT,
        parent=ha_giang,
        valid_to=PRE_REFORM_END,
    )
    split = UnitChange.objects.filter(partial=True).order_by("pk").first()
    split.share = Decimal("0.25")
    split.legal_basis = "Nghị quyết 1656/NQ-UBTVQH15"
    split.save()
    units_before = list(Unit.objects.order_by("pk").values_list())
    links_before = list(UnitChange.objects.order_by("pk").values_list())
    ancestors_before = UnitAncestor.objects.count()

    report = load_official_tree()

    assert not report.changed
    assert report.units_unchanged == Unit.objects.administrative().count()
    assert report.links_unchanged == UnitChange.objects.count()
    assert list(Unit.objects.order_by("pk").values_list()) == units_before
    assert list(UnitChange.objects.order_by("pk").values_list()) == links_before
    assert UnitAncestor.objects.count() == ancestors_before
    agency.refresh_from_db()
    assert agency.parent_id == ha_giang.pk and agency.path == f"{ha_giang.path}{agency.pk}/"
    assert set(agency.ancestor_links.values_list("ancestor_id", flat=True)) == {
        agency.pk,
        ha_giang.pk,
        ha_giang.parent_id,
    }


def test_reload_repairs_names_paths_and_closure(loaded):
    vi_xuyen = Unit.objects.get(name="Huyện Vị Xuyên")
    Unit.objects.filter(pk=vi_xuyen.pk).update(name=unicodedata.normalize("NFD", "Huyện Vị Xuyên"))
    commune = vi_xuyen.children.order_by("code").first()
    Unit.objects.filter(pk=commune.pk).update(path="/broken/")
    UnitAncestor.objects.filter(unit=commune, depth=1).delete()

    report = load_official_tree()

    assert (report.units_updated, report.paths_fixed, report.ancestors_created) == (1, 1, 1)
    assert report.ancestors_deleted == 0 and report.units_created == 0
    vi_xuyen.refresh_from_db()
    commune.refresh_from_db()
    assert vi_xuyen.name == "Huyện Vị Xuyên"
    assert commune.path == f"{vi_xuyen.path}{commune.pk}/"
    assert commune.ancestor_links.count() == 4


def test_the_command(loaded):
    out, err = StringIO(), StringIO()
    call_command("units", "load", "--dry-run", stdout=out, stderr=err)
    assert "tạo mới 0, cập nhật 0, không đổi 14.166" in out.getvalue()
    assert "Chạy thử" in out.getvalue()
    assert "Lưu ý" in err.getvalue()

    out = StringIO()
    call_command("units", "stats", stdout=out)
    text = out.getvalue()
    assert "trước 01/7/2025" in text and "từ 01/7/2025" in text
    assert "Đặc khu" in text and "13" in text
    assert "10.051" not in text  # split by kind
    assert "7.717" in text
    # every unit, the demo's agencies too; the official ones are 14,166
    assert f"Tổng số đơn vị: {format_number(Unit.objects.count())}" in text
    assert Unit.objects.administrative().count() == 14166


def test_a_reload_that_would_leave_figures_outside_their_unit_is_refused(loaded):
    """A commune someone kept open past the reform, with a figure of 2025Q4: the official
    tree ends it on 30/06/2025, so the reload lists the figure and writes nothing."""
    from django.core.management.base import CommandError

    from tests import factories
    from tiendo.data.models import DataValue
    from tiendo.data.services import Entry, save_value

    commune = Unit.objects.filter(level=Level.COMMUNE, **OLD).order_by("code").first()
    Unit.objects.filter(pk=commune.pk).update(valid_to=date(2025, 12, 31))
    commune.refresh_from_db()
    prog = factories.programme("PX", "Chương trình thử")
    ind = factories.indicator(prog, "PX_HH")
    save_value(Entry(ind, commune, "2025Q4", Decimal("7")))
    with pytest.raises(CommandError) as refused:
        call_command("units", "load", stdout=StringIO(), stderr=StringIO())
    assert "1 số liệu sẽ nằm ngoài thời gian hiệu lực" in str(refused.value)
    assert f"{commune.name} ({commune.code}), PX_HH, kỳ 2025Q4" in str(refused.value)
    commune.refresh_from_db()
    assert (
        commune.valid_to == date(2025, 12, 31) and DataValue.objects.filter(unit=commune).exists()
    )
