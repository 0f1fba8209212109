"""Targets by category; a load shows its difference, retires what left the package, keeps
the package's version and is audited (issue 9, point 4)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.programmes.test_metadata import GOOD, write
from tests.programmes.test_package_strict import DISAGGREGATED, FORMS
from tiendo.core.models import AuditEntry
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import DataValue
from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Indicator, Programme, Target, category_targets
from tiendo.programmes.periods import Period

BY_SOURCE = DISAGGREGATED.replace(
    '  - {indicator: PAID, unit: 02.SKHCN, period: "2022", value: 5}',
    '  - {indicator: PAID, unit: "028", period: "2022", category: CENTRAL, value: 60}\n'
    '  - {indicator: PAID, unit: "028", period: "2022", category: LOCAL, value: 40}\n'
    '  - {indicator: PAID, unit: "032", period: "2022", value: 7}',
)


def test_a_target_by_category_is_kept_and_the_total_is_the_sum_of_its_parts(tree, tmp_path):
    load_package(write(tmp_path, BY_SOURCE))
    paid = Indicator.objects.get(code="PAID")
    assert dict(
        Target.objects.filter(indicator=paid, unit=tree.vi_xuyen).values_list("category", "value")
    ) == {"CENTRAL": Decimal(60), "LOCAL": Decimal(40)}
    assert category_targets(paid, tree.vi_xuyen, "2022") == {
        "CENTRAL": Decimal(60),
        "LOCAL": Decimal(40),
    }
    cells = Aggregator([paid], Period.parse("2022")).for_unit(tree.vi_xuyen)
    assert cells["PAID"].target == Decimal(100)
    province = Aggregator([paid], Period.parse("2022")).for_unit(tree.ha_giang)
    assert province["PAID"].target == Decimal(107)  # the parts of one district, the other's total
    assert category_targets(paid, tree.ha_giang, "2022") == {
        "CENTRAL": Decimal(60),
        "LOCAL": Decimal(40),
        "": Decimal(7),
    }


def test_a_target_category_of_an_indicator_without_one_is_refused(tree, tmp_path):
    text = GOOD.replace('period: "2022", value: 5}', 'period: "2022", category: CENTRAL, value: 5}')
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    [problem] = info.value.errors
    assert problem.key == "targets[1].category" and problem.code == "package.not_disaggregated"


def test_an_unknown_target_category_is_refused(tree, tmp_path):
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, BY_SOURCE.replace("category: LOCAL", "category: LOCL")))
    [problem] = info.value.errors
    assert problem.key == "targets[2].category" and problem.code == "package.unknown_category"
    assert problem.params["allowed"] == "CENTRAL, LOCAL"


def test_a_total_and_parts_for_the_same_target_are_refused(tree, tmp_path):
    text = BY_SOURCE.replace(
        '  - {indicator: PAID, unit: "032"',
        '  - {indicator: PAID, unit: "028", period: "2022", value: 1}\n  - {indicator: PAID, unit: "032"',
    )
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    [problem] = info.value.errors
    assert problem.code == "package.target_total_and_parts" and problem.key == "targets[3].category"


def test_parts_replace_a_total_loaded_before(tree, tmp_path):
    total = BY_SOURCE.replace(
        '  - {indicator: PAID, unit: "028", period: "2022", category: CENTRAL, value: 60}\n'
        '  - {indicator: PAID, unit: "028", period: "2022", category: LOCAL, value: 40}\n',
        '  - {indicator: PAID, unit: "028", period: "2022", value: 90}\n',
    )
    load_package(write(tmp_path, total))
    report = load_package(write(tmp_path, BY_SOURCE))
    assert {"PAID[CENTRAL] 028 2022", "PAID[LOCAL] 028 2022"} <= {
        c.label for c in report.of("added")
    }
    paid = Indicator.objects.get(code="PAID")
    assert set(
        Target.objects.filter(indicator=paid, unit=tree.vi_xuyen).values_list("category", flat=True)
    ) == {"CENTRAL", "LOCAL"}
    [replaced] = report.of("replaced")
    assert replaced.label == "PAID 028 2022" and replaced.note == "90"


# --- what a load changes ------------------------------------------------------------------------

CHANGED = (
    GOOD.replace(
        "{code: PAID, name: Giải ngân,", "{code: PAID, aggregation: last, name: Giải ngân,"
    )
    .replace("value: 100, document", "value: 120, document")
    .replace(
        '  - {code: RATE, name: Tỷ lệ giải ngân, measure_unit: "%", formula: PAID / PLAN * 100, decimals: 2}\n',
        "  - {code: NEW, name: Chỉ tiêu mới, measure_unit: ha}\n",
    )
)


def test_the_dry_run_prints_what_is_added_changed_and_no_longer_in_the_package(
    tree, tmp_path, capsys
):
    load_package(write(tmp_path, "version: '1.0'\n" + GOOD))
    call_command(
        "metadata",
        "load",
        "--system",
        "--dry-run",
        str(write(tmp_path, "version: '1.1'\n" + CHANGED)),
    )
    out = capsys.readouterr().out
    assert "Chạy thử" in out
    assert "Phiên bản gói: 1.0 → 1.1" in out
    assert "+ chỉ tiêu NEW" in out
    assert "~ chỉ tiêu PAID: aggregation: sum → last" in out
    assert "~ kế hoạch PLAN 02 2021-2025: value: 100 → 120" in out
    assert "- chỉ tiêu RATE" in out.split("thôi dùng")[1]
    # nothing written
    assert Indicator.objects.get(code="PAID").aggregation == "sum"
    assert not Indicator.objects.get(code="RATE").retired
    assert not Indicator.objects.filter(code="NEW").exists()
    assert Programme.objects.get(code="TN-01").version == "1.0"


def test_the_same_package_again_shows_no_difference(tree, tmp_path, capsys):
    path = write(tmp_path, GOOD)
    load_package(path)
    call_command("metadata", "load", "--system", "--dry-run", str(path))
    assert "Không có gì khác với bản đã nạp." in capsys.readouterr().out


def test_an_indicator_no_longer_in_the_package_is_retired_with_its_values_kept(tree, tmp_path):
    load_package(write(tmp_path, GOOD))
    plan = Indicator.objects.get(code="PLAN")
    value = DataValue.objects.create(
        indicator=Indicator.objects.get(code="PAID"),
        unit=tree.c1,
        period="2022",
        period_start=Period.parse("2022").start,
        period_end=Period.parse("2022").end,
        value=Decimal(3),
    )
    without_paid = (
        GOOD.replace(
            "  - {code: PAID, name: Giải ngân, component: VON, measure_unit: triệu đồng}\n", ""
        )
        .replace("formula: PAID / PLAN * 100", "formula: PLAN * 1")
        .replace('  - {indicator: PAID, unit: 02.SKHCN, period: "2022", value: 5}\n', "")
    )
    report = load_package(write(tmp_path, without_paid))
    paid = Indicator.objects.get(code="PAID")
    assert paid.retired and not plan.retired
    assert DataValue.objects.filter(pk=value.pk, value=3).exists()
    assert [c.label for c in report.of("retired")] == ["PAID"]
    # the target of the retired indicator is kept, listed as no longer in the package
    assert Target.objects.filter(indicator=paid).exists()
    assert "PAID 02.SKHCN 2022" in [c.label for c in report.of("gone")]
    # off new forms: the entry form and a package form no longer offer it
    from tiendo.data.forms import stored_indicators

    assert "PAID" not in [i.code for i in stored_indicators(paid.programme)]
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, without_paid + FORMS.split("validation_rules:")[0]))
    assert info.value.codes == ["package.retired_indicator"]
    # back in the package: in use again
    again = load_package(write(tmp_path, GOOD))
    assert not Indicator.objects.get(code="PAID").retired
    [paid_change] = [c for c in again.of("changed") if c.label == "PAID"]
    assert ("retired", "có", "không") in paid_change.fields


def test_the_version_is_stored_and_every_load_is_audited_with_its_difference(tree, tmp_path):
    load_package(write(tmp_path, "version: '2024.1'\n" + GOOD))
    programme = Programme.objects.get(code="TN-01")
    assert (programme.version, programme.package) == ("2024.1", "thu-nghiem")
    load_package(write(tmp_path, "version: '2024.2'\n" + CHANGED))
    entries = list(AuditEntry.objects.filter(action="metadata.loaded").order_by("pk"))
    assert len(entries) == 2
    last = entries[-1].data
    assert (last["version"], last["previous_version"], last["package"]) == (
        "2024.2",
        "2024.1",
        "thu-nghiem",
    )
    assert {"action": "changed", "kind": "chỉ tiêu", "label": "PAID"}.items() <= next(
        c for c in last["changes"] if c["label"] == "PAID"
    ).items()
    assert entries[-1].object_id == str(programme.pk)
    load_package(write(tmp_path, GOOD), dry_run=True)
    assert AuditEntry.objects.filter(action="metadata.loaded").count() == 2


def test_a_version_that_is_not_text_is_refused(tree, tmp_path):
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, "version: [1]\n" + GOOD))
    [problem] = info.value.errors
    assert problem.key == "version" and problem.code == "package.not_text"


# --- display multiple -----------------------------------------------------------------------


def test_an_indicator_kept_in_trieu_dong_is_shown_and_entered_in_ty_dong_exactly(tree, tmp_path):
    text = GOOD.replace(
        "{code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng}",
        "{code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng, "
        "display_unit: tỷ đồng, display_factor: 1000}",
    )
    load_package(write(tmp_path, text))
    plan = Indicator.objects.get(code="PLAN")
    assert (plan.shown_unit, plan.display_factor) == ("tỷ đồng", 1000)
    assert plan.to_display(Decimal("462123.5")) == Decimal("462.1235")
    assert plan.from_display(Decimal("0.334")) == Decimal("334")
    assert plan.from_display(plan.to_display(Decimal("1.000001"))) == Decimal("1.000001")
    paid = Indicator.objects.get(code="PAID")
    assert paid.shown_unit == "triệu đồng" and paid.to_display(Decimal(5)) == Decimal(5)


@pytest.mark.parametrize(
    ("keys", "key", "code"),
    [
        (
            "display_unit: tỷ đồng",
            "indicators[0].display_factor",
            "package.display_unit_incomplete",
        ),
        ("display_factor: 1000", "indicators[0].display_unit", "package.display_unit_incomplete"),
        (
            "display_unit: tỷ đồng, display_factor: 3",
            "indicators[0].display_factor",
            "package.bad_display_factor",
        ),
        (
            "display_unit: tỷ đồng, display_factor: 1500",
            "indicators[0].display_factor",
            "package.bad_display_factor",
        ),
    ],
)
def test_a_display_multiple_that_cannot_convert_exactly_is_refused(tree, tmp_path, keys, key, code):
    text = GOOD.replace(
        "{code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng}",
        "{code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng, " + keys + "}",
    )
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    [problem] = info.value.errors
    assert (problem.key, problem.code) == (key, code)


def test_an_unquoted_decimal_version_is_refused_asking_for_quotes(tree, tmp_path):
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, "version: 1.10\n" + GOOD))
    [problem] = info.value.errors
    assert problem.key == "version" and problem.code == "package.number_not_text"


def test_what_left_the_other_sections_is_listed_and_kept(tree, tmp_path):
    from tiendo.data.models import ValidationRule
    from tiendo.programmes.models import CategoryOption
    from tiendo.reporting.models import Form

    load_package(write(tmp_path, DISAGGREGATED + FORMS))
    later = DISAGGREGATED.replace(", {code: LOCAL, name: Địa phương}", "").replace(
        "{code: VON, name: Vốn}", "{code: VON, name: Vốn góp}"
    ).replace("max: ", "max: ") + FORMS.replace("code: F1", "code: F2").replace(
        "code: R1", "code: R2"
    )
    report = load_package(write(tmp_path, later))
    gone = {(c.kind, c.label) for c in report.of("gone")}
    assert {("biểu mẫu", "F1"), ("nhóm phân tổ", "SOURCE[LOCAL]")} <= gone
    # a rule is retired, not only listed (tests/data/test_retired_rules.py)
    assert ("quy tắc kiểm tra", "R1") in {(c.kind, c.label) for c in report.of("retired")}
    assert (
        Form.objects.filter(code="F1").exists()
        and ValidationRule.objects.filter(code="R1").exists()
    )
    assert CategoryOption.objects.filter(code="LOCAL").exists()
    [component] = [c for c in report.of("changed") if c.kind == "nội dung"]
    assert component.fields == (("name", "Vốn", "Vốn góp"),)


def test_a_changed_bound_is_named_by_its_package_key(tree, tmp_path):
    load_package(write(tmp_path, GOOD))
    text = GOOD.replace(
        "{code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng}",
        "{code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng, max: 500}",
    )
    report = load_package(write(tmp_path, text), dry_run=True)
    [plan] = [c for c in report.of("changed") if c.label == "PLAN"]
    assert plan.fields == (("max", "—", "500"),)


def test_a_package_without_a_section_says_nothing_of_what_that_section_loaded(tree, tmp_path):
    load_package(write(tmp_path, GOOD))
    only_programme = GOOD.split("documents:")[0]
    report = load_package(write(tmp_path, only_programme))
    assert not Indicator.objects.filter(retired=True).exists()
    assert report.of("retired") == [] and report.of("gone") == []
    assert Target.objects.count() == 2
