"""The shared table model and its Excel and CSV renderers."""

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from tiendo.core import exporters as ex


def _table(**changes) -> ex.Table:
    table = ex.Table(
        name="Bảng",
        widths=[6, 30, 14, 14, 10],
        title=[ex.title_line("BẢNG TỔNG HỢP", bold=True), ex.row()],
        header=[
            ex.row(
                ex.text("STT", down=2, bold=True),
                ex.text("Đơn vị", down=2, bold=True),
                ex.text("Giải ngân (triệu đồng)", span=3, bold=True),
            ),
            ex.row(ex.text("Kế hoạch"), ex.text("Thực hiện"), ex.text("% đạt")),
        ],
        body=[
            ex.row(
                ex.number(1),
                ex.text("Xã Đạo Đức"),
                ex.number(Decimal("66992"), 0),
                ex.number(Decimal("234.9"), 1),
                ex.percent(Decimal("98.45")),
            ),
            ex.row(ex.number(2), ex.text('=HYPERLINK("http://x")'), ex.blank(), ex.blank()),
            ex.row(ex.blank(), ex.text("+cmd"), ex.day(date(2024, 12, 10)), ex.blank()),
        ],
        notes=[ex.title_line("Ghi chú: số liệu tạm tính.", size=10, italic=True)],
        frozen_columns=2,
    )
    for key, value in changes.items():
        setattr(table, key, value)
    return table


def _sheet(table):
    return load_workbook(io.BytesIO(ex.render_xlsx([table]))).active


def test_numbers_are_numbers_with_the_thousands_and_decimal_format():
    sheet = _sheet(_table())
    assert sheet["C5"].value == 66992 and sheet["C5"].number_format == "#,##0"
    assert sheet["D5"].value == 234.9 and sheet["D5"].number_format == "#,##0.0"
    assert round(sheet["E5"].value, 4) == 0.9845 and sheet["E5"].number_format == "0.0%"
    assert sheet["C7"].is_date and sheet["C7"].number_format == "DD/MM/YYYY"


def test_header_rows_are_merged_repeated_on_every_page_and_frozen():
    sheet = _sheet(_table())
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:E1", "A3:A4", "B3:B4", "C3:E3"} <= merged
    assert sheet["C4"].value == "Kế hoạch" and sheet["E4"].value == "% đạt"
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.freeze_panes == "C5"
    assert int(sheet.page_setup.paperSize) == 9 and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["A9"].value == "Ghi chú: số liệu tạm tính."
    assert sheet.column_dimensions["B"].width == 30


def test_a_wide_table_is_printed_landscape_a_narrow_one_portrait():
    assert _sheet(_table()).page_setup.orientation == "portrait"
    assert _sheet(_table(widths=[6, 60, 14, 14, 10])).page_setup.orientation == "landscape"
    assert _sheet(_table(wide=True)).page_setup.orientation == "landscape"


def test_a_text_beginning_with_equals_is_written_as_text_not_a_formula():
    sheet = _sheet(_table())
    assert sheet["B6"].data_type == "s" and sheet["B6"].value == '=HYPERLINK("http://x")'
    assert sheet["B6"].quotePrefix


def test_protected_sheet_locks_all_but_the_editable_cells():
    table = _table(protected=True)
    table.body.append(ex.row(ex.blank(shade=True), ex.number(None, 1, editable=True)))
    sheet = _sheet(table)
    assert sheet.protection.sheet
    assert sheet["A8"].protection.locked and not sheet["B8"].protection.locked
    assert sheet["B8"].number_format == "#,##0.0"


def test_csv_has_a_byte_order_mark_semicolons_and_decimal_commas():
    content = ex.render_csv([_table()])
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "BẢNG TỔNG HỢP;;;;"
    assert lines[2] == "STT;Đơn vị;Giải ngân (triệu đồng);;"
    assert lines[3] == ";;Kế hoạch;Thực hiện;% đạt"
    assert lines[4] == "1;Xã Đạo Đức;66992;234,9;98,5%"
    assert lines[6] == ";'+cmd;10/12/2024;;"
    assert "Ghi chú: số liệu tạm tính.;;;;" in lines


def test_csv_quotes_a_formula_so_a_spreadsheet_does_not_run_it():
    lines = ex.render_csv([_table()]).decode("utf-8-sig").split("\r\n")
    assert lines[5] == '2;"\'=HYPERLINK(""http://x"")";;;'


def test_an_exporter_answers_with_the_file_in_the_asked_format():
    class Sample(ex.Exporter):
        filename = "bang-tong-hop"

        def tables(self):
            return [_table()]

    xlsx = Sample().response("xlsx")
    assert xlsx["Content-Type"] == ex.XLSX_CONTENT_TYPE
    assert xlsx["Content-Disposition"] == 'attachment; filename="bang-tong-hop.xlsx"'
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == ["Bảng"]
    csv = Sample().response("csv")
    assert csv.content.startswith(b"\xef\xbb\xbf") and csv["Content-Type"].startswith("text/csv")
    assert Sample().response("exe")["Content-Disposition"].endswith('.xlsx"')


def test_a_word_table_merges_the_header_repeats_it_and_writes_figures_the_vietnamese_way():
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    ex.write_docx_table(doc, _table(), style_id="Normal")
    grid = doc.tables[0]
    assert len(grid.rows) == 2 + 3  # the title lines are the caller's
    assert grid.rows[0].cells[2].text == grid.rows[0].cells[4].text == "Giải ngân (triệu đồng)"
    assert grid.rows[1].cells[0].text == "STT"  # merged down
    assert [c.text for c in grid.rows[2].cells] == ["1", "Xã Đạo Đức", "66.992", "234,9", "98,5%"]
    assert grid.rows[4].cells[2].text == "10/12/2024"
    assert all(r._tr.trPr.find(qn("w:tblHeader")) is not None for r in grid.rows[:2])
    assert grid.rows[2]._tr.trPr is None or grid.rows[2]._tr.trPr.find(qn("w:tblHeader")) is None
