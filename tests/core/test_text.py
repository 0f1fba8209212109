import unicodedata

from tiendo.core.text import nfc, nfc_deep


def test_decomposed_text_is_stored_composed_and_stripped():
    decomposed = unicodedata.normalize("NFD", " Hà Giang ")
    assert decomposed != "Hà Giang"
    assert nfc(decomposed) == "Hà Giang"
    assert nfc(None) == ""


def test_every_string_inside_a_parsed_file_is_normalised():
    decomposed = unicodedata.normalize("NFD", "Xã Kim Thạch")
    data = {"a": [decomposed, 3, {"b": decomposed}], "n": None}
    assert nfc_deep(data) == {"a": ["Xã Kim Thạch", 3, {"b": "Xã Kim Thạch"}], "n": None}
