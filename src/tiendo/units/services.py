"""Looking units up, and re-expressing units of an older tree in today's units."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from tiendo.units.models import Unit, UnitAncestor, UnitChange


class UnitNotFound(LookupError):
    """No unit, or more than one, answers a code; the message is Vietnamese."""


def resolve_unit(code: str, on: date | None = None) -> Unit:
    """The unit with this official code, preferring the one valid on ``on``.

    Codes are kept across the 2025 reform for some units (Tuyên Quang is 08 before and
    after), so a code can name two units; without a date the one valid today wins, then
    the most recent.
    """
    code = (code or "").strip()
    units = list(Unit.objects.filter(code=code).order_by("level"))
    if not units:
        raise UnitNotFound(f"Không có đơn vị nào mang mã “{code}”.")
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


def map_to_today(target: Unit) -> TodayMapping:
    """Which units of older trees add their data to ``target`` (a unit of today's tree).

    The units of the target's own subtree are not listed: they count whole. A unit of an older tree counts
    through its nearest ancestor-or-self that has change links (a commune through its own
    merge, an agency or a district through its province's): whole when all its successors
    lie in the target's subtree, by the sum of the shares when only some do, and not at
    all — flagged — when some do but the shares are missing. Nothing is counted twice.
    """
    mapping = TodayMapping()
    incoming = UnitChange.objects.filter(successor__path__startswith=target.path)
    predecessor_ids = set(incoming.values_list("predecessor_id", flat=True))
    if not predecessor_ids:
        return mapping
    all_links = defaultdict(list)
    for link in UnitChange.objects.filter(predecessor_id__in=predecessor_ids).select_related(
        "successor", "predecessor"
    ):
        all_links[link.predecessor_id].append(link)

    linked_ids = set(UnitChange.objects.values_list("predecessor_id", flat=True).distinct())
    accepted: dict[int, Decimal] = {}
    for pred_id, links in all_links.items():
        inside = [lk for lk in links if lk.successor.path.startswith(target.path)]
        if len(inside) == len(links):
            factor = Decimal(1)
        elif all(lk.share is not None for lk in links):
            factor = sum((lk.share for lk in inside), Decimal(0))
        else:
            names = ", ".join(sorted(lk.successor.name for lk in links))
            mapping.flagged.append(
                (
                    links[0].predecessor,
                    f"{links[0].predecessor.name} được chia cho nhiều đơn vị ({names}) "
                    "nhưng chưa có tỷ lệ phân bổ",
                )
            )
            continue
        if factor:
            accepted[pred_id] = factor
    # Every unit at or below an accepted predecessor, in one query through the closure.
    rows = UnitAncestor.objects.filter(ancestor_id__in=list(accepted)).values_list(
        "unit_id", "unit__path"
    )
    for unit_id, path in rows:
        nearest = _nearest_linked(path, linked_ids)
        if nearest in accepted:
            mapping.factors.setdefault(unit_id, accepted[nearest])
    return mapping


def _nearest_linked(path: str, linked_ids: set[int]) -> int | None:
    for part in reversed(path.strip("/").split("/")):
        if int(part) in linked_ids:
            return int(part)
    return None


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
