"""Programmes ship their forms in the ``forms:`` section of a metadata package."""

from __future__ import annotations

import pytest

from tiendo.programmes.metadata import PackageError, load_package
from tiendo.reporting.models import Form

PACKAGE = """
package: thu-bieu
programme: {code: P-THU, name: Chương trình thử, period: 2021-2025}
disaggregations:
  - code: NGUON
    name: Nguồn vốn
    options: [{code: VAY, name: Vốn vay}, {code: TU_CO, name: Vốn tự có}]
indicators:
  - {code: HO, name: Số hộ, measure_unit: hộ, value_type: integer}
  - {code: VON, name: Vốn, measure_unit: triệu đồng, disaggregation: NGUON}
  - {code: TY_LE, name: Tỷ lệ, measure_unit: "%", formula: HO / HO * 100}
forms:
  - code: BIEU_XA
    name: Biểu của xã
    unit_kinds: [commune, ward]
    period_type: half
    closes_days_after_end: 20
    indicators:
      - HO
      - {code: VON, categories: [VAY], period: as_of}
"""


def _write(tmp_path, text):
    path = tmp_path / "goi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_forms_are_loaded_and_loading_again_changes_nothing(db, tmp_path):
    path = _write(tmp_path, PACKAGE)
    report = load_package(path)
    assert report.created["biểu mẫu"] == 1 and report.created["chỉ tiêu của biểu"] == 2
    form = Form.objects.get(code="BIEU_XA")
    assert form.unit_kinds == ["commune", "ward"] and form.period_type == "half"
    assert form.closes_days_after_end == 20 and form.opens_days_before_end == 30
    lines = list(form.lines.select_related("indicator"))
    assert [(ln.indicator.code, ln.period_rule, ln.categories) for ln in lines] == [
        ("HO", "period", []),
        ("VON", "as_of", ["VAY"]),
    ]
    again = load_package(path)
    assert "biểu mẫu" not in again.created and again.unchanged["biểu mẫu"] == 1


def test_a_line_removed_from_the_package_leaves_the_form(db, tmp_path):
    load_package(_write(tmp_path, PACKAGE))
    load_package(
        _write(
            tmp_path, PACKAGE.replace("      - {code: VON, categories: [VAY], period: as_of}\n", "")
        )
    )
    assert [ln.indicator.code for ln in Form.objects.get(code="BIEU_XA").lines.all()] == ["HO"]


def test_every_problem_is_reported_with_its_key_and_nothing_is_written(db, tmp_path):
    bad = (
        PACKAGE.replace("[commune, ward]", "[commune, village]")
        .replace("period_type: half", "period_type: fortnight")
        .replace("      - HO\n", "      - HO\n      - KHONG_CO\n      - TY_LE\n")
    )
    with pytest.raises(PackageError) as info:
        load_package(_write(tmp_path, bad))
    text = "\n".join(info.value.problems)
    assert "forms[0].unit_kinds: loại đơn vị “village” không hợp lệ" in text
    assert "forms[0].period_type: “fortnight” không hợp lệ" in text
    assert "forms[0].indicators[1].code: không có chỉ tiêu “KHONG_CO”" in text
    assert "forms[0].indicators[2].code: chỉ tiêu “TY_LE” được tính theo công thức" in text
    assert not Form.objects.exists()
