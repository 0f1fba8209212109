"""The demo's rules on the demo data: each contradiction of the seeds is found, by a rule
that holds for figures that agree (README, "Demo data")."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import D
from tiendo.accounts.models import User
from tiendo.data.models import ValidationRule
from tiendo.data.services import Entry, computed_write, save_values
from tiendo.data.validation import (
    check_rules,
    format_value,
    units_below,
    validate_unit,
    validate_units,
)
from tiendo.programmes.models import Indicator, Programme
from tiendo.reporting.models import Form
from tiendo.reporting.services import reopen_window
from tiendo.units.models import Level, Unit
from tiendo.units.services import resolve_unit

pytestmark = pytest.mark.usefixtures("demo_db")

# What seed 000 contradicts itself with, as the rule finding it reads it at the province:
# rule -> (left, right), formatted as the message shows them.
HA_GIANG_CONTRADICTIONS = {
    # "thu nhập gấp 2,2 lần so với trước" beside "từ 18 triệu đồng lên 82 triệu đồng/ha"
    "NQ04_STATED_MULTIPLE_MATCHES": ("2,2", "4,56"),
    # 17.286 triệu đồng lent to 167 households
    "NQ04_LOAN_PER_HOUSEHOLD": ("103,51", "100"),
    # "2.326 hộ/2,6 ha"
    "NQ05_TARGET_AREA_PER_HOUSEHOLD": ("11,18", "100"),
    # 2.326 households of the target group, 1.935 gardens
    "NQ05_TARGET_HOUSEHOLDS_WITHIN_GARDENS": ("2.326", "1.935"),
    # 1.032 + 1.242 households lent to, 1.935 gardens
    "NQ05_BORROWERS_WITHIN_GARDENS": ("2.274", "1.935"),
    # 2.326 + 167 households beside "2.441 hộ" benefiting from both resolutions
    "HG_TARGET_AND_LOAN_WITHIN_BENEFITING": ("2.493", "2.441"),
    # "2.274 người" with stable jobs = the 2.274 households lent to
    "NQ05_JOBS_NOT_COPIED_FROM_HOUSEHOLDS": ("2.274", "2.274"),
}
# Rules of the same kinds that the seeds' figures satisfy: stated figures that do follow
# from their operands (98,45%, 66.992 = 30.355 + 36.637, 49,3%), parts within their wholes.
AGREEING = [
    "NQ04_STATED_RATE_MATCHES",
    "NQ05_STATED_TOTAL_IS_SUM_OF_YEARS",
    "NQ05_LOAN_PER_HOUSEHOLD",
    "NQ05_AREA_PER_GARDEN_MIN",
    "NQ05_TARGET_AREA_WITHIN_AREA",
    "HG_BORROWERS_WITHIN_BENEFITING",
]
QUANG_TRI_CONTRADICTIONS = {
    # 197,3 disbursed by 31/10 (trade promotion: nothing, "chưa tổ chức ... do Covid-19"),
    # "ước đến 31/12/2020 là 400 triệu đồng đạt 100% KH"
    "NTM_ESTIMATE_PACE": ("202,7", "197,3"),
    "NTM_TRADE_ESTIMATE_PACE": ("200", "0"),
}


def found(violations) -> dict[str, tuple[str, str]]:
    return {v.rule.code: (format_value(v.left), format_value(v.right)) for v in violations}


def test_every_demo_package_ships_rules():
    codes = set(ValidationRule.objects.values_list("programme__code", flat=True))
    assert codes == {"HG-NQ04", "HG-NQ05", "HG-NQ04-05", "QT-NTM-2016-2020"}
    assert ValidationRule.objects.filter(importance="high").count() >= 8


@pytest.mark.parametrize("period", ["2022", "2021-2025"])
def test_each_contradiction_of_seed_000_is_found_at_the_province_by_its_rule(period):
    province = resolve_unit("02", on=None)
    assert province.name == "Tỉnh Hà Giang"
    assert found(validate_unit(province, period)) == HA_GIANG_CONTRADICTIONS


def test_the_2021_split_carries_the_seed_proportions_into_2021():
    # the demo splits the seed's 2021-2025 figures into years in the same proportions, so
    # 2021 shows the two contradictions that read "so far" figures of that year
    province = resolve_unit("02", on=None)
    assert found(validate_unit(province, "2021")) == {
        "NQ04_LOAN_PER_HOUSEHOLD": ("105,8", "100"),
        "NQ05_BORROWERS_WITHIN_GARDENS": ("1.032", "804"),
    }


@pytest.mark.parametrize("period", ["2022", "2021-2025"])
def test_the_seed_figures_that_agree_pass_the_rules_of_the_same_kinds(period):
    province = resolve_unit("02", on=None)
    rules = list(ValidationRule.objects.filter(code__in=AGREEING))
    report = check_rules([province], period, rules)
    assert len(rules) == len(AGREEING)
    assert report.violations == [] and report.evaluated == len(AGREEING)


def test_the_alliance_estimate_of_2020_is_found_and_its_stated_rate_agrees():
    alliance = resolve_unit("45.LMHTX")
    report = validate_units([alliance], "2020", programme=None)
    assert found(report.violations) == QUANG_TRI_CONTRADICTIONS
    agreeing = list(
        ValidationRule.objects.filter(
            code__in=["NTM_STATED_RATE_MATCHES", "NTM_TRAINING_ESTIMATE_PACE"]
        )
    )
    checked = check_rules([alliance], "2020", agreeing)
    assert checked.violations == [] and checked.evaluated == 2


@pytest.mark.parametrize("period", ["2022", "2021-2025"])
def test_the_command_lists_the_contradictions_in_vietnamese(period):
    out = StringIO()
    call_command("validate", "--unit", "02", "--period", period, stdout=out)
    text = out.getvalue()
    for violation in validate_unit(resolve_unit("02", on=None), period):
        assert violation.message in text
    assert "Báo cáo nêu thu nhập gấp 2,2 lần" in text and "cho 4,56 lần" in text
    assert "bình quân chỉ 11,18 m² mỗi hộ" in text
    assert "Kết quả: 7 vi phạm (4 mức cao, 2 mức trung bình, 1 mức thấp)" in text


def test_the_command_lists_what_the_demo_rules_find_below_the_province():
    province = resolve_unit("02")
    report = validate_units(units_below(province, "2022"), "2022")
    out = StringIO()
    call_command("validate", "--unit", "02", "--period", "2022", "--below", stdout=out)
    text = out.getvalue()
    assert "Tỉnh Hà Giang (02), năm 2022, kể cả" in text
    assert report.evaluated > 1000  # the rules do run on the communes' figures
    at_province = [v for v in report.violations if v.unit == province]
    assert found(at_province) == HA_GIANG_CONTRADICTIONS
    for violation in report.violations:
        assert f"{violation.unit.name} ({violation.unit.code})" in text
        assert violation.message in text
    assert f"Kết quả: {len(report.violations)} vi phạm" in text


# -- the same rules on figures that agree: nothing to report --------------------------------

CONSISTENT_COMMUNE = [
    # (indicator, period, value[, category]) — a commune whose figures hang together
    ("NQ04_DISBURSED", "2021", "500"),
    ("NQ04_DISBURSED", "2022", "700"),
    ("NQ04_CAPITAL_PLAN", "2021", "520"),
    ("NQ04_CAPITAL_PLAN", "2022", "700"),
    ("NQ04_DISBURSEMENT_RATE_STATED", "2022", "98.36"),  # 1.200 / 1.220
    ("NQ04_LOAN_HOUSEHOLDS", "2021", "8"),
    ("NQ04_LOAN_HOUSEHOLDS", "2022", "15"),  # 80 triệu đồng/hộ so far
    ("NQ04_LOAN_AREA", "2021", "10"),
    ("NQ04_LOAN_AREA", "2022", "20"),
    ("NQ04_GROSS_INCOME_BEFORE", "2022", "360"),  # 18 triệu đồng/ha
    ("NQ04_GROSS_INCOME", "2022", "1640"),  # 82 triệu đồng/ha
    ("NQ04_NET_INCOME", "2022", "794"),
    ("NQ04_INCOME_MULTIPLE_STATED", "2022", "4.6"),  # 82 / 18 = 4,56
    ("NQ04_STABLE_JOBS", "2021", "10"),
    ("NQ04_STABLE_JOBS", "2022", "30"),
    ("NQ05_DISBURSED", "2021", "300"),
    ("NQ05_DISBURSED", "2022", "360"),
    ("NQ05_DISBURSED_STATED_TOTAL", "2022", "660"),
    ("NQ05_DISBURSED_HOUSEHOLDS", "2021", "10"),
    ("NQ05_DISBURSED_HOUSEHOLDS", "2022", "12"),
    ("NQ05_AREA", "2021", "1.0"),
    ("NQ05_AREA", "2022", "2.5"),
    ("NQ05_GARDENS", "2021", "12"),
    ("NQ05_GARDENS", "2022", "30"),
    ("NQ05_TARGET_GROUP_HOUSEHOLDS", "2022", "20"),
    ("NQ05_TARGET_GROUP_AREA", "2022", "2.0"),  # 1.000 m² a household
    ("NQ05_GARDEN_INCOME", "2022", "470"),
    ("NQ05_STABLE_JOBS", "2021", "11"),
    ("NQ05_STABLE_JOBS", "2022", "130"),  # from 100 people the copy rule applies
    ("HG_HOUSEHOLDS_IMPLEMENTING", "2021", "30"),
    ("HG_HOUSEHOLDS_IMPLEMENTING", "2022", "60"),
    ("HG_HOUSEHOLDS_BENEFITING", "2021", "18"),
    ("HG_HOUSEHOLDS_BENEFITING", "2022", "40"),
    ("HG_TRAINING_CLASSES", "2022", "2"),
    ("HG_TRAINING_PARTICIPANTS", "2022", "100"),
]
CONSISTENT_AGENCY = [
    ("NTM_RECURRENT_ALLOCATED", "2020", "100", "TRAINING"),
    ("NTM_RECURRENT_ALLOCATED", "2020", "100", "TRADE_PROMOTION"),
    ("NTM_RECURRENT_DISBURSED", "2020-10-31", "80", "TRAINING"),
    ("NTM_RECURRENT_DISBURSED", "2020-10-31", "70", "TRADE_PROMOTION"),
    ("NTM_RECURRENT_DISBURSEMENT_RATE_STATED", "2020-10-31", "75.0"),
    ("NTM_RECURRENT_ESTIMATE", "2020-12-31", "100", "TRAINING"),
    ("NTM_RECURRENT_ESTIMATE", "2020-12-31", "100", "TRADE_PROMOTION"),
]


def _enter(unit, rows):
    """The figures of a commune whose figures agree. Those the household register computes
    are written as the register writes them (its write path is tested in tests/households):
    here they stand for a commune's register, not for a form."""
    indicators = {i.code: i for i in Indicator.objects.all()}
    with computed_write():
        save_values(
            [
                Entry(indicators[code], unit, period, D(value), category[0] if category else "")
                for code, period, value, *category in rows
            ]
        )


def _commune_without_figures(province: str) -> Unit:
    return (
        Unit.objects.filter(
            level=Level.COMMUNE,
            path__startswith=resolve_unit(province, on=date(2022, 1, 1)).path,
            values__isnull=True,
        )
        .order_by("code")
        .first()
    )


def test_the_rules_that_find_the_contradictions_raise_nothing_where_figures_agree():
    # a commune of another province, with no demo figures of its own and no approved
    # report locking them; Hà Giang's programmes (whose rules these are) are made to apply
    # there too, or their rules would not run on it
    commune = _commune_without_figures("08")
    for programme in Programme.objects.filter(owner__code="02"):
        programme.applies_to.set([programme.owner, commune])
    _enter(commune, CONSISTENT_COMMUNE)
    rules = {r.code: r for r in ValidationRule.objects.exclude(programme__code="QT-NTM-2016-2020")}
    for period in ["2022", "2021-2025"]:
        report = validate_units([commune], period)
        assert report.violations == [], period
    # every rule that finds a contradiction in the seed ran on this commune, and held
    for code in HA_GIANG_CONTRADICTIONS:
        for period in ["2021", "2022", "2021-2025"]:
            checked = check_rules([commune], period, [rules[code]])
            assert checked.evaluated + checked.not_evaluated == 1
            assert checked.violations == [], (code, period)
        assert check_rules([commune], "2022", [rules[code]]).evaluated == 1, code


def test_hagiangs_rules_do_not_run_on_another_provinces_commune():
    commune = _commune_without_figures("08")
    _enter(commune, CONSISTENT_COMMUNE)  # figures the rules would read, were it Hà Giang's
    rules = list(ValidationRule.objects.filter(programme__owner__code="02"))
    assert rules
    for period in ["2021", "2022", "2021-2025"]:
        report = check_rules([commune], period, rules)
        assert (report.evaluated, report.not_evaluated, report.violations) == (0, 0, [])


def test_the_estimate_rules_raise_nothing_for_an_agency_whose_estimate_is_plausible():
    agency = resolve_unit("45.STC")  # sent nothing in the demo
    # letter 228's entry window closed on 15/01/2021: the coordination office reopens it
    # for the department, as it would for a late answer
    coordinator = User.objects.get(username="vpdp.quangtri")
    for form in Form.objects.filter(requests__number_symbol__startswith="228/"):
        reopen_window(form, agency, "2020", date.today(), "Nhập bổ sung", coordinator)
    _enter(agency, CONSISTENT_AGENCY)
    report = validate_units([agency], "2020")
    ntm_rules = ValidationRule.objects.filter(programme__code="QT-NTM-2016-2020").count()
    assert report.violations == [] and report.evaluated == ntm_rules
