import subprocess

import pytest

from tests.factories import D
from tests.reporting.excel_helpers import make_form, open_book, personas, save_book
from tiendo.data.models import DataValue
from tiendo.reporting.excel import build_workbook, import_workbook


@pytest.fixture
def form(tree):
    return make_form(tree)


def test_a_file_saved_again_by_libreoffice_calc_is_read_back(form, tree, tmp_path):
    """The _meta sheet, codes and numbers survive another spreadsheet program's writer."""
    user = personas(tree)["district"]
    wb = open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))
    ws = wb["Năm 2024"]
    ws["D7"], ws["E7"], ws["G8"] = 12, 66992, 234.9
    source = tmp_path / "in" / "bieu.xlsx"
    source.parent.mkdir()
    source.write_bytes(save_book(wb).read())
    out = tmp_path / "out"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    again = open_book((out / "bieu.xlsx").read_bytes())
    assert again["_meta"].sheet_state in ("hidden", "veryHidden")
    sheet = again["Năm 2024"]
    assert sheet.protection.sheet and not sheet["D7"].protection.locked
    assert sheet["C7"].protection.locked and sheet["E7"].number_format == "#,##0"
    assert len(sheet.data_validations.dataValidation) >= 3
    with (out / "bieu.xlsx").open("rb") as handle:
        result = import_workbook(handle, user=user, form=form)
    assert result.ok and result.written, result.errors
    stored = {(v.unit.code, v.indicator.code, v.category): v.value for v in DataValue.objects.all()}
    assert stored == {
        ("00001", "HO", ""): D(12),
        ("00001", "GN", "TW"): D(66992),
        ("00002", "DT", ""): D("234.9"),
    }
