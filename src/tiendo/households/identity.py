"""The citizen identity number (số căn cước / CCCD) of a household's people: 12 digits.

Its structure (Circular 07/2016/TT-BCA, kept by the 2023 Law on Identification):

- digits 1–3: the code of the province where the birth was registered (the 63 provinces'
  codes, 001 Hà Nội … 096 Cà Mau; the 2025 merger did not renumber issued cards);
- digit 4: century of birth and sex — 0/1 born 1900–1999 male/female, 2/3 2000–2099,
  4/5 2100–2199 (and 6/7, 8/9 for the centuries after);
- digits 5–6: the last two digits of the year of birth;
- digits 7–12: a random number.

:func:`check` tells what is wrong in Vietnamese, naming the digits; the number itself is
never echoed back in a message (it is personal data).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

PROVINCE_CODES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)

MALE, FEMALE = "M", "F"


def normalise(raw: str) -> str:
    """Spaces, dots and dashes people type between the groups of digits, removed."""
    return "".join(ch for ch in str(raw or "") if ch not in " .-\t\u00a0")


def century_and_sex(number: str) -> tuple[int, str]:
    """(first year of the century of birth, sex) the fourth digit says."""
    digit = int(number[3])
    return 1900 + 100 * (digit // 2), FEMALE if digit % 2 else MALE


def check(
    raw: str, *, birth_year: int | None = None, sex: str | None = None
) -> tuple[str, list[str]]:
    """``(number, problems)``: the number normalised, and what is wrong with it (empty: it
    is well formed and agrees with ``birth_year`` and ``sex`` where they are given)."""
    number = normalise(raw)
    if not number:
        return number, [_("Số căn cước trống.")]
    if not number.isascii() or not number.isdigit():
        return number, [_("Số căn cước chỉ gồm chữ số.")]
    if len(number) != 12:
        return number, [
            _("Số căn cước phải có 12 chữ số (số đã nhập có %(n)d).") % {"n": len(number)}
        ]
    problems = []
    if number[:3] not in PROVINCE_CODES:
        problems.append(
            _("Ba chữ số đầu của số căn cước (%(code)s) không phải mã tỉnh nơi đăng ký khai sinh.")
            % {"code": number[:3]}
        )
    century, card_sex = century_and_sex(number)
    card_year = century + int(number[4:6])
    if birth_year is not None and birth_year != card_year:
        problems.append(
            _("Năm sinh %(year)d không khớp với số căn cước (chữ số 4–6 cho năm %(card)d).")
            % {"year": birth_year, "card": card_year}
        )
    if sex in (MALE, FEMALE) and sex != card_sex:
        problems.append(
            _("Giới tính không khớp với chữ số thứ 4 của số căn cước (%(sex)s).")
            % {"sex": _("nữ") if card_sex == FEMALE else _("nam")}
        )
    return number, problems


def mask(number: str) -> str:
    """What a screen shows to someone who may not see the number: its last three digits
    (``number`` may be those three alone)."""
    if not number:
        return ""
    return "•" * 9 + number[-3:]
