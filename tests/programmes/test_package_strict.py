"""Packages are strict: an unknown key, at any level and in any section, is refused with the
nearest valid key; every reference is checked (issue 9, point 4)."""

import pytest

from tests.programmes.test_metadata import GOOD, write
from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Programme


def problems(tmp_path, text) -> dict:
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    assert not Programme.objects.exists()
    return {problem.key: problem for problem in info.value.errors}


def test_a_misspelt_aggregation_is_refused_with_the_key_path_and_the_right_key(tree, tmp_path):
    text = GOOD.replace(
        "{code: PAID, name: Giải ngân,", "{code: PAID, aggregaton: last, name: Giải ngân,"
    )
    found = problems(tmp_path, text)
    problem = found["indicators[1].aggregaton"]
    assert problem.code == "package.unknown_key"
    assert problem.params["suggestion"] == "aggregation"
    assert "PAID" in problem.params["where"]
    assert "“aggregaton”" in str(problem) and "“aggregation”" in str(problem)
    assert len(found) == 1


@pytest.mark.parametrize(
    ("old", "new", "key", "suggestion"),
    [
        ('  owner: "02"', '  owner: "02"\n  isuer: UBND', "programme.isuer", "issuer"),
        ("kind: resolution,", "kind: resolution, sumary: x,", "documents[0].sumary", "summary"),
        (
            'parent: "02",',
            'parent: "02", valid_too: 2030-01-01,',
            "agencies[0].valid_too",
            "valid_to",
        ),
        ("{code: VON, name: Vốn}", "{code: VON, name: Vốn, nam: x}", "components[0].nam", "name"),
        (
            "value: 100, document:",
            "value: 100, documnet: x, document:",
            "targets[0].documnet",
            "document",
        ),
    ],
)
def test_unknown_keys_are_refused_in_every_built_in_section(
    tree, tmp_path, old, new, key, suggestion
):
    assert old in GOOD
    problem = problems(tmp_path, GOOD.replace(old, new))[key]
    assert problem.code == "package.unknown_key"
    assert problem.params["suggestion"] == suggestion


def test_a_key_nothing_resembles_lists_the_valid_keys(tree, tmp_path):
    problem = problems(
        tmp_path, GOOD.replace("{code: VON, name: Vốn}", "{code: VON, name: Vốn, zzz: 1}")
    )["components[0].zzz"]
    assert problem.code == "package.unknown_key" and problem.params["suggestion"] == ""
    assert "code, name" in problem.params["allowed"]


def test_an_unknown_top_level_key_is_refused_with_the_nearest_section(tree, tmp_path):
    problem = problems(tmp_path, GOOD.replace("targets:", "target:"))["target"]
    assert problem.code == "package.unknown_key" and problem.params["suggestion"] == "targets"


DISAGGREGATED = GOOD.replace(
    "components:",
    "disaggregations:\n"
    "  - code: SOURCE\n"
    "    name: Nguồn vốn\n"
    "    options: [{code: CENTRAL, name: Trung ương}, {code: LOCAL, name: Địa phương}]\n"
    "components:",
).replace(
    "{code: PAID, name: Giải ngân, component: VON,",
    "{code: PAID, name: Giải ngân, component: VON, disaggregation: SOURCE,",
)


def test_a_nested_key_is_refused_with_its_full_path(tree, tmp_path):
    text = DISAGGREGATED.replace(
        "{code: LOCAL, name: Địa phương}", "{code: LOCAL, nme: Địa phương}"
    )
    found = problems(tmp_path, text)
    problem = found["disaggregations[0].options[1].nme"]
    assert problem.code == "package.unknown_key" and problem.params["suggestion"] == "name"


FORMS = """
forms:
  - code: F1
    name: Biểu một
    unit_kinds: [commune]
    period_type: year
    indicators:
      - PLAN
      - {code: PAID, period: as_of}
validation_rules:
  - {code: R1, name: Giải ngân không quá kế hoạch, expression: PAID <= PLAN, message: "{left} > {right}"}
"""


def test_the_registered_sections_load_when_their_keys_are_right(tree, tmp_path):
    load_package(write(tmp_path, GOOD + FORMS))
    assert Programme.objects.get(code="TN-01").forms.count() == 1


@pytest.mark.parametrize(
    ("old", "new", "key", "suggestion"),
    [
        ("    period_type: year", "    period_typ: year", "forms[0].period_typ", "period_type"),
        (
            "{code: PAID, period: as_of}",
            "{code: PAID, perod: as_of}",
            "forms[0].indicators[1].perod",
            "period",
        ),
        (
            "expression: PAID <= PLAN,",
            "expresion: PAID <= PLAN,",
            "validation_rules[0].expresion",
            "expression",
        ),
    ],
)
def test_unknown_keys_are_refused_in_sections_other_apps_register(
    tree, tmp_path, old, new, key, suggestion
):
    assert old in FORMS
    problem = problems(tmp_path, GOOD + FORMS.replace(old, new))[key]
    assert problem.code == "package.unknown_key"
    assert problem.params["suggestion"] == suggestion
