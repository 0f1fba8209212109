"""Eligibility rules per component: the package section refuses what it does not know, with
the key path; the rules find the households that cannot borrow (seed 000: land outside
the residence commune)."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from tests.households import helpers
from tiendo.households import eligibility, services
from tiendo.households.models import EligibilityRule
from tiendo.programmes.metadata import PackageError, load_package

PACKAGE = """
package: thu-nghiem
programme:
  code: TN-04
  name: Chương trình thử nghiệm
  period: 2021-2025
  owner: "02"
components:
  - {code: VAY_VON, name: Vay vốn}
  - {code: GIONG, name: Giống}
eligibility:
  - component: VAY_VON
    rules:
      - rule: land_in_residence_commune
        message: Đất phải ở xã cư trú.
      - {rule: poverty_level_in, levels: [poor, near_poor], year: record}
      - {rule: max_loan, amount: 100}
      - {rule: head_age, min: 18, max: 70}
"""


def write(tmp_path, text):
    path = tmp_path / "goi.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path, text) -> str:
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    return "\n".join(info.value.problems)


def test_the_section_loads_its_rules_once(tree, tmp_path):
    report = load_package(write(tmp_path, PACKAGE))
    assert report.created["điều kiện tham gia"] == 4
    rules = list(EligibilityRule.objects.order_by("order"))
    assert [r.kind for r in rules] == list(eligibility.KINDS)
    assert rules[1].params == {"levels": ["poor", "near_poor"], "year": "record"}
    assert rules[2].params == {"amount": "100"}
    assert rules[0].message == "Đất phải ở xã cư trú."
    again = load_package(write(tmp_path, PACKAGE))
    assert again.created == {} and again.updated == {}


def test_a_rule_the_package_no_longer_has_is_retired_not_deleted(tree, tmp_path):
    load_package(write(tmp_path, PACKAGE))
    shorter = PACKAGE.split("      - {rule: poverty_level_in")[0]
    report = load_package(write(tmp_path, shorter))
    assert EligibilityRule.objects.count() == 4
    assert EligibilityRule.objects.filter(active=True).count() == 1
    assert len(report.of("retired")) == 3


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ("{rule: land_in_commune}", "eligibility[0].rules[0].rule", "không hợp lệ"),
        ("{rule: max_loan, amount: 100, levels: [poor]}", "eligibility[0].rules[0].levels", "khóa"),
        ("{rule: max_loan, amount: -5}", "eligibility[0].rules[0].amount", "lớn hơn 0"),
        ("{rule: max_loan, amount: nhiều}", "eligibility[0].rules[0].amount", "không phải là số"),
        ("{rule: poverty_level_in, levels: [rich]}", "eligibility[0].rules[0].levels[0]", "rich"),
        ("{rule: poverty_level_in, levels: [poor], year: 1800}", "rules[0].year", "2000"),
        ("{rule: poverty_level_in}", "eligibility[0].rules[0].levels", "danh sách"),
        ("{rule: head_age}", "eligibility[0].rules[0]", "min, max"),
        ("{rule: head_age, min: 60, max: 18}", "eligibility[0].rules[0].max", "min"),
        ("{rule: head_age, min: tám}", "eligibility[0].rules[0].min", "số nguyên"),
    ],
)
def test_a_bad_rule_is_refused_with_its_key_path(tree, tmp_path, rule, path, words):
    text = PACKAGE.split("eligibility:")[0] + (
        f"eligibility:\n  - component: VAY_VON\n    rules:\n      - {rule}\n"
    )
    found = problems(tmp_path, text)
    line = next((line for line in found.splitlines() if path in line), "")
    assert words in line, found
    assert not EligibilityRule.objects.exists()


def test_an_unknown_component_and_an_empty_rule_list_are_refused(tree, tmp_path):
    text = PACKAGE.split("eligibility:")[0] + (
        "eligibility:\n  - component: VAY\n    rules: []\n  - {component: GIONG, ruls: []}\n"
    )
    found = problems(tmp_path, text)
    assert "eligibility[0].component" in found and "“VAY”" in found
    assert "eligibility[0].rules" in found
    assert "eligibility[1].ruls" in found and "rules" in found


def test_the_demo_package_states_the_land_rule_for_its_loans():
    path = "src/tiendo/demo/packages/hagiang-nq04.yaml"
    from tiendo.programmes.metadata import read_package

    data = read_package(path)
    assert data["eligibility"] == [
        {
            "component": "VAY_VON",
            "rules": [
                {
                    "rule": "land_in_residence_commune",
                    "message": data["eligibility"][0]["rules"][0]["message"],
                }
            ],
        }
    ]
    assert "VAY_VON" in {c["code"] for c in data["components"]}


# --- evaluation ---------------------------------------------------------------------------


@pytest.fixture
def loans(tree):
    programme, component = helpers.loan_programme()
    helpers.land_rule(component, message="Đất phải ở xã cư trú.")
    EligibilityRule.objects.create(
        component=component, order=1, kind="max_loan", params={"amount": "100"}
    )
    EligibilityRule.objects.create(
        component=component,
        order=2,
        kind="poverty_level_in",
        params={"levels": ["poor", "near_poor"], "year": "record"},
    )
    return programme, component


def test_land_outside_the_residence_commune_fails_the_loan(tree, loans):
    programme, component = loans
    inside = helpers.household(tree.c1, "H1")
    outside = helpers.household(tree.c1, "H2", head_name="Trần Thị B", head_id="")
    for household in (inside, outside):
        services.set_poverty(household, 2022, "poor", expected_version=None)
    helpers.plot(inside, tree.c1, programme, component)
    helpers.plot(outside, tree.c2, programme, component)
    helpers.loan(inside, programme, component)
    loan = helpers.loan(outside, programme, component)
    assert eligibility.evaluate_household(inside) == []
    failures = eligibility.evaluate(loan)
    assert [f.rule.kind for f in failures] == ["land_in_residence_commune"]
    assert "Xã Hai" in failures[0].message and "Đất phải ở xã cư trú." in failures[0].message
    listed = eligibility.failing_households([tree.vi_xuyen])
    assert [h.code for h, _ in listed] == ["H2"]


def test_the_loan_cap_and_the_poverty_level_of_the_loan_year(tree, loans):
    programme, component = loans
    household = helpers.household(tree.c1)
    services.set_poverty(household, 2021, "poor", expected_version=None)
    services.set_poverty(household, 2022, "none", expected_version=None)
    loan = helpers.loan(household, programme, component, amount="150")
    reasons = {f.rule.kind: f.reason for f in eligibility.evaluate(loan)}
    assert set(reasons) == {"max_loan", "poverty_level_in"}
    assert "150" in reasons["max_loan"] and "100" in reasons["max_loan"]
    assert "năm 2022" in reasons["poverty_level_in"]
    young = helpers.loan(household, programme, component, disbursed_on=date(2021, 5, 1))
    assert [f.rule.kind for f in eligibility.evaluate(young)] == []


def test_a_retired_rule_and_a_removed_household_are_not_listed(tree, loans):
    programme, component = loans
    household = helpers.household(tree.c1)
    helpers.plot(household, tree.c2, programme, component)
    helpers.loan(household, programme, component)
    assert len(eligibility.failing_households([tree.c1])) == 1
    household.refresh_from_db()
    services.remove_household(household, reason="Chuyển đi", expected_version=household.version)
    assert eligibility.failing_households([tree.c1]) == []


def test_the_head_age_rule(tree):
    programme, component = helpers.loan_programme()
    EligibilityRule.objects.create(
        component=component, order=0, kind="head_age", params={"min": 18, "max": 60}
    )
    household = helpers.household(tree.c1, head_birth_year=1950, head_id="")
    loan = helpers.loan(household, programme, component)
    [failure] = eligibility.evaluate(loan)
    assert "72 tuổi" in failure.reason


def test_failing_households_reads_few_queries(tree, loans, django_assert_max_num_queries):
    programme, component = loans
    for i in range(5):
        household = helpers.household(tree.c1, f"H{i}", head_id="", head_name=f"Hộ {i}")
        helpers.plot(household, tree.c2, programme, component)
        helpers.loan(household, programme, component)
    with django_assert_max_num_queries(8):
        assert len(eligibility.failing_households([tree.c1])) == 5


def test_the_demo_package_loads_with_its_rule(tree):
    load_package("src/tiendo/demo/packages/hagiang-nq04.yaml")
    rule = EligibilityRule.objects.get()
    assert (rule.component.code, rule.kind, rule.active) == (
        "VAY_VON",
        "land_in_residence_commune",
        True,
    )


@pytest.mark.parametrize(
    ("home", "land", "disbursed", "inside"),
    [
        ("c2", "c3", date(2022, 3, 15), False),  # two communes before the 2025 merger
        ("c2", "c3", date(2025, 9, 1), True),  # both merged into N2: one commune then
        ("c2", "n2", date(2025, 9, 1), True),  # the land under the commune Xã Hai became
        ("c2", "n2", date(2022, 3, 15), True),  # …recorded in the new tree for an old loan
        ("c1", "n2", date(2025, 9, 1), False),  # Xã Một became N1, not N2
        ("c1", "c3", date(2025, 9, 1), False),
    ],
)
def test_the_land_rule_follows_the_communes_through_the_merger(
    tree, loans, home, land, disbursed, inside
):
    """mini tree: Xã Một → N1; Xã Hai and Xã Ba → N2 (on 01/07/2025)."""
    programme, component = loans
    household = helpers.household(getattr(tree, home), "H1")
    services.set_poverty(household, disbursed.year, "poor", expected_version=None)
    helpers.plot(household, getattr(tree, land), programme, component)
    loan = helpers.loan(household, programme, component, disbursed_on=disbursed)
    kinds = [f.rule.kind for f in eligibility.evaluate(loan)]
    assert ("land_in_residence_commune" not in kinds) == inside, kinds
