"""The shared inspection of uploaded Office zips (tiendo.core.uploads), without a database."""

import io
import zipfile

import pytest

from tests.hostile import MB, repeated, replace_members, run_limited, zeros
from tiendo.core.uploads import UploadError, default_limits, inspect_zip

LIMITS = dict(filename="tep.xlsx", kind="bảng tính Excel (.xlsx)")


def _zip(members: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _refusal(data, **limits) -> UploadError:
    with pytest.raises(UploadError) as caught:
        inspect_zip(
            data,
            limits=default_limits(streamed=("xl/worksheets/",), **limits),
            required=("xl/workbook.xml",),
            **LIMITS,
        )
    return caught.value


def test_a_sane_zip_passes_and_the_file_is_rewound():
    data = io.BytesIO(_zip({"xl/workbook.xml": "<workbook/>", "xl/worksheets/s.xml": "<w/>"}))
    inspect_zip(data, limits=default_limits(), **LIMITS)
    assert data.tell() == 0


def test_what_is_not_a_zip_is_refused_naming_the_file_and_the_kind():
    refusal = _refusal(b"PK\x03\x04 not really")
    assert refusal.code == "upload.not_zip"
    assert str(refusal) == (
        "Tệp không đọc được: “tep.xlsx” không phải bảng tính Excel (.xlsx) "
        "(không mở được dạng nén zip)."
    )


def test_an_upload_above_the_size_limit_is_refused():
    refusal = _refusal(b"x" * 2000, max_bytes=1000)
    assert refusal.code == "upload.too_large" and refusal.params == {"name": "tep.xlsx", "mb": "0"}


def test_too_many_parts_are_refused():
    data = _zip({f"p{i}.txt": "" for i in range(20)} | {"xl/workbook.xml": "<w/>"})
    refusal = _refusal(data, max_members=10)
    assert refusal.code == "upload.too_many_parts" and refusal.params["count"] == "21"


def test_a_missing_required_part_is_refused():
    refusal = _refusal(_zip({"a.xml": "<a/>"}))
    assert refusal.code == "upload.missing_part" and refusal.params["part"] == "xl/workbook.xml"


def test_a_part_compressed_beyond_the_ratio_is_refused_naming_it():
    data = replace_members(_zip({"xl/workbook.xml": "<w/>"}), {}, {"x.bin": zeros(8 * MB)})
    refusal = _refusal(data)
    assert refusal.code == "upload.compression_ratio" and refusal.params["part"] == "x.bin"


def test_a_large_xml_part_read_whole_is_refused_but_a_streamed_sheet_is_not():
    rows = repeated(b"<worksheet><sheetData>", b'<row r="1"><c><v>1</v></c></row>' * 1000, 200)
    tail = b"</sheetData></worksheet>"

    def sheet(member):
        rows(member)
        member.write(tail)

    base = _zip({"xl/workbook.xml": "<w/>"})
    streamed = replace_members(base, {}, {"xl/worksheets/sheet1.xml": sheet})
    inspect_zip(
        streamed, limits=default_limits(streamed=("xl/worksheets/",), max_ratio=10**6), **LIMITS
    )
    whole = replace_members(base, {}, {"xl/styles.xml": sheet})
    refusal = _refusal(whole, max_ratio=10**6)
    assert refusal.code == "upload.part_too_large"
    assert refusal.params == {
        "name": "tep.xlsx",
        "part": "xl/styles.xml",
        "size": "6,1",
        "max": "5",
    }


def test_one_giant_row_in_a_streamed_sheet_is_refused():
    giant = repeated(b"<worksheet><sheetData><row>", b"<c><v>1</v></c>" * 1000, 200)
    data = replace_members(
        _zip({"xl/workbook.xml": "<w/>"}), {}, {"xl/worksheets/sheet1.xml": giant}
    )
    refusal = _refusal(data, max_ratio=10**6)
    assert refusal.code == "upload.row_too_long" and refusal.params["mb"] == "1"


def test_a_comment_in_a_streamed_sheet_is_refused():
    data = _zip({"xl/workbook.xml": "<w/>", "xl/worksheets/s.xml": "<w><!-- <row> --></w>"})
    assert _refusal(data).code == "upload.xml_hidden_content"


def test_a_password_protected_part_is_refused():
    data = bytearray(_zip({"xl/workbook.xml": "<w/>"}))
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" flag in the central directory
    assert _refusal(bytes(data)).code == "upload.encrypted"


def test_the_checks_run_within_the_memory_limit_on_a_gibibyte():
    bomb = replace_members(_zip({"xl/workbook.xml": "<w/>"}), {}, {"x.bin": zeros(1024 * MB)})

    def check():
        try:
            inspect_zip(bomb, limits=default_limits(max_unpacked=2048 * MB), **LIMITS)
        except UploadError as exc:
            return str(exc)
        return "accepted"

    report = run_limited(check)
    assert report["outcome"] == "done" and "nén 1.0" in report["value"]
