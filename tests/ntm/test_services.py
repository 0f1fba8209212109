from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tests.ntm.helpers import small_set
from tiendo.accounts.models import Role
from tiendo.ntm.models import Assessment, AssessmentChange, NtmLevel, Recognition
from tiendo.ntm.services import (
    AssessmentError,
    AssessmentInput,
    AssessmentRefused,
    record_recognition,
    save_assessments,
)

pytestmark = pytest.mark.django_db


def _save(tree, cs, **kw):
    kw.setdefault("unit", tree.c1)
    kw.setdefault("year", 2022)
    kw.setdefault("applies_to", "MN")
    user = kw.pop("user", None)
    return save_assessments([AssessmentInput(criteria_set=cs, **kw)], user=user)


def test_criteria_from_values_and_thresholds_of_the_region(tree):
    cs = small_set()
    report = _save(
        tree, cs, values={"1.1": Decimal("75"), "2.1": Decimal("50")}, criteria={3: True}
    )
    a = report.assessments[0]
    results = {
        r.criterion.number: (r.met, r.derived) for r in a.results.select_related("criterion")
    }
    # 1.1 reaches 70 (mountain region) but 1.2 is yes/no and unknown: criterion 1 unknown
    assert results == {1: (None, False), 2: (True, True), 3: (True, False)}
    assert a.criteria_met == 2 and a.level == NtmLevel.NONE
    # the same 75 % misses the delta's 100 %
    other = _save(
        tree, cs, unit=tree.c2, applies_to="DB", values={"1.1": Decimal("75")}, criteria={1: False}
    ).assessments[0]
    assert other.results.get(criterion__number=1).met is False


def test_all_met_gives_the_level_and_a_declared_level_needs_every_criterion(tree):
    cs = small_set()
    with pytest.raises(AssessmentRefused) as refused:
        _save(tree, cs, criteria={1: True, 2: True, 3: False}, level=NtmLevel.STANDARD, row=7)
    assert refused.value.errors[0].code == "ntm.assessment.level_unmet"
    assert "Dòng 7" in str(refused.value.errors[0]) and "3" in str(refused.value.errors[0])
    assert not Assessment.objects.exists()
    a = _save(tree, cs, criteria={1: True, 2: True, 3: True}).assessments[0]
    assert a.criteria_met == 3 and a.level == NtmLevel.STANDARD


def test_a_criterion_declared_met_against_its_values_is_refused(tree):
    cs = small_set()
    with pytest.raises(AssessmentRefused) as refused:
        _save(tree, cs, values={"2.1": Decimal("30")}, criteria={2: True})
    assert refused.value.errors[0].code == "ntm.assessment.contradiction"
    assert "2.1" in str(refused.value.errors[0])


def test_versions_refuse_a_stale_form_and_every_change_is_kept(tree):
    cs = small_set()
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    a = _save(tree, cs, criteria={3: True}, expected_version=0, user=officer).assessments[0]
    assert a.version == 1
    save_assessments(
        [
            AssessmentInput(
                unit=tree.c1, criteria_set=cs, year=2022, criteria={3: False}, expected_version=1
            )
        ],
        user=officer,
    )
    with pytest.raises(AssessmentRefused) as refused:
        save_assessments(
            [
                AssessmentInput(
                    unit=tree.c1, criteria_set=cs, year=2022, criteria={1: True}, expected_version=1
                )
            ]
        )
    assert refused.value.errors[0].code == "ntm.assessment.conflict"
    a.refresh_from_db()
    assert a.version == 2
    change = AssessmentChange.objects.get(assessment=a, field="criterion:3", version=2)
    assert (change.old, change.new, change.changed_by) == ("đạt", "chưa đạt", officer)


def test_a_unit_outside_the_set_or_its_validity_is_refused(tree):
    cs = small_set()
    with pytest.raises(AssessmentRefused) as refused:
        _save(tree, cs, unit=tree.n1, year=2022)  # the new commune exists from 1/7/2025
    assert [e.code for e in refused.value.errors] == ["ntm.assessment.unit_period"]
    with pytest.raises(AssessmentRefused) as refused:
        _save(tree, cs, unit=tree.vi_xuyen)
    assert "ntm.assessment.level" in [e.code for e in refused.value.errors]
    with pytest.raises(AssessmentRefused) as refused:
        _save(tree, cs, year=2019)
    assert "ntm.assessment.set_period" in [e.code for e in refused.value.errors]


def test_a_recognition_needs_an_assessment_meeting_every_criterion(tree):
    cs = small_set()
    _save(tree, cs, criteria={1: True, 2: True, 3: False})
    with pytest.raises(AssessmentError) as refused:
        record_recognition(
            unit=tree.c1,
            criteria_set=cs,
            year=2022,
            decision_number="9/QĐ-UBND",
            decision_date=date(2022, 12, 1),
            issuer="UBND tỉnh Hà Giang",
        )
    assert refused.value.code == "ntm.recognition.unmet"
    _save(tree, cs, criteria={3: True})
    rec = record_recognition(
        unit=tree.c1,
        criteria_set=cs,
        year=2022,
        decision_number="9/QĐ-UBND",
        decision_date=date(2022, 12, 1),
        issuer="UBND tỉnh Hà Giang",
    )
    assert rec.level == NtmLevel.STANDARD and Recognition.objects.count() == 1
