"""Programmes belong to someone: an owner, the units they apply to, who may load their
packages, and nothing of one province in another's forms, rules or letters (issue 9,
point 3)."""

import dataclasses

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
    refused = AuditEntry.objects.get(action="metadata.refused")
    assert refused.actor == office and refused.data["codes"] == ["package.programme_of_other_owner"]
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


# --- nothing of one province in another's pages, files, rules and letters ---


@pytest.fixture
def world(tree):
    """A national programme and Quảng Trị's own (one line its agencies report, one its
    communes do), a form and a rule of Quảng Trị's reading a national indicator."""
    from tiendo.data.models import ValidationRule
    from tiendo.reporting.models import Form, FormIndicator

    national = Programme.objects.create(
        code="NTM", name="Nông thôn mới", period="2021-2030", owner=tree.nation
    )
    national_line = factories.indicator(national, "NTM_CRITERIA", name="Số tiêu chí đạt")
    own = Programme.objects.create(
        code="QT-NTM", name="Kế hoạch của Quảng Trị", period="2021-2030", owner=tree.other_province
    )
    agency_line = factories.indicator(
        own, "QT_AGENCY_FUNDS", name="Vốn do sở ngành giải ngân", unit_kinds=["agency"]
    )
    commune_line = factories.indicator(
        own, "QT_COMMUNE_COOPS", name="Hợp tác xã của xã", levels=[Level.COMMUNE]
    )
    form = Form.objects.create(
        code="QT_XA", name="Biểu của xã Quảng Trị", programme=own, period_type="year"
    )
    FormIndicator.objects.create(form=form, indicator=commune_line, order=0)
    rule = ValidationRule.objects.create(
        programme=own,
        code="QT_AT_MOST_19",
        name="Không quá 19 tiêu chí",
        expression="NTM_CRITERIA <= 19",
        importance="high",
        message="{left} tiêu chí, hơn {right}.",
    )
    return {
        "national": national,
        "own": own,
        "lines": (national_line, agency_line, commune_line),
        "form": form,
        "rule": rule,
    }


def entry_page(client, user, unit, programme="", period="2026"):
    from django.urls import reverse

    client.force_login(user)
    params = {"unit": unit.pk, "period": period, **({"programme": programme} if programme else {})}
    return client.get(reverse("data:entry"), params).content.decode()


def test_another_provinces_commune_entry_page_shows_no_quang_tri_lines(client, tree, world):
    officer = factories.user("xa.moimot", tree.n1, Role.COMMUNE_OFFICER)
    html = entry_page(client, officer, tree.n1)

    assert "Nông thôn mới" in html and "Kế hoạch của Quảng Trị" not in html
    asked = entry_page(client, officer, tree.n1, "QT-NTM")
    assert "không áp dụng cho Xã Mới Một" in asked
    assert "Hợp tác xã của xã" not in asked and "Vốn do sở ngành" not in asked
    assert 'name="v-' not in asked


def test_a_quang_tri_commune_sees_its_own_lines_but_not_the_agencies(client, tree, world):
    officer = factories.user("xa.khac", tree.other_commune, Role.COMMUNE_OFFICER)
    html = entry_page(client, officer, tree.other_commune, "QT-NTM")
    assert "Hợp tác xã của xã" in html and 'name="v-' in html
    assert "Vốn do sở ngành giải ngân" not in html


def test_posting_another_provinces_programme_writes_nothing(client, tree, world):
    from django.urls import reverse

    from tiendo.data.models import DataValue

    officer = factories.user("xa.moimot", tree.n1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    line = world["lines"][2]
    data = {"programme": "QT-NTM", "unit": tree.n1.pk, "period": "2026", f"v-{line.pk}-": "5"}
    response = client.post(reverse("data:entry"), data)
    assert response.status_code == 200
    assert "không áp dụng cho Xã Mới Một" in response.content.decode()
    assert not DataValue.objects.exists()


def test_a_provinces_rule_does_not_run_on_another_provinces_figures(tree, world):
    from tiendo.data.services import Entry, save_value
    from tiendo.data.validation import check_rules

    admin = factories.user("qt", None, role=Role.ADMIN)
    criteria = world["lines"][0]
    for unit in (tree.n1, tree.other_commune):
        save_value(Entry(criteria, unit, "2026", factories.D(25)), user=admin)
    report = check_rules([tree.n1, tree.other_commune], "2026", [world["rule"]])
    assert [v.unit for v in report.violations] == [tree.other_commune]


def test_an_excel_form_of_another_provinces_programme_is_refused(client, tree, world):
    from django.urls import reverse

    from tiendo.reporting.excel import ExcelError, build_workbook

    officer = factories.user("xa.moimot", tree.n1, Role.COMMUNE_OFFICER)
    with pytest.raises(ExcelError) as info:
        build_workbook(world["form"], tree.n1, ["2026"], user=officer)
    assert info.value.code == "excel.programme_not_for_unit"
    assert "Xã Mới Một" in str(info.value) and "QT-NTM" in str(info.value)
    client.force_login(officer)
    url = reverse("reporting:excel_download", args=["QT_XA"])
    response = client.get(url, {"unit": tree.n1.pk, "period": "2026"})
    assert (
        response.status_code == 400 and "không áp dụng cho Xã Mới Một" in response.content.decode()
    )
    own = factories.user("xa.khac", tree.other_commune, Role.COMMUNE_OFFICER)
    assert build_workbook(world["form"], tree.other_commune, ["2026"], user=own)


def test_a_letter_with_a_form_that_does_not_reach_a_recipient_is_refused(tree, world):
    from datetime import date

    from tiendo.reporting.models import ReportRequest
    from tiendo.reporting.services import Letter, ReportingError, create_request

    office = coordinator("vpdp.tw", tree.nation)
    letter = Letter(
        number_symbol="1/VPĐP",
        issued_on=date(2026, 1, 5),
        issuer=tree.nation,
        title="Báo cáo năm 2026",
        summary="",
        period="2026",
        data_as_of=None,
        deadline=date(2026, 12, 31),
        forms=[world["form"]],
        section_titles=[],
        recipients=[tree.n1, tree.other_commune],
    )
    with pytest.raises(ReportingError) as info:
        create_request(letter, office)
    assert info.value.code == "reporting.programme_not_for_recipient"
    assert "Xã Mới Một" in str(info.value) and "Xã Khác" not in str(info.value)
    assert not ReportRequest.objects.exists()
    letter = dataclasses.replace(letter, recipients=[tree.other_commune])
    assert create_request(letter, office).forms.get() == world["form"]


def test_a_letter_sent_by_rule_to_units_the_programme_does_not_reach_is_refused(tree, world):
    from datetime import date

    from tiendo.reporting.models import RequestStatus
    from tiendo.reporting.services import Letter, ReportingError, create_request, send_request

    office = coordinator("vpdp.tw", tree.nation)
    letter = Letter(
        number_symbol="2/VPĐP",
        issued_on=date(2026, 1, 5),
        issuer=tree.nation,
        title="Báo cáo năm 2026",
        summary="",
        period="2026",
        data_as_of=None,
        deadline=date(2026, 12, 31),
        forms=[world["form"]],
        section_titles=[],
        recipients=[],
        rule=("commune", tree.nation),
    )
    request = create_request(letter, office)
    with pytest.raises(ReportingError) as info:
        send_request(request, office)
    assert info.value.code == "reporting.programme_not_for_recipient"
    assert "Xã Mới Hai" in str(info.value)
    request.refresh_from_db()
    assert request.status == RequestStatus.DRAFT and not request.recipients.exists()


def test_programme_lists_and_pages_show_only_the_programmes_of_the_users_units(client, tree, world):
    from django.urls import reverse

    hagiang = coordinator("bcd.hagiang", tree.ha_giang)
    client.force_login(hagiang)
    listed = client.get(reverse("programmes:list")).content.decode()
    assert "Nông thôn mới" in listed and "Kế hoạch của Quảng Trị" not in listed
    page = client.get(reverse("analytics:programme", args=["QT-NTM"]))
    assert page.status_code == 404
    quangtri = coordinator("bcd.quangtri", tree.other_province)
    client.force_login(quangtri)
    assert "Kế hoạch của Quảng Trị" in client.get(reverse("programmes:list")).content.decode()
    assert client.get(reverse("analytics:programme", args=["QT-NTM"])).status_code == 200
    client.force_login(coordinator("vpdp.tw", tree.nation))
    assert "Kế hoạch của Quảng Trị" in client.get(reverse("programmes:list")).content.decode()


def test_the_report_definition_page_offers_only_the_users_programmes(client, tree, world):
    from django.urls import reverse

    client.force_login(coordinator("bcd.hagiang", tree.ha_giang))
    html = client.get(reverse("documents:definition_new")).content.decode()

    assert "Nông thôn mới" in html and "Kế hoạch của Quảng Trị" not in html
    client.force_login(coordinator("bcd.quangtri", tree.other_province))
    html = client.get(reverse("documents:definition_new")).content.decode()
    assert "Kế hoạch của Quảng Trị" in html


def test_a_form_of_another_programme_is_not_taken_over_by_a_package(tree, tmp_path, world):
    from tiendo.reporting.models import Form

    # another programme of the same province, whose package names the first one's form
    text = PROVINCE_OWN.replace("QT-NTM", "QT-NTM-2").replace("QT_AGENCY_FUNDS", "QT_FUNDS_2")
    text += "forms:\n  - {code: QT_XA, name: Biểu khác, indicators: [QT_FUNDS_2]}\n"
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text), actor=coordinator("vpdp.qt", tree.other_province))
    assert [(p.key, p.code) for p in info.value.errors] == [
        ("forms[0].code", "package.form_of_other_programme")
    ]
    assert Form.objects.get(code="QT_XA").programme.code == "QT-NTM"


def test_the_letter_page_offers_only_the_forms_of_the_users_programmes(tree, world):
    from tiendo.reporting.forms import RequestForm
    from tiendo.reporting.models import Form

    national_form = Form.objects.create(
        code="NTM_XA", name="Biểu NTM", programme=world["national"], period_type="year"
    )
    offered = RequestForm(coordinator("bcd.hagiang", tree.ha_giang)).fields["forms"].queryset
    assert list(offered) == [national_form]
    offered = RequestForm(coordinator("bcd.quangtri", tree.other_province)).fields["forms"]
    assert set(offered.queryset) == {national_form, world["form"]}
