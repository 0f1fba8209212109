"""A validation rule that left its package is retired — kept with its findings, never
evaluated — and in force again when the package brings it back (issue 9, point 4)."""

from django.core.management import call_command

from tests.factories import D
from tests.programmes.test_metadata import GOOD, write
from tests.programmes.test_package_strict import FORMS
from tiendo.data.models import ValidationRule
from tiendo.data.services import Entry
from tiendo.data.validation import check_rules, rules_for, validate_entries
from tiendo.programmes.metadata import load_package
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period

WITHOUT_R1 = GOOD + FORMS.split("validation_rules:")[0]


def codes(rules) -> list[str]:
    return [r.code for r in rules]


def test_a_rule_missing_from_a_reloaded_package_is_retired_and_kept(tree, tmp_path):
    load_package(write(tmp_path, GOOD + FORMS))
    assert codes(rules_for(Period.parse("2022"))) == ["R1"]
    report = load_package(write(tmp_path, WITHOUT_R1 + "validation_rules: []\n"))
    rule = ValidationRule.objects.get(code="R1")
    assert rule.active is False  # kept, not deleted
    assert [(c.kind, c.label) for c in report.of("retired")] == [("quy tắc kiểm tra", "R1")]
    assert rules_for(Period.parse("2022")) == []
    # a second load without it says nothing more
    again = load_package(write(tmp_path, WITHOUT_R1 + "validation_rules: []\n"))
    assert again.of("retired") == []


def test_a_retired_rule_is_not_run_on_saved_values(tree, tmp_path):
    load_package(write(tmp_path, GOOD + FORMS))
    paid, plan = Indicator.objects.get(code="PAID"), Indicator.objects.get(code="PLAN")
    entries = [Entry(paid, tree.c1, "2022", D(50)), Entry(plan, tree.c1, "2022", D(10))]
    from tiendo.data.services import save_values

    save_values(entries)
    assert [v.rule.code for v in validate_entries(entries)] == ["R1"]
    report = check_rules([tree.c1], "2022", rules_for(Period.parse("2022")))
    assert len(report.violations) == 1
    load_package(write(tmp_path, WITHOUT_R1 + "validation_rules: []\n"))
    assert validate_entries(entries) == []
    assert check_rules([tree.c1], "2022", rules_for(Period.parse("2022"))).violations == []


def test_a_rule_that_comes_back_is_in_force_again(tree, tmp_path):
    load_package(write(tmp_path, GOOD + FORMS))
    load_package(write(tmp_path, WITHOUT_R1 + "validation_rules: []\n"))
    report = load_package(write(tmp_path, GOOD + FORMS))
    assert ValidationRule.objects.get(code="R1").active is True
    [change] = [c for c in report.of("changed") if c.label == "R1"]
    assert ("active", "không", "có") in change.fields
    assert codes(rules_for(Period.parse("2022"))) == ["R1"]


def test_the_dry_run_lists_the_rule_as_no_longer_in_the_package(tree, tmp_path, capsys):
    load_package(write(tmp_path, GOOD + FORMS))
    path = write(tmp_path, WITHOUT_R1 + "validation_rules: []\n")
    call_command("metadata", "load", "--system", "--dry-run", str(path))
    out = capsys.readouterr().out
    assert "- quy tắc kiểm tra R1" in out.split("Không còn trong gói")[1]
    assert ValidationRule.objects.get(code="R1").active is True  # nothing written
