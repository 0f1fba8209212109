"""Text as it comes in: every string a person or a file gives us is stored in Unicode NFC.

Spreadsheets and forms from communes often carry decomposed (NFD) text; comparing or
searching it without normalising would find "Hà Giang" twice or not at all.
"""

import unicodedata


def nfc(text) -> str:
    """NFC-normalised and stripped; ``None`` becomes ``""``."""
    if text is None:
        return ""
    return unicodedata.normalize("NFC", str(text)).strip()


def nfc_deep(value):
    """:func:`nfc` applied to every string inside lists and mappings (a parsed YAML file)."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [nfc_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: nfc_deep(v) for k, v in value.items()}
    return value
