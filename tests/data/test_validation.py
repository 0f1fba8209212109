"""Validation rules on aggregated values, outliers, the package section and the command."""

import json
import textwrap
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.data.helpers import save_beyond_limits
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.data.models import ValidationFinding, ValidationRule
from tiendo.data.services import Entry, save_value, save_values
from tiendo.data.validation import (
    FindingError,
    blocking_violations,
    check_outlier,
    explain_violation,
    find_outliers,
    findings_for,
    robust_z,
    units_below,
    validate_entries,
    validate_unit,
    validate_units,
)
from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Aggregation, CategoryOption, Disaggregation, Programme


@pytest.fixture
def prog(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    factories.indicator(prog, "PLAN", name="Kế hoạch vốn", measure_unit="triệu đồng")
    factories.indicator(
        prog,
        "PLAN_SRC",
        name="Kế hoạch theo nguồn",
        measure_unit="triệu đồng",
        disaggregation=source,
    )
    factories.indicator(
        prog, "PAID", name="Giải ngân", measure_unit="triệu đồng", disaggregation=source
    )
    factories.indicator(
        prog, "AREA", name="Diện tích", measure_unit="ha", aggregation=Aggregation.LAST
    )
    factories.indicator(
        prog, "HH", name="Số hộ", measure_unit="hộ", min_value=D(0), max_value=D(5000)
    )
    return prog


def rule(prog, code, expression, importance="high", period_type="", message=None, order=0):
    return ValidationRule.objects.create(
        programme=prog,
        code=code,
        name=code,
        expression=expression,
        importance=importance,
        period_type=period_type,
        message=message or "Giá trị {left} so với {right}.",
        order=order,
    )


def put(prog, unit, code, period, value, category=""):
    save_value(Entry(prog.indicators.get(code=code), unit, period, D(value), category))


def put_beyond_limits(prog, unit, code, period, value):
    save_beyond_limits(Entry(prog.indicators.get(code=code), unit, period, D(value)))


@pytest.fixture
def within_plan(prog):
    return rule(
        prog,
        "PAID_WITHIN_PLAN",
        "PAID <= PLAN",
        message="Vốn giải ngân ({left} triệu đồng) vượt kế hoạch ({right} triệu đồng).",
    )


# -- rules -----------------------------------------------------------------------------------


def test_a_rule_fires_with_both_sides_in_the_vietnamese_way(prog, tree, within_plan):
    put(prog, tree.c1, "PLAN", "2024", "1000")
    put(prog, tree.c1, "PAID", "2024", "1250.5", "TW")
    (violation,) = validate_unit(tree.c1, "2024")
    assert violation.rule == within_plan and violation.importance == "high"
    assert (violation.left, violation.right) == (D("1250.5"), D(1000))
    assert (
        violation.message == "Vốn giải ngân (1.250,5 triệu đồng) vượt kế hoạch (1.000 triệu đồng)."
    )
    assert violation.codes == {"PAID", "PLAN"}


def test_a_rule_that_holds_reports_nothing(prog, tree, within_plan):
    put(prog, tree.c1, "PLAN", "2024", "1000")
    put(prog, tree.c1, "PAID", "2024", "1000", "TW")
    assert validate_unit(tree.c1, "2024") == []


def test_a_rule_with_a_missing_operand_is_not_evaluated_rather_than_violated(
    prog, tree, within_plan
):
    put(prog, tree.c1, "PAID", "2024", "1250", "TW")
    report = validate_units([tree.c1], "2024")
    assert report.violations == [] and (report.evaluated, report.not_evaluated) == (0, 1)


def test_a_division_by_zero_is_not_evaluated(prog, tree):
    rule(prog, "PER_HH", "PLAN / HH <= 100")
    put(prog, tree.c1, "PLAN", "2024", "1000")
    put(prog, tree.c1, "HH", "2024", "0")
    report = validate_units([tree.c1], "2024")
    assert report.violations == [] and report.not_evaluated == 1


def test_rules_run_on_aggregated_values_so_a_district_is_checked_like_a_commune(
    prog, tree, within_plan
):
    put(prog, tree.vi_xuyen, "PLAN", "2024", "100")  # the district's own plan
    put(prog, tree.c1, "PAID", "2024", "60", "TW")
    put(prog, tree.c2, "PAID", "2024", "60", "DP")
    report = validate_units(units_below(tree.vi_xuyen, "2024"), "2024")
    (violation,) = report.violations
    assert violation.unit == tree.vi_xuyen and violation.left == 120
    # the communes have no plan of their own: not evaluated there
    assert report.not_evaluated == 2


def test_a_category_is_compared_with_its_own_plan(prog, tree):
    rule(prog, "TW_WITHIN", "PAID[TW] <= PLAN_SRC[TW]")
    put(prog, tree.c1, "PLAN_SRC", "2024", "50", "TW")
    put(prog, tree.c1, "PLAN_SRC", "2024", "500", "DP")
    put(prog, tree.c1, "PAID", "2024", "80", "TW")
    put(prog, tree.c1, "PAID", "2024", "10", "DP")
    (violation,) = validate_unit(tree.c1, "2024")
    assert (violation.left, violation.right) == (80, 50)
    rule(prog, "TOTAL_WITHIN", "sum(PAID) <= sum(PLAN_SRC)")
    assert [v.rule.code for v in validate_unit(tree.c1, "2024")] == ["TW_WITHIN"]


def test_prev_compares_with_the_previous_period_and_the_rule_keeps_to_its_period_type(prog, tree):
    rule(prog, "AREA_GROWS", "AREA >= prev(AREA)", importance="medium", period_type="year")
    put(prog, tree.c1, "AREA", "2023", "10")
    put(prog, tree.c1, "AREA", "2024", "8")
    (violation,) = validate_unit(tree.c1, "2024")
    assert (violation.left, violation.right) == (8, 10)
    assert validate_unit(tree.c1, "2023") == []  # no 2022: not evaluated
    assert validate_unit(tree.c1, "2024S2") == []  # a year rule, not a half-year one
    # the province aggregates the stock of its communes, year on year
    assert [v.unit for v in validate_unit(tree.ha_giang, "2024")] == [tree.ha_giang]


def test_a_programme_filter_keeps_to_that_programmes_rules(prog, tree, within_plan):
    other = factories.programme("P2", "Khác")
    rule(other, "OTHER", "PLAN <= 10")
    put(prog, tree.c1, "PLAN", "2024", "1000")
    put(prog, tree.c1, "PAID", "2024", "2000", "TW")
    assert {v.rule.code for v in validate_unit(tree.c1, "2024")} == {"PAID_WITHIN_PLAN", "OTHER"}
    assert [v.rule.code for v in validate_unit(tree.c1, "2024", programme=other)] == ["OTHER"]


def test_validate_entries_checks_the_rules_touching_what_was_saved(prog, tree, within_plan):
    rule(prog, "HH_SMALL", "HH <= 10", importance="low")
    put(prog, tree.c1, "HH", "2024", "50")  # violates HH_SMALL, but is not being saved now
    entries = [
        Entry(prog.indicators.get(code="PLAN"), tree.c1, "2024", D(100)),
        Entry(prog.indicators.get(code="PAID"), tree.c1, "2024", D(150), "TW"),
    ]
    save_values(entries)
    (violation,) = validate_entries(entries)
    assert violation.rule == within_plan and violation.unit == tree.c1


def test_validate_entries_checks_a_dated_value_with_the_rules_of_its_year(prog, tree):
    rule(prog, "PAID_IN_YEAR", "PAID <= PLAN", period_type="year")
    put(prog, tree.c1, "PLAN", "2024", "100")
    entry = Entry(prog.indicators.get(code="PAID"), tree.c1, "2024-10-31", D(150), "TW")
    save_values([entry])
    (violation,) = validate_entries([entry])
    assert violation.period.id == "2024"
    assert validate_entries([]) == []


def test_high_violations_block_until_explained_for_exactly_these_values(prog, tree, within_plan):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    rule(prog, "PAID_LOW", "PAID <= 1", importance="low")
    put(prog, tree.c1, "PLAN", "2024", "100")
    put(prog, tree.c1, "PAID", "2024", "150", "TW")
    (blocking,) = blocking_violations(tree.c1, "2024", prog)
    assert blocking.rule == within_plan  # the low rule does not block
    with pytest.raises(FindingError) as caught:
        explain_violation(blocking, user=officer, note="  ")
    assert caught.value.code == "finding.no_note"
    finding = explain_violation(
        blocking, user=officer, note="Giải ngân thêm vốn năm trước chuyển sang"
    )
    assert blocking_violations(tree.c1, "2024", prog) == []
    assert findings_for([blocking]) == {(tree.c1.pk, "2024", "rule:PAID_WITHIN_PLAN"): finding}
    entry = AuditEntry.objects.get(action="validation.explained")
    assert entry.actor == officer and "năm trước chuyển sang" in entry.message
    put(prog, tree.c1, "PAID", "2024", "170", "TW")  # a new figure needs a new explanation
    assert [v.left for v in blocking_violations(tree.c1, "2024", prog)] == [170]


# -- outliers --------------------------------------------------------------------------------


def test_a_value_outside_the_indicators_range_is_flagged(prog, tree):
    put_beyond_limits(prog, tree.c1, "HH", "2024", "6000")
    put(prog, tree.c2, "HH", "2024", "40")
    (outlier,) = find_outliers(tree.vi_xuyen, "2024", below=True)
    assert outlier.unit == tree.c1 and outlier.kind == "range"
    assert outlier.reason == "Giá trị 6.000 lớn hơn mức cao nhất cho phép (5.000 hộ)."
    assert find_outliers(tree.vi_xuyen, "2024") == []  # only the district's own values


def test_a_value_far_from_the_units_own_history_is_flagged(prog, tree):
    for year, value in zip(range(2019, 2024), [300, 310, 305, 320, 315], strict=True):
        put(prog, tree.c1, "HH", str(year), value)
    put(prog, tree.c1, "HH", "2024", "1250")
    (outlier,) = find_outliers(tree.c1, "2024")
    assert outlier.kind == "history" and outlier.median == 310
    assert outlier.reason == (
        "Giá trị 1.250 lệch xa so với các kỳ trước của đơn vị (trung vị 310)."
    )
    put(prog, tree.c1, "HH", "2024", "330")
    assert find_outliers(tree.c1, "2024") == []


def test_history_needs_four_earlier_values_of_the_same_period_type(prog, tree):
    for year, value in zip(range(2021, 2024), [300, 310, 305], strict=True):
        put(prog, tree.c1, "HH", str(year), value)
    for half in ("2022S1", "2022S2", "2023S1", "2023S2"):
        put(prog, tree.c1, "HH", half, "10")
    put(prog, tree.c1, "HH", "2024", "1250")
    assert find_outliers(tree.c1, "2024") == []


def test_robust_z_uses_the_mean_deviation_when_most_of_the_history_is_equal():
    z, median = robust_z(D(9), [D(5), D(5), D(5), D(5), D(6)])
    assert median == 5 and z > 3.5
    assert robust_z(D(6), [D(5)] * 4) == (None, 5)


def test_an_outlier_checked_by_someone_keeps_who_and_why(prog, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    put_beyond_limits(prog, tree.c1, "HH", "2024", "6000")
    (outlier,) = find_outliers(tree.c1, "2024")
    check_outlier(outlier, user=officer, note="Đã xác minh: xã gộp thôn")
    finding = ValidationFinding.objects.get()
    assert (finding.kind, finding.value, finding.resolved_by) == ("outlier", 6000, officer)
    assert AuditEntry.objects.filter(action="validation.outlier_checked").count() == 1
    assert list(findings_for([outlier]).values()) == [finding]


# -- the validation_rules: section of a metadata package ------------------------------------

PACKAGE = """
package: thu-nghiem
programme: {code: TN-01, name: Chương trình thử nghiệm, period: 2021-2025}
indicators:
  - {code: PLAN, name: Kế hoạch vốn, measure_unit: triệu đồng}
  - {code: PAID, name: Giải ngân, measure_unit: triệu đồng}
validation_rules:
  - code: PAID_WITHIN_PLAN
    name: Giải ngân không vượt kế hoạch
    expression: PAID <= PLAN
    importance: high
    message: Giải ngân ({left}) vượt kế hoạch ({right}).
  - code: PAID_GROWS
    name: Giải ngân không giảm
    expression: PAID >= prev(PAID)
    period_type: year
    message: Giải ngân {left} thấp hơn năm trước {right}.
"""


def write(tmp_path, text):
    path = tmp_path / "goi.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_package_loads_its_rules_once(tree, tmp_path):
    first = load_package(write(tmp_path, PACKAGE))
    assert first.created["quy tắc kiểm tra"] == 2
    grows = ValidationRule.objects.get(code="PAID_GROWS")
    assert (grows.programme.code, grows.importance, grows.period_type) == (
        "TN-01",
        "medium",
        "year",
    )
    second = load_package(write(tmp_path, PACKAGE))
    assert second.created == {} and second.updated == {}


def test_bad_rules_are_named_by_key_path_in_vietnamese_and_nothing_is_loaded(tree, tmp_path):
    bad = PACKAGE + (
        '  - {code: BAD_SYNTAX, name: a, expression: "PAID <= ", message: m}\n'
        "  - {code: NO_COMPARE, name: b, expression: PAID + PLAN, message: m}\n"
        "  - {code: UNKNOWN, name: c, expression: PAID <= NOPE, message: m}\n"
        "  - {code: PAID_GROWS, name: d, expression: \"__import__('os')\", importance: urgent,"
        " message: m}\n"
        '  - {code: lower, name: e, expression: PAID <= 1, period_type: week, message: "{unit} {0}"}\n'
        '  - {code: NO_MESSAGE, name: f, expression: PAID <= 1, message: "{left"}\n'
    )
    with pytest.raises(PackageError) as caught:
        load_package(write(tmp_path, bad))
    problems = "\n".join(caught.value.problems)
    assert "validation_rules[2].expression: biểu thức “PAID <=” sai: Biểu thức kết thúc" in problems
    assert "validation_rules[3].expression:" in problems and "phép so sánh" in problems
    assert "validation_rules[4].expression: biểu thức dùng chỉ tiêu không có: NOPE." in problems
    assert "validation_rules[5].code: quy tắc “PAID_GROWS” bị khai báo hai lần." in problems
    assert "validation_rules[5].expression:" in problems
    assert "validation_rules[5].importance: “urgent” không hợp lệ" in problems
    assert "validation_rules[6].code: mã “lower” không hợp lệ" in problems
    assert "validation_rules[6].period_type: “week” không hợp lệ" in problems
    assert (
        "validation_rules[6].message: chỉ được dùng {left} và {right}, không dùng {0}, {unit}."
        in problems
    )
    assert "validation_rules[7].message:" in problems
    assert not Programme.objects.exists() and not ValidationRule.objects.exists()


def test_a_rule_code_of_another_programme_is_refused(tree, tmp_path):
    other = factories.programme("KHAC", "Khác")
    rule(other, "PAID_WITHIN_PLAN", "1 <= 2")
    with pytest.raises(PackageError, match=r"validation_rules\[0\].code: .*“KHAC”"):
        load_package(write(tmp_path, PACKAGE))


# -- the command -----------------------------------------------------------------------------


def run(*args):
    out = StringIO()
    call_command("validate", *args, stdout=out)
    return out.getvalue()


def test_the_command_lists_violations_by_unit_below_a_province(prog, tree, within_plan):
    put(prog, tree.vi_xuyen, "PLAN", "2024", "100")
    put(prog, tree.c1, "PLAN", "2024", "10")
    put(prog, tree.c1, "PAID", "2024", "60", "TW")
    put(prog, tree.c2, "PAID", "2024", "60", "TW")
    put_beyond_limits(prog, tree.c3, "HH", "2024", "9000")
    text = run("--unit", "02", "--period", "2024", "--below")
    assert (
        "Huyện Vị Xuyên (028)\n  [CAO] PAID_WITHIN_PLAN\n      Vốn giải ngân (120 triệu đồng)"
        in text
    )
    assert "Xã Một (00001)\n  [CAO] PAID_WITHIN_PLAN" in text
    assert (
        "Tỉnh Hà Giang (02)\n  [CAO] PAID_WITHIN_PLAN\n      Vốn giải ngân (120 triệu đồng) vượt kế hoạch (110 triệu đồng)"
        in text
    )
    assert text.index("Tỉnh Hà Giang (02)\n") < text.index("Huyện Vị Xuyên") < text.index("Xã Một")
    assert "Xã Ba (00003) · HH · năm 2024: Giá trị 9.000 lớn hơn mức cao nhất" in text
    assert (
        "Kết quả: 3 vi phạm (3 mức cao, 0 mức trung bình, 0 mức thấp); 1 giá trị bất thường."
        in text
    )
    alone = run("--unit", "02", "--period", "2024")
    assert "Kết quả: 1 vi phạm (1 mức cao" in alone and "0 giá trị bất thường" in alone


def test_the_command_speaks_json(prog, tree, within_plan):
    put(prog, tree.c1, "PLAN", "2024", "10")
    put(prog, tree.c1, "PAID", "2024", "60", "TW")
    data = json.loads(
        run("--unit", "00001", "--period", "2024", "--programme", "NQ05", "--format", "json")
    )
    assert data["evaluated"] == 1 and data["programme"] == "NQ05"
    assert data["violations"][0]["rule"] == "PAID_WITHIN_PLAN"
    assert D(data["violations"][0]["left"]) == 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "99", "--period", "2024"], "Không có đơn vị nào mang mã “99”"),
        (["--unit", "02", "--period", "2024X"], "Kỳ báo cáo “2024X” không hợp lệ"),
        (["--unit", "02", "--period", "2024", "--programme", "NOPE"], "Không có chương trình mã"),
    ],
)
def test_the_command_refuses_bad_arguments_in_vietnamese(tree, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


# -- stated figures and "so far" figures -----------------------------------------------------


def test_a_stated_rate_is_held_to_its_own_operands_within_its_rounding(prog, tree):
    factories.indicator(prog, "RATE_STATED", name="Tỷ lệ nêu trong báo cáo", measure_unit="%")
    rule(
        prog,
        "RATE_MATCHES",
        "RATE_STATED ≈ sum(PAID) / PLAN * 100 ± 0.05",
        message="Báo cáo nêu {left}%, số liệu cho {right}%.",
    )
    for unit, stated in ((tree.c1, "49.3"), (tree.c2, "98.45")):
        put(prog, unit, "PLAN", "2020", "400")
        put(prog, unit, "PAID", "2020", "197.3", "TW")
        put(prog, unit, "RATE_STATED", "2020", stated)
    report = validate_units([tree.c1, tree.c2], "2020")
    (violation,) = report.violations  # 49,325 is 49,3 to its rounding; 98,45 is not
    assert violation.unit == tree.c2 and report.evaluated == 2
    assert violation.message == "Báo cáo nêu 98,45%, số liệu cho 49,33%."


def test_todate_reads_the_programme_period_so_far(prog, tree):
    rule(prog, "PAID_SO_FAR", "todate(PAID) <= 150", message="Từ đầu giai đoạn {left}.")
    put(prog, tree.c1, "PAID", "2021", "100", "TW")
    put(prog, tree.c1, "PAID", "2022", "100", "DP")
    assert validate_unit(tree.c1, "2021") == []  # 100 so far
    (in_2022,) = validate_unit(tree.c1, "2022")  # 100 in the year, 200 so far
    (in_phase,) = validate_unit(tree.c1, "2021-2025")
    assert in_2022.left == in_phase.left == 200 and in_2022.message == "Từ đầu giai đoạn 200."
    # a quarter ending at the year's end reads the years so far; one ending inside a year,
    # or a year before the programme began, is no span of its years: not evaluated
    assert validate_unit(tree.c1, "2022Q4")[0].left == 200
    for period in ("2022Q3", "2019"):
        report = validate_units([tree.c1], period)
        assert report.violations == [] and report.not_evaluated == 1


def test_a_stated_phase_total_is_held_to_the_sum_of_its_years(prog, tree):
    factories.indicator(prog, "TOTAL_STATED", aggregation=Aggregation.LAST, measure_unit="tr.đ")
    rule(prog, "TOTAL_IS_SUM", "TOTAL_STATED ≈ todate(PAID) ± 0.5")
    put(prog, tree.c1, "PAID", "2021", "30355", "TW")
    put(prog, tree.c1, "PAID", "2022", "36637", "TW")
    put(prog, tree.c2, "PAID", "2021", "30355", "TW")
    put(prog, tree.c2, "PAID", "2022", "36637", "TW")
    put(prog, tree.c1, "TOTAL_STATED", "2022", "66992")
    put(prog, tree.c2, "TOTAL_STATED", "2022", "69992")  # a slip in the stated total
    report = validate_units([tree.c1, tree.c2], "2022")
    (violation,) = report.violations
    assert violation.unit == tree.c2 and (violation.left, violation.right) == (69992, 66992)


def test_a_rule_with_a_condition_is_not_evaluated_where_it_does_not_apply(prog, tree):
    rule(prog, "NOT_COPIED", "HH != PLAN if HH >= 100", message="{left} = {right}")
    for unit, count in ((tree.c1, "11"), (tree.c2, "2274")):
        put(prog, unit, "HH", "2022", count)
        put(prog, unit, "PLAN", "2022", count)
    report = validate_units([tree.c1, tree.c2], "2022")
    (violation,) = report.violations  # eleven and eleven agree by chance; 2.274 and 2.274 not
    assert violation.unit == tree.c2 and violation.message == "2.274 = 2.274"
    assert (report.evaluated, report.not_evaluated) == (1, 1)
