"""The recipients of a letter chosen from the unit tree.

The letter form shows the issuer's subtree (units valid on the letter's date) as nested
checkboxes. Without JavaScript a ticked unit brings its whole subtree with it and the
quick choices ("every unit at district level") add every unit of their level; with
``tiendo.js`` the page ticks the children itself, so what is posted is taken literally
(the script adds ``recipients_exact=1``). Either way the preview lists every recipient,
grouped by parent, before anything is saved: nothing is excluded or included silently.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_number
from tiendo.units.models import Level, Unit, UnitKind


def fold(text: str) -> str:
    """Lower case without Vietnamese accents: "Hà Giang" and "ha giang" fold alike."""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Group:
    """A quick choice: every candidate unit that ``matches``."""

    key: str
    label: object
    level: int | None = None
    agency: bool = False

    def matches(self, unit: Unit) -> bool:
        if self.agency:
            return unit.kind == UnitKind.AGENCY
        return unit.kind != UnitKind.AGENCY and unit.level == self.level


# By level, never by kind: "district level" holds huyện, quận, thị xã and thành phố thuộc
# tỉnh alike (choosing the kind "Huyện" once left Thành phố Hà Giang out).
GROUPS = [
    Group(
        "district", _("Tất cả đơn vị cấp huyện (huyện, quận, thị xã, thành phố)"), Level.DISTRICT
    ),
    Group("commune", _("Tất cả đơn vị cấp xã (xã, phường, thị trấn)"), Level.COMMUNE),
    Group("agency", _("Tất cả cơ quan, tổ chức"), agency=True),
]
GROUP_KEYS = {g.key: g for g in GROUPS}


@dataclass
class Node:
    unit: Unit
    children: list[Node] = field(default_factory=list)
    checked: bool = False
    match: bool = False
    open: bool = False

    @property
    def folded(self) -> str:
        return fold(self.unit.name)

    @property
    def descendants(self) -> int:
        return sum(1 + c.descendants for c in self.children)


def _sort_key(unit: Unit):
    # administrative units first (cities and districts before agencies), then by name
    return (unit.kind == UnitKind.AGENCY, unit.level, fold(unit.name))


def build_tree(root: Unit, units, *, checked=(), query: str = "") -> list[Node]:
    """The candidate ``units`` below ``root`` as a forest of :class:`Node` (the root
    itself is chosen apart); ``query`` marks the matching nodes and opens their parents."""
    by_parent: dict[int | None, list[Unit]] = {}
    for unit in units:
        if unit.pk != root.pk:
            by_parent.setdefault(unit.parent_id, []).append(unit)
    checked = set(checked)
    needle = fold(query)

    def grow(parent_pk) -> list[Node]:
        nodes = []
        for unit in sorted(by_parent.get(parent_pk, []), key=_sort_key):
            node = Node(unit, grow(unit.pk), checked=unit.pk in checked)
            node.match = bool(needle) and needle in node.folded
            node.open = any(c.match or c.open for c in node.children)
            nodes.append(node)
        return nodes

    return grow(root.pk)


def matches(units, query: str) -> list[Unit]:
    """The units whose name contains ``query``, accents and case aside."""
    needle = fold(query)
    return [u for u in units if needle and needle in fold(u.name)]


def group_counts(units) -> list[tuple[Group, int, str]]:
    """Each quick choice with how many candidates it takes and of which kinds."""
    out = []
    for group in GROUPS:
        members = [u for u in units if group.matches(u)]
        if members:
            out.append((group, len(members), kinds_phrase(members)))
    return out


def expand(
    root: Unit, candidates, picked: set[int], groups: list[str], *, exact: bool
) -> list[Unit]:
    """The recipients among ``candidates`` for the ticked primary keys ``picked``: taken
    literally when ``exact``, else a ticked unit brings its subtree and each quick choice
    its units. The ``root`` (the issuer's own unit, ticked apart) never brings its
    subtree."""
    candidates = list(candidates)
    if exact:
        return [u for u in candidates if u.pk in picked]
    ticked = [u for u in candidates if u.pk in picked and u.pk != root.pk]
    ticked_root = [root.pk] if root.pk in picked else []
    chosen = [GROUP_KEYS[g] for g in groups if g in GROUP_KEYS]
    return [
        u
        for u in candidates
        if u.pk in ticked_root
        or any(u.path.startswith(t.path) for t in ticked)
        or (u.pk != root.pk and any(g.matches(u) for g in chosen))
    ]


def kinds_phrase(units) -> str:
    """ "11 huyện, 1 thành phố thuộc tỉnh, 182 xã" in the order of the unit kinds."""
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.kind] = counts.get(unit.kind, 0) + 1
    parts = []
    for kind in UnitKind:
        if kind.value in counts:
            parts.append(f"{format_number(counts[kind.value])} {str(kind.label).lower()}")
    return ", ".join(parts)


@dataclass
class Preview:
    """What the preview shows: the count, the kinds, and the units grouped by parent."""

    units: list[Unit]
    groups: list[tuple[Unit | None, list[Unit]]]
    digest: str

    @property
    def count(self) -> int:
        return len(self.units)

    @property
    def kinds(self) -> str:
        return kinds_phrase(self.units)

    @property
    def headline(self) -> str:
        return gettext("Gửi đến %(n)s đơn vị: %(kinds)s") % {
            "n": format_number(self.count),
            "kinds": self.kinds,
        }


def digest(units) -> str:
    """A short fingerprint of a recipient list: the confirmation must be of what was
    previewed."""
    pks = ",".join(str(pk) for pk in sorted(u.pk for u in units))
    return hashlib.sha256(pks.encode()).hexdigest()[:16]


def preview(units) -> Preview:
    units = sorted(units, key=lambda u: (u.path.count("/"), _sort_key(u)))
    parents = Unit.objects.in_bulk({u.parent_id for u in units if u.parent_id})
    grouped: dict[int | None, list[Unit]] = {}
    for unit in units:
        grouped.setdefault(unit.parent_id, []).append(unit)
    order = sorted(
        grouped,
        key=lambda pk: (
            (parents[pk].path.count("/"), _sort_key(parents[pk])) if pk in parents else (0,)
        ),
    )
    groups = [(parents.get(pk), sorted(grouped[pk], key=_sort_key)) for pk in order]
    return Preview(units=units, groups=groups, digest=digest(units))
