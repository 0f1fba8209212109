"""Reporting periods, identified as DESIGN.md says.

=========== ============== ==========================================
identifier  type           shown as
=========== ============== ==========================================
2020        year           năm 2020
2020S1      half-year      6 tháng đầu năm 2020 / 6 tháng cuối năm 2020
2020Q3      quarter        quý III/2020
202010      month          tháng 10/2020
2020-10-31  as-of date     đến ngày 31/10/2020
2021-2025   phase          giai đoạn 2021-2025
=========== ============== ==========================================

A period is a closed date range; containment is range containment, so a month lies in its
quarter, half-year, year and every phase that covers that year.

Identifiers are ASCII. :meth:`Period.parse` is the one place an id is formed (forms, Excel,
packages, the command line and GET parameters all go through it): it first turns other
Unicode decimal digits and full-width forms into ASCII (``٢٠٢٢`` and ``２０２２`` are the
period ``2022``, never a second one beside it) and refuses anything else that is not ASCII.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.numbers import shown, to_ascii


class PeriodError(TiendoError, ValueError):
    """A period identifier that cannot be read; the message is Vietnamese, for the user."""

    code = "period.invalid"


class PeriodType(StrEnum):
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"
    DATE = "date"
    PHASE = "phase"


PERIOD_TYPE_LABELS = {
    PeriodType.YEAR: "Năm",
    PeriodType.HALF: "6 tháng",
    PeriodType.QUARTER: "Quý",
    PeriodType.MONTH: "Tháng",
    PeriodType.DATE: "Đến ngày",
    PeriodType.PHASE: "Giai đoạn",
}

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
# How each type of period is named: (inside a sentence, on its own as a title).
_NAMES = {
    PeriodType.YEAR: (_("năm %(year)s"), _("Năm %(year)s")),
    (PeriodType.HALF, 1): (_("6 tháng đầu năm %(year)s"),) * 2,
    (PeriodType.HALF, 7): (_("6 tháng cuối năm %(year)s"),) * 2,
    PeriodType.QUARTER: (_("quý %(quarter)s/%(year)s"), _("Quý %(quarter)s năm %(year)s")),
    PeriodType.MONTH: (_("tháng %(month)s/%(year)s"), _("Tháng %(month)s năm %(year)s")),
    PeriodType.DATE: (_("đến ngày %(day)s"), _("Đến ngày %(day)s")),
    PeriodType.PHASE: (_("giai đoạn %(start)s-%(end)s"), _("Giai đoạn %(start)s–%(end)s")),
}
# [0-9], not \d: \d also matches ٢ and ２, which made look-alike ids.
_PATTERNS = [
    (PeriodType.DATE, re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")),
    (PeriodType.PHASE, re.compile(r"([0-9]{4})-([0-9]{4})")),
    (PeriodType.HALF, re.compile(r"([0-9]{4})S([12])")),
    (PeriodType.QUARTER, re.compile(r"([0-9]{4})Q([1-4])")),
    (PeriodType.MONTH, re.compile(r"([0-9]{4})([0-9]{2})")),
    (PeriodType.YEAR, re.compile(r"([0-9]{4})")),
]
MAX_INPUT_LENGTH = 80  # the longest id is 10 characters; this only bounds the work
MIN_YEAR, MAX_YEAR = 1990, 2100


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


class Period(str):
    """A period: a closed date range, and its canonical id — which it is, as a string.

    A period is the ``str`` of its id, so it stands wherever an id stood: it equals and
    hashes as ``"2022"`` (dict keys, ``value.period == "2022"``), prints, formats and goes
    to JSON as the id. Periods order among themselves by dates (``start``, ``end``), as a
    calendar does; against a plain string they order as strings. Immutable; made only by
    :meth:`parse` (or :meth:`year`), which returns the same object for the same text.
    """

    start: date
    end: date
    type: PeriodType

    def __new__(cls, start: date, end: date, id: str, type: PeriodType):  # noqa: A002
        self = super().__new__(cls, id)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "type", type)
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"Period is immutable: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"Period is immutable: cannot delete {name!r}")

    def __reduce__(self):
        return (Period.parse, (self.id,))

    def __repr__(self) -> str:
        return f"Period({self.id!r})"

    @property
    def id(self) -> str:
        return str.__str__(self)

    def _order(self) -> tuple:
        return (self.start, self.end, self.id)

    def __lt__(self, other):
        if isinstance(other, Period):
            return self._order() < other._order()
        return str.__lt__(self, other)

    def __le__(self, other):
        if isinstance(other, Period):
            return self._order() <= other._order()
        return str.__le__(self, other)

    def __gt__(self, other):
        if isinstance(other, Period):
            return self._order() > other._order()
        return str.__gt__(self, other)

    def __ge__(self, other):
        if isinstance(other, Period):
            return self._order() >= other._order()
        return str.__ge__(self, other)

    __eq__ = str.__eq__
    __hash__ = str.__hash__

    @classmethod
    def parse(cls, identifier: str | Period) -> Period:
        """The period named by ``identifier`` (a period is returned as it is); its ``id`` is
        always the canonical ASCII form."""
        if isinstance(identifier, Period):
            return identifier
        return _parse("" if identifier is None else str(identifier))

    @classmethod
    def _read(cls, text: str) -> Period:
        if len(text) > MAX_INPUT_LENGTH:
            raise PeriodError(
                _("Kỳ báo cáo “%(text)s” quá dài (%(length)d ký tự)."),
                code="period.too_long",
                text=shown(text),
                length=len(text),
            )
        identifier = text
        text = to_ascii(text).strip()
        if not text.isascii():  # checked before upper(): "ſ".upper() is "S"
            odd = next(c for c in text if not c.isascii())
            raise PeriodError(
                _(
                    "Kỳ báo cáo “%(text)s” chứa ký tự “%(char)s” (U+%(codepoint)s): chỉ dùng "
                    "chữ số, chữ S hoặc Q và dấu gạch ngang, ví dụ 2022, 2020Q3."
                ),
                code="period.not_ascii",
                text=shown(identifier),
                char=odd,
                codepoint=f"{ord(odd):04X}",
            )
        text = text.upper()
        for period_type, pattern in _PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                return cls._build(period_type, text, *map(int, match.groups()))
        raise PeriodError(
            _(
                "Kỳ báo cáo “%(text)s” không hợp lệ. Dùng một trong các dạng: 2020 (năm), "
                "2020S1 (6 tháng), 2020Q3 (quý), 202010 (tháng), 2020-10-31 (đến ngày), "
                "2021-2025 (giai đoạn)."
            ),
            code="period.invalid",
            text=shown(identifier),
        )

    @classmethod
    def _build(cls, period_type: PeriodType, text: str, year: int, *rest: int) -> Period:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(
                _("Kỳ báo cáo “%(text)s”: năm %(year)d nằm ngoài khoảng %(first)d-%(last)d."),
                code="period.year_out_of_range",
                text=text,
                year=year,
                first=MIN_YEAR,
                last=MAX_YEAR,
            )
        if period_type is PeriodType.YEAR:
            return cls(date(year, 1, 1), date(year, 12, 31), text, period_type)
        if period_type is PeriodType.HALF:
            (half,) = rest
            first = 1 if half == 1 else 7
            return cls(date(year, first, 1), _last_day(year, first + 5), text, period_type)
        if period_type is PeriodType.QUARTER:
            (quarter,) = rest
            first = 3 * quarter - 2
            return cls(date(year, first, 1), _last_day(year, first + 2), text, period_type)
        if period_type is PeriodType.MONTH:
            (month,) = rest
            if not 1 <= month <= 12:
                raise PeriodError(
                    _("Kỳ báo cáo “%(text)s”: tháng %(month)d không tồn tại."),
                    code="period.no_such_month",
                    text=text,
                    month=month,
                )
            return cls(date(year, month, 1), _last_day(year, month), text, period_type)
        if period_type is PeriodType.DATE:
            month, day = rest
            try:
                day_value = date(year, month, day)
            except ValueError as exc:
                raise PeriodError(
                    _("Kỳ báo cáo “%(text)s”: ngày không tồn tại."),
                    code="period.no_such_day",
                    text=text,
                ) from exc
            return cls(day_value, day_value, text, period_type)
        (last_year,) = rest
        if not year < last_year <= MAX_YEAR:
            raise PeriodError(
                _("Kỳ báo cáo “%(text)s”: năm cuối của giai đoạn phải lớn hơn năm đầu."),
                code="period.phase_reversed",
                text=text,
            )
        return cls(date(year, 1, 1), date(last_year, 12, 31), text, period_type)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls.parse(str(year))

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __contains__(self, other) -> bool:
        if isinstance(other, Period):
            return self.contains(other)
        return str.__contains__(self, other)

    @property
    def label(self) -> str:
        """The period's name inside a sentence, in the active language: in Vietnamese
        "quý III/2020", "6 tháng đầu năm 2020", "đến ngày 31/10/2020"."""
        return self._name(0)

    @property
    def title(self) -> str:
        """The period's name on its own (a list, a heading), in the active language: in
        Vietnamese "Quý III năm 2025", "6 tháng đầu năm 2025", "Giai đoạn 2021–2025"."""
        return self._name(1)

    def _name(self, style: int) -> str:
        key = (self.type, self.start.month) if self.type is PeriodType.HALF else self.type
        params = {
            "year": self.start.year,
            "quarter": _ROMAN[(self.start.month + 2) // 3],
            "month": self.start.month,
            "day": f"{self.start:%d/%m/%Y}",
            "start": self.start.year,
            "end": self.end.year,
        }
        return str(_NAMES[key][style]) % params

    def previous(self) -> Period:
        """The period of the same type just before this one (for "so với năm trước")."""
        y = self.start.year
        match self.type:
            case PeriodType.YEAR:
                return Period.year(y - 1)
            case PeriodType.HALF:
                return Period.parse(f"{y - 1}S2" if self.start.month == 1 else f"{y}S1")
            case PeriodType.QUARTER:
                q = (self.start.month + 2) // 3
                return Period.parse(f"{y - 1}Q4" if q == 1 else f"{y}Q{q - 1}")
            case PeriodType.MONTH:
                m = self.start.month
                return Period.parse(f"{y - 1}12" if m == 1 else f"{y}{m - 1:02d}")
            case PeriodType.DATE:
                return (
                    Period.parse(f"{y - 1}-{self.start:%m-%d}")
                    if not (self.start.month == 2 and self.start.day == 29)
                    else Period.parse(f"{y - 1}-02-28")
                )
            case PeriodType.PHASE:
                length = self.end.year - y + 1
                return Period.parse(f"{y - length}-{y - 1}")
        raise AssertionError(self.type)

    def years(self) -> list[Period]:
        """The calendar years this period touches, in order."""
        return [Period.year(y) for y in range(self.start.year, self.end.year + 1)]

    def __str__(self) -> str:
        return self.id


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Period:
    """:meth:`Period.parse` of a string, kept: every row read from the database parses its
    period, and a page reads the same few ids thousands of times."""
    return Period._read(text)
