"""Programmes belong to someone: an owner, the units they apply to, who may load their
packages, and nothing of one province in another's forms, rules or letters (issue 9,
point 3)."""

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.programmes.test_metadata import write
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Indicator, Programme
from tiendo.units.models import Level, UnitKind

NATIONAL = """
package: ntm-quoc-gia
programme:
  code: NTM-2016-2020
  name: Chương trình MTQG xây dựng nông thôn mới giai đoạn 2016-2020
  period: 2016-2020
  owner: VN
indicators:
  - {code: NTM_COMMUNES_RECOGNISED, name: Số xã đạt chuẩn, measure_unit: xã, levels: [0, 1, 2]}
  - {code: NTM_CRITERIA_MET, name: Số tiêu chí đạt, measure_unit: tiêu chí, levels: [3]}
"""

# the same code, a province's own wording: what overwrote the national programme before
PROVINCE_WORDING = """
package: ntm-quangtri
programme:
  code: NTM-2016-2020
  name: Chương trình NTM theo cách của tỉnh Quảng Trị
  period: 2016-2020
  owner: "44"
indicators:
  - {code: NTM_COMMUNES_RECOGNISED, name: Xã đạt chuẩn (cách tỉnh), measure_unit: xã}
"""

PROVINCE_OWN = """
package: ntm-quangtri
programme:
  code: QT-NTM
  name: Kế hoạch xây dựng nông thôn mới của tỉnh Quảng Trị
  period: 2016-2020
  owner: "44"
indicators:
  - {code: QT_AGENCY_FUNDS, name: Vốn của cơ quan, measure_unit: triệu đồng, unit_kinds: [agency]}
"""


def coordinator(name, unit):
    return factories.user(name, unit, role=Role.COORDINATOR)


# --- where a programme applies ---


def test_a_programme_applies_to_its_owners_subtree_and_a_national_one_everywhere(tree):
    national = Programme.objects.create(code="N", name="N", period="2021-2025", owner=tree.nation)
    legacy = Programme.objects.create(code="L", name="L", period="2021-2025")
    province = Programme.objects.create(code="P", name="P", period="2021-2025", owner=tree.ha_giang)
    assert set(Programme.objects.applying_to(tree.c1)) == {national, legacy, province}
    assert set(Programme.objects.applying_to(tree.other_commune)) == {national, legacy}
    assert set(Programme.objects.applying_to(tree.nation)) == {national, legacy}
    assert province.applies_at(tree.c1) and not province.applies_at(tree.other_commune)
    assert national.applies_at(tree.other_commune) and legacy.applies_at(tree.c4)


def test_applies_to_replaces_the_owners_subtree(tree):
    programme = Programme.objects.create(
        code="P", name="P", period="2021-2025", owner=tree.ha_giang
    )
    programme.applies_to.set([tree.vi_xuyen])
    assert set(Programme.objects.applying_to(tree.c1)) == {programme}
    assert not Programme.objects.applying_to(tree.c3).exists()
    assert not Programme.objects.applying_to(tree.ha_giang).exists()
    assert not programme.applies_at(tree.c3) and programme.applies_at(tree.c2)
    # the province's office deals with it: it applies below it
    assert set(Programme.objects.concerning(tree.ha_giang)) == {programme}
    assert set(Programme.objects.concerning(tree.nation)) == {programme}
    assert not Programme.objects.concerning(tree.bac_quang).exists()
    assert not Programme.objects.concerning(tree.other_province).exists()


def test_an_indicator_is_reported_by_the_levels_and_kinds_it_names(tree):
    programme = factories.programme()
    every = factories.indicator(programme, "EVERY")
    communes = factories.indicator(programme, "COMMUNES", levels=[Level.COMMUNE])
    agencies = factories.indicator(programme, "AGENCIES", unit_kinds=[UnitKind.AGENCY])
    assert set(Indicator.objects.reported_by(tree.c1)) == {every, communes}
    assert set(Indicator.objects.reported_by(tree.agency)) == {every, agencies}
    assert set(Indicator.objects.reported_by(tree.ha_giang)) == {every}
    assert communes.reports_at(tree.n1) and not communes.reports_at(tree.vi_xuyen)


# --- package keys ---


def test_a_package_sets_applies_to_levels_and_unit_kinds(tree, tmp_path):
    text = NATIONAL.replace("  owner: VN\n", '  owner: "02"\n  applies_to: ["028"]\n')
    load_package(write(tmp_path, text))
    programme = Programme.objects.get(code="NTM-2016-2020")
    assert list(programme.applies_to.all()) == [tree.vi_xuyen]
    assert Indicator.objects.get(code="NTM_CRITERIA_MET").levels == [3]
    report = load_package(write(tmp_path, text.replace('["028"]', '["028", "032"]')))
    assert set(programme.applies_to.all()) == {tree.vi_xuyen, tree.bac_quang}
    assert any("applies_to: 028 → 028, 032" in line for line in report.diff_lines())


def test_unknown_levels_and_kinds_are_refused_with_their_key_path(tree, tmp_path):
    text = NATIONAL.replace("levels: [3]", "levels: [3, 7], unit_kinds: [commune, village]")
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    problems = {(p.key, p.code) for p in info.value.errors}
    assert problems == {
        ("indicators[1].levels[1]", "package.bad_choice"),
        ("indicators[1].unit_kinds[1]", "package.bad_choice"),
    }
    assert not Programme.objects.exists()


def test_applies_to_outside_the_owner_is_refused(tree, tmp_path):
    text = NATIONAL.replace("  owner: VN\n", '  owner: "02"\n  applies_to: ["028", "20001"]\n')
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    [problem] = info.value.errors
    assert (problem.key, problem.code) == ("programme.applies_to[1]", "package.outside_owner")
    assert "Xã Khác" in str(problem) and "Tỉnh Hà Giang" in str(problem)


def test_a_target_outside_the_programmes_units_is_refused(tree, tmp_path):
    text = (
        PROVINCE_OWN
        + 'targets:\n  - {indicator: QT_AGENCY_FUNDS, unit: "028", period: "2020", value: 5}\n'
    )
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    [problem] = info.value.errors
    assert (problem.key, problem.code) == ("targets[0].unit", "package.outside_scope")


# --- who may load a package ---


def test_a_second_province_loading_the_national_programme_is_refused_and_it_is_unchanged(
    tree, tmp_path
):
    load_package(write(tmp_path, NATIONAL))
    office = coordinator("vpdp.quangtri", tree.other_province)
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, PROVINCE_WORDING), actor=office)
    codes = {p.code for p in info.value.errors}
    assert codes == {"package.programme_of_other_owner"}
    assert "NTM-2016-2020" in str(info.value) and "Việt Nam" in str(info.value)
    programme = Programme.objects.get(code="NTM-2016-2020")
    assert programme.owner == tree.nation
    assert programme.name == "Chương trình MTQG xây dựng nông thôn mới giai đoạn 2016-2020"
    assert Indicator.objects.get(code="NTM_COMMUNES_RECOGNISED").name == "Số xã đạt chuẩn"
    # the installation itself may not either: the owner is the nation's
    with pytest.raises(PackageError):
        load_package(write(tmp_path, PROVINCE_WORDING))


def test_a_province_claiming_the_nations_programme_is_not_its_own(tree, tmp_path):
    office = coordinator("vpdp.quangtri", tree.other_province)
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, NATIONAL), actor=office)
    [problem] = info.value.errors
    assert problem.code == "package.not_yours"
    assert "vpdp.quangtri" in str(problem) and "Việt Nam" in str(problem)
    assert not Programme.objects.exists()


def test_a_province_extends_the_national_programme_in_its_own(tree, tmp_path):
    load_package(write(tmp_path, NATIONAL))
    office = coordinator("vpdp.quangtri", tree.other_province)
    report = load_package(write(tmp_path, PROVINCE_OWN), actor=office)
    assert report.created["chương trình"] == 1
    assert Programme.objects.get(code="QT-NTM").owner == tree.other_province
    entry = AuditEntry.objects.filter(action="metadata.loaded").latest("pk")
    assert entry.actor == office and entry.data["loaded_by"] == "vpdp.quangtri"


def test_redeclaring_an_indicator_of_another_programme_is_refused(tree, tmp_path):
    load_package(write(tmp_path, NATIONAL))
    office = coordinator("vpdp.quangtri", tree.other_province)
    text = PROVINCE_OWN + "  - {code: NTM_CRITERIA_MET, name: Của tỉnh, measure_unit: tiêu chí}\n"
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text), actor=office)
    [problem] = info.value.errors
    assert (problem.key, problem.code) == (
        "indicators[1].code",
        "package.indicator_of_other_programme",
    )
    assert Indicator.objects.get(code="NTM_CRITERIA_MET").programme.code == "NTM-2016-2020"
    assert not Programme.objects.filter(code="QT-NTM").exists()


@pytest.mark.parametrize(
    ("role", "where", "allowed"),
    [
        (Role.COORDINATOR, "other_province", True),
        (Role.COORDINATOR, "nation", True),
        (Role.COORDINATOR, "other_commune", False),  # below the owner
        (Role.COORDINATOR, "ha_giang", False),  # another province
        (Role.AGENCY_OFFICER, "other_province", False),
        (Role.LEADER, "other_province", False),
        (Role.ADMIN, "ha_giang", True),
    ],
)
def test_who_may_load_a_provinces_package(tree, tmp_path, role, where, allowed):
    user = factories.user("u", getattr(tree, where), role=role)
    path = write(tmp_path, PROVINCE_OWN)
    if allowed:
        load_package(path, actor=user)
        assert Programme.objects.filter(code="QT-NTM").exists()
    else:
        with pytest.raises(PackageError) as info:
            load_package(path, actor=user)
        assert [p.code for p in info.value.errors] == ["package.not_yours"]
        assert not Programme.objects.exists()


def test_a_programme_without_an_owner_is_the_administrators(tree, tmp_path):
    text = NATIONAL.replace("  owner: VN\n", "")
    national_office = coordinator("vpdp.tw", tree.nation)
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text), actor=national_office)
    assert [p.code for p in info.value.errors] == ["package.not_yours"]
    load_package(write(tmp_path, text), actor=factories.user("qt", None, role=Role.ADMIN))
    assert Programme.objects.get(code="NTM-2016-2020").owner is None


def test_the_command_needs_to_know_who_loads(tree, tmp_path):
    path = write(tmp_path, PROVINCE_OWN)
    with pytest.raises(CommandError, match="--as"):
        call_command("metadata", "load", str(path))
    with pytest.raises(CommandError, match="nobody"):
        call_command("metadata", "load", "--as", "nobody", str(path))
    coordinator("vpdp.hagiang", tree.ha_giang)
    with pytest.raises(CommandError, match="(?s)chưa nạp gì.*vpdp.hagiang"):
        call_command("metadata", "load", "--as", "vpdp.hagiang", str(path))
    coordinator("vpdp.quangtri", tree.other_province)
    call_command("metadata", "load", "--as", "vpdp.quangtri", str(path))
    assert AuditEntry.objects.get(action="metadata.loaded").actor.username == "vpdp.quangtri"
    call_command("metadata", "load", "--system", "--dry-run", str(path))
