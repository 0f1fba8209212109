"""Vietnamese text typed in the legacy TCVN3 (ABC) and VNI-Windows encodings.

Before Unicode, offices typed Vietnamese with byte-mapped fonts: ``.VnTime`` (TCVN3, the
national standard TCVN 5712:1993, table VN3) and ``VNI-Times`` (VNI-Windows). The letters
look right in those fonts only; in the file they are ordinary Windows-1252 characters, so
a spreadsheet from a commune may say ``Hµ Giang`` (TCVN3) or ``Haø Giang`` (VNI) where
it means ``Hà Giang``. Copy-paste from old Word files brings such text into Excel sheets to
this day.

:func:`clean_text` normalises any text to NFC and, when it recognises one of the legacy
encodings, converts it and says which one it was.

The tables
----------
TCVN3: one byte per letter. The lowercase letters with tone marks and the seven base
letters Ă Â Ê Ô Ơ Ư Đ in both cases sit between 0xA1 and 0xFE (published table VN3; it
agrees byte for byte with glibc's ``TCVN5712-1`` converter and with the tables of the
open-source keyboard drivers xvnkb and vietnamese-conversion). Capitals *with* tone marks
do not exist in VN3: the ``.VnTimeH`` font draws the lowercase codes as capitals, so such
text converts to lowercase letters — a limit of the encoding, not of the converter.

VNI-Windows: a base letter followed by a mark byte (``a`` + ``ø`` = à, ``a`` + ``ê`` = ă,
``a`` + ``é`` = ắ, ``o`` + ``â`` = ô, ``ô`` = ơ, ``ö`` = ư, ``ñ`` = đ), except i and ỵ
which have single bytes. The tables are built below from those rules (tone byte per
vowel family) rather than typed out letter by letter, and the test suite checks every
one of the 134 letters against the published table.

Telling them apart
------------------
Genuine Unicode Vietnamese uses Latin-1 letters too (``à``, ``ê``, ``ô``), so a string is a
candidate only when it holds no letter beyond Latin-1 (a real ``ư`` or ``ạ`` proves
Unicode) and does not read as Vietnamese as it stands: it holds a Latin-1 character no
Vietnamese word uses (``µ``, ``¸``, ``ø``, ``ï`` …) or a word that cannot be a Vietnamese
syllable (``Tuyeân``: onset, vowel nucleus, final and at most one tone mark are checked).
Both decodings are then tried and scored the same way; the better reading wins if it
beats the text as it stands, a tie going to TCVN3, the state standard. Otherwise the text
is left unchanged and reported as unrecognised. Text that reads as Vietnamese both ways
(TCVN3 ``Lòng Có`` for ``Lũng Cú``) cannot be told apart and stays as it is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

TCVN3 = "TCVN3"
VNI = "VNI"

# --- TCVN3 (TCVN 5712:1993, VN3) ----------------------------------------------------------
# Each row: a base letter and its five tones in the order sắc, huyền, hỏi, ngã, nặng, as
# bytes of the VN3 table.
_TONES = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc huyền hỏi ngã nặng
_TCVN3_ROWS = {
    # base: (byte of the base or None when the base is ASCII, bytes of the five tones)
    "a": (None, (0xB8, 0xB5, 0xB6, 0xB7, 0xB9)),
    "ă": (0xA8, (0xBE, 0xBB, 0xBC, 0xBD, 0xC6)),
    "â": (0xA9, (0xCA, 0xC7, 0xC8, 0xC9, 0xCB)),
    "e": (None, (0xD0, 0xCC, 0xCE, 0xCF, 0xD1)),
    "ê": (0xAA, (0xD5, 0xD2, 0xD3, 0xD4, 0xD6)),
    "i": (None, (0xDD, 0xD7, 0xD8, 0xDC, 0xDE)),
    "o": (None, (0xE3, 0xDF, 0xE1, 0xE2, 0xE4)),
    "ô": (0xAB, (0xE8, 0xE5, 0xE6, 0xE7, 0xE9)),
    "ơ": (0xAC, (0xED, 0xEA, 0xEB, 0xEC, 0xEE)),
    "u": (None, (0xF3, 0xEF, 0xF1, 0xF2, 0xF4)),
    "ư": (0xAD, (0xF8, 0xF5, 0xF6, 0xF7, 0xF9)),
    "y": (None, (0xFD, 0xFA, 0xFB, 0xFC, 0xFE)),
}
_TCVN3_SINGLES = {
    0xAE: "đ",
    0xA1: "Ă",
    0xA2: "Â",
    0xA3: "Ê",
    0xA4: "Ô",
    0xA5: "Ơ",
    0xA6: "Ư",
    0xA7: "Đ",
}


def _build_tcvn3() -> dict[str, str]:
    table = {chr(code): letter for code, letter in _TCVN3_SINGLES.items()}
    for base, (base_code, tone_codes) in _TCVN3_ROWS.items():
        if base_code is not None:
            table[chr(base_code)] = base
        for tone, code in zip(_TONES, tone_codes, strict=True):
            table[chr(code)] = unicodedata.normalize("NFC", base + tone)
    return table


TCVN3_TO_UNICODE: dict[str, str] = _build_tcvn3()

# --- VNI-Windows ----------------------------------------------------------------------------
# Mark bytes (lowercase; the uppercase byte is 0x20 lower) after a, e, o, u, y, ô, ơ, ư:
#   sắc ù, huyền ø, hỏi û, ngã õ, nặng ï
# after â/ê/ô (circumflex) and ă (breve) the tone and the hat travel in one byte:
#   â: á à å ã ä (sắc huyền hỏi ngã nặng), ă: é è ú ü ë
_VNI_PLAIN_TONES = ("ù", "ø", "û", "õ", "ï")
_VNI_HAT_TONES = ("á", "à", "å", "ã", "ä")
_VNI_BREVE_TONES = ("é", "è", "ú", "ü", "ë")
_VNI_HAT, _VNI_BREVE = "â", "ê"
_VNI_HORN_O, _VNI_HORN_U, _VNI_D = "ô", "ö", "ñ"
# i and ỵ have single bytes: í ì æ(ỉ) ó(ĩ) ò(ị); î is ỵ
_VNI_I = {"í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị"}
_VNI_Y_DOT = "î"


def _upper_byte(ch: str) -> str:
    return chr(ord(ch) - 0x20)


def _toned(letter: str, tone: str) -> str:
    return unicodedata.normalize("NFC", letter + tone)


def _vni_plain() -> dict[str, str]:
    """a, e, o, u, y and a tone byte (ỵ is the single byte î)."""
    return {
        base + mark: _toned(base, tone)
        for base in "aeouy"
        for mark, tone in zip(_VNI_PLAIN_TONES, _TONES, strict=True)
        if not (base == "y" and tone == "\u0323")
    }


def _vni_hatted() -> dict[str, str]:
    """â, ê, ô and ă: the hat (or breve) byte, or one byte for hat (breve) and tone."""
    table: dict[str, str] = {}
    for base, hatted in (("a", "â"), ("e", "ê"), ("o", "ô")):
        table[base + _VNI_HAT] = hatted
        for mark, tone in zip(_VNI_HAT_TONES, _TONES, strict=True):
            table[base + mark] = _toned(hatted, tone)
    table["a" + _VNI_BREVE] = "ă"
    for mark, tone in zip(_VNI_BREVE_TONES, _TONES, strict=True):
        table["a" + mark] = _toned("ă", tone)
    return table


def _vni_horned() -> dict[str, str]:
    """ơ and ư: one byte each, then a tone byte."""
    table: dict[str, str] = {}
    for byte, horned in ((_VNI_HORN_O, "ơ"), (_VNI_HORN_U, "ư")):
        table[byte] = horned
        for mark, tone in zip(_VNI_PLAIN_TONES, _TONES, strict=True):
            table[byte + mark] = _toned(horned, tone)
    return table


def _with_capitals(lower: dict[str, str]) -> dict[str, str]:
    """Capitals: an ASCII capital and uppercase mark bytes ("AØ" = À). Text typed in
    capitals with a lowercase mark ("Aø") also occurs when only the first letter was
    capitalised, so both are read."""
    table = dict(lower)
    for seq, letter in lower.items():
        first, rest = seq[0], seq[1:]
        upper_first = first.upper() if first.isascii() else _upper_byte(first)
        table[upper_first + "".join(_upper_byte(c) for c in rest)] = letter.upper()
        if rest:
            table[upper_first + rest] = letter.upper()
    return table


def _build_vni() -> dict[str, str]:
    singles = {_VNI_D: "đ", **_VNI_I, _VNI_Y_DOT: "ỵ"}
    return _with_capitals({**_vni_plain(), **_vni_hatted(), **_vni_horned(), **singles})


VNI_TO_UNICODE: dict[str, str] = _build_vni()
_VNI_PATTERN = re.compile(
    "|".join(re.escape(k) for k in sorted(VNI_TO_UNICODE, key=len, reverse=True))
)


def decode_tcvn3(text: str) -> str:
    return "".join(TCVN3_TO_UNICODE.get(ch, ch) for ch in text)


def decode_vni(text: str) -> str:
    return _VNI_PATTERN.sub(lambda m: VNI_TO_UNICODE[m.group(0)], text)


def encode_tcvn3(text: str) -> str:
    """Unicode → TCVN3 (for tests and for round trips); capitals with tones are lowered."""
    reverse = {v: k for k, v in TCVN3_TO_UNICODE.items()}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in reverse:
            out.append(reverse[ch])
        elif ch.lower() in reverse and not ch.isascii():
            out.append(reverse[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


def encode_vni(text: str) -> str:
    """Unicode → VNI-Windows (for tests and round trips): capitals get uppercase marks."""
    reverse: dict[str, str] = {}
    for seq, letter in VNI_TO_UNICODE.items():
        # prefer the all-uppercase spelling for capitals, the lowercase one otherwise
        current = reverse.get(letter)
        if current is None or (letter.isupper() and seq.isupper() and not current.isupper()):
            reverse[letter] = seq
    return "".join(reverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


# --- Recognising Vietnamese -----------------------------------------------------------------
# Latin-1 letters that genuine Vietnamese uses; any other Latin-1 character in a text with
# no letter beyond Latin-1 points to a legacy encoding.
_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
# Latin-1 signs that genuine text uses and that neither legacy table needs for a letter.
# (0xB0-0xB4, 0xBA and 0xBF are holes of the VN3 table; VNI uses nothing below 0xC0.)
_HARMLESS = set("\u00a0°±²³´º¿")
_TONE_MARKS = set(_TONES)
_VOWELS = set("aăâeêioôơuưy")


def _words(table: str) -> list[str]:
    """The entries of a table written as one line of text, as a grammar book prints it."""
    return table.split()


_ONSETS = sorted(
    _words("ngh ng nh ch gh gi kh ph qu th tr b c d đ g h k l m n p r s t v x"),
    key=len,
    reverse=True,
)
_FINALS = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"}
_NUCLEI = set(
    _words(
        "a ă â e ê i o ô ơ u ư y "
        "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê "
        "iêu yêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu"
    )
)
# Nuclei ending in a glide (or the diphthongs ia, ua, ưa) close the syllable: no final.
_OPEN_NUCLEI = set(
    _words(
        "ai ao au ay âu ây eo êu ia iu oi ôi ơi ui ưi ưu ưa ua "
        "iêu yêu oai oao oay oeo uây uôi uya uyu ươi ươu"
    )
)
_WORD = re.compile(r"[^\W\d_]+")


def _syllable_ok(word: str) -> bool:
    """Whether ``word`` (lowercase NFC letters) can be one Vietnamese syllable."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = sum(1 for ch in decomposed if ch in _TONE_MARKS)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    if any(not ("a" <= ch <= "z" or ch in _VOWELS or ch == "đ") for ch in bare):
        return False
    for onset in [*(o for o in _ONSETS if bare.startswith(o)), ""]:
        rest = bare[len(onset) :]
        nucleus = ""
        while rest and rest[0] in _VOWELS:
            nucleus, rest = nucleus + rest[0], rest[1:]
        if onset in ("gi", "qu") and not nucleus:
            continue  # "gì": g + i
        if nucleus not in _NUCLEI or rest not in _FINALS:
            continue
        if nucleus in _OPEN_NUCLEI and rest:
            continue
        if nucleus == "oo" and rest not in ("ng", "c"):
            continue  # only "xoong", "moóc"
        return True
    return False


def _reading(text: str) -> tuple[int, int, int]:
    """(foreign Latin-1 characters, impossible syllables, words with non-ASCII letters)."""
    foreign = sum(
        1
        for ch in text
        if "\u0080" <= ch <= "\u00ff" and ch not in _VIETNAMESE_LATIN1 and ch not in _HARMLESS
    )
    words = [w for w in _WORD.findall(text.lower()) if not w.isascii()]
    return foreign, sum(1 for w in words if not _syllable_ok(w)), len(words)


def _badness(text: str) -> int:
    """How un-Vietnamese ``text`` reads: foreign Latin-1 letters weigh most."""
    foreign, impossible, _count = _reading(text)
    return foreign * 10 + impossible


def _reads_as_vietnamese(text: str) -> bool:
    """No foreign letter left and at most one word in four that is no Vietnamese syllable
    (names of products and foreign words occur in real text)."""
    foreign, impossible, words = _reading(text)
    return foreign == 0 and impossible <= words // 4


def _is_candidate(text: str) -> bool:
    if text.isascii() or any(ord(ch) > 0xFF for ch in text):
        return False  # plain ASCII, or a letter beyond Latin-1 that proves real Unicode
    return _badness(text) > 0


@dataclass(frozen=True)
class CleanText:
    text: str
    encoding: str = ""  # TCVN3, VNI, or "" when the text was Unicode already
    normalised: bool = False  # NFD (or other non-NFC) text was recomposed
    unrecognised: bool = False  # looks like a legacy encoding but neither reading fits

    @property
    def changed(self) -> bool:
        return bool(self.encoding) or self.normalised


def clean_text(raw: str) -> CleanText:
    """NFC-normalise ``raw`` and convert it from TCVN3 or VNI when it is written in one."""
    text = unicodedata.normalize("NFC", raw)
    normalised = text != raw
    if not _is_candidate(text):
        return CleanText(text, normalised=normalised)
    readings = [
        (_badness(decoded), order, name, decoded)
        for order, (name, decoded) in enumerate(
            ((TCVN3, decode_tcvn3(text)), (VNI, unicodedata.normalize("NFC", decode_vni(text))))
        )
    ]
    readings.sort()
    best_score, _order, name, decoded = readings[0]
    if best_score >= _badness(text) or not _reads_as_vietnamese(decoded):
        return CleanText(text, normalised=normalised, unrecognised=True)
    return CleanText(unicodedata.normalize("NFC", decoded), encoding=name, normalised=normalised)


def notice_for(cell_ref: str, cleaned: CleanText) -> str:
    """The notice shown for a cell whose text was converted or recomposed."""
    if cleaned.encoding:
        message = _("Ô %(cell)s: văn bản mã %(encoding)s đã được chuyển sang Unicode (“%(text)s”).")
    elif cleaned.unrecognised:
        message = _(
            "Ô %(cell)s: văn bản có ký tự lạ, có thể gõ bằng bảng mã cũ (TCVN3, VNI) "
            "nhưng không nhận ra được; xin kiểm tra lại."
        )
    elif cleaned.normalised:
        message = _("Ô %(cell)s: văn bản Unicode tổ hợp đã được chuẩn hóa về dạng dựng sẵn (NFC).")
    else:
        return ""
    return message % {"cell": cell_ref, "encoding": cleaned.encoding, "text": cleaned.text}
