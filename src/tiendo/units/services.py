"""Looking units up, keeping the unit list, and re-expressing older units in today's.

The writes (:func:`create_agency`, :func:`set_split_shares`) have the shape of every
workflow step: inside one transaction, lock the rows that change → check the rules,
raising :class:`UnitRefused` → save → an audit entry with who, what was and what is.
Who may make them is the caller's business (``accounts.scope``, checked by the pages):
the unit domain sits below accounts and does not import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.units.models import Level, Unit, UnitChange, UnitKind

AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
AGENCY_SOURCE = "thủ công"


class UnitNotFound(TiendoError, LookupError):
    """No unit answers a code."""

    code = "unit.not_found"
    default_message = _("Không tìm thấy đơn vị.")


class UnitRefused(TiendoError, ValueError):
    """A change to the unit list that its rules do not allow.

    ``argument`` names the value at fault (``"valid_to"``), so that a form can show the
    message beside the field that holds it; it is empty when no single value is.
    """

    code = "unit.refused"

    def __init__(self, message=None, *, argument: str = "", **kwargs):
        self.argument = argument
        super().__init__(message, **kwargs)


def resolve_unit(code: str, on: date | None = None) -> Unit:
    """The unit with this official code, preferring the one valid on ``on``.

    Codes are kept across the 2025 reform for some units (Tuyên Quang is 08 before and
    after), so a code can name two units; without a date the one valid today wins, then
    the most recent.
    """
    code = (code or "").strip()
    units = list(Unit.objects.filter(code=code).order_by("level"))
    if not units:
        raise UnitNotFound(_("Không có đơn vị nào mang mã “%(unit_code)s”."), unit_code=code)
    if len(units) == 1:
        return units[0]
    day = on or date.today()
    valid = [u for u in units if u.is_valid_on(day)]
    if len(valid) >= 1:
        return sorted(valid, key=lambda u: u.level)[0]
    return sorted(units, key=lambda u: (u.valid_to or date.max, -u.level), reverse=True)[0]


def current_successors(unit: Unit, today: date | None = None) -> list[Unit]:
    """Units valid today that ``unit`` (wholly or in part) became, following chains of changes."""
    today = today or date.today()
    if unit.is_valid_on(today):
        return [unit]
    seen, frontier, result = {unit.pk}, [unit.pk], []
    while frontier:
        links = UnitChange.objects.filter(predecessor_id__in=frontier).select_related("successor")
        frontier = []
        for link in links:
            succ = link.successor
            if succ.pk in seen:
                continue
            seen.add(succ.pk)
            if succ.is_valid_on(today):
                result.append(succ)
            else:
                frontier.append(succ.pk)
    if not result and unit.parent_id:
        return current_successors(unit.parent, today)
    return sorted(result, key=lambda u: u.code)


@dataclass
class TodayMapping:
    """How much of each older unit's own data belongs to a current unit's subtree."""

    factors: dict[int, Decimal] = field(default_factory=dict)
    # (old unit, reason) for units whose data cannot be placed without an allocation share
    flagged: list[tuple[Unit, str]] = field(default_factory=list)


def map_to_today(target: Unit, on: date | None = None) -> TodayMapping:
    """Which units of older trees add their data to ``target`` (a unit of the tree of
    ``on``, today by default), through every chain of changes in effect by then: see
    :mod:`tiendo.units.chains`.

    The units of the target's own subtree are not listed: they count whole. A unit of an
    older tree counts through its nearest ancestor-or-self that has change links (a commune
    through its own merges, an agency or a district through its province's): whole when all
    its paths end in the target's subtree, by the product of the shares along them when only
    some do, and not at all — flagged — when some do but a share is missing. Nothing is
    counted twice.
    """
    from tiendo.units.chains import map_units

    return map_units([target], on or date.today())[target.pk]


def search_units(query: str, *, on: date | None = None):
    """Units whose name or code contains ``query`` (accents matter; NFC both sides)."""
    import unicodedata

    text = unicodedata.normalize("NFC", (query or "").strip())
    qs = Unit.objects.all()
    if on:
        qs = qs.valid_on(on)
    if not text:
        return qs.none()
    return qs.filter(Q(code__iexact=text) | Q(name__icontains=text)).order_by("level", "name")


# --- keeping the unit list ----------------------------------------------------------------


def agency_problems(
    parent: Unit, *, agency_code: str | None, valid_from: date | None, valid_to: date | None
) -> list[UnitRefused]:
    """Every rule that a new agency under ``parent`` would break (none: it may be added).

    An agency has a code of its own among agencies and lives within its unit's validity.
    ``agency_code=None`` leaves the code rules out (a form that has no usable code yet).
    """
    problems = []
    if agency_code is not None:
        if not AGENCY_CODE.match(agency_code):
            problems.append(
                UnitRefused(
                    _("Mã chỉ gồm chữ, số, dấu chấm, gạch ngang hoặc gạch dưới."),
                    code="unit.agency_code_malformed",
                    argument="code",
                )
            )
        elif Unit.objects.agencies().filter(code=agency_code).exists():
            problems.append(
                UnitRefused(
                    _("Đã có cơ quan mang mã “%(agency_code)s”."),
                    code="unit.agency_code_taken",
                    argument="code",
                    agency_code=agency_code,
                )
            )
    # (broken, message, code, the date at fault)
    date_rules = [
        (
            valid_from and valid_to and valid_from > valid_to,
            _("Ngày hết hiệu lực phải sau ngày có hiệu lực."),
            "unit.agency_ends_before_start",
            "valid_to",
        ),
        (
            valid_to and parent.valid_to and valid_to > parent.valid_to,
            _("Cơ quan không thể còn hiệu lực sau khi %(unit)s hết hiệu lực."),
            "unit.agency_outlives_unit",
            "valid_to",
        ),
        (
            valid_from and parent.valid_from and valid_from < parent.valid_from,
            _("Cơ quan không thể có hiệu lực trước %(unit)s."),
            "unit.agency_precedes_unit",
            "valid_from",
        ),
    ]
    problems += [
        UnitRefused(message, code=code, argument=argument, unit=parent.name)
        for broken, message, code, argument in date_rules
        if broken
    ]
    return problems


def create_agency(
    parent: Unit,
    *,
    agency_code: str,
    name: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
    actor=None,
) -> Unit:
    """Attach an agency or organisation (Sở, Liên minh HTX, Ban chỉ đạo…) to ``parent``.

    Without an end date the agency ends with its unit: it does not outlive it.
    """
    with transaction.atomic():
        # additions under one unit queue here, so two of one code cannot both pass the check
        parent = Unit.objects.select_for_update().get(pk=parent.pk)
        problems = agency_problems(
            parent, agency_code=agency_code, valid_from=valid_from, valid_to=valid_to
        )
        if problems:
            raise problems[0]
        agency = Unit(
            code=agency_code,
            name=nfc(name),
            kind=UnitKind.AGENCY,
            level=min(parent.level + 1, Level.COMMUNE),
            parent=parent,
            valid_from=valid_from,
            valid_to=valid_to if valid_to is not None else parent.valid_to,
            source=AGENCY_SOURCE,
        )
        agency.save()
        audit(
            "unit.agency_created",
            actor=actor,
            unit=parent,
            obj=agency,
            name=agency.name,
            code=agency.code,
            parent=parent.name,
            old=None,
            new={
                "code": agency.code,
                "name": agency.name,
                "level": agency.level,
                "valid_from": agency.valid_from,
                "valid_to": agency.valid_to,
            },
        )
    return agency


def split_links(predecessor: Unit, *, lock: bool = False) -> list[UnitChange]:
    """The links of a unit split across several successors, by successor code.

    Raises :class:`UnitRefused` when the unit went into fewer than two units.
    """
    links = UnitChange.objects.filter(predecessor=predecessor)
    if lock:
        links = links.select_for_update(of=("self",))
    links = list(links.select_related("successor").order_by("successor__code"))
    if len(links) < 2:
        raise UnitRefused(_("Đơn vị này không bị chia tách."), code="unit_change.not_split")
    return links


def set_split_shares(predecessor: Unit, shares: dict[int, Decimal], *, actor=None) -> list[dict]:
    """Set the allocation shares of a split unit: ``shares`` maps each link's id to the
    fraction (0…1) of the old unit's data that its successor takes; together they make 1.

    Returns the changes made, ``{"successor": code, "old": share, "new": share}`` each.
    """
    with transaction.atomic():
        links = split_links(predecessor, lock=True)
        _check_shares(predecessor, links, shares)
        changed = []
        for link in links:
            new = shares[link.pk]
            if link.share != new:
                changed.append({"successor": link.successor.code, "old": link.share, "new": new})
                link.share = new
                link.save(update_fields=["share"])
        if changed:
            audit(
                "unit_change.shares_set",
                actor=actor,
                unit=predecessor,
                obj=predecessor,
                unit_name=predecessor.name,
                changes=changed,
            )
    return changed


def _check_shares(predecessor: Unit, links: list[UnitChange], shares: dict[int, Decimal]) -> None:
    if set(shares) != {link.pk for link in links}:
        raise UnitRefused(
            _("Các đơn vị nhận phần của %(unit)s đã thay đổi; xin mở lại trang."),
            code="unit_change.successors_changed",
            unit=predecessor.name,
        )
    if any(not 0 <= share <= 1 for share in shares.values()):
        raise UnitRefused(
            _("Mỗi tỷ lệ phân bổ phải từ 0 đến 100 phần trăm."),
            code="unit_change.share_out_of_range",
        )
    total = sum(shares.values(), Decimal(0))
    if total != 1:
        raise UnitRefused(
            _("Tổng tỷ lệ phân bổ phải bằng 100%%, hiện là %(total)s%%."),
            code="unit_change.shares_not_whole",
            total=format_number(total * 100),
        )
