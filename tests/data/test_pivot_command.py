"""`tiendo pivot`: formulas that cannot be evaluated, targets of another period and
categories, in the table, the CSV and the JSON."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from tests.factories import D, indicator, programme
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import CategoryOption, Disaggregation, Target


def put(ind, unit, period, value, category=""):
    save_value(Entry(ind, unit, period, D(value), category))


def run(*args) -> str:
    out = io.StringIO()
    call_command("pivot", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def prog(tree):
    prog = programme("P9")
    source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    CategoryOption.objects.create(disaggregation=source, code="TW", name="Trung ương", order=1)
    CategoryOption.objects.create(disaggregation=source, code="DP", name="Địa phương", order=2)
    paid = indicator(prog, "PAID", name="Vốn giải ngân", disaggregation=source)
    indicator(prog, "GROWTH", name="Tăng thêm", formula="PAID - prev(PAID)")
    indicator(prog, "LOOP", name="Vòng quanh", formula="LOOP * 2")
    put(paid, tree.c1, "2021", 40, "TW")
    put(paid, tree.c1, "2022", 30, "TW")
    put(paid, tree.c2, "2022", 20, "DP")
    Target.objects.create(indicator=paid, unit=tree.ha_giang, period="2021-2025", value=200)
    return prog


def test_the_table_shows_categories_error_messages_and_the_target_used(prog):
    text = run("--unit", "02", "--period", "2022")
    assert "- Trung ương" in text and "- Địa phương" in text
    assert "Tăng thêm" in text and "10 hộ" in text  # 50 - 40
    assert "Công thức vòng quanh, không tính được: LOOP → LOOP." in text
    assert "đạt 25% kế hoạch 200 (giai đoạn 2021-2025)" in text
    assert "Traceback" not in text


def test_the_csv_has_a_line_per_category_and_the_period_of_the_target(prog):
    lines = list(
        csv.DictReader(io.StringIO(run("--unit", "02", "--period", "2022", "--format", "csv")))
    )
    paid = [line for line in lines if line["code"] == "PAID"]
    assert [(p["category"], p["category_name"], p["value"]) for p in paid] == [
        ("", "", "50"),
        ("TW", "Trung ương", "30"),
        ("DP", "Địa phương", "20"),
    ]
    assert paid[0]["target"] == "200" and paid[0]["target_period"] == "2021-2025"
    assert paid[0]["achieved_percent"] == "25"
    loop = next(line for line in lines if line["code"] == "LOOP")
    assert loop["value"] == "" and "vòng quanh" in loop["value_text"]


def test_the_json_has_the_categories_the_error_and_the_target_period(prog):
    rows = {
        r["code"]: r
        for r in json.loads(run("--unit", "028", "--period", "2022", "--format", "json"))["rows"]
    }
    assert rows["PAID"]["categories"] == {"DP": 20, "TW": 30}
    assert rows["PAID"]["target_period"] == ""
    assert rows["LOOP"]["error"].startswith("Công thức vòng quanh")
    assert rows["GROWTH"]["value"] == 10


def test_an_indicator_may_show_its_categories_as_columns(prog, tree):
    from tiendo.programmes.models import CategoryDisplay, Indicator

    Indicator.objects.filter(code="PAID").update(show_categories=CategoryDisplay.COLUMNS)
    text = run("--unit", "02", "--period", "2022")
    assert "[Trung ương 30; Địa phương 20]" in text and "- Trung ương" not in text
    reader = csv.DictReader(io.StringIO(run("--unit", "02", "--period", "2022", "--format", "csv")))
    assert reader.fieldnames[-2:] == ["NGUON:TW", "NGUON:DP"]
    lines = [line for line in reader if line["code"] == "PAID"]
    assert len(lines) == 1
    assert (lines[0]["value"], lines[0]["NGUON:TW"], lines[0]["NGUON:DP"]) == ("50", "30", "20")


def test_a_package_chooses_how_categories_show_and_may_count_units(tree, tmp_path):
    from tests.programmes.test_metadata import GOOD, write
    from tiendo.programmes.metadata import PackageError, load_package
    from tiendo.programmes.models import Indicator

    text = GOOD.replace(
        "measure_unit: triệu đồng}\n  - {code: RATE",
        "measure_unit: triệu đồng, show_categories: columns}\n"
        "  - {code: COUNT, name: Số xã, measure_unit: xã, formula: count_units(PAID >= 1)}\n"
        "  - {code: RATE",
    )
    load_package(write(tmp_path, text))
    shown = dict(Indicator.objects.values_list("code", "show_categories"))
    assert shown["PAID"] == "columns" and shown["PLAN"] == "rows"
    assert Indicator.objects.get(code="COUNT").formula == "count_units(PAID >= 1)"
    with pytest.raises(PackageError) as caught:
        load_package(
            write(tmp_path, text.replace("show_categories: columns", "show_categories: cot"))
        )
    assert "show_categories" in "\n".join(caught.value.problems)
