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
