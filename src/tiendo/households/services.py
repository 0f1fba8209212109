"""The one write path of the household register: pages, imports and the demo all call it.

Every write here has one shape (pretix ``base/services/orders.py``):

1. check the input — names and texts NFC, codes ASCII, ID numbers through
   :func:`tiendo.households.identity.check` — and raise :class:`RecordInvalid` naming
   each field that is wrong;
2. ``transaction.atomic``: re-read the record with ``select_for_update`` and compare its
   ``version`` with the one the form was prepared from (``expected_version``): a stale save
   raises :class:`StaleRecord`, naming who saved meanwhile, instead of overwriting it;
3. save, add one :class:`~tiendo.households.models.RecordChange` per changed field (ID
   numbers only masked), raise the version by one;
4. :func:`tiendo.households.events.changed` with the units whose figures may move — the
   household's residence commune and the land communes of its plots — in the same
   transaction, so a register indicator is never stale and a failing recomputation rolls
   the save back.

Members and poverty statuses carry no version of their own: they are part of the household
and move its version. A repayment moves its loan's version. Enrolments, loans and plots have
their own.

A household is never deleted: :func:`remove_household` marks it removed with a reason; its
records and their history stay, and the figures are computed again without it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_datetime, format_number
from tiendo.core.numbers import shown
from tiendo.core.text import nfc
from tiendo.households import crypto, events, identity
from tiendo.households.models import (
    Enrolment,
    Household,
    Loan,
    Member,
    Plot,
    PovertyLevel,
    PovertyStatus,
    RecordChange,
    Repayment,
    Sex,
)
from tiendo.programmes.models import Component, Programme
from tiendo.units.models import Level, Unit

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
FIRST_BIRTH_YEAR = 1900
MAX_AMOUNT = Decimal("1000000")  # triệu đồng: a thousand billion đồng is not a household loan
MAX_AREA = Decimal("10000")  # hectares
MAX_TERM_MONTHS = 600
REASON_MAX = 300


class RegisterError(TiendoError):
    code = "households.refused"


class StaleRecord(RegisterError):
    code = "households.stale"


class RecordInvalid(RegisterError):
    """The input of a write, refused; ``problems`` maps each field to what is wrong with it
    (``None`` for the record as a whole)."""

    code = "households.invalid"

    def __init__(self, problems: dict[str | None, list[str]]):
        self.problems = problems
        super().__init__(
            _("Hồ sơ chưa lưu được: %(problems)s"),
            problems="; ".join(str(m) for messages in problems.values() for m in messages),
        )


class _Problems:
    def __init__(self):
        self.found: dict[str | None, list[str]] = {}

    def add(self, field: str | None, message) -> None:
        self.found.setdefault(field, []).append(str(message))

    def raise_any(self) -> None:
        if self.found:
            raise RecordInvalid(self.found)


# --- reading what was typed ---------------------------------------------------------------


def _text(p: _Problems, data: dict, field: str, label, *, max_length: int, required=False) -> str:
    value = nfc(data.get(field))
    if "\x00" in value:
        p.add(field, _("“%(field)s” chứa ký tự không hợp lệ.") % {"field": label})
        return ""
    if required and not value:
        p.add(field, _("Hãy nhập “%(field)s”.") % {"field": label})
    if len(value) > max_length:
        p.add(
            field,
            _("“%(field)s” dài quá %(limit)s ký tự.") % {"field": label, "limit": max_length},
        )
    return value


def _year(p: _Problems, value, field: str, label, *, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            p.add(field, _("Hãy nhập “%(field)s”.") % {"field": label})
        return None
    this_year = timezone.localdate().year
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = None
    if year is None or not FIRST_BIRTH_YEAR <= year <= this_year:
        p.add(
            field,
            _("“%(field)s” phải là một năm từ %(low)s đến %(high)s.")
            % {"field": label, "low": FIRST_BIRTH_YEAR, "high": this_year},
        )
        return None
    return year


def _amount(p: _Problems, value, field: str, label, *, high: Decimal, required=True):
    if value in (None, ""):
        if required:
            p.add(field, _("Hãy nhập “%(field)s”.") % {"field": label})
        return None
    try:
        number = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        number = None
    if number is None or not number.is_finite() or not Decimal(0) <= number <= high:
        p.add(
            field,
            _("“%(field)s” phải là một số từ 0 đến %(high)s.")
            % {"field": label, "high": format_number(high)},
        )
        return None
    return number


def _day(p: _Problems, value, field: str, label, *, required=True) -> date | None:
    if value is None:
        if required:
            p.add(field, _("Hãy nhập “%(field)s”.") % {"field": label})
        return None
    if not isinstance(value, date):
        p.add(field, _("“%(field)s” không phải là ngày hợp lệ.") % {"field": label})
        return None
    return value


def _choice(p: _Problems, value, field: str, label, choices, *, required=True) -> str:
    value = value or ""
    if not value and not required:
        return ""
    if value not in choices.values:
        p.add(field, _("“%(field)s” không hợp lệ.") % {"field": label})
        return ""
    return value


def _label(model, field: str):
    return model._meta.get_field(field).verbose_name


def household_problems(data: dict, *, unit: Unit, household: Household | None = None):
    """``(clean, problems)`` for the fields of a household: the values to store and the
    :class:`_Problems` found. ``head_id`` may be absent (kept as it is) or empty (none)."""
    p = _Problems()
    clean: dict = {}
    if unit.level != Level.COMMUNE:
        p.add(None, _("Hộ gia đình chỉ thuộc một xã, phường, thị trấn (nơi cư trú)."))
    code = _text(p, data, "code", _label(Household, "code"), max_length=40, required=True)
    if code and not CODE_RE.fullmatch(code):
        p.add(
            "code",
            _(
                "Mã hộ “%(code)s” không hợp lệ: chỉ dùng chữ không dấu, chữ số, dấu chấm, gạch "
                "ngang, gạch chéo."
            )
            % {"code": shown(code)},
        )
    elif code:
        taken = Household.objects.filter(unit=unit, code=code)
        if household is not None:
            taken = taken.exclude(pk=household.pk)
        if taken.exists():
            p.add("code", _("Mã hộ “%(code)s” đã có trong xã.") % {"code": code})
    clean["code"] = code
    clean["village"] = _text(p, data, "village", _label(Household, "village"), max_length=200)
    clean["head_name"] = _text(
        p, data, "head_name", _label(Household, "head_name"), max_length=200, required=True
    )
    clean["head_birth_year"] = _year(
        p,
        data.get("head_birth_year"),
        "head_birth_year",
        _label(Household, "head_birth_year"),
        required=True,
    )
    clean["head_sex"] = _choice(
        p, data.get("head_sex"), "head_sex", _label(Household, "head_sex"), Sex
    )
    clean["ethnicity"] = _text(p, data, "ethnicity", _label(Household, "ethnicity"), max_length=60)
    phone = _text(p, data, "phone", _label(Household, "phone"), max_length=20)
    if phone and not re.fullmatch(r"[0-9 +().-]+", phone):
        p.add("phone", _("Số điện thoại chỉ gồm chữ số, dấu cách, dấu +, dấu chấm, gạch ngang."))
    clean["phone"] = phone
    clean["note"] = _text(p, data, "note", _label(Household, "note"), max_length=2000)
    if "head_id" in data:
        clean["head_id"] = _id_number(
            p, data.get("head_id"), "head_id", clean["head_birth_year"], clean["head_sex"]
        )
    return clean, p


def _id_number(p: _Problems, raw, field: str, birth_year, sex) -> str:
    raw = nfc(raw)
    if not raw:
        return ""
    if len(raw) > 40:
        p.add(field, _("Số căn cước phải có 12 chữ số."))
        return ""
    number, problems = identity.check(raw, birth_year=birth_year, sex=sex or None)
    for problem in problems:
        p.add(field, problem)
    return "" if problems else number


# --- history --------------------------------------------------------------------------------


def _shown_value(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(_("có")) if value else str(_("không"))
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format_number(value)
    return str(value)[:300]


def _log(household, record: str, record_id: int, changes, *, version: int, user, source: str):
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                household=household,
                record=record,
                record_id=record_id,
                field=field,
                old=_shown_value(old),
                new=_shown_value(new),
                version=version,
                source=source[:40],
                changed_by=user if getattr(user, "is_authenticated", False) else None,
            )
            for field, old, new in changes
        ]
    )


def _apply(obj, values: dict) -> list[tuple[str, object, object]]:
    """Set ``values`` on ``obj``; the ``(field, old, new)`` of those that differ."""
    changes = []
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes.append((field, old, new))
            setattr(obj, field, new)
    return changes


def _fk_changes(obj, values: dict) -> list[tuple[str, object, object]]:
    """Like :func:`_apply` for foreign keys given as objects (history shows their names)."""
    changes = []
    for field, new in values.items():
        old_id = getattr(obj, f"{field}_id")
        new_id = new.pk if new is not None else None
        if old_id != new_id:
            old = getattr(obj, field)
            changes.append((field, str(old) if old else "", str(new) if new else ""))
            setattr(obj, field, new)
    return changes


def _stale(record, expected_version, what) -> None:
    if expected_version is None or int(expected_version) == record.version:
        return
    who = record.updated_by
    name = (who.get_full_name() or who.username) if who is not None else _("người khác")
    raise StaleRecord(
        _(
            "%(what)s vừa được %(who)s lưu lúc %(when)s, sau khi bạn mở trang này; thay đổi "
            "của bạn chưa được lưu. Xin tải lại trang, xem lại rồi nhập lại."
        ),
        what=what,
        who=name,
        when=format_datetime(timezone.localtime(record.updated_at)),
    )


def _locked_household(household: Household, expected_version) -> Household:
    current = (
        Household.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .get(pk=household.pk)
    )
    _stale(current, expected_version, _("Hộ %(code)s") % {"code": current.code})
    return current


def _open_household(household: Household, expected_version=None) -> Household:
    current = _locked_household(household, expected_version)
    if current.removed_at is not None:
        raise RegisterError(
            _("Hộ %(household)s đã bị xóa khỏi danh sách; không sửa được hồ sơ của hộ."),
            code="households.removed",
            household=current.code,
        )
    return current


def _bump(record, user) -> None:
    record.version += 1
    record.updated_by = user if getattr(user, "is_authenticated", False) else None


def affected_units(household: Household, *extra) -> set[int]:
    """The units whose register figures a change of ``household`` may move."""
    units = {household.unit_id, *extra}
    units |= set(household.plots.values_list("land_unit_id", flat=True))
    return {u for u in units if u is not None}


# --- households ----------------------------------------------------------------------------


def create_household(
    unit: Unit, data: dict, *, user=None, source: str = "form", illustrative=False
) -> Household:
    """A new household of ``unit`` from ``data`` (the fields of :func:`household_problems`)."""
    clean, p = household_problems(data, unit=unit)
    p.raise_any()
    head_id = clean.pop("head_id", "")
    with transaction.atomic():
        household = Household(unit=unit, illustrative=illustrative, **clean)
        household.set_head_id(head_id)
        household.updated_by = user if getattr(user, "is_authenticated", False) else None
        household.save()
        changes = [("*", "", household.code)]
        _log(household, "household", household.pk, changes, version=1, user=user, source=source)
        events.changed({unit.pk}, user=user, source=source)
    return household


def update_household(
    household: Household, data: dict, *, expected_version, user=None, source: str = "form"
) -> Household:
    """Change the fields ``data`` gives; ``head_id`` absent keeps the ID number."""
    clean, p = household_problems(data, unit=household.unit, household=household)
    p.raise_any()
    with transaction.atomic():
        current = _open_household(household, expected_version)
        changes = _apply(current, {k: v for k, v in clean.items() if k != "head_id"})
        if "head_id" in clean:
            old_index, old_masked = current.head_id_index, current.head_id_masked
            current.set_head_id(clean["head_id"])
            if current.head_id_index != old_index:
                changes.append(("head_id", old_masked, current.head_id_masked))
        if changes:
            _bump(current, user)
            current.save()
            _log(
                current,
                "household",
                current.pk,
                changes,
                version=current.version,
                user=user,
                source=source,
            )
            events.changed(affected_units(current), user=user, source=source)
    return current


def remove_household(
    household: Household, *, reason: str, expected_version, user=None, source: str = "form"
) -> Household:
    """Mark ``household`` removed (never deleted): its records and history stay; the
    figures it counted in are computed again without it."""
    reason = nfc(reason)
    if not reason:
        raise RecordInvalid({"reason": [str(_("Hãy ghi lý do xóa hộ khỏi danh sách."))]})
    if len(reason) > REASON_MAX:
        raise RecordInvalid(
            {"reason": [str(_("Lý do dài quá %(limit)s ký tự.") % {"limit": REASON_MAX})]}
        )
    with transaction.atomic():
        current = _open_household(household, expected_version)
        current.removed_at = timezone.now()
        current.removed_reason = reason
        _bump(current, user)
        current.save()
        _log(
            current,
            "household",
            current.pk,
            [("removed", "", reason)],
            version=current.version,
            user=user,
            source=source,
        )
        events.changed(affected_units(current), user=user, source=source)
    return current


# --- members and poverty (part of the household's version) ---------------------------------


def _member_values(data: dict) -> tuple[dict, str | None, _Problems]:
    p = _Problems()
    values = {
        "name": _text(p, data, "name", _label(Member, "name"), max_length=200, required=True),
        "birth_year": _year(
            p, data.get("birth_year"), "birth_year", _label(Member, "birth_year"), required=False
        ),
        "sex": _choice(p, data.get("sex"), "sex", _label(Member, "sex"), Sex, required=False),
        "relation": _text(p, data, "relation", _label(Member, "relation"), max_length=60),
    }
    id_number = None
    if "id_number" in data:
        id_number = _id_number(
            p, data.get("id_number"), "id_number", values["birth_year"], values["sex"]
        )
    return values, id_number, p


def save_member(
    household: Household,
    data: dict,
    *,
    member: Member | None = None,
    expected_version,
    user=None,
    source: str = "form",
) -> Member:
    """Add a member to ``household`` (``member`` None) or change ``member``."""
    values, id_number, p = _member_values(data)
    p.raise_any()
    with transaction.atomic():
        current = _open_household(household, expected_version)
        if member is None:
            member = Member(household=current, **values)
            member.set_id(id_number or "")
            member.save()
            changes = [("*", "", member.name)]
        else:
            member = Member.objects.select_for_update().get(pk=member.pk, household=current)
            changes = _apply(member, values)
            if id_number is not None:
                old_index, old_last3 = member.id_index, member.id_last3
                member.set_id(id_number)
                if member.id_index != old_index:
                    changes.append(
                        ("id_number", identity.mask(old_last3), identity.mask(member.id_last3))
                    )
            if not changes:
                return member
            member.save()
        _household_changed(current, "member", member.pk, changes, user=user, source=source)
    return member


def remove_member(member: Member, *, expected_version, user=None, source: str = "form") -> None:
    with transaction.atomic():
        current = _open_household(member.household, expected_version)
        member = Member.objects.select_for_update().get(pk=member.pk, household=current)
        changes = [("*", member.name, "")]
        record_id = member.pk
        member.delete()
        _household_changed(current, "member", record_id, changes, user=user, source=source)


def set_poverty(
    household: Household,
    year,
    level: str,
    *,
    expected_version,
    user=None,
    source: str = "form",
) -> PovertyStatus | None:
    """The household's classification in ``year``'s review; ``level`` "" clears it."""
    p = _Problems()
    this_year = timezone.localdate().year
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= this_year + 1:
        p.add("year", _("Năm rà soát phải từ 2000 đến %(high)s.") % {"high": this_year + 1})
    level = _choice(p, level, "level", _label(PovertyStatus, "level"), PovertyLevel, required=False)
    p.raise_any()
    with transaction.atomic():
        current = _open_household(household, expected_version)
        status = PovertyStatus.objects.select_for_update().filter(household=current, year=year)
        status = status.first()
        old = status.get_level_display() if status else ""
        if not level:
            if status is None:
                return None
            record_id = status.pk
            status.delete()
            status = None
        elif status is None:
            status = PovertyStatus.objects.create(household=current, year=year, level=level)
            record_id = status.pk
        elif status.level == level:
            return status
        else:
            status.level = level
            status.save(update_fields=["level"])
            record_id = status.pk
        new = status.get_level_display() if status else ""
        _household_changed(
            current, "poverty", record_id, [(str(year), old, new)], user=user, source=source
        )
    return status


def _household_changed(household, record, record_id, changes, *, user, source) -> None:
    _bump(household, user)
    household.save(update_fields=["version", "updated_by", "updated_at"])
    _log(household, record, record_id, changes, version=household.version, user=user, source=source)
    events.changed(affected_units(household), user=user, source=source)


# --- enrolments, loans, plots (each with its own version) ----------------------------------


def _programme_and_component(p: _Problems, data: dict, *, required=True):
    programme = data.get("programme")
    component = data.get("component")
    if programme is None:
        if required:
            p.add("programme", _("Hãy chọn chương trình."))
        return None, None
    if not isinstance(programme, Programme):
        p.add("programme", _("Chương trình không hợp lệ."))
        return None, None
    if component is not None and (
        not isinstance(component, Component) or component.programme_id != programme.pk
    ):
        p.add("component", _("Nội dung không thuộc chương trình đã chọn."))
        component = None
    return programme, component


def _enrolment_values(data: dict) -> dict:
    p = _Problems()
    programme, component = _programme_and_component(p, data)
    values = {
        "programme": programme,
        "component": component,
        "enrolled_on": _day(p, data.get("enrolled_on"), "enrolled_on", _("ngày tham gia")),
        "benefiting": bool(data.get("benefiting")),
        "decision_number": _text(
            p, data, "decision_number", _label(Enrolment, "decision_number"), max_length=80
        ),
        "decision_date": _day(
            p, data.get("decision_date"), "decision_date", _("ngày quyết định"), required=False
        ),
        "ended_on": _day(p, data.get("ended_on"), "ended_on", _("ngày kết thúc"), required=False),
    }
    if values["ended_on"] and values["enrolled_on"] and values["ended_on"] < values["enrolled_on"]:
        p.add("ended_on", _("Ngày kết thúc phải sau ngày tham gia."))
    p.raise_any()
    return values


def _loan_values(data: dict) -> dict:
    p = _Problems()
    programme, component = _programme_and_component(p, data)
    values = {
        "programme": programme,
        "component": component,
        "contract_number": _text(
            p, data, "contract_number", _label(Loan, "contract_number"), max_length=60
        ),
        "amount": _amount(p, data.get("amount"), "amount", _label(Loan, "amount"), high=MAX_AMOUNT),
        "disbursed_on": _day(p, data.get("disbursed_on"), "disbursed_on", _("ngày giải ngân")),
        "term_months": None,
        "purpose": _text(p, data, "purpose", _label(Loan, "purpose"), max_length=300),
        "interest_rate": _amount(
            p,
            data.get("interest_rate"),
            "interest_rate",
            _label(Loan, "interest_rate"),
            high=Decimal(100),
            required=False,
        ),
        "interest_support": _amount(
            p,
            data.get("interest_support"),
            "interest_support",
            _label(Loan, "interest_support"),
            high=MAX_AMOUNT,
            required=False,
        )
        or Decimal(0),
        "lender": _text(p, data, "lender", _label(Loan, "lender"), max_length=200),
    }
    term = data.get("term_months")
    if not isinstance(term, int) or isinstance(term, bool) or not 1 <= term <= MAX_TERM_MONTHS:
        p.add(
            "term_months",
            _("Thời hạn vay phải là số tháng từ 1 đến %(high)s.") % {"high": MAX_TERM_MONTHS},
        )
    else:
        values["term_months"] = term
    p.raise_any()
    return values


def _plot_values(data: dict) -> dict:
    p = _Problems()
    programme, component = _programme_and_component(p, data, required=False)
    land_unit = data.get("land_unit")
    if not isinstance(land_unit, Unit):
        p.add("land_unit", _("Hãy chọn xã nơi có đất."))
        land_unit = None
    elif land_unit.level != Level.COMMUNE:
        p.add("land_unit", _("Nơi có đất phải là một xã, phường, thị trấn."))
    year_renovated = data.get("year_renovated")
    this_year = timezone.localdate().year
    if year_renovated in ("", None):
        year_renovated = None
    elif not isinstance(year_renovated, int) or not 2000 <= year_renovated <= this_year:
        p.add(
            "year_renovated",
            _("Năm cải tạo phải từ 2000 đến %(high)s.") % {"high": this_year},
        )
        year_renovated = None
    values = {
        "land_unit": land_unit,
        "programme": programme,
        "component": component,
        "area_ha": _amount(
            p, data.get("area_ha"), "area_ha", _label(Plot, "area_ha"), high=MAX_AREA
        ),
        "crop": _text(p, data, "crop", _label(Plot, "crop"), max_length=120, required=True),
        "is_garden": bool(data.get("is_garden")),
        "year_renovated": year_renovated,
        "jobs": 0,
    }
    for field in ("income_before", "income_after", "net_income_after"):
        values[field] = _amount(
            p, data.get(field), field, _label(Plot, field), high=MAX_AMOUNT, required=False
        )
    jobs = data.get("jobs") or 0
    if not isinstance(jobs, int) or isinstance(jobs, bool) or not 0 <= jobs <= 10000:
        p.add("jobs", _("Số lao động phải là số nguyên từ 0 đến 10.000."))
    else:
        values["jobs"] = jobs
    p.raise_any()
    return values


@dataclass(frozen=True)
class _Kind:
    model: type
    record: str
    label: object
    values: object
    foreign: tuple[str, ...]


KINDS = {
    "enrolment": _Kind(
        Enrolment,
        "enrolment",
        _("Việc tham gia chương trình"),
        _enrolment_values,
        ("programme", "component"),
    ),
    "loan": _Kind(Loan, "loan", _("Khoản vay"), _loan_values, ("programme", "component")),
    "plot": _Kind(
        Plot, "plot", _("Thửa đất, vườn"), _plot_values, ("land_unit", "programme", "component")
    ),
}


def save_record(
    kind: str,
    household: Household,
    data: dict,
    *,
    record=None,
    expected_version=None,
    user=None,
    source: str = "form",
):
    """Add (``record`` None) or change an enrolment, a loan or a plot of ``household``.

    ``kind`` is ``"enrolment"``, ``"loan"`` or ``"plot"``; a change checks the record's
    own ``version`` against ``expected_version``."""
    spec = KINDS[kind]
    values = spec.values(data)
    with transaction.atomic():
        current = _open_household(household)
        if record is None:
            record = spec.model(household=current, **values)
            record.updated_by = user if getattr(user, "is_authenticated", False) else None
            record.save()
            changes = [("*", "", str(record))]
            extra = {getattr(record, "land_unit_id", None)}
        else:
            record = (
                spec.model.objects.select_for_update(of=("self",))
                .select_related("updated_by")
                .get(pk=record.pk, household=current)
            )
            _stale(record, expected_version, spec.label)
            extra = {getattr(record, "land_unit_id", None)}
            foreign = {f: values.pop(f) for f in spec.foreign}
            changes = _fk_changes(record, foreign) + _apply(record, values)
            if not changes:
                return record
            _bump(record, user)
            record.save()
        _log(
            current,
            spec.record,
            record.pk,
            changes,
            version=record.version,
            user=user,
            source=source,
        )
        events.changed(affected_units(current, *extra), user=user, source=source)
    return record


def remove_record(kind: str, record, *, expected_version, user=None, source: str = "form") -> None:
    """Take an enrolment, a loan (with its repayments) or a plot entered by mistake off the
    household; the history keeps what it was."""
    spec = KINDS[kind]
    with transaction.atomic():
        current = _open_household(record.household)
        record = (
            spec.model.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=record.pk, household=current)
        )
        _stale(record, expected_version, spec.label)
        extra = {getattr(record, "land_unit_id", None)}
        record_id, label, version = record.pk, str(record), record.version + 1
        record.delete()
        _log(
            current,
            spec.record,
            record_id,
            [("*", label, "")],
            version=version,
            user=user,
            source=source,
        )
        events.changed(affected_units(current, *extra), user=user, source=source)


def add_repayment(
    loan: Loan, data: dict, *, expected_version, user=None, source: str = "form"
) -> Repayment:
    """A repayment of ``loan`` (principal and interest, triệu đồng); moves the loan's
    version, so two officers entering the same repayment do not both save it."""
    p = _Problems()
    paid_on = _day(p, data.get("paid_on"), "paid_on", _("ngày trả"))
    principal = _amount(
        p, data.get("principal"), "principal", _label(Repayment, "principal"), high=MAX_AMOUNT
    )
    interest = _amount(
        p,
        data.get("interest"),
        "interest",
        _label(Repayment, "interest"),
        high=MAX_AMOUNT,
        required=False,
    )
    if paid_on and paid_on < loan.disbursed_on:
        p.add("paid_on", _("Ngày trả phải từ ngày giải ngân trở đi."))
    if principal is not None and paid_on and principal > loan.outstanding(paid_on):
        p.add(
            "principal",
            _("Tiền gốc trả lớn hơn dư nợ (%(owed)s triệu đồng).")
            % {"owed": format_number(loan.outstanding(paid_on))},
        )
    p.raise_any()
    with transaction.atomic():
        household = _open_household(loan.household)
        current = (
            Loan.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=loan.pk, household=household)
        )
        _stale(current, expected_version, _("Khoản vay"))
        repayment = Repayment.objects.create(
            loan=current,
            paid_on=paid_on,
            principal=principal,
            interest=interest or Decimal(0),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _bump(current, user)
        current.save(update_fields=["version", "updated_by", "updated_at"])
        _log(
            household,
            "repayment",
            repayment.pk,
            [("*", "", f"{format_date(paid_on)}: {format_number(principal)}")],
            version=current.version,
            user=user,
            source=source,
        )
        events.changed(affected_units(household), user=user, source=source)
    return repayment


# --- duplicates -----------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A name as duplicates are compared: NFC, case folded, spaces collapsed (``"NGUYỄN
    văn  A"`` and ``"Nguyễn Văn A"`` are one name; ``"Hà"`` and ``"Hạ"`` are not)."""
    folded = unicodedata.normalize("NFC", nfc(name).casefold())
    return " ".join(folded.split())


@dataclass(frozen=True)
class Duplicate:
    household: Household
    reason: str  # "id_number" or "name"

    @property
    def reason_text(self) -> str:
        if self.reason == "id_number":
            return str(_("cùng số căn cước"))
        return str(_("cùng họ tên, năm sinh chủ hộ và xã"))


def find_duplicates(
    *,
    head_id: str = "",
    id_index: str = "",
    head_name: str = "",
    birth_year: int | None = None,
    unit: Unit | None = None,
    exclude: Household | None = None,
) -> list[Duplicate]:
    """Households of the register (not removed) that may be the same: the same ID number
    (``head_id`` typed, or its blind index ``id_index``; a head's or a member's) anywhere,
    or the same head name, birth year and residence commune."""
    found: dict[int, Duplicate] = {}
    active = Household.objects.active().select_related("unit")
    if exclude is not None:
        active = active.exclude(pk=exclude.pk)
    number = identity.normalise(head_id)
    index = crypto.blind_index(number) if number else id_index
    if index:
        same = active.filter(Q(head_id_index=index) | Q(members__id_index=index))
        for household in same.distinct():
            found[household.pk] = Duplicate(household, "id_number")
    if head_name and birth_year and unit is not None:
        key = name_key(head_name)
        for household in active.filter(unit=unit, head_birth_year=birth_year):
            if household.pk not in found and name_key(household.head_name) == key:
                found[household.pk] = Duplicate(household, "name")
    return sorted(found.values(), key=lambda d: (d.household.unit.code, d.household.code))


def duplicates(household: Household) -> list[Duplicate]:
    """The households that may be ``household`` registered a second time."""
    return find_duplicates(
        id_index=household.head_id_index,
        head_name=household.head_name,
        birth_year=household.head_birth_year,
        unit=household.unit,
        exclude=household,
    )
