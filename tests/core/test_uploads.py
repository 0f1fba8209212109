"""The shared inspection of uploaded Office zips (tiendo.core.uploads), without a database."""

import io
import warnings
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


def test_parts_unpacking_beyond_the_total_are_refused():
    data = _zip({"xl/workbook.xml": "<w/>", "a.txt": "x" * 5000})
    refusal = _refusal(data, max_unpacked=1000)
    assert refusal.code == "upload.unpacks_too_large"


def test_a_part_named_twice_is_refused_naming_it():
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        archive.writestr("xl/workbook.xml", "<w/>")
        archive.writestr("xl/workbook.xml", "<w/>")
    refusal = _refusal(out.getvalue())
    assert refusal.code == "upload.duplicate_part" and refusal.params["part"] == "xl/workbook.xml"


def test_a_part_compressed_in_a_way_office_does_not_use_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<w/>", compress_type=zipfile.ZIP_BZIP2)
    refusal = _refusal(out.getvalue())
    assert refusal.code == "upload.unknown_compression"
    assert refusal.params["part"] == "xl/workbook.xml"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ('<!DOCTYPE w [<!ENTITY a "b">]><w>&a;</w>', "upload.xml_declaration"),
        ("<w>", "upload.bad_xml"),
    ],
)
def test_an_xml_part_with_a_declaration_or_broken_is_refused_naming_it(content, code):
    refusal = _refusal(_zip({"xl/workbook.xml": content}))
    assert refusal.code == code and refusal.params["part"] == "xl/workbook.xml"


def test_a_broken_xml_part_is_refused_with_the_line_of_the_fault():
    refusal = _refusal(_zip({"xl/workbook.xml": "<w>\n<a></b></w>"}))
    assert refusal.code == "upload.bad_xml" and refusal.params["line"] == "2"


def test_a_part_that_does_not_unpack_is_refused_naming_it():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", "<w>ok</w>")
    data = out.getvalue().replace(b"<w>ok</w>", b"<w>no</w>")  # the CRC no longer matches
    refusal = _refusal(data)
    assert refusal.code == "upload.corrupt_part" and refusal.params["part"] == "xl/workbook.xml"


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
