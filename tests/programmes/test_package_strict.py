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
    for problem in info.value.errors:
        assert problem.params["path"] == problem.key  # the key path travels in the params too
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


# --- every reference is checked -------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "code"),
    [
        (
            "formula: PAID / PLAN * 100",
            'formula: "PAID[CENTRAL] / PLAN * 100"',
            "indicators[2].formula",
            "package.not_disaggregated",
        ),
        (
            "{indicator: PLAN,",
            "{indicator: PLANN,",
            "targets[0].indicator",
            "package.unknown_indicator",
        ),
        ('period: "2022"', 'period: "2022Q5"', "targets[1].period", "package.bad_period"),
        ("unit: 02.SKHCN,", 'unit: "77",', "targets[1].unit", "package.unknown_unit"),
    ],
)
def test_a_reference_to_nothing_is_refused(tree, tmp_path, old, new, key, code):
    assert old in GOOD
    assert problems(tmp_path, GOOD.replace(old, new))[key].code == code


def test_an_unknown_indicator_in_a_target_suggests_the_nearest_code(tree, tmp_path):
    problem = problems(tmp_path, GOOD.replace("{indicator: PLAN,", "{indicator: PLANN,"))[
        "targets[0].indicator"
    ]
    assert problem.params["suggestion"] == "PLAN"


def test_an_unknown_category_in_a_formula_is_refused(tree, tmp_path):
    text = DISAGGREGATED.replace(
        "formula: PAID / PLAN * 100", 'formula: "PAID[FOREIGN] / PLAN * 100"'
    )
    problem = problems(tmp_path, text)["indicators[2].formula"]
    assert problem.code == "package.unknown_category"
    assert problem.params["value"] == "FOREIGN" and problem.params["indicator"] == "PAID"


def test_a_known_category_in_a_formula_is_accepted(tree, tmp_path):
    load_package(
        write(
            tmp_path,
            DISAGGREGATED.replace(
                "formula: PAID / PLAN * 100", 'formula: "PAID[CENTRAL] / PLAN * 100"'
            ),
        )
    )
    assert Programme.objects.filter(code="TN-01").exists()


def test_an_unknown_category_in_a_rule_and_a_form_is_refused(tree, tmp_path):
    text = DISAGGREGATED + FORMS.replace(
        "{code: PAID, period: as_of}", "{code: PAID, period: as_of, categories: [CENTRAL, FOREIGN]}"
    ).replace("expression: PAID <= PLAN", 'expression: "PAID[LOCL] <= PLAN"')
    found = problems(tmp_path, text)
    assert found["forms[0].indicators[1].categories"].code == "package.unknown_category"
    assert found["forms[0].indicators[1].categories"].params["value"] == "FOREIGN"
    assert found["validation_rules[0].expression"].code == "package.unknown_category"
    assert found["validation_rules[0].expression"].params["value"] == "LOCL"


def test_an_unknown_unit_kind_of_a_form_is_refused(tree, tmp_path):
    found = problems(tmp_path, GOOD + FORMS.replace("[commune]", "[commune, hamlet]"))
    problem = found["forms[0].unit_kinds"]
    assert problem.code == "package.unknown_unit_kind" and problem.params["value"] == "hamlet"


def test_an_unknown_indicator_in_a_form_or_rule_is_refused_with_its_code(tree, tmp_path):
    text = GOOD + FORMS.replace("      - PLAN\n", "      - PLANX\n").replace(
        "PAID <= PLAN", "PAID <= NOPE"
    )
    found = problems(tmp_path, text)
    assert found["forms[0].indicators[0].code"].code == "package.unknown_indicator"
    assert found["validation_rules[0].expression"].code == "package.unknown_indicator"
    assert found["validation_rules[0].expression"].params["codes"] == "NOPE"


def test_a_rule_and_a_form_line_in_the_wrong_shape_have_their_own_codes(tree, tmp_path):
    text = GOOD + FORMS.replace("      - PLAN\n", "      - [PLAN]\n").replace(
        "period_type: year", "period_type: year\n    closes_days_after_end: many"
    ).replace('message: "{left} > {right}"', 'message: "{left} > {plan}"')
    found = problems(tmp_path, text)
    assert found["forms[0].indicators[0]"].code == "package.bad_line"
    assert found["forms[0].closes_days_after_end"].code == "package.bad_number"
    assert found["validation_rules[0].message"].code == "package.bad_message"


# --- dates ------------------------------------------------------------------------------------


def test_unquoted_dates_are_dates_where_a_date_is_expected(tree, tmp_path):
    # issued_on and valid_to are unquoted in GOOD: YAML reads them as dates
    load_package(
        write(tmp_path, GOOD.replace("issued_on: 2020-12-01", "issued_on: 2020-12-01 08:30:00"))
    )
    from tiendo.programmes.models import LegalDocument

    assert str(LegalDocument.objects.get().issued_on) == "2020-12-01"


def test_an_unquoted_date_as_a_period_is_a_day(tree, tmp_path):
    from tiendo.programmes.models import Target

    load_package(write(tmp_path, GOOD.replace('period: "2022"', "period: 2022-06-30")))
    assert Target.objects.filter(period="2022-06-30").exists()


def test_a_date_where_text_is_expected_is_shown_the_vietnamese_way(tree, tmp_path):
    problem = problems(tmp_path, GOOD.replace("issuer: Tỉnh ủy", "issuer: 2020-12-01"))[
        "documents[0].issuer"
    ]
    assert problem.code == "package.date_not_text"
    assert "01/12/2020" in str(problem) and "datetime" not in str(problem)


@pytest.mark.parametrize(
    ("value", "shown_as"),
    [("[1, 2]", "một danh sách"), ("{a: 1}", "một bảng khóa"), ("true", "true")],
)
def test_a_value_of_the_wrong_type_is_described_never_a_python_repr(
    tree, tmp_path, value, shown_as
):
    problem = problems(tmp_path, GOOD.replace("issuer: Tỉnh ủy", f"issuer: {value}"))[
        "documents[0].issuer"
    ]
    assert problem.code == "package.not_text" and shown_as in str(problem)
    assert "[1, 2]" not in str(problem) and "True" not in str(problem)
