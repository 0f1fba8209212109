"""Load the official administrative tree from the ``vietnam-provinces`` package.

The loader writes two trees under one national root:

* the tree in force until 30/06/2025: 63 provinces → 696 districts → ~10,000 communes
  (``valid_to`` = 30/06/2025, no start date);
* the tree in force since 01/07/2025: 34 provinces → 3,321 communes (no districts),
  ``valid_from`` = 01/07/2025;

and links them with :class:`~tiendo.units.models.UnitChange` rows taken from the package's
2025 conversion tables.

Everything is done in bulk (a handful of queries per level, never ``Unit.save()`` per row)
and is idempotent: units are matched on (level, kind, code, valid_from), links on
(predecessor, successor), and a second load changes nothing. Rows this loader does not
know — agencies, units entered by hand — are left alone; only their materialised paths and
closure rows are checked (and repaired if they were wrong).

What a reload never overwrites on an existing link: an allocation share entered for a
partial link, a legal basis or a note someone has filled in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction

from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.units.models import (
    PRE_REFORM_END,
    REFORM_DATE,
    ChangeKind,
    Level,
    Unit,
    UnitAncestor,
    UnitChange,
    UnitKind,
)

SOURCE = "vietnam-provinces"
NATION_CODE = "VN"
NATION_NAME = "Việt Nam"
PROVINCE_LEGAL_BASIS = "Nghị quyết 202/2025/QH15; Quyết định 19/2025/QĐ-TTg"
# The package does not say which resolution of the Standing Committee of the National
# Assembly (one per province) re-arranged each commune; an official can fill it in later
# and a reload keeps what was entered.
COMMUNE_LEGAL_BASIS = "Nghị quyết của UBTVQH về sắp xếp ĐVHC cấp xã năm 2025"

NOTE_PARTIAL_SINGLE = (
    "Gói dữ liệu ghi đơn vị cũ chỉ nhập một phần vào đơn vị mới này và không nêu phần còn lại"
)
NOTE_SPLIT = "Đơn vị cũ được chia cho nhiều đơn vị mới; cần nhập tỷ lệ phân bổ"
NOTE_ISLAND = "Huyện đảo không có đơn vị cấp xã, chuyển thành đặc khu"

UNIT_BATCH = 1000
LINK_BATCH = 2000
ANCESTOR_BATCH = 5000

# (level, kind, code, valid_from)
Key = tuple[int, str, str, date | None]


def official_name(text: str) -> str:
    """The package's name in NFC, with the type word capitalised ("xã Bắc Sơn" is a slip)."""
    name = " ".join(nfc(text).split())
    return name[:1].upper() + name[1:]


@dataclass
class UnitSpec:
    level: int
    kind: str
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None
    parent: Key | None

    @property
    def key(self) -> Key:
        return (self.level, self.kind, self.code, self.valid_from)

    @property
    def depth(self) -> int:
        """Depth in the tree: the post-reform communes (level 3) sit at depth 2."""
        if self.parent is None:
            return 0
        if self.level == Level.PROVINCE:
            return 1
        return 3 if self.parent[0] == Level.DISTRICT else 2


@dataclass
class LinkSpec:
    predecessor: Key
    successor: Key
    kind: str
    partial: bool
    share: Decimal | None
    legal_basis: str
    note: str = ""


@dataclass
class OfficialTree:
    """What the package says, as plain specifications (no database involved)."""

    units: list[UnitSpec]
    links: list[LinkSpec]
    warnings: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    units_created: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    links_created: int = 0
    links_updated: int = 0
    links_unchanged: int = 0
    paths_fixed: int = 0
    ancestors_created: int = 0
    ancestors_deleted: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.units_created
            or self.units_updated
            or self.links_created
            or self.links_updated
            or self.paths_fixed
            or self.ancestors_created
            or self.ancestors_deleted
        )

    def lines(self) -> list[str]:
        n = format_number
        return [
            f"Đơn vị: tạo mới {n(self.units_created)}, cập nhật {n(self.units_updated)}, "
            f"không đổi {n(self.units_unchanged)}.",
            f"Liên kết sáp nhập/chia tách: tạo mới {n(self.links_created)}, cập nhật "
            f"{n(self.links_updated)}, không đổi {n(self.links_unchanged)}.",
            f"Đường dẫn cây sửa lại: {n(self.paths_fixed)}; quan hệ tổ tiên thêm "
            f"{n(self.ancestors_created)}, xóa {n(self.ancestors_deleted)}.",
        ]


# --- reading the package ------------------------------------------------------------------

_OLD_PROVINCE_KINDS = {"tỉnh": UnitKind.PROVINCE, "thành phố trung ương": UnitKind.CENTRAL_CITY}
_OLD_DISTRICT_KINDS = {
    "huyện": UnitKind.RURAL_DISTRICT,
    "quận": UnitKind.URBAN_DISTRICT,
    "thị xã": UnitKind.DISTRICT_TOWN,
    "thành phố": UnitKind.PROVINCIAL_CITY,
}
_OLD_COMMUNE_KINDS = {
    "xã": UnitKind.COMMUNE,
    "phường": UnitKind.WARD,
    "thị trấn": UnitKind.TOWNSHIP,
}
_NEW_PROVINCE_KINDS = _OLD_PROVINCE_KINDS
_NEW_COMMUNE_KINDS = {
    "xã": UnitKind.COMMUNE,
    "phường": UnitKind.WARD,
    "đặc khu": UnitKind.SPECIAL_ZONE,
}


def _kind(table: dict[str, str], division_type, what: str) -> str:
    try:
        return table[str(division_type)]
    except KeyError as exc:
        raise ValueError(f"Loại đơn vị “{division_type}” của {what} không được hỗ trợ.") from exc


def _code(value, width: int) -> str:
    return f"{int(value):0{width}d}"


def _stem(name: str, prefixes: Iterable[str]) -> str:
    text = nfc(name).casefold()
    for prefix in sorted(prefixes, key=len, reverse=True):
        if text.startswith(prefix + " "):
            return text[len(prefix) + 1 :]
    return text


def read_official_tree() -> OfficialTree:
    """Turn the package's data into unit and link specifications."""
    import vietnam_provinces as vp
    from vietnam_provinces import _province_conversion_2025 as province_conversion
    from vietnam_provinces import _ward_conversion_2025 as ward_conversion
    from vietnam_provinces import legacy

    warnings: list[str] = []
    nation_key: Key = (Level.NATION, UnitKind.NATION, NATION_CODE, None)
    units = [UnitSpec(Level.NATION, UnitKind.NATION, NATION_CODE, NATION_NAME, None, None, None)]

    # The tree before the reform.
    old_province: dict[int, UnitSpec] = {}
    for p in sorted(legacy.Province.iter_all(), key=lambda x: int(x.code)):
        spec = UnitSpec(
            Level.PROVINCE,
            _kind(_OLD_PROVINCE_KINDS, p.division_type, p.name),
            _code(p.code, 2),
            official_name(p.name),
            None,
            PRE_REFORM_END,
            nation_key,
        )
        old_province[int(p.code)] = spec
        units.append(spec)
    old_district: dict[int, UnitSpec] = {}
    old_district_province: dict[int, int] = {}
    for d in sorted(legacy.District.iter_all(), key=lambda x: int(x.code)):
        spec = UnitSpec(
            Level.DISTRICT,
            _kind(_OLD_DISTRICT_KINDS, d.division_type, d.name),
            _code(d.code, 3),
            official_name(d.name),
            None,
            PRE_REFORM_END,
            old_province[int(d.province_code)].key,
        )
        old_district[int(d.code)] = spec
        old_district_province[int(d.code)] = int(d.province_code)
        units.append(spec)
    old_commune: dict[int, UnitSpec] = {}
    old_commune_province: dict[int, int] = {}
    for w in sorted(legacy.Ward.iter_all(), key=lambda x: int(x.code)):
        spec = UnitSpec(
            Level.COMMUNE,
            _kind(_OLD_COMMUNE_KINDS, w.division_type, w.name),
            _code(w.code, 5),
            official_name(w.name),
            None,
            PRE_REFORM_END,
            old_district[int(w.district_code)].key,
        )
        old_commune[int(w.code)] = spec
        old_commune_province[int(w.code)] = old_district_province[int(w.district_code)]
        units.append(spec)

    # The tree since the reform: provinces, and communes directly under them.
    new_province: dict[int, UnitSpec] = {}
    for p in sorted(vp.Province.iter_all(), key=lambda x: int(x.code)):
        spec = UnitSpec(
            Level.PROVINCE,
            _kind(_NEW_PROVINCE_KINDS, p.division_type, p.name),
            _code(p.code, 2),
            official_name(p.name),
            REFORM_DATE,
            None,
            nation_key,
        )
        new_province[int(p.code)] = spec
        units.append(spec)
    new_commune: dict[int, UnitSpec] = {}
    new_commune_province: dict[int, int] = {}
    for w in sorted(vp.Ward.iter_all(), key=lambda x: int(x.code)):
        spec = UnitSpec(
            Level.COMMUNE,
            _kind(_NEW_COMMUNE_KINDS, w.division_type, w.name),
            _code(w.code, 5),
            official_name(w.name),
            REFORM_DATE,
            None,
            new_province[int(w.province_code)].key,
        )
        new_commune[int(w.code)] = spec
        new_commune_province[int(w.code)] = int(w.province_code)
        units.append(spec)

    links: list[LinkSpec] = []

    # Communes. The conversion table is keyed by old commune; ``is_partly_merged`` says the
    # old commune went only in part into (each of) its new commune(s).
    sole_whole: Counter = Counter()  # new commune -> number of predecessors
    for entry in ward_conversion.NEW_TO_OLD.values():
        sole_whole[entry.new_ward.code] = len(entry.old_wards)
    supported_provinces: set[tuple[int, int]] = set()
    skipped_old, skipped_new = [], []
    for old_code, entry in sorted(ward_conversion.OLD_TO_NEW.items()):
        old = old_commune.get(old_code)
        if old is None:
            skipped_old.append(old_code)
            continue
        successors = [n.code for n in entry.new_wards if n.code in new_commune]
        skipped_new.extend(n.code for n in entry.new_wards if n.code not in new_commune)
        partial = bool(entry.old_ward.is_partly_merged) or len(successors) > 1
        for new_code in successors:
            supported_provinces.add(
                (old_commune_province[old_code], new_commune_province[new_code])
            )
            if partial:
                kind, share = ChangeKind.SPLIT, None
                note = NOTE_SPLIT if len(successors) > 1 else NOTE_PARTIAL_SINGLE
            elif sole_whole[new_code] == 1:
                kind, share, note = ChangeKind.RECODE, Decimal(1), ""
            else:
                kind, share, note = ChangeKind.MERGE, Decimal(1), ""
            links.append(
                LinkSpec(
                    old.key,
                    new_commune[new_code].key,
                    kind,
                    partial,
                    share,
                    COMMUNE_LEGAL_BASIS,
                    note,
                )
            )
    if skipped_old:
        warnings.append(
            f"{len(skipped_old)} xã cũ trong bảng chuyển đổi không có trong danh mục cũ của gói "
            f"(bỏ qua): {', '.join(_code(c, 5) for c in skipped_old)}."
        )
    if skipped_new:
        warnings.append(
            f"{len(skipped_new)} xã mới trong bảng chuyển đổi không có trong danh mục mới (bỏ qua)."
        )
    unlinked_old = sorted(set(old_commune) - set(ward_conversion.OLD_TO_NEW))
    if unlinked_old:
        warnings.append(
            f"{len(unlinked_old)} xã cũ không có trong bảng chuyển đổi; số liệu của chúng chỉ "
            f"chuyển sang đơn vị mới theo tỉnh: {', '.join(_code(c, 5) for c in unlinked_old)}."
        )

    # Island districts that had no communes became special zones (đặc khu); the conversion
    # table, being commune-level, has no row for them. Link them by name within the new
    # province their old province went into.
    linked_new = {lk.successor for lk in links}
    province_successors: dict[int, set[int]] = defaultdict(set)
    for old_p, new_p in supported_provinces:
        province_successors[old_p].add(new_p)
    district_has_communes = {int(spec.parent[2]) for spec in old_commune.values()}
    orphans = {
        (new_commune_province[code], _stem(spec.name, _NEW_COMMUNE_KINDS)): spec
        for code, spec in new_commune.items()
        if spec.key not in linked_new
    }
    for d_code, spec in old_district.items():
        if d_code in district_has_communes:
            continue
        for new_p in province_successors.get(old_district_province[d_code], ()):
            target = orphans.pop((new_p, _stem(spec.name, _OLD_DISTRICT_KINDS)), None)
            if target is not None:
                links.append(
                    LinkSpec(
                        spec.key,
                        target.key,
                        ChangeKind.RECODE,
                        False,
                        Decimal(1),
                        COMMUNE_LEGAL_BASIS,
                        NOTE_ISLAND,
                    )
                )
                break
    if orphans:
        names = ", ".join(sorted(spec.name for spec in orphans.values()))
        warnings.append(f"{len(orphans)} xã mới không có đơn vị cũ nào chuyển vào: {names}.")

    # Provinces, from the province conversion table; a pair no commune supports is a slip of
    # the generated table (an old commune filed under the wrong province) and is dropped.
    predecessors_of: dict[int, list[int]] = defaultdict(list)
    province_pairs: list[tuple[int, int]] = []
    for old_p, entry in sorted(province_conversion.OLD_TO_NEW.items()):
        for ref in entry.new_provinces:
            if (old_p, ref.code) not in supported_provinces:
                warnings.append(
                    f"Bảng chuyển đổi tỉnh ghi {old_province[old_p].name} → "
                    f"{new_province[ref.code].name}, nhưng không xã nào của "
                    f"{old_province[old_p].name} chuyển sang đó: bỏ qua liên kết này."
                )
                continue
            province_pairs.append((old_p, ref.code))
            predecessors_of[ref.code].append(old_p)
    missing = set(old_province) - {old for old, _ in province_pairs}
    if missing:
        warnings.append(f"{len(missing)} tỉnh cũ không có tỉnh mới tương ứng.")
    successors_of: Counter = Counter(old for old, _ in province_pairs)
    for old_p, new_p in province_pairs:
        if successors_of[old_p] > 1:
            kind, partial, share, note = ChangeKind.SPLIT, True, None, NOTE_SPLIT
        elif len(predecessors_of[new_p]) == 1:
            kind, partial, share, note = ChangeKind.RECODE, False, Decimal(1), ""
        else:
            kind, partial, share, note = ChangeKind.MERGE, False, Decimal(1), ""
        links.append(
            LinkSpec(
                old_province[old_p].key,
                new_province[new_p].key,
                kind,
                partial,
                share,
                PROVINCE_LEGAL_BASIS,
                note,
            )
        )
    return OfficialTree(units, links, warnings)


# --- writing to the database --------------------------------------------------------------


def load_official_tree(
    *, dry_run: bool = False, log: Callable[[str], None] | None = None
) -> LoadReport:
    """Load (or refresh) the official tree; with ``dry_run`` nothing is kept."""
    tree = read_official_tree()
    report = LoadReport(warnings=list(tree.warnings))
    with transaction.atomic():
        key_to_pk = _upsert_units(tree.units, report)
        _refresh_paths(report)
        _refresh_ancestors(report)
        _upsert_links(tree.links, key_to_pk, report)
        if dry_run:
            transaction.set_rollback(True)
    if log:
        for line in report.lines():
            log(line)
    return report


def _upsert_units(specs: list[UnitSpec], report: LoadReport) -> dict[Key, int]:
    existing: dict[Key, Unit] = {}
    loose: dict[tuple, list[Unit]] = defaultdict(list)
    for unit in Unit.objects.exclude(kind=UnitKind.AGENCY).only(
        "pk", "level", "kind", "code", "name", "valid_from", "valid_to", "parent_id", "source"
    ):
        existing[(unit.level, unit.kind, unit.code, unit.valid_from)] = unit
        loose[(unit.level, unit.code, unit.valid_from)].append(unit)
    claimed = {existing[s.key].pk for s in specs if s.key in existing}

    key_to_pk: dict[Key, int] = {}
    matched: list[tuple[Unit, UnitSpec]] = []
    by_depth: dict[int, list[UnitSpec]] = defaultdict(list)
    for spec in specs:
        unit = existing.get(spec.key)
        if unit is None:
            # The same unit under another kind (a province that became a city, a commune
            # that became a ward) is the same row, not a new one.
            candidates = [
                u for u in loose[(spec.level, spec.code, spec.valid_from)] if u.pk not in claimed
            ]
            if len(candidates) == 1:
                unit = candidates[0]
                claimed.add(unit.pk)
        if unit is None:
            by_depth[spec.depth].append(spec)
        else:
            key_to_pk[spec.key] = unit.pk
            matched.append((unit, spec))

    # New units, level by level so that every parent has its primary key.
    for depth in sorted(by_depth):
        fresh = [
            Unit(
                level=spec.level,
                kind=spec.kind,
                code=spec.code,
                name=spec.name,
                valid_from=spec.valid_from,
                valid_to=spec.valid_to,
                parent_id=key_to_pk[spec.parent] if spec.parent else None,
                source=SOURCE,
                path="",
            )
            for spec in by_depth[depth]
        ]
        created = Unit.objects.bulk_create(fresh, batch_size=UNIT_BATCH)
        for spec, unit in zip(by_depth[depth], created, strict=True):
            key_to_pk[spec.key] = unit.pk
        report.units_created += len(created)

    to_update = []
    for unit, spec in matched:
        parent_id = key_to_pk[spec.parent] if spec.parent else None
        if _apply(unit, spec, parent_id):
            to_update.append(unit)
    if to_update:
        Unit.objects.bulk_update(
            to_update, ["kind", "name", "valid_to", "parent", "source"], batch_size=UNIT_BATCH
        )
    report.units_updated = len(to_update)
    report.units_unchanged = len(matched) - len(to_update)
    return key_to_pk


def _apply(unit: Unit, spec: UnitSpec, parent_id: int | None) -> bool:
    changed = False
    for attr, value in (
        ("kind", spec.kind),
        ("name", spec.name),
        ("valid_to", spec.valid_to),
        ("parent_id", parent_id),
        ("source", SOURCE),
    ):
        if getattr(unit, attr) != value:
            setattr(unit, attr, value)
            changed = True
    return changed


def _refresh_paths(report: LoadReport) -> dict[int, str]:
    """Recompute every materialised path from the parent links; write the ones that differ."""
    rows = {
        pk: (parent_id, path)
        for pk, parent_id, path in Unit.objects.values_list("pk", "parent_id", "path")
    }
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        chain = []
        node = pk
        while node is not None and node not in paths:
            chain.append(node)
            if len(chain) > 64:
                raise ValueError(f"Cây đơn vị có vòng lặp ở đơn vị #{pk}.")
            node = rows[node][0]
        prefix = paths[node] if node is not None else "/"
        for item in reversed(chain):
            prefix = f"{prefix}{item}/"
            paths[item] = prefix
        return paths[pk]

    stale = []
    for pk, (_, path) in rows.items():
        if path_of(pk) != path:
            stale.append(Unit(pk=pk, path=paths[pk]))
    if stale:
        Unit.objects.bulk_update(stale, ["path"], batch_size=UNIT_BATCH)
    report.paths_fixed = len(stale)
    return paths


def _refresh_ancestors(report: LoadReport) -> None:
    """Make the closure table match the paths exactly."""
    wanted: set[tuple[int, int, int]] = set()
    for pk, path in Unit.objects.values_list("pk", "path"):
        ids = [int(p) for p in path.strip("/").split("/") if p]
        for depth, ancestor in enumerate(reversed(ids)):
            wanted.add((pk, ancestor, depth))
    have = {
        (unit_id, ancestor_id, depth): pk
        for pk, unit_id, ancestor_id, depth in UnitAncestor.objects.values_list(
            "pk", "unit_id", "ancestor_id", "depth"
        )
    }
    extra = [pk for row, pk in have.items() if row not in wanted]
    for start in range(0, len(extra), UNIT_BATCH):
        UnitAncestor.objects.filter(pk__in=extra[start : start + UNIT_BATCH]).delete()
    missing = sorted(wanted - have.keys())
    UnitAncestor.objects.bulk_create(
        [UnitAncestor(unit_id=u, ancestor_id=a, depth=d) for u, a, d in missing],
        batch_size=ANCESTOR_BATCH,
    )
    report.ancestors_created = len(missing)
    report.ancestors_deleted = len(extra)


def _upsert_links(specs: list[LinkSpec], key_to_pk: dict[Key, int], report: LoadReport) -> None:
    existing = {(link.predecessor_id, link.successor_id): link for link in UnitChange.objects.all()}
    to_create, to_update = [], []
    for spec in specs:
        pred, succ = key_to_pk[spec.predecessor], key_to_pk[spec.successor]
        link = existing.get((pred, succ))
        if link is None:
            to_create.append(
                UnitChange(
                    kind=spec.kind,
                    effective_date=REFORM_DATE,
                    legal_basis=spec.legal_basis,
                    predecessor_id=pred,
                    successor_id=succ,
                    partial=spec.partial,
                    share=spec.share,
                    note=spec.note,
                )
            )
            continue
        changed = False
        for attr, value in (
            ("kind", spec.kind),
            ("effective_date", REFORM_DATE),
            ("partial", spec.partial),
        ):
            if getattr(link, attr) != value:
                setattr(link, attr, value)
                changed = True
        # A whole link counts whole; a partial link keeps whatever share was entered.
        if not spec.partial and link.share != spec.share:
            link.share, changed = spec.share, True
        if not link.legal_basis:
            link.legal_basis, changed = spec.legal_basis, True
        if spec.note and not link.note:
            link.note, changed = spec.note, True
        if changed:
            to_update.append(link)
        else:
            report.links_unchanged += 1
    UnitChange.objects.bulk_create(to_create, batch_size=LINK_BATCH)
    if to_update:
        UnitChange.objects.bulk_update(
            to_update,
            ["kind", "effective_date", "partial", "share", "legal_basis", "note"],
            batch_size=UNIT_BATCH,
        )
    report.links_created = len(to_create)
    report.links_updated = len(to_update)


# --- statistics ---------------------------------------------------------------------------


def era_of(unit_valid_from: date | None, unit_valid_to: date | None) -> str:
    if unit_valid_to is not None and unit_valid_to < REFORM_DATE:
        return "trước 01/7/2025"
    if unit_valid_from is not None and unit_valid_from >= REFORM_DATE:
        return "từ 01/7/2025"
    return "không thời hạn"


def unit_stats() -> list[tuple[str, str, str, int]]:
    """(era, level label, kind label, count) for every unit in the database."""
    from django.db.models import Count

    levels = dict(Level.choices)
    kinds = dict(UnitKind.choices)
    counter: Counter = Counter()
    for row in Unit.objects.values("level", "kind", "valid_from", "valid_to").annotate(
        n=Count("pk")
    ):
        era = era_of(row["valid_from"], row["valid_to"])
        counter[(era, row["level"], row["kind"])] += row["n"]
    order = {"không thời hạn": 0, "trước 01/7/2025": 1, "từ 01/7/2025": 2}
    kind_order = list(kinds)
    return [
        (era, str(levels.get(level, level)), str(kinds.get(kind, kind)), n)
        for (era, level, kind), n in sorted(
            counter.items(),
            key=lambda item: (
                order[item[0][0]],
                item[0][1],
                kind_order.index(item[0][2]) if item[0][2] in kinds else 99,
            ),
        )
    ]


def link_stats() -> list[tuple[str, int, int]]:
    """(change kind label, links, links still waiting for an allocation share)."""
    from django.db.models import Count, Q

    kinds = dict(ChangeKind.choices)
    rows = (
        UnitChange.objects.values("kind")
        .annotate(n=Count("pk"), waiting=Count("pk", filter=Q(partial=True, share__isnull=True)))
        .order_by("kind")
    )
    return [(str(kinds.get(r["kind"], r["kind"])), r["n"], r["waiting"]) for r in rows]
