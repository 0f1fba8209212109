"""A unit's lineage: what it was formed from, back through every reorganisation, and what it
became, forward.

The tree keeps one :class:`~tiendo.units.models.Unit` per span of time and links the spans
with :class:`~tiendo.units.models.UnitChange` rows. Walking those links backwards from a unit
gives its predecessors, their predecessors, and so on; walking them forwards gives its
successors. The links of one reorganisation are shown together, as one *step* (all the
communes merged into one, all the parts of a split), so that a person reads the event as
the resolution wrote it, not link by link.

The walk reads one level of links per query and stops after :data:`MAX_STEPS` steps: a
province's lineage is a handful of steps, and a cap keeps a malformed cycle from running on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from tiendo.units.models import ChangeKind, LegalAct, Unit, UnitChange, UnitEvent

MAX_STEPS = 200

# Links that carry the same unit on under another name, code, kind or parent.
IDENTITY_KINDS = frozenset({"rename", "recode", "move", "reclassify"})


@dataclass
class Step:
    """One reorganisation as seen from the unit: every link of the event."""

    effective_date: date
    kind: str
    legal_basis: str
    links: list[UnitChange]
    act: LegalAct | None = None

    @property
    def kind_label(self) -> str:
        try:
            return ChangeKind(self.kind).label
        except ValueError:
            return self.kind

    @property
    def predecessors(self) -> list[Unit]:
        return _unique(link.predecessor for link in self.links)

    @property
    def successors(self) -> list[Unit]:
        return _unique(link.successor for link in self.links)


@dataclass
class Lineage:
    unit: Unit
    earlier: list[Step] = field(default_factory=list)  # oldest first
    later: list[Step] = field(default_factory=list)  # oldest first
    versions: list[Unit] = field(default_factory=list)  # by start date, the unit included
    truncated: bool = False

    @property
    def steps(self) -> list[Step]:
        return self.earlier + self.later


def lineage(unit: Unit) -> Lineage:
    """The steps before ``unit`` (through its predecessors) and after it (its successors)."""
    result = Lineage(unit=unit)
    result.earlier, truncated_back = _walk(unit, backward=True)
    result.later, truncated_forward = _walk(unit, backward=False)
    _add_events_without_links(unit, result)
    result.truncated = truncated_back or truncated_forward
    result.versions = _versions(unit, result.steps)
    return result


def _walk(unit: Unit, *, backward: bool) -> tuple[list[Step], bool]:
    near, far = ("successor", "predecessor") if backward else ("predecessor", "successor")
    seen_units, seen_keys, steps = {unit.pk}, set(), []
    frontier = {unit.pk}
    while frontier:
        found = _links().filter(**{f"{near}_id__in": frontier})
        groups = _group([link for link in found if _key(link) not in seen_keys])
        frontier = set()
        for key, links in groups.items():
            if len(steps) >= MAX_STEPS:
                return _ordered(steps), True
            seen_keys.add(key)
            links = _whole_event(key, links)
            steps.append(_step(links))
            for link in links:
                other = getattr(link, f"{far}_id")
                if getattr(link, f"{near}_id") in seen_units and other not in seen_units:
                    seen_units.add(other)
                    frontier.add(other)
    return _ordered(steps), False


def _add_events_without_links(unit: Unit, result: Lineage) -> None:
    """An establishment from nothing or a dissolution without successor has no link: it
    shows through the event's list of the units it started or ended."""
    shown = {link.event_id for step in result.steps for link in step.links}
    for event in UnitEvent.objects.filter(units=unit).exclude(pk__in=shown).select_related("act"):
        step = Step(event.effective_date, event.kind, event.act.number if event.act else "", [])
        step.act = event.act
        started = unit.valid_from is not None and event.effective_date == unit.valid_from
        (result.earlier if started else result.later).append(step)
    result.earlier, result.later = _ordered(result.earlier), _ordered(result.later)


def _links():
    return UnitChange.objects.select_related(
        "predecessor", "successor", "event", "event__act"
    ).order_by("effective_date", "predecessor__code", "successor__code")


def _key(link: UnitChange):
    """What makes links one event: the event row when links have one, otherwise the date,
    kind and legal basis they share."""
    if link.event_id is not None:
        return ("event", link.event_id)
    return ("links", link.effective_date, link.kind, link.legal_basis)


def _group(links: list[UnitChange]) -> dict:
    groups = defaultdict(list)
    for link in links:
        groups[_key(link)].append(link)
    return groups


def _whole_event(key, links: list[UnitChange]) -> list[UnitChange]:
    """The links of the event ``links`` belong to that touch the same units: the other
    communes merged into the same successor, the other parts of the same split — not the
    hundreds of communes moved under a renamed province by the same event."""
    units = {link.predecessor_id for link in links} | {link.successor_id for link in links}
    near = Q(predecessor_id__in=units) | Q(successor_id__in=units)
    if key[0] == "event":
        return list(_links().filter(near, event_id=key[1]))
    _, day, kind, basis = key
    return list(_links().filter(near, effective_date=day, kind=kind, legal_basis=basis))


def _step(links: list[UnitChange]) -> Step:
    first = links[0]
    event = first.event
    act = event.act if event is not None else None
    kinds = {link.kind for link in links}
    return Step(
        effective_date=first.effective_date,
        # a commune moved under its renamed district reads "moved", not "renamed"
        kind=kinds.pop() if len(kinds) == 1 else event.kind if event else first.kind,
        legal_basis=first.legal_basis or (str(act) if act else ""),
        links=links,
        act=act,
    )


def _ordered(steps: list[Step]) -> list[Step]:
    return sorted(steps, key=lambda s: (s.effective_date, s.kind, s.links[0].pk if s.links else 0))


def _versions(unit: Unit, steps: list[Step]) -> list[Unit]:
    """The unit under its other names, codes, kinds or parents: the spans joined to it by a
    one-to-one link that carries it on (a rename, a new code, a move, a change of kind), or
    the span before and after it absorbed others (same code, same name)."""
    versions = {unit.pk: unit}
    links = [link for step in steps for link in step.links if _carries_on(link)]
    grown = True
    while grown:
        grown = False
        for link in links:
            ends = {link.predecessor_id, link.successor_id}
            if ends & versions.keys() and not ends <= versions.keys():
                for other in (link.predecessor, link.successor):
                    versions.setdefault(other.pk, other)
                grown = True
    return sorted(versions.values(), key=lambda u: (u.valid_from or date.min, u.pk))


def _carries_on(link: UnitChange) -> bool:
    if link.kind in IDENTITY_KINDS:
        return True
    before, after = link.predecessor, link.successor
    return (before.code, before.level, before.name) == (after.code, after.level, after.name)


def _unique(units) -> list[Unit]:
    seen, result = set(), []
    for unit in units:
        if unit.pk not in seen:
            seen.add(unit.pk)
            result.append(unit)
    return result
