import textwrap

import pytest

from tiendo.programmes.metadata import PackageError, load_package
from tiendo.programmes.models import Indicator, LegalDocument, Programme, Target
from tiendo.units.models import Unit

GOOD = """
package: thu-nghiem
programme:
  code: TN-01
  name: Chương trình thử nghiệm
  period: 2021-2025
  owner: "02"
documents:
  - {number: 04/NQ-TU, kind: resolution, issued_on: 2020-12-01, issuer: Tỉnh ủy, summary: Về cam sành}
agencies:
  - {code: 02.SKHCN, name: Sở Khoa học và Công nghệ, parent: "02", valid_to: 2025-06-30}
components:
  - {code: VON, name: Vốn}
indicators:
  - {code: PLAN, name: Kế hoạch vốn, component: VON, measure_unit: triệu đồng}
  - {code: PAID, name: Giải ngân, component: VON, measure_unit: triệu đồng}
  - {code: RATE, name: Tỷ lệ giải ngân, measure_unit: "%", formula: PAID / PLAN * 100, decimals: 2}
targets:
  - {indicator: PLAN, unit: "02", period: 2021-2025, value: 100, document: 04/NQ-TU}
  - {indicator: PAID, unit: 02.SKHCN, period: "2022", value: 5}
"""


def write(tmp_path, text, name="goi.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_package_loads_once_and_a_second_load_changes_nothing(tree, tmp_path):
    path = write(tmp_path, GOOD)
    first = load_package(path)
    assert first.created["chỉ tiêu"] == 3
    assert Programme.objects.get(code="TN-01").documents.count() == 1
    assert Target.objects.count() == 2
    assert Unit.objects.get(code="02.SKHCN").parent == tree.ha_giang
    second = load_package(path)
    assert second.created == {} and second.updated == {}


def test_dry_run_writes_nothing(tree, tmp_path):
    report = load_package(write(tmp_path, GOOD), dry_run=True)
    assert report.created["chương trình"] == 1
    assert not Programme.objects.exists() and not Unit.objects.filter(code="02.SKHCN").exists()


def test_every_problem_is_named_with_file_and_key_and_nothing_is_saved(tree, tmp_path):
    bad = (
        GOOD.replace("aggregation: sum", "")
        .replace(
            "  - {code: PAID, name: Giải ngân, component: VON, measure_unit: triệu đồng}",
            "  - {code: PAID, name: Giải ngân, component: VONN, measure_unit: triệu đồng, aggregation: tong}\n"
            "  - {code: bad code, measure_unit: ha}",
        )
        .replace("formula: PAID / PLAN * 100", "formula: PAID / (PLAN")
        .replace("period: 2021-2025\n  owner", "period: 2021-2019\n  owner")
        .replace('unit: 02.SKHCN, period: "2022"', 'unit: "99", period: "2022Q7"')
    )
    path = write(tmp_path, bad)
    with pytest.raises(PackageError) as info:
        load_package(path)
    text = "\n".join(info.value.problems)
    for expected in [
        "programme.period",
        "indicators[1].component",
        "indicators[1].aggregation",
        "indicators[2].code",
        "indicators[2].name",
        "indicators[3].formula",
        "targets[1].unit",
        "targets[1].period",
    ]:
        assert f"{path}: {expected}:" in text, expected
    assert "không hợp lệ" in text
    assert not Programme.objects.exists()
    assert not Indicator.objects.exists()
    assert not LegalDocument.objects.exists()


def test_yaml_syntax_errors_name_the_line(tmp_path, db):
    path = write(tmp_path, "package: x\nprogramme: [unclosed\n")
    with pytest.raises(PackageError, match=r"dòng \d+.*YAML"):
        load_package(path)


def test_formula_cycles_and_unknown_operands_are_refused(tree, tmp_path):
    text = GOOD.replace("formula: PAID / PLAN * 100", "formula: RATE + NOPE")
    with pytest.raises(PackageError) as info:
        load_package(write(tmp_path, text))
    joined = "\n".join(info.value.problems)
    assert "NOPE" in joined and "vòng tròn" in joined


def test_the_command_reports_errors_in_vietnamese(tree, tmp_path):
    from django.core.management import CommandError, call_command

    path = write(tmp_path, "package: x\nprogramme: {code: X}\nbogus: 1\n")
    with pytest.raises(CommandError, match="chưa nạp gì") as info:
        call_command("metadata", "load", str(path))
    assert "bogus" in str(info.value) and "programme.name" in str(info.value)
