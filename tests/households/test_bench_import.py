"""bench/households_import.py at a tiny scale, so that it cannot rot: the generated file
is one an importer reads (shared strings, as Excel writes them), and it goes through the
same jobs as a user's upload."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from bench import households_import as bench
from tiendo.households.models import Household, Loan, Plot, RecordChange


@pytest.mark.django_db(transaction=True)
def test_the_bench_generates_and_imports_a_small_province(tmp_path):
    path = bench.generate(120, tmp_path / "ho.xlsx")
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["Hộ", "Khoản vay", "Thửa đất"]
    assert sum(1 for _row in workbook["Hộ"].iter_rows()) == 121
    workbook.close()
    unit, user = bench.ensure_world()
    outcome = bench.run_import(path, unit, user, log=lambda _msg: None)
    assert (outcome["households"], outcome["loans"], outcome["plots"]) == (120, 120, 120)
    assert outcome["total_s"] >= outcome["check_s"] > 0
    assert Household.objects.filter(unit__parent=unit).count() == 120
    assert (Loan.objects.count(), Plot.objects.count(), RecordChange.objects.count()) == (
        120,
        120,
        360,
    )
    # a tenth of the names were typed in TCVN3 and are stored in Unicode
    first = Household.objects.get(unit__code=bench.commune_code(0), code="H00000")
    assert first.head_name == "Nguyễn Văn An 0"
    costs = bench.unit_costs(path, rows=50)
    assert costs["fernet_us"] > 0 and costs["openpyxl_rows"] == 3 * 121
    table = bench.format_table([{"db": "sqlite", **outcome, **costs}])
    assert "(h3) total" in table and "sqlite" in table
