import io
from datetime import date

import pytest
from openpyxl.utils import get_column_letter

from tests.factories import D
from tests.reporting.excel_helpers import (
    approve,
    make_form,
    open_book,
    personas,
    save_book,
)
from tiendo.core.legacy_encoding import encode_tcvn3, encode_vni
from tiendo.core.models import AuditEntry
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Indicator
from tiendo.reporting.excel import (
    ExcelError,
    build_workbook,
    check_workbook,
    import_workbook,
)
from tiendo.reporting.models import FormIndicator, PeriodRule

SHEET = "Năm 2024"


@pytest.fixture
def form(tree):
    return make_form(tree)


@pytest.fixture
def people(tree):
    return personas(tree)


def ind(code):
    return Indicator.objects.get(code=code)


def download(form, tree, user, periods=("2024",)):
    return build_workbook(form, tree.vi_xuyen, list(periods), user=user)


def problems(result):
    return {(p.sheet, p.cell, p.message) for p in result.errors}


def codes(result):
    return [(p.sheet, p.code) for p in result.errors]


def test_the_workbook_has_a_row_per_commune_and_a_column_per_indicator_and_category(
    form, tree, people
):
    wb = open_book(download(form, tree, people["district"]))
    assert wb.sheetnames == [SHEET, "_meta"]
    assert wb["_meta"].sheet_state == "veryHidden"
    assert wb.properties.language == "vi-VN"
    ws = wb[SHEET]
    assert ws["A1"].value == "BIỂU MẪU NQ05-XA — Huyện Vị Xuyên — năm 2024"
    assert [ws[f"B{r}"].value for r in (7, 8)] == ["Xã Một", "Xã Hai"]
    assert [ws[f"C{r}"].value for r in (7, 8)] == ["00001", "00002"]
    assert ws["B9"].value is None  # Bắc Quang's communes are not Vị Xuyên's
    assert ws["D4"].value == "Số hộ tham gia" and ws["E4"].value == "Vốn giải ngân"
    assert (ws["E5"].value, ws["F5"].value) == ("Trung ương", "Địa phương")
    assert ws["G4"].value == "Diện tích cải tạo" and ws["G6"].value == "(ha)"
    assert ws["H4"].value is None  # the computed rate is never typed
    # header locked, data cells open, protection on, panes frozen, A4 landscape
    assert ws.protection.sheet
    assert ws["D4"].protection.locked and ws["C7"].protection.locked
    assert not ws["D7"].protection.locked and not ws["G8"].protection.locked
    assert ws.freeze_panes == "D7"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    # numbers with Vietnamese-style format codes and validation per kind of indicator
    assert ws["D7"].number_format == "#,##0" and ws["G7"].number_format == "#,##0.0"
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert rules["D7:D8"].type == "whole" and rules["D7:D8"].formula1 == "0"
    assert rules["G7:G8"].type == "decimal" and rules["G7:G8"].operator == "greaterThanOrEqual"
    assert rules["E7:E8"].operator == "between"  # money may be a negative correction
    assert "không âm" in rules["D7:D8"].error


def test_existing_values_are_prefilled_as_numbers(form, tree, people):
    save_value(Entry(ind("GN"), tree.c1, "2024", D(66992), category="TW"))
    save_value(Entry(ind("DT"), tree.c2, "2024", D("234.9")))
    ws = open_book(download(form, tree, people["district"]))[SHEET]
    assert ws["E7"].value == 66992 and ws["E7"].data_type == "n"
    assert ws["G8"].value == pytest.approx(234.9)


def test_one_sheet_per_period(form, tree, people):
    wb = open_book(download(form, tree, people["district"], periods=("2023", "2024")))
    assert wb.sheetnames == ["Năm 2023", SHEET, "_meta"]


def test_a_period_of_another_type_is_refused_on_download(form, tree, people):
    with pytest.raises(ExcelError, match="không phải loại kỳ"):
        download(form, tree, people["district"], periods=("2024Q1",))


def test_round_trip_download_fill_upload_writes_everything_with_history(form, tree, people):
    user = people["district"]
    save_value(Entry(ind("HO"), tree.c1, "2024", D(10)))  # will be corrected
    wb = open_book(download(form, tree, user))
    ws = wb[SHEET]
    ws["D7"], ws["E7"], ws["F7"], ws["G7"] = 12, 30355, 1032.5, 234.9
    ws["D8"], ws["G8"] = 7, 2.6
    result = import_workbook(save_book(wb), user=user, form=form, unit=tree.vi_xuyen)
    assert result.ok and result.written, result.errors
    assert (result.created, result.updated) == (5, 1)
    stored = {
        (v.unit.code, v.indicator.code, v.category): v.value
        for v in DataValue.objects.select_related("unit", "indicator")
    }
    assert stored == {
        ("00001", "HO", ""): D(12),
        ("00001", "GN", "TW"): D(30355),
        ("00001", "GN", "DP"): D("1032.5"),
        ("00001", "DT", ""): D("234.9"),
        ("00002", "HO", ""): D(7),
        ("00002", "DT", ""): D("2.6"),
    }
    excel = DataValueChange.objects.filter(source="excel")
    assert excel.count() == 6
    corrected = excel.get(indicator__code="HO", unit=tree.c1)
    assert (corrected.old_value, corrected.new_value, corrected.changed_by) == (D(10), D(12), user)
    assert AuditEntry.objects.filter(action="data.excel_imported", actor=user).count() == 1
    # the rollup moved with the values: the district sees its communes' households
    again = open_book(download(form, tree, user))[SHEET]
    assert again["D7"].value == 12 and again["G8"].value == pytest.approx(2.6)
    # uploading the same file again changes nothing
    second = import_workbook(save_book(open_book(download(form, tree, user))), user=user)
    assert second.ok and second.changes == [] and second.unchanged == 6
    assert DataValueChange.objects.count() == 7


def test_a_file_with_many_kinds_of_errors_writes_nothing_and_lists_every_error(form, tree, people):
    user = people["commune"]  # may write Xã Một only
    save_value(Entry(ind("HO"), tree.c1, "2023", D(5)))
    values_before, history_before = DataValue.objects.count(), DataValueChange.objects.count()
    district_file = open_book(download(form, tree, people["district"], periods=("2023", "2024")))
    ws = district_file[SHEET]
    ws["D7"] = 3.5  # decimals in an integer indicator
    ws["E7"] = "=1+2"  # a formula
    ws["F7"] = "1,5"  # fine on its own: the whole file is still refused
    ws["G7"] = -4  # negative where not allowed
    ws["D8"] = 9  # Xã Hai: this commune officer may not write it
    ws["C9"], ws["D9"] = "99999", 1  # an unknown unit code
    ws["C10"], ws["G10"] = "00001", 1  # Xã Một a second time
    old = district_file["Năm 2023"]
    old["D7"] = 6  # an approved figure
    old["E7"] = True  # a boolean
    old["F7"] = "nhiều"  # text in a numeric cell
    approve(form, tree, tree.c1, period="2023")

    result = import_workbook(save_book(district_file), user=user, form=form, unit=tree.c1.parent)
    assert not result.written
    found = problems(result)
    cells = {(sheet, cell) for sheet, cell, _ in found}
    assert cells == {
        (SHEET, "D7"),
        (SHEET, "E7"),
        (SHEET, "G7"),
        (SHEET, "C8"),
        (SHEET, "C9"),
        (SHEET, "C10"),
        ("Năm 2023", "D7"),
        ("Năm 2023", "E7"),
        ("Năm 2023", "F7"),
    }
    # listed in reading order: sheet by sheet, row by row, column by column
    assert [(p.sheet, p.cell) for p in result.errors] == [
        ("Năm 2023", "D7"),
        ("Năm 2023", "E7"),
        ("Năm 2023", "F7"),
        (SHEET, "D7"),
        (SHEET, "E7"),
        (SHEET, "G7"),
        (SHEET, "C8"),
        (SHEET, "C9"),
        (SHEET, "C10"),
    ]
    reasons = {(p.sheet, p.cell): p.code for p in result.errors}
    assert reasons[(SHEET, "D7")] == "value.not_integer"
    assert reasons[(SHEET, "E7")] == "excel.formula"
    assert reasons[(SHEET, "G7")] == "value.negative"
    assert reasons[(SHEET, "C8")] == "excel.no_write_permission"
    assert reasons[(SHEET, "C9")] == "excel.unit_unknown"
    assert reasons[(SHEET, "C10")] == "excel.unit_twice"
    assert reasons[("Năm 2023", "E7")] == "excel.boolean"
    # what the official reads names the figure, the cell's text, the unit and the letter
    messages = {cell: message for sheet, cell, message in found if sheet == SHEET}
    assert "Paste Special" in messages["E7"]
    assert "Xã Hai" in messages["C8"] and "“99999”" in messages["C9"]
    assert "dòng 7" in messages["C10"]
    old_messages = {cell: m for sheet, cell, m in found if sheet == "Năm 2023"}
    assert "đã được duyệt" in old_messages["D7"] and "12/VPĐP-NTM" in old_messages["D7"]
    assert old_messages["F7"] == "“nhiều” không phải là số."
    assert DataValue.objects.count() == values_before
    assert DataValueChange.objects.count() == history_before
    assert DataValue.objects.get(unit=tree.c1, period="2023").value == D(5)


def test_numbers_typed_as_vietnamese_text_are_accepted_with_a_notice(form, tree, people):
    user = people["district"]
    wb = open_book(download(form, tree, user))
    ws = wb[SHEET]
    ws["E7"], ws["G7"] = "66.992", "234,9"
    result = check_workbook(save_book(wb), user=user, form=form)
    assert result.ok
    assert {(c.cell, c.new) for c in result.changes} == {("E7", D(66992)), ("G7", D("234.9"))}
    notices = {p.cell: p.message for p in result.notices}
    assert "“66.992” được đọc là 66.992" in notices["E7"]
    assert "“234,9” được đọc là 234,9" in notices["G7"]
    assert DataValue.objects.count() == 0  # a check writes nothing


@pytest.mark.parametrize(
    ("typed", "encoding"), [(encode_tcvn3("Xã Một"), "TCVN3"), (encode_vni("Xã Một"), "VNI")]
)
def test_a_unit_name_in_a_legacy_encoding_is_converted_with_a_notice(
    form, tree, people, typed, encoding
):
    user = people["district"]
    wb = open_book(download(form, tree, user))
    wb[SHEET]["B7"] = typed
    result = check_workbook(save_book(wb), user=user, form=form)
    assert result.ok
    assert [p.message for p in result.notices] == [
        f"Ô B7: văn bản mã {encoding} đã được chuyển sang Unicode (“Xã Một”)."
    ]


def test_a_blank_cell_keeps_the_stored_figure_and_says_so(form, tree, people):
    user = people["district"]
    save_value(Entry(ind("HO"), tree.c2, "2024", D(40)))
    wb = open_book(download(form, tree, user))
    wb[SHEET]["D8"] = None
    result = import_workbook(save_book(wb), user=user, form=form)
    assert result.ok and result.changes == []
    assert "giữ nguyên" in result.notices[0].message and result.notices[0].cell == "D8"
    assert DataValue.objects.get().value == D(40)


def test_a_changed_meta_sheet_is_refused(form, tree, people):
    user = people["district"]
    wb = open_book(download(form, tree, user))
    meta = wb["_meta"]
    for row in meta.iter_rows():
        if row[0].value == "row" and row[4].value == "00002":
            row[3].value = str(tree.c3.pk)  # point row 8 at another district's commune
    wb[SHEET]["D8"] = 5
    result = import_workbook(save_book(wb), user=user, form=form)
    assert codes(result) == [("_meta", "excel.meta_changed")]
    assert DataValue.objects.count() == 0


def test_a_removed_meta_sheet_is_refused(form, tree, people):
    user = people["district"]
    wb = open_book(download(form, tree, user))
    del wb["_meta"]
    result = check_workbook(save_book(wb), user=user, form=form)
    assert codes(result) == [("_meta", "excel.meta_missing")]


def test_a_period_that_no_longer_matches_the_form_is_refused(form, tree, people):
    user = people["district"]
    wb = open_book(download(form, tree, user))
    wb[SHEET]["D7"] = 1
    form.period_type = "half"
    form.save(update_fields=["period_type"])
    result = import_workbook(save_book(wb), user=user, form=form)
    assert codes(result) == [(SHEET, "excel.period_type")]
    assert result.errors[0].message == (
        "Kỳ năm 2024 không đúng loại kỳ của biểu “NQ05-XA” (6 tháng); xin tải lại biểu mẫu."
    )
    assert DataValue.objects.count() == 0


def test_a_file_of_another_form_or_unit_is_refused(form, tree, people):
    user = people["district"]
    data = download(form, tree, user)
    other = type(form).objects.create(
        code="KHAC", name="Biểu khác", programme=form.programme, period_type="year"
    )
    result = check_workbook(save_book(open_book(data)), user=user, form=other)
    assert codes(result) == [("_meta", "excel.other_form")]
    result = check_workbook(save_book(open_book(data)), user=user, form=form, unit=tree.bac_quang)
    assert codes(result) == [("_meta", "excel.outside_unit")]
    assert "Huyện Bắc Quang" in result.errors[0].message


def test_something_that_is_not_an_xlsx_is_refused(form, tree, people):
    result = check_workbook(io.BytesIO(b"STT;Ten\n1;Xa Mot\n"), user=people["district"])
    assert codes(result) == [("", "upload.not_zip")]
    assert result.errors[0].message.startswith("Tệp không đọc được")


def test_every_column_letter_is_named_in_the_meta_sheet(form, tree, people):
    wb = open_book(download(form, tree, people["district"]))
    letters = [r[2].value for r in wb["_meta"].iter_rows() if r[0].value == "col"]
    assert letters == [get_column_letter(4 + i) for i in range(4)]


def test_lines_of_a_request_take_its_as_of_date(form, tree, people):
    FormIndicator.objects.filter(form=form, indicator__code="DT").update(
        period_rule=PeriodRule.AS_OF
    )
    # a letter for 2024 (Bắc Quang's answer is approved; Vị Xuyên's communes are not locked)
    report_request = approve(form, tree, tree.c3).request
    report_request.data_as_of = date(2024, 10, 31)
    report_request.save(update_fields=["data_as_of"])
    user = people["district"]
    data = build_workbook(form, tree.vi_xuyen, ["2024"], user=user, report_request=report_request)
    wb = open_book(data)
    assert wb[SHEET]["G6"].value == "(ha · đến ngày 31/10/2024)"
    wb[SHEET]["G7"] = 3.5
    result = import_workbook(save_book(wb), user=user, form=form)
    assert result.ok and result.written
    assert DataValue.objects.get().period == "2024-10-31"


def test_an_approved_figure_sent_back_unchanged_is_no_error(form, tree, people):
    user = people["district"]
    save_value(Entry(ind("HO"), tree.c1, "2024", D(12)))
    approve(form, tree, tree.c1)
    wb = open_book(download(form, tree, user))
    wb[SHEET]["D8"] = 3  # Xã Hai is not locked
    result = import_workbook(save_book(wb), user=user, form=form)
    assert result.ok and result.written and result.unchanged == 1
    assert [(c.cell, c.period_label) for c in result.changes] == [("D8", "năm 2024")]


def test_stray_data_far_below_the_form_is_refused(form, tree, people):
    user = people["district"]
    wb = open_book(download(form, tree, user))
    wb[SHEET]["D5000"] = 1
    result = check_workbook(save_book(wb), user=user, form=form)
    assert codes(result) == [(SHEET, "excel.too_many_rows")]
    assert "dòng 5000" in result.errors[0].message and "(8)" in result.errors[0].message


def test_a_zip_that_unpacks_to_too_much_is_refused(form, tree, people, monkeypatch):
    import tiendo.reporting.excel as excel

    data = download(form, tree, people["district"])
    monkeypatch.setattr(excel, "MAX_UNPACKED_BYTES", 1000)
    result = check_workbook(io.BytesIO(data), user=people["district"], form=form)
    assert result.errors[0].message.startswith("Tệp quá lớn khi giải nén")
