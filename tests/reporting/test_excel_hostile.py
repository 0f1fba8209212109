"""Hostile .xlsx files: each refused with a message naming the file (and the part), within
a memory limit (a forked child limited to 200 MB above its size), never a server error."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.hostile import (
    LAUGHS,
    MB,
    XXE,
    identical_rows,
    replace_members,
    run_limited,
    sheet_rows,
    zeros,
)
from tests.reporting.excel_helpers import make_form, open_book, personas, save_book
from tiendo.reporting.excel import XLSX_CONTENT_TYPE, build_workbook, check_workbook

SHEET_PART = "xl/worksheets/sheet1.xml"  # the form's sheet "Năm 2024"; _meta is sheet2


@pytest.fixture
def form(tree):
    return make_form(tree)


@pytest.fixture
def people(tree):
    return personas(tree)


@pytest.fixture
def clean(form, tree, people) -> bytes:
    return build_workbook(form, tree.vi_xuyen, ["2024"], user=people["district"])


def _body(data: bytes, part: str) -> str:
    """The part's XML without its declaration."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = archive.read(part).decode()
    return text.split("?>", 1)[1] if text.startswith("<?xml") else text


def _check_limited(data: bytes, form, people) -> list[list[str]]:
    """The (code, message) of every error, checked in a child process with little memory."""

    def check():
        result = check_workbook(
            io.BytesIO(data), user=people["district"], form=form, filename="bieu.xlsx"
        )
        return [(p.code, p.message) for p in result.errors]

    report = run_limited(check)
    assert report["outcome"] == "done", report
    return report["value"]


def test_the_clean_form_passes_the_inspection(clean, form, people):
    assert _check_limited(clean, form, people) == []


def test_a_sheet_that_unpacks_to_a_gibibyte_is_refused_within_the_memory_limit(clean, form, people):
    bomb = replace_members(clean, {SHEET_PART: zeros(1024 * MB)})
    assert len(bomb) < 2 * MB
    [[_code, message]] = _check_limited(bomb, form, people)
    assert message.startswith("Tệp quá lớn khi giải nén: “bieu.xlsx”")


def test_six_million_rows_are_refused_within_the_memory_limit(clean, form, people):
    rows = replace_members(clean, {SHEET_PART: identical_rows(6_000_000, dimension="A1:A6000000")})
    assert len(rows) < MB
    [[_code, message]] = _check_limited(rows, form, people)
    assert message.startswith("Tệp quá lớn khi giải nén")


def test_rows_far_below_the_form_stop_the_reading_even_when_the_dimension_lies(clean, form, people):
    # 200.000 rows of figures (10 MB, compressed tenfold: passes the zip checks), the
    # dimension claiming the sheet ends at row 8
    long_sheet = replace_members(
        clean, {SHEET_PART: sheet_rows(200_000, first=7, dimension="A1:G8")}
    )
    [[code, message]] = _check_limited(long_sheet, form, people)
    assert code == "excel.too_many_rows"
    assert "dòng 1009" in message and "(8)" in message


def test_an_honest_dimension_far_below_the_form_is_refused_before_reading(clean, form, people):
    long_sheet = replace_members(clean, {SHEET_PART: sheet_rows(200_000, first=7)})
    [[code, message]] = _check_limited(long_sheet, form, people)
    assert code == "excel.too_many_rows" and "dòng 200006" in message


@pytest.mark.parametrize("part", [SHEET_PART, "xl/styles.xml", "xl/workbook.xml"])
def test_an_external_entity_is_refused_naming_the_part(clean, form, people, part):
    body = _body(clean, part)
    hostile = replace_members(clean, {part: (XXE + body.replace("<t>", "<t>&xxe;", 1)).encode()})
    [[_code, message]] = _check_limited(hostile, form, people)
    assert message == (
        f"Phần “{part}” của tệp “bieu.xlsx” có khai báo DOCTYPE/ENTITY (tệp Office không bao "
        "giờ có; có thể là tệp độc hại): không nhận."
    )


def test_an_entity_bomb_is_refused_within_the_memory_limit(clean, form, people):
    body = _body(clean, SHEET_PART).replace("<t>", "<t>&lol9;", 1)
    hostile = replace_members(clean, {SHEET_PART: (LAUGHS + body).encode()})
    [[_code, message]] = _check_limited(hostile, form, people)
    assert f"“{SHEET_PART}”" in message and "DOCTYPE/ENTITY" in message


def test_broken_xml_is_refused_naming_the_part(clean, form, people):
    body = _body(clean, SHEET_PART)
    hostile = replace_members(clean, {SHEET_PART: body[: len(body) // 2].encode()})
    [[_code, message]] = _check_limited(hostile, form, people)
    assert message.startswith(f"Tệp “bieu.xlsx” hỏng: phần “{SHEET_PART}” không phải XML đúng")


def test_a_corrupt_member_is_refused(clean, form, people):
    data = bytearray(clean)
    with zipfile.ZipFile(io.BytesIO(clean)) as archive:
        info = archive.getinfo(SHEET_PART)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10 : start + 40] = bytes(30)
    [[_code, message]] = _check_limited(bytes(data), form, people)
    assert message.startswith("Tệp “bieu.xlsx” hỏng")


def test_the_whole_file_dry_run_still_lists_every_cell_problem(clean, form, people):
    wb = open_book(clean)
    wb["Năm 2024"]["D7"] = "nhiều"
    wb["Năm 2024"]["G8"] = -3
    wb["Năm 2024"]["E7"] = "=D7*2"
    result = check_workbook(save_book(wb), user=people["district"], form=form)
    assert [(p.row, p.column) for p in result.errors] == [(7, "D"), (7, "E"), (8, "G")]


# --- the upload page never ends in a server error ---------------------------------------


def _garbage(clean: bytes) -> dict[str, bytes]:
    from docx import Document

    docx = io.BytesIO()
    Document().save(docx)
    no_workbook = io.BytesIO()
    with zipfile.ZipFile(no_workbook, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    wb = open_book(clean)
    del wb["_meta"]
    without_meta = save_book(wb).read()
    wb = open_book(clean)
    wb["_meta"]["B3"] = "99999"
    tampered = save_book(wb).read()
    wb = open_book(clean)
    wb["_meta"].delete_rows(1, wb["_meta"].max_row)
    emptied = save_book(wb).read()
    return {
        "random bytes": os.urandom(5000),
        "empty": b"",
        "docx renamed": docx.getvalue(),
        "zip without a workbook": no_workbook.getvalue(),
        "without _meta": without_meta,
        "tampered _meta": tampered,
        "empty _meta": emptied,
        "truncated": clean[: len(clean) // 2],
        "bomb": replace_members(clean, {SHEET_PART: zeros(64 * MB)}),
    }


def test_no_garbage_file_ends_in_a_server_error(client, clean, form, tree, people):
    client.force_login(people["district"])
    url = reverse("reporting:excel_upload", args=[form.code]) + f"?unit={tree.vi_xuyen.pk}"
    for label, data in _garbage(clean).items():
        upload = SimpleUploadedFile("bieu.xlsx", data, XLSX_CONTENT_TYPE)
        response = client.post(url, {"unit": tree.vi_xuyen.pk, "file": upload})
        assert response.status_code == 200, label
        result = response.context["result"]
        assert result.errors and not result.changes, label


def test_a_figure_typed_outside_the_form_still_gets_its_notice(clean, form, people):
    wb = open_book(clean)
    wb["Năm 2024"]["J7"] = 5
    wb["Năm 2024"]["A8"] = None  # the row number deleted: no notice for A, B or C
    result = check_workbook(save_book(wb), user=people["district"], form=form)
    assert result.ok
    assert [(p.row, p.column, p.message) for p in result.notices] == [
        (7, "J", "Ô nằm ngoài biểu, bị bỏ qua.")
    ]
