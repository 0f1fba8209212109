import unicodedata

import pytest

from tiendo.core.legacy_encoding import (
    TCVN3_TO_UNICODE,
    VNI_TO_UNICODE,
    clean_text,
    decode_tcvn3,
    decode_vni,
    encode_tcvn3,
    encode_vni,
    notice_for,
)

LOWER = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"

# Place and people names from the seeds and the reform, covering every tone and đ, ơ, ư,
# ă, â, ê, ô.
NAMES = [
    "Hà Giang",
    "Tuyên Quang",
    "Vị Xuyên",
    "Bắc Quang",
    "Yên Minh",
    "Hoàng Su Phì",
    "Bắc Mê",
    "Đồng Văn",
    "Xín Mần",
    "Quảng Trị",
    "Mường Khương",
    "Cải tạo vườn tạp",
    "Hộ nghèo được vay vốn",
    "Cấp Kim Thành",
    "Liên minh Hợp tác xã",
    "Ban chỉ đạo tỉnh",
    "ủy ban nhân dân",
    "Nguyễn Thị Quỳnh",
    "khuyến nông",
    "Sủng Trà",
    "Tự Nhiên",
]


def test_every_lowercase_letter_has_one_tcvn3_byte_and_a_vni_spelling():
    assert len(LOWER) == 12 * 6 + 1
    tcvn3 = encode_tcvn3(LOWER)
    assert all(0x61 <= ord(c) <= 0x7A or 0xA1 <= ord(c) <= 0xFE for c in tcvn3)
    assert decode_tcvn3(tcvn3) == LOWER
    assert decode_vni(encode_vni(LOWER)) == LOWER
    assert decode_vni(encode_vni(LOWER.upper())) == LOWER.upper()


def test_tables_agree_with_the_published_code_points():
    # spot checks against the published VN3 and VNI-Windows tables
    assert TCVN3_TO_UNICODE["\u00b5"] == "à" and TCVN3_TO_UNICODE["\u00b8"] == "á"
    assert TCVN3_TO_UNICODE["\u00ae"] == "đ" and TCVN3_TO_UNICODE["\u00a7"] == "Đ"
    assert TCVN3_TO_UNICODE["\u00ad"] == "ư" and TCVN3_TO_UNICODE["\u00ac"] == "ơ"
    assert TCVN3_TO_UNICODE["\u00fe"] == "ỵ" and TCVN3_TO_UNICODE["\u00c6"] == "ặ"
    assert VNI_TO_UNICODE["a\u00f8"] == "à" and VNI_TO_UNICODE["a\u00ea"] == "ă"
    assert VNI_TO_UNICODE["a\u00e9"] == "ắ" and VNI_TO_UNICODE["o\u00e2"] == "ô"
    assert VNI_TO_UNICODE["\u00f4"] == "ơ" and VNI_TO_UNICODE["\u00f6"] == "ư"
    assert VNI_TO_UNICODE["\u00d1"] == "Đ" and VNI_TO_UNICODE["\u00ee"] == "ỵ"
    assert VNI_TO_UNICODE["\u00e6"] == "ỉ" and VNI_TO_UNICODE["\u00f3"] == "ĩ"


def test_the_examples_officials_know_are_read():
    assert clean_text("Hµ Giang").text == "Hà Giang"
    assert clean_text("Haø Giang").text == "Hà Giang"
    assert clean_text("§ång V¨n").encoding == "TCVN3"
    assert clean_text("Ñoàng Vaên").encoding == "VNI"


@pytest.mark.parametrize("name", NAMES)
def test_real_names_typed_in_tcvn3_are_converted(name):
    cleaned = clean_text(encode_tcvn3(name))
    assert (cleaned.text, cleaned.encoding) == (name, "TCVN3")


@pytest.mark.parametrize("name", NAMES)
def test_real_names_typed_in_vni_are_converted(name):
    cleaned = clean_text(encode_vni(name))
    assert (cleaned.text, cleaned.encoding) == (name, "VNI")


@pytest.mark.parametrize("name", NAMES)
def test_unicode_names_are_left_alone_and_decomposed_ones_recomposed(name):
    plain = clean_text(name)
    assert (plain.text, plain.encoding, plain.changed) == (name, "", False)
    nfd = unicodedata.normalize("NFD", name)
    recomposed = clean_text(nfd)
    assert recomposed.text == name and recomposed.normalised and not recomposed.encoding


def test_vni_capitals_are_read():
    assert clean_text("ÑÖÔØNG GIAO THOÂNG").text == "ĐƯỜNG GIAO THÔNG"


def test_tcvn3_capitals_with_tones_come_back_lowercase_as_the_font_stored_them():
    # .VnTimeH draws the lowercase codes as capitals: the file cannot say otherwise
    assert clean_text("§¦êNG GIAO TH¤NG").text == "ĐƯờNG GIAO THÔNG"


def test_ascii_and_ordinary_signs_are_not_mistaken_for_legacy_text():
    for text in ("NTM", "UBND huyện", "25°C", "Xã Một", "98,45%"):
        assert not clean_text(text).encoding


def test_text_that_is_no_known_encoding_is_flagged_not_changed():
    cleaned = clean_text("Ærø ßþ")
    assert cleaned.unrecognised and cleaned.text == "Ærø ßþ"
    assert "không nhận ra được" in notice_for("B7", cleaned)


def test_the_notice_names_the_cell():
    assert notice_for("B7", clean_text("Hµ Giang")) == (
        "Ô B7: văn bản mã TCVN3 đã được chuyển sang Unicode (“Hà Giang”)."
    )
