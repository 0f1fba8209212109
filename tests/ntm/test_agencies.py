"""Assignments and sponsorships: the package sections and the coordinator's services."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.ntm.agencies import (
    AgencyTaskError,
    end_assignment,
    end_sponsorship,
    record_assignment,
    record_sponsorship,
)
from tiendo.ntm.models import Assignment, Sponsorship
from tiendo.programmes.metadata import PackageError, load_package

pytestmark = pytest.mark.django_db

PACKAGE = """
package: ntm-ha-giang
programme: {code: HG-NTM, name: Nông thôn mới Hà Giang, period: 2021-2025, owner: "02"}
agencies:
  - {code: 02.LMHTX, name: Liên minh Hợp tác xã tỉnh Hà Giang, parent: "02", valid_to: 2025-06-30}
ntm_assignments:
  - agency: 02.SNN
    criterion: {set: T-2021-2025, number: 2}
    role: responsible
    area: "02"
    decision: 10/QĐ-UBND
    decision_date: 2022-03-01
    valid_from: 2022-03-01
  - agency: 02.LMHTX
    criterion: {set: T-2021-2025, number: 2}
    indicator: "2.1"
    role: coordinating
    area: "02"
    decision: 10/QĐ-UBND
    decision_date: 2022-03-01
    valid_from: 2022-03-01
    valid_to: 2025-06-30
ntm_sponsorships:
  - agency: 02.LMHTX
    commune: "00001"
    decision: 11/QĐ-UBND
    decision_date: 2022-05-01
    working_group: 5/QĐ-LMHTX
    working_group_date: 2022-06-01
    valid_from: 2022-05-01
    illustrative: true
"""


def write(tmp_path, text):
    path = tmp_path / "goi.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_package_assigns_criteria_and_sponsors_communes_once(tree, tmp_path):
    cs = small_set()
    first = load_package(write(tmp_path, PACKAGE))
    assert first.created["phân công tiêu chí"] == 2
    assert first.created["đỡ đầu xây dựng nông thôn mới"] == 1
    lead = Assignment.objects.get(role="responsible")
    assert (lead.agency.code, lead.criterion, lead.area, lead.indicator) == (
        "02.SNN",
        cs.criteria.get(number=2),
        tree.ha_giang,
        None,
    )
    partner = Assignment.objects.get(role="coordinating")
    assert partner.agency.code == "02.LMHTX" and partner.indicator.code == "2.1"
    sponsorship = Sponsorship.objects.get()
    assert (sponsorship.commune, sponsorship.working_group_number, sponsorship.illustrative) == (
        tree.c1,
        "5/QĐ-LMHTX",
        True,
    )
    again = load_package(write(tmp_path, PACKAGE))
    assert again.created == {} and again.updated == {}
    changed = load_package(
        write(tmp_path, PACKAGE.replace("valid_to: 2025-06-30\nntm", "valid_to: 2024-12-31\nntm"))
    )
    assert changed.updated == {"phân công tiêu chí": 1}
    assert Assignment.objects.get(role="coordinating").valid_to == date(2024, 12, 31)


BAD_ASSIGNMENTS = """
  - agency: 02.SNN
    criterion: {set: XA-1990, number: 2}
    role: leader
    area: "028"
    decision: 13/QĐ-UBND
    decision_date: 2022-03-01
    valid_from: 2022-03-01
    valid_to: 2021-01-01
  - agency: 02.SNN
    criterion: {set: T-2021-2025, number: 7}
    role: responsible
    area: "44"
    decision: 14/QĐ-UBND
    decision_date: 2022-03-01
    valid_from: 2022-03-01
  - agency: 02.SNN
    criterion: {set: T-2021-2025, number: 1, name: Giao thông}
    indicator: "9.9"
    role: responsible
    area: "02"
    decision: 15/QĐ-UBND
    decision_date: 2022-03-01
    valid_from: 2030-01-01
"""

BAD_SPONSORSHIPS = """
  - agency: "00002"
    commune: 02.SNN
    decision: 12/QĐ-UBND
    decision_date: 2022-05-01
    valid_from: 2022-05-01
    illustrative: "có"
    sponsor_since: 2020
"""


def test_every_wrong_key_and_reference_is_named_and_nothing_is_loaded(tree, tmp_path):
    small_set()
    head, sponsorships = PACKAGE.split("ntm_sponsorships:")
    bad = head.rstrip("\n") + BAD_ASSIGNMENTS + "ntm_sponsorships:" + sponsorships
    bad = bad.rstrip("\n") + BAD_SPONSORSHIPS
    with pytest.raises(PackageError) as caught:
        load_package(write(tmp_path, bad))
    problems = "\n".join(caught.value.problems)
    assert "ntm_assignments[2].criterion.set: không có bộ tiêu chí “XA-1990”" in problems
    assert "ntm_assignments[2].role: “leader” không hợp lệ" in problems
    assert "ntm_assignments[2].area: địa bàn phân công phải là một tỉnh" in problems
    assert "ntm_assignments[2].valid_to: ngày kết thúc 01/01/2021 trước ngày bắt đầu" in problems
    assert (
        "ntm_assignments[3].criterion.number: bộ tiêu chí “T-2021-2025” không có tiêu chí số 7"
        in problems
    )
    assert (
        "ntm_assignments[3].area: “Tỉnh Quảng Trị” nằm ngoài địa bàn của chương trình" in problems
    )
    assert "ntm_assignments[3].agency: cơ quan “02.SNN” không thuộc địa bàn" in problems
    assert "ntm_assignments[4].criterion.name" in problems  # an unknown key
    assert "ntm_assignments[4].indicator: tiêu chí số 1 không có chỉ tiêu “9.9”" in problems
    assert (
        "ntm_assignments[4].valid_from: bộ tiêu chí “T-2021-2025” chỉ áp dụng đến 31/12/2025"
        in problems
    )
    assert "ntm_sponsorships[1].agency: “Xã Hai” không phải là cơ quan" in problems
    assert (
        "ntm_sponsorships[1].commune: “Sở Nông nghiệp tỉnh Hà Giang” không phải là đơn vị cấp xã"
        in problems
    )
    assert "ntm_sponsorships[1].illustrative: phải là true hoặc false" in problems
    assert "ntm_sponsorships[1].sponsor_since" in problems
    assert not Assignment.objects.exists() and not Sponsorship.objects.exists()


def test_a_sponsorship_names_a_commune_that_exists_on_its_first_day(tree, tmp_path):
    small_set()
    late = PACKAGE.replace("valid_from: 2022-05-01", "valid_from: 2025-08-01")
    with pytest.raises(PackageError) as caught:
        load_package(write(tmp_path, late))
    assert "ntm_sponsorships[0].commune: xã “Xã Một” không còn tồn tại ngày 01/08/2025" in str(
        caught.value
    )


@pytest.fixture
def people(tree):
    return {
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "officer": factories.user("canbo.snn", tree.agency, Role.AGENCY_OFFICER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }


def _assign(people, tree, cs, who="coordinator", **kw):
    values = {
        "agency": tree.agency,
        "criterion": cs.criteria.get(number=1),
        "role": "responsible",
        "area": tree.ha_giang,
        "decision_number": "20/QĐ-UBND",
        "decision_date": date(2022, 1, 10),
        "valid_from": date(2022, 1, 10),
    }
    values.update(kw)
    return record_assignment(people[who], **values)


def test_a_coordinator_records_and_ends_an_assignment_audited(tree, people):
    cs = small_set()
    assignment = _assign(people, tree, cs)
    entry = AuditEntry.objects.get(action="ntm.assignment_recorded")
    assert entry.actor == people["coordinator"] and entry.unit == tree.agency
    assert "Chủ trì tiêu chí số 1 (T-2021-2025), quyết định 20/QĐ-UBND" in entry.message
    with pytest.raises(AgencyTaskError) as twice:
        _assign(people, tree, cs)
    assert twice.value.code == "ntm.agency.twice"
    end_assignment(people["coordinator"], assignment, date(2023, 12, 31))
    assignment.refresh_from_db()
    assert assignment.valid_to == date(2023, 12, 31)
    assert AuditEntry.objects.filter(action="ntm.assignment_ended").count() == 1
    with pytest.raises(AgencyTaskError) as again:
        end_assignment(people["coordinator"], assignment, date(2024, 6, 30))
    assert again.value.code == "ntm.agency.already_ended"


@pytest.mark.parametrize(
    ("who", "change", "code"),
    [
        ("officer", {}, "ntm.agency.forbidden"),
        ("stranger", {}, "ntm.agency.forbidden"),
        ("coordinator", {"role": "boss"}, "ntm.agency.role"),
        ("coordinator", {"area": "vi_xuyen"}, "ntm.agency.area"),
        ("coordinator", {"agency": "c1"}, "ntm.agency.not_agency"),
        ("coordinator", {"valid_to": date(2021, 1, 1)}, "ntm.agency.span"),
        ("coordinator", {"valid_from": date(2026, 1, 1)}, "ntm.agency.set_period"),
        ("coordinator", {"decision_number": " "}, "ntm.agency.decision"),
    ],
)
def test_an_assignment_is_refused_with_a_reason(tree, people, who, change, code):
    cs = small_set()
    change = {k: getattr(tree, v) if k in {"area", "agency"} else v for k, v in change.items()}
    if who == "coordinator" and "area" in change:
        change["area"] = tree.vi_xuyen
    with pytest.raises(AgencyTaskError) as refused:
        _assign(people, tree, cs, who=who, **change)
    assert refused.value.code == code
    assert not Assignment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="ntm.").exists()


def test_an_indicator_of_another_criterion_is_refused(tree, people):
    cs = small_set()
    other = cs.criteria.get(number=2).indicators.get(code="2.1")
    with pytest.raises(AgencyTaskError) as refused:
        _assign(people, tree, cs, indicator=other)
    assert refused.value.code == "ntm.agency.indicator" and "2.1" in str(refused.value)


def test_a_coordinator_records_and_ends_a_sponsorship_audited(tree, people):
    sponsorship = record_sponsorship(
        people["coordinator"],
        agency=tree.agency,
        commune=tree.c1,
        decision_number="30/QĐ-UBND",
        decision_date=date(2022, 7, 1),
        valid_from=date(2022, 7, 1),
        working_group_number="2/QĐ-SNN",
        working_group_date=date(2022, 8, 1),
    )
    entry = AuditEntry.objects.get(action="ntm.sponsorship_recorded")
    assert "Xã Một" in entry.message and "30/QĐ-UBND" in entry.message
    with pytest.raises(AgencyTaskError) as early:
        end_sponsorship(people["coordinator"], sponsorship, date(2022, 1, 1))
    assert early.value.code == "ntm.agency.span"
    with pytest.raises(AgencyTaskError) as forbidden:
        end_sponsorship(people["stranger"], sponsorship, date(2023, 1, 1))
    assert forbidden.value.code == "ntm.agency.forbidden"
    end_sponsorship(people["coordinator"], sponsorship, date(2023, 12, 31))
    sponsorship.refresh_from_db()
    assert sponsorship.valid_to == date(2023, 12, 31)


def test_a_sponsorship_needs_a_commune_existing_then_and_its_working_group_date(tree, people):
    base = {
        "agency": tree.agency,
        "commune": tree.c1,
        "decision_number": "31/QĐ-UBND",
        "decision_date": date(2022, 7, 1),
        "valid_from": date(2022, 7, 1),
    }
    for change, code in [
        ({"valid_from": date(2025, 8, 1)}, "ntm.agency.commune_period"),
        ({"commune": tree.vi_xuyen}, "ntm.agency.not_commune"),
        ({"working_group_number": "1/QĐ"}, "ntm.agency.working_group_date"),
    ]:
        with pytest.raises(AgencyTaskError) as refused:
            record_sponsorship(people["coordinator"], **(base | change))
        assert refused.value.code == code
    assert not Sponsorship.objects.exists()
