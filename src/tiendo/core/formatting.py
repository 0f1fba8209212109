"""Numbers and dates the way a Vietnamese official writes them (Babel's vi_VN locale).

66.992 triệu đồng; 98,45%; 234,9 ha; ngày 16 tháng 11 năm 2020. Every screen, export and
document formats through these functions so the conventions live in one place.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from babel.numbers import format_decimal

LOCALE = "vi_VN"
NOT_A_NUMBER = "—"
# Beyond these a figure is shown as "1,23 × 10^30" / rounded: no stored value comes near
# (tiendo.core.numbers bounds them), but a computed ratio or a hostile input must not make
# formatting raise or build a million-digit string.
MAX_SHOWN_INTEGER_DIGITS = 24
MAX_SHOWN_DECIMALS = 12
_CONTEXT = Context(prec=MAX_SHOWN_INTEGER_DIGITS + MAX_SHOWN_DECIMALS + 4, rounding=ROUND_HALF_UP)


def _decimal(value) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):  # str() of a 5.000-digit int raises
        return Decimal(value)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _quantize(value: Decimal, decimals: int | None) -> Decimal:
    if decimals is None:
        return value.normalize() if value == value.to_integral() else value
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_number(value, decimals: int | None = None, *, trim: bool = True) -> str:
    """``66992`` → ``66.992``; ``234.9`` → ``234,9``; ``None`` → ``""``.

    ``decimals`` rounds half up; with ``trim`` trailing zeros after the comma are dropped
    (``18.0`` → ``18``) the way officials write figures. Never raises: NaN, infinities and
    text that is not a number are shown as ``—``, huge magnitudes as ``1,23 × 10^30``.
    """
    if value is None or value == "":
        return ""
    number = _decimal(value)
    if number is None or not number.is_finite():
        return NOT_A_NUMBER
    if not number.is_zero() and number.adjusted() >= MAX_SHOWN_INTEGER_DIGITS:
        return _scientific(number)
    if decimals is not None:
        decimals = max(0, min(decimals, MAX_SHOWN_DECIMALS))
    elif number.as_tuple().exponent < -MAX_SHOWN_DECIMALS:
        decimals = MAX_SHOWN_DECIMALS
    with localcontext(_CONTEXT):
        number = _quantize(number, decimals)
        if trim:
            number = number.to_integral() if number == number.to_integral() else number.normalize()
        pattern = "#,##0"
        places = -number.as_tuple().exponent if number.as_tuple().exponent < 0 else 0
        if places:
            pattern += "." + "0" * places
        return format_decimal(number, format=pattern, locale=LOCALE)


def _scientific(number: Decimal) -> str:
    sign, digits, _exponent = number.as_tuple()
    head = digits[:4]  # built from the digits: scaleb() fails past the context's Emax
    mantissa = Decimal((sign, head, 1 - len(head))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{format_number(mantissa)} × 10^{number.adjusted()}"


def format_percent(value, decimals: int = 2) -> str:
    """``98.4508`` → ``98,45%`` (the value is already a percentage)."""
    if value is None:
        return ""
    shown = format_number(value, decimals)
    return shown if shown in ("", NOT_A_NUMBER) else f"{shown}%"


def format_date(value: date | datetime | None) -> str:
    """``2020-10-31`` → ``31/10/2020``."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def format_date_long(value: date | datetime | None, *, leading_zero: bool = True) -> str:
    """``2020-11-16`` → ``ngày 16 tháng 11 năm 2020``.

    Decree 30/2020 asks for a leading zero on days under 10 and on months 1 and 2
    (``ngày 05 tháng 02 năm 2021``).
    """
    if value is None:
        return ""
    day = f"{value.day:02d}" if leading_zero else str(value.day)
    month = f"{value.month:02d}" if leading_zero and value.month <= 2 else str(value.month)
    return f"ngày {day} tháng {month} năm {value.year}"


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    from django.utils import timezone

    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%H:%M %d/%m/%Y")
