"""What a typed identifier or number may contain, and what a value column can hold.

Digits: a period id or a figure typed on a phone with an Arabic or East Asian keyboard may
carry other Unicode decimal digits (``٢٠٢٢``, full-width ``２０２２``). Python's ``\\d`` and
``Decimal`` accept them, so ``٢٠٢٢`` became a second period next to ``2022`` and an
approved figure could be entered again. :func:`to_ascii` turns every Unicode decimal digit,
the full-width forms of ASCII characters and the dash and minus look-alikes into ASCII, so
the id or number formed afterwards is always the canonical ASCII one; anything else that is
not ASCII is left for the caller to refuse.

Values: ``DataValue.value`` and ``Target.value`` are ``DecimalField(max_digits=20,
decimal_places=6)``. PostgreSQL stores that exactly; SQLite stores a REAL and keeps only 15
significant digits, and reading back a value rounded up to 1e14 fails Django's quantize
(21 digits), so the form showing it broke on every load. The bounds below are what both
databases store and read back unchanged: fewer than 15 digits before the decimal mark, at
most 6 after it, at most 15 significant digits in all.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from django.utils.translation import gettext as _

MAX_INTEGER_DIGITS = 14
MAX_DECIMAL_PLACES = 6
MAX_SIGNIFICANT_DIGITS = 15
MAX_ABS_VALUE = Decimal(10) ** MAX_INTEGER_DIGITS  # exclusive

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"), "-")


def to_ascii(text: str) -> str:
    """Unicode decimal digits, full-width ASCII forms and dash look-alikes as ASCII.

    ``"٢٠٢٢"`` → ``"2022"``; ``"２０２０Ｑ３"`` → ``"2020Q3"``; ``"2021–2025"`` → ``"2021-2025"``.
    Other characters are returned unchanged (superscripts and fractions are not digits).
    """
    if text.isascii():
        return text
    out = []
    for char in text.translate(_DASHES):
        if char.isascii():
            out.append(char)
        elif (digit := unicodedata.decimal(char, None)) is not None:
            out.append(str(digit))
        elif 0xFF01 <= ord(char) <= 0xFF5E:  # full-width ！ … ～
            out.append(chr(ord(char) - 0xFEE0))
        else:
            out.append(char)
    return "".join(out)


def shown(text, limit: int = 40) -> str:
    """A piece of what someone typed, short enough to quote in a message."""
    text = str(text).replace("\x00", "")
    return text if len(text) <= limit else text[:limit] + "…"


def storable_problem(value: Decimal) -> str | None:
    """Why ``value`` cannot be stored exactly in a value column, or None when it can."""
    if not value.is_finite():
        return _("không phải là số")
    if abs(value) >= MAX_ABS_VALUE:
        return _("quá lớn: trị tuyệt đối phải nhỏ hơn 100.000.000.000.000 (10^14)")
    if value.is_zero():
        return None
    sign, digits, exponent = value.normalize().as_tuple()
    if exponent < -MAX_DECIMAL_PLACES:
        return _("tối đa %(places)s chữ số thập phân") % {"places": MAX_DECIMAL_PLACES}
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        return _("tối đa %(digits)s chữ số có nghĩa (tính cả phần nguyên và phần thập phân)") % {
            "digits": MAX_SIGNIFICANT_DIGITS
        }
    return None


HUNDRED = Decimal(100)


def percent_of(value: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """``value`` as a percentage of ``whole`` ("% đạt" of a plan); ``None`` when either is
    missing or the whole is zero, never a division error."""
    if value is None or not whole:
        return None
    return value / whole * HUNDRED
