"""Re-expressing the data of older units in the tree of a given day, through chains of changes.

A commune merged in 2020 into another, which merged in 2025 into a third: in the view of a
day ``on``, the data of the first counts in the unit valid on that day that it became, by
following every :class:`~tiendo.units.models.UnitChange` link in effect by then
(``effective_date <= on``) and multiplying the shares along the way. A link counts as a
mapping whatever its kind (merge, split, rename, recode, a move…):

- its share when one is entered;
- the whole (1) when it is the only link of its predecessor and not marked partial;
- otherwise unknown: the data of the predecessor cannot be placed, unless every path out of
  it ends inside the target's subtree (a commune split between two communes of the same
  new province counts whole in that province) or none does (then it simply is elsewhere).

A unit whose share is unknown is *flagged* — listed with the reason — and left out, never
counted twice. A unit valid on ``on`` ends a chain: its data stays in its own subtree, so
the links of a unit that gave away only a part of itself and lives on are not followed (the
data dated before the transfer stays with the unit that still exists). A unit without links
of its own (an agency, a district abolished in 2025) follows its nearest ancestor that has
them.

The mapping is forward only: data of units created after ``on`` is not shown in the tree of
``on`` (no share says which part of a 2024 commune a 2019 commune was). A unit's data is
taken to be dated within its own validity, so every link out of it takes effect after it.

One batch of queries maps many targets: links are walked backwards from the targets'
subtrees (one query per step of the longest chain), then the outgoing links of every unit
found are read once and the factors computed in Python with a memo per target.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.numbers import to_ascii
from tiendo.units.models import Unit, UnitAncestor, UnitChange

ONE = Decimal(1)
ZERO = Decimal(0)
CHUNK = 500  # ids per IN (...) clause


def in_chunks(ids):
    """``ids`` in lists short enough for one ``IN (...)`` clause."""
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def link_share(share, partial: bool, siblings: int) -> Decimal | None:
    """The part of a predecessor's data one of its ``siblings`` links carries; ``None``
    when it is not known (a split without an entered share)."""
    if share is not None:
        return Decimal(share)
    if not partial and siblings == 1:
        return ONE
    return None


class _Graph:
    """The links and units a batch of targets needs, read once."""

    def __init__(self, targets: list[Unit], on: date):
        self.on = on
        self.targets = targets
        self.back: dict[int, set[int]] = defaultdict(set)  # successor -> predecessors
        self.into: dict[int, set[int]] = defaultdict(set)  # target -> predecessors linked in
        self.out: dict[int, list[tuple[int, Decimal | None, bool]]] = defaultdict(list)
        self.paths: dict[int, str] = {}
        self.units: dict[int, Unit] = {}
        self._walk_back()
        self._read_out()

    def _in_effect(self) -> Q:
        return Q(effective_date__lte=self.on)

    def _walk_back(self) -> None:
        rows = (
            UnitChange.objects.filter(
                self._in_effect(),
                successor__ancestor_links__ancestor_id__in=[t.pk for t in self.targets],
            )
            .values_list("successor__ancestor_links__ancestor_id", "predecessor_id", "successor_id")
            .order_by()
        )
        frontier = set()
        for target_id, pred, succ in rows:
            self.into[target_id].add(pred)
            self.back[succ].add(pred)
            frontier.add(pred)
        seen = set(frontier)
        while frontier:
            found = set()
            for chunk in in_chunks(frontier):
                for pred, succ in UnitChange.objects.filter(
                    self._in_effect(), successor_id__in=chunk
                ).values_list("predecessor_id", "successor_id"):
                    self.back[succ].add(pred)
                    if pred not in seen:
                        found.add(pred)
            seen |= found
            frontier = found
        self.reached = seen

    def _read_out(self) -> None:
        for chunk in in_chunks(self.reached):
            for pred, succ, share, partial, path in UnitChange.objects.filter(
                self._in_effect(), predecessor_id__in=chunk
            ).values_list("predecessor_id", "successor_id", "share", "partial", "successor__path"):
                self.out[pred].append((succ, share, partial))
                self.paths[succ] = path
            for found in Unit.objects.filter(pk__in=chunk).only(
                "pk", "name", "code", "path", "valid_from", "valid_to", "parent_id"
            ):
                self.units[found.pk] = found
                self.paths[found.pk] = found.path

    def reachable_from(self, target: Unit) -> set[int]:
        """The older units whose data (a part of it) ends in ``target``'s subtree."""
        found, pending = set(), list(self.into.get(target.pk, ()))
        while pending:
            pk = pending.pop()
            if pk in found:
                continue
            found.add(pk)
            pending.extend(self.back.get(pk, ()))
        return found


class _Factors:
    """The factor of each older unit for one target: the part of its data that ends in the
    target's subtree, or ``None`` (unknown), with the unit whose split lacks a share."""

    def __init__(self, graph: _Graph, target: Unit):
        self.graph = graph
        self.prefix = target.path
        self.reachable = graph.reachable_from(target)
        self.memo: dict[int, Decimal | None] = {}
        self.blame: dict[int, int] = {}  # unit -> the unit whose split has no share

    def of(self, pk: int, visiting: frozenset = frozenset()) -> Decimal | None:
        if pk in self.memo:
            return self.memo[pk]
        value = self._compute(pk, visiting | {pk})
        self.memo[pk] = value
        return value

    def _compute(self, pk: int, visiting: frozenset) -> Decimal | None:
        graph = self.graph
        if graph.paths.get(pk, "").startswith(self.prefix):
            return ONE
        unit = graph.units.get(pk)
        if pk not in self.reachable or unit is None or unit.is_valid_on(graph.on):
            return ZERO
        links = graph.out.get(pk, [])
        parts = []
        for succ, share, partial in links:
            factor = ZERO if succ in visiting else self.of(succ, visiting)
            parts.append((link_share(share, partial, len(links)), factor, succ))
        factors = [f for _s, f, _succ in parts]
        if all(f == ONE for f in factors):
            return ONE
        if all(f == ZERO for f in factors):
            return ZERO
        for share, factor, succ in parts:
            if factor is None and share != ZERO:
                self.blame[pk] = self.blame.get(succ, succ)
                return None
        if any(share is None for share, _f, _succ in parts):
            self.blame[pk] = pk
            return None
        return sum((share * factor for share, factor, _succ in parts), ZERO)


def _below(graph: _Graph) -> dict[int, int]:
    """Every unit strictly below a reached unit that has no links of its own in effect,
    with the nearest ancestor that has: the unit it follows."""
    rows = []
    for chunk in in_chunks(graph.reached):
        rows += UnitAncestor.objects.filter(ancestor_id__in=chunk, depth__gt=0).values_list(
            "unit_id", "unit__path", "unit__valid_from", "unit__valid_to"
        )
    candidates = {pk for pk, *_rest in rows} - graph.reached
    linked = set(graph.reached)
    for chunk in in_chunks(candidates):
        linked |= set(
            UnitChange.objects.filter(
                effective_date__lte=graph.on, predecessor_id__in=chunk
            ).values_list("predecessor_id", flat=True)
        )
    out = {}
    for pk, path, valid_from, valid_to in rows:
        if pk in linked or not _ended(valid_from, valid_to, graph.on):
            continue
        graph.paths[pk] = path
        for part in reversed(path.strip("/").split("/")[:-1]):
            if int(part) in linked:
                out[pk] = int(part)
                break
    return out


def _ended(valid_from, valid_to, on: date) -> bool:
    """Not valid on ``on`` (ceased, or not yet created)."""
    return (valid_to is not None and valid_to < on) or (valid_from is not None and valid_from > on)


def map_units(targets, on: date):
    """How the data of older units counts in each target (units of the tree of ``on``):
    a :class:`~tiendo.units.services.TodayMapping` per target pk. The target's own subtree
    is not listed (it counts whole, through the rollup)."""
    from tiendo.units.services import TodayMapping

    targets = list(targets)
    graph = _Graph(targets, on)
    below = _below(graph) if graph.reached else {}
    out = {}
    for target in targets:
        mapping = out[target.pk] = TodayMapping()
        factors = _Factors(graph, target)
        for pk in sorted(factors.reachable):
            if graph.paths.get(pk, "").startswith(target.path):
                continue
            factor = factors.of(pk)
            if factor is None:
                mapping.flagged.append((graph.units[pk], _reason(graph, pk, factors.blame[pk])))
            elif factor:
                mapping.factors[pk] = factor
        for pk, nearest in below.items():
            if nearest in factors.reachable and not graph.paths[pk].startswith(target.path):
                factor = factors.of(nearest)
                if factor:
                    mapping.factors[pk] = factor
    return out


def _reason(graph: _Graph, pk: int, split_pk: int) -> str:
    """Why a unit is left out: the split on its way that has no allocation share."""
    split = graph.units.get(split_pk)
    if split is None:  # pragma: no cover - a blamed unit is always a reached one
        split = Unit.objects.get(pk=split_pk)
    names = ", ".join(
        sorted(
            Unit.objects.filter(pk__in=[s for s, _sh, _p in graph.out[split_pk]]).values_list(
                "name", flat=True
            )
        )
    )
    reason = _("%(unit)s được chia cho nhiều đơn vị (%(names)s) nhưng chưa có tỷ lệ phân bổ") % {
        "unit": split.name,
        "names": names,
    }
    if split_pk != pk:
        reason = _("%(unit)s sau này thuộc %(later)s; %(reason)s") % {
            "unit": graph.units[pk].name,
            "later": split.name,
            "reason": reason,
        }
    return str(reason)


def forward_links(unit_ids) -> dict[int, list[tuple[int, Decimal | None]]]:
    """The links out of ``unit_ids`` and out of every unit they became, recursively:
    predecessor -> [(successor, share)]. One query per step of the longest chain."""
    links: dict[int, list[tuple[int, Decimal | None]]] = defaultdict(list)
    seen, frontier = set(), set(unit_ids)
    while frontier:
        seen |= frontier
        found = set()
        for chunk in in_chunks(frontier):
            for pred, succ, share in UnitChange.objects.filter(
                predecessor_id__in=chunk
            ).values_list("predecessor_id", "successor_id", "share"):
                links[pred].append((succ, share))
                if succ not in seen:
                    found.add(succ)
        frontier = found
    return links


def descendants(pk: int, links, memo: dict | None = None) -> frozenset[int]:
    """Every unit ``pk`` became, through any number of links (``links`` from
    :func:`forward_links`), itself excluded."""
    memo = {} if memo is None else memo
    found = memo.get(pk)
    if found is not None:
        return found
    memo[pk] = frozenset()  # a cycle ends here
    result = set()
    for succ, _share in links.get(pk, ()):
        result.add(succ)
        result |= descendants(succ, links, memo)
    memo[pk] = frozenset(result)
    return memo[pk]


class ViewDayError(TiendoError, ValueError):
    """A day asked for a view of the tree that cannot be read."""

    code = "unit.view_day_invalid"


VIEW_DAY_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_view_day(text: str, *, today: date | None = None) -> date:
    """The day of a view of the tree, written dd/mm/yyyy (or yyyy-mm-dd); not after today,
    whose tree is the latest known."""
    raw = to_ascii((text or "").strip())  # "３１/１２/２０１９" typed on a phone's keyboard
    for pattern in VIEW_DAY_FORMATS:
        try:
            day = datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        if day > (today or date.today()):
            raise ViewDayError(
                _("Ngày %(day)s chưa đến: chỉ xem được cây đơn vị đến hôm nay."),
                code="unit.view_day_future",
                day=f"{day:%d/%m/%Y}",
            )
        return day
    raise ViewDayError(
        _("Ngày “%(day)s” không đúng dạng ngày/tháng/năm (ví dụ 31/12/2019)."), day=raw
    )
