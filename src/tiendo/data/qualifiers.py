"""The word an official writes before a figure: "khoảng 334 người", "hơn 462 tỷ", "ước 12,5".

A value keeps its qualifier beside the number (``DataValue.qualifier``); the number stays a
number (summed, checked against rules), and the word is printed before it wherever the
figure is shown: entry page, history, Excel, pivot table and CSV, programme page, Word.

The printed word is Vietnamese whatever the screen's language, like the number's format
(``1.234,5``): it is part of the figure, and what is printed can be read back (an Excel
cell "khoảng 334" downloaded, then uploaded, keeps its qualifier).

Aggregates: a rolled-up figure whose parts include a qualified value is marked too, so
that a province total built on an estimate is not printed as an exact figure. When every
qualified part carries the same word it is kept (a sum of "hơn 300" and 500 is "hơn 800",
of "khoảng 300" and 500 "khoảng 800"); parts with different words give "ước" (estimated).
"""

from __future__ import annotations

import re
import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _


class Qualifier(models.TextChoices):
    NONE = "", _("(chính xác)")
    ABOUT = "about", _("khoảng")
    OVER = "over", _("hơn")
    UNDER = "under", _("dưới")
    NEARLY = "nearly", _("gần")
    ESTIMATED = "estimated", _("ước")


# The word printed before a figure (never translated: see the module's head).
WORDS = {
    Qualifier.ABOUT: "khoảng",
    Qualifier.OVER: "hơn",
    Qualifier.UNDER: "dưới",
    Qualifier.NEARLY: "gần",
    Qualifier.ESTIMATED: "ước",
}

# What an official may type, without accents and in lower case: the printed words and a
# few synonyms ("trên 500" is "hơn 500", "ước tính", "xấp xỉ", "chừng").
_TYPED = {
    "khoang": Qualifier.ABOUT,
    "xap xi": Qualifier.ABOUT,
    "chung": Qualifier.ABOUT,
    "hon": Qualifier.OVER,
    "tren": Qualifier.OVER,
    "duoi": Qualifier.UNDER,
    "gan": Qualifier.NEARLY,
    "uoc": Qualifier.ESTIMATED,
    "uoc tinh": Qualifier.ESTIMATED,
    "uoc dat": Qualifier.ESTIMATED,
}
# longest first, so that "ước tính" is not read as "ước" followed by "tính"
_ALTERNATIVES = sorted((w.replace(" ", r"\s+") for w in _TYPED), key=len, reverse=True)
_WORD = re.compile(r"(" + "|".join(_ALTERNATIVES) + r")(?![a-z])")


def plain(text: str) -> str:
    """``text`` in lower case without Vietnamese accents (``Khoảng`` → ``khoang``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def split_qualifier(text: str) -> tuple[str, str, str]:
    """``(qualifier, word, rest)`` of a typed figure: ``"Khoảng 334"`` →
    ``("about", "Khoảng", "334")``; no leading qualifier word: ``("", "", text)``.

    Accents and case do not matter (``khoang 334``, ``HƠN 5``). The word stands at the
    start and does not run into a longer word (``hơnnữa`` is not ``hơn``)."""
    stripped = text.strip()
    flat = plain(stripped)
    # removing accents keeps one character per letter of NFC text, except for decomposed
    # input: compare lengths to be sure the positions match before cutting ``stripped``
    if len(flat) != len(stripped):
        stripped = unicodedata.normalize("NFC", stripped)
        flat = plain(stripped)
    match = _WORD.match(flat)
    if match is None or len(flat) != len(stripped):
        return "", "", text
    end = match.end()
    word = re.sub(r"\s+", " ", match.group(1))
    return _TYPED[word].value, stripped[:end], stripped[end:].strip()


def word(qualifier: str) -> str:
    return WORDS.get(qualifier, "")


def qualified(text: str, qualifier: str) -> str:
    """``text`` (a formatted figure) with the qualifier's word before it; a blank stays blank."""
    if not text or not qualifier:
        return text
    return f"{word(qualifier)} {text}"


def combined(qualifiers) -> str:
    """The qualifier of an aggregate of values with these qualifiers (see the module's head)."""
    found = {q for q in qualifiers if q}
    if not found:
        return ""
    return found.pop() if len(found) == 1 else Qualifier.ESTIMATED.value
