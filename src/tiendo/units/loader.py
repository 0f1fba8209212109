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

Each link belongs to a :class:`~tiendo.units.models.UnitEvent` (source
``vietnam-provinces``): the links of one new unit are one event, as for any other source of
events (:mod:`tiendo.units.changes`); a reload gives events only to links that lack one.

What a reload never overwrites on an existing link: an allocation share entered for a
partial link, a legal basis or a note someone has filled in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import import_module

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.units.event_links import attach_events
from tiendo.units.models import (
    PRE_REFORM_END,
    REFORM_DATE,
    ChangeKind,
    LegalAct,
    Level,
    Unit,
    UnitAncestor,
    UnitChange,
    UnitEvent,
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
    events_created: int = 0
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
            or self.events_created
        )

    def lines(self) -> list[str]:
        n = format_number
        return [
            f"Đơn vị: tạo mới {n(self.units_created)}, cập nhật {n(self.units_updated)}, "
            f"không đổi {n(self.units_unchanged)}.",
            f"Liên kết sáp nhập/chia tách: tạo mới {n(self.links_created)}, cập nhật "
            f"{n(self.links_updated)}, không đổi {n(self.links_unchanged)}; sự kiện tạo mới "
            f"{n(self.events_created)}.",
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


@dataclass(frozen=True)
class Catalogue:
    """One level of one tree as the package lists it, and what its units look like here."""

    name: str
    source: str  # the package's class listing the level (``iter_all``)
    level: int
    kinds: dict[str, str]  # the package's division type -> our kind
    width: int  # digits of the official code
    valid_from: date | None
    valid_to: date | None
    parent: str | None = None  # the catalogue of the parent; None: the nation
    parent_field: str = ""  # the record's attribute holding the parent's code

    def records(self) -> list:
        module, cls = self.source.rsplit(".", 1)
        return sorted(getattr(import_module(module), cls).iter_all(), key=lambda r: int(r.code))


# In the order the units are written: parents before their children.
CATALOGUES = (
    Catalogue(
        "old_province",
        "vietnam_provinces.legacy.Province",
        Level.PROVINCE,
        _OLD_PROVINCE_KINDS,
        2,
        None,
        PRE_REFORM_END,
    ),
    Catalogue(
        "old_district",
        "vietnam_provinces.legacy.District",
        Level.DISTRICT,
        _OLD_DISTRICT_KINDS,
        3,
        None,
        PRE_REFORM_END,
        "old_province",
        "province_code",
    ),
    Catalogue(
        "old_commune",
        "vietnam_provinces.legacy.Ward",
        Level.COMMUNE,
        _OLD_COMMUNE_KINDS,
        5,
        None,
        PRE_REFORM_END,
        "old_district",
        "district_code",
    ),
    Catalogue(
        "new_province",
        "vietnam_provinces.Province",
        Level.PROVINCE,
        _NEW_PROVINCE_KINDS,
        2,
        REFORM_DATE,
        None,
    ),
    Catalogue(
        "new_commune",
        "vietnam_provinces.Ward",
        Level.COMMUNE,
        _NEW_COMMUNE_KINDS,
        5,
        REFORM_DATE,
        None,
        "new_province",
        "province_code",
    ),
)
PARENT_CATALOGUE = {c.name: c.parent for c in CATALOGUES}
NATION_KEY: Key = (Level.NATION, UnitKind.NATION, NATION_CODE, None)


@dataclass
class Listed:
    """The units of one catalogue, by the package's (integer) code."""

    specs: dict[int, UnitSpec] = field(default_factory=dict)
    parent_code: dict[int, int] = field(default_factory=dict)


@dataclass
class Reading:
    """What the steps of :func:`read_official_tree` build up, one after the other."""

    listed: dict[str, Listed]
    links: list[LinkSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # (old province, new province): the pairs at least one commune link goes between
    supported_provinces: set[tuple[int, int]] = field(default_factory=set)

    def province_of(self, catalogue: str, code: int) -> int:
        """The province code of a district or commune, following its parents up."""
        while catalogue not in ("old_province", "new_province"):
            code = self.listed[catalogue].parent_code[code]
            catalogue = PARENT_CATALOGUE[catalogue]
        return code


def read_official_tree() -> OfficialTree:
    """Turn the package's data into unit and link specifications."""
    reading = Reading(listed={})
    for catalogue in CATALOGUES:
        reading.listed[catalogue.name] = _list_catalogue(catalogue, reading.listed)
    conversion = _ward_conversion()
    _link_communes(reading, conversion)
    _warn_about_unconverted_communes(reading, conversion)
    _link_island_districts(reading)
    _link_provinces(reading)
    nation = UnitSpec(Level.NATION, UnitKind.NATION, NATION_CODE, NATION_NAME, None, None, None)
    units = [nation]
    for catalogue in CATALOGUES:
        units.extend(reading.listed[catalogue.name].specs.values())
    return OfficialTree(units, reading.links, reading.warnings)


def _list_catalogue(catalogue: Catalogue, listed: dict[str, Listed]) -> Listed:
    result = Listed()
    for record in catalogue.records():
        code = int(record.code)
        if catalogue.parent is None:
            parent = NATION_KEY
        else:
            result.parent_code[code] = int(getattr(record, catalogue.parent_field))
            parent = listed[catalogue.parent].specs[result.parent_code[code]].key
        result.specs[code] = UnitSpec(
            catalogue.level,
            _kind(catalogue.kinds, record.division_type, record.name),
            _code(record.code, catalogue.width),
            official_name(record.name),
            catalogue.valid_from,
            catalogue.valid_to,
            parent,
        )
    return result


def _ward_conversion():
    """The package's 2025 commune conversion table.

    Read from the private module on purpose: the public ``Ward.search_from_legacy`` and
    ``Ward.get_legacy_sources`` give the same pairs, but drop ``is_partly_merged`` (an old
    commune that went only in part into its single new commune) and silently skip codes
    missing from the catalogues, which the load reports.
    """
    from vietnam_provinces import _ward_conversion_2025

    return _ward_conversion_2025


def _link_communes(reading: Reading, conversion) -> None:
    """One link per (old commune, new commune) of the conversion table.

    ``is_partly_merged`` says the old commune went only in part into (each of) its new
    commune(s).
    """
    old_communes = reading.listed["old_commune"].specs
    new_communes = reading.listed["new_commune"].specs
    predecessors_of = {e.new_ward.code: len(e.old_wards) for e in conversion.NEW_TO_OLD.values()}
    skipped_old, skipped_new = [], []
    for old_code, entry in sorted(conversion.OLD_TO_NEW.items()):
        old = old_communes.get(old_code)
        if old is None:
            skipped_old.append(old_code)
            continue
        successors = [n.code for n in entry.new_wards if n.code in new_communes]
        skipped_new.extend(n.code for n in entry.new_wards if n.code not in new_communes)
        partial = bool(entry.old_ward.is_partly_merged) or len(successors) > 1
        for new_code in successors:
            reading.supported_provinces.add(
                (
                    reading.province_of("old_commune", old_code),
                    reading.province_of("new_commune", new_code),
                )
            )
            kind, share, note = _commune_change(
                partial, len(successors), predecessors_of.get(new_code, 0)
            )
            reading.links.append(
                LinkSpec(
                    old.key,
                    new_communes[new_code].key,
                    kind,
                    partial,
                    share,
                    COMMUNE_LEGAL_BASIS,
                    note,
                )
            )
    _warn_about_skipped_communes(reading, skipped_old, skipped_new)


def _commune_change(
    partial: bool, successors: int, predecessors: int
) -> tuple[str, Decimal | None, str]:
    """(kind, share, note) of a commune link, from how many communes are on each side."""
    if partial:
        return ChangeKind.SPLIT, None, NOTE_SPLIT if successors > 1 else NOTE_PARTIAL_SINGLE
    if predecessors == 1:
        return ChangeKind.RECODE, Decimal(1), ""
    return ChangeKind.MERGE, Decimal(1), ""


def _warn_about_skipped_communes(
    reading: Reading, skipped_old: list[int], skipped_new: list[int]
) -> None:
    if skipped_old:
        reading.warnings.append(
            f"{len(skipped_old)} xã cũ trong bảng chuyển đổi không có trong danh mục cũ của gói "
            f"(bỏ qua): {', '.join(_code(c, 5) for c in skipped_old)}."
        )
    if skipped_new:
        reading.warnings.append(
            f"{len(skipped_new)} xã mới trong bảng chuyển đổi không có trong danh mục mới (bỏ qua)."
        )


def _warn_about_unconverted_communes(reading: Reading, conversion) -> None:
    unlinked = sorted(set(reading.listed["old_commune"].specs) - set(conversion.OLD_TO_NEW))
    if unlinked:
        reading.warnings.append(
            f"{len(unlinked)} xã cũ không có trong bảng chuyển đổi; số liệu của chúng chỉ "
            f"chuyển sang đơn vị mới theo tỉnh: {', '.join(_code(c, 5) for c in unlinked)}."
        )


def _link_island_districts(reading: Reading) -> None:
    """Island districts that had no communes became special zones (đặc khu).

    The conversion table, being commune-level, has no row for them: they are linked by
    name within the new province their old province went into.
    """
    old_districts = reading.listed["old_district"]
    linked_new = {lk.successor for lk in reading.links}
    province_successors: dict[int, set[int]] = defaultdict(set)
    for old_p, new_p in reading.supported_provinces:
        province_successors[old_p].add(new_p)
    with_communes = set(reading.listed["old_commune"].parent_code.values())
    orphans = {
        (reading.province_of("new_commune", code), _stem(spec.name, _NEW_COMMUNE_KINDS)): spec
        for code, spec in reading.listed["new_commune"].specs.items()
        if spec.key not in linked_new
    }
    for d_code, spec in old_districts.specs.items():
        if d_code in with_communes:
            continue
        for new_p in province_successors.get(old_districts.parent_code[d_code], ()):
            target = orphans.pop((new_p, _stem(spec.name, _OLD_DISTRICT_KINDS)), None)
            if target is not None:
                reading.links.append(
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
        reading.warnings.append(
            f"{len(orphans)} xã mới không có đơn vị cũ nào chuyển vào: {names}."
        )


def _link_provinces(reading: Reading) -> None:
    """Province links, from the package's province conversion.

    A pair that no commune link supports is a slip of the generated table (an old commune
    filed under the wrong province) and is dropped.
    """
    old_provinces = reading.listed["old_province"].specs
    new_provinces = reading.listed["new_province"].specs
    pairs = _province_pairs(reading)
    missing = set(old_provinces) - {old for old, _ in pairs}
    if missing:
        reading.warnings.append(f"{len(missing)} tỉnh cũ không có tỉnh mới tương ứng.")
    successors = Counter(old for old, _ in pairs)
    predecessors = Counter(new for _, new in pairs)
    for old_p, new_p in pairs:
        if successors[old_p] > 1:
            kind, partial, share, note = ChangeKind.SPLIT, True, None, NOTE_SPLIT
        elif predecessors[new_p] == 1:
            kind, partial, share, note = ChangeKind.RECODE, False, Decimal(1), ""
        else:
            kind, partial, share, note = ChangeKind.MERGE, False, Decimal(1), ""
        reading.links.append(
            LinkSpec(
                old_provinces[old_p].key,
                new_provinces[new_p].key,
                kind,
                partial,
                share,
                PROVINCE_LEGAL_BASIS,
                note,
            )
        )


def _province_pairs(reading: Reading) -> list[tuple[int, int]]:
    """(old province, new province) pairs of the package that some commune link supports."""
    from vietnam_provinces import Province

    old_provinces = reading.listed["old_province"].specs
    new_provinces = reading.listed["new_province"].specs
    pairs = []
    for old_p in sorted(old_provinces):
        for found in Province.search_from_legacy(code=old_p):
            new_p = int(found.province.code)
            if (old_p, new_p) in reading.supported_provinces:
                pairs.append((old_p, new_p))
                continue
            reading.warnings.append(
                f"Bảng chuyển đổi tỉnh ghi {old_provinces[old_p].name} → "
                f"{new_provinces[new_p].name}, nhưng không xã nào của "
                f"{old_provinces[old_p].name} chuyển sang đó: bỏ qua liên kết này."
            )
    return pairs


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
        report.events_created = attach_events(UnitChange, UnitEvent, LegalAct, source=SOURCE)
        if dry_run:
            transaction.set_rollback(True)
    if log:
        for line in report.lines():
            log(line)
    return report


def _upsert_units(specs: list[UnitSpec], report: LoadReport) -> dict[Key, int]:
    """Create the units that are new, update the ones that changed; the key of each spec's row."""
    key_to_pk, matched, fresh = _match_units(specs)
    _create_units(fresh, key_to_pk, report)
    _update_units(matched, key_to_pk, report)
    return key_to_pk


def _match_units(
    specs: list[UnitSpec],
) -> tuple[dict[Key, int], list[tuple[Unit, UnitSpec]], list[UnitSpec]]:
    """Pair each spec with its row: (key → pk of the matched, matched pairs, specs with no row)."""
    existing: dict[Key, Unit] = {}
    loose: dict[tuple, list[Unit]] = defaultdict(list)
    by_end: dict[tuple, Unit] = {}
    for unit in Unit.objects.exclude(kind=UnitKind.AGENCY).only(
        "pk", "level", "kind", "code", "name", "valid_from", "valid_to", "parent_id", "source"
    ):
        existing[(unit.level, unit.kind, unit.code, unit.valid_from)] = unit
        loose[(unit.level, unit.code, unit.valid_from)].append(unit)
        by_end[(unit.level, unit.kind, unit.code, unit.valid_to)] = unit
    # The package's tree before the reform has no start dates. Once a change file has added
    # the earlier history (a commune formed in 2020 from two older ones), the package's unit
    # is the version that ends on the package's date, not the earlier one that starts open.
    for spec in specs:
        if spec.valid_from is None and spec.valid_to is not None:
            later = by_end.get((spec.level, spec.kind, spec.code, spec.valid_to))
            if later is not None and later.valid_from is not None:
                existing[spec.key] = later
    claimed = {existing[s.key].pk for s in specs if s.key in existing}

    key_to_pk: dict[Key, int] = {}
    matched: list[tuple[Unit, UnitSpec]] = []
    fresh: list[UnitSpec] = []
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
            fresh.append(spec)
        else:
            key_to_pk[spec.key] = unit.pk
            matched.append((unit, spec))
    return key_to_pk, matched, fresh


def _create_units(fresh: list[UnitSpec], key_to_pk: dict[Key, int], report: LoadReport) -> None:
    """New units, depth by depth so that every parent has its primary key."""
    by_depth: dict[int, list[UnitSpec]] = defaultdict(list)
    for spec in fresh:
        by_depth[spec.depth].append(spec)
    for depth in sorted(by_depth):
        rows = [
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
        created = Unit.objects.bulk_create(rows, batch_size=UNIT_BATCH)
        for spec, unit in zip(by_depth[depth], created, strict=True):
            key_to_pk[spec.key] = unit.pk
        report.units_created += len(created)


class OfficialLoadRefused(TiendoError):
    code = "unit_load.values_outside"


def _check_values(matched: list[tuple[Unit, UnitSpec]]) -> None:
    """A reload that would end (or start) units so that figures fall outside their span is
    refused, listing them — the rule of a change file (:mod:`tiendo.units.changes`)."""
    from tiendo.units.changes import outside_validity

    spans = {
        unit.pk: (unit.valid_from, spec.valid_to)
        for unit, spec in matched
        if unit.valid_to != spec.valid_to
    }
    if not spans:
        return
    count, listed = outside_validity(spans)
    if count:
        raise OfficialLoadRefused(
            _(
                "%(count)s số liệu sẽ nằm ngoài thời gian hiệu lực của đơn vị theo cây đơn vị "
                "chính thức, nên cây không được nạp: %(listed)s%(more)s"
            ),
            count=format_number(count),
            listed="\n  " + "\n  ".join(listed),
            more="…" if count > len(listed) else ".",
        )


def _update_units(
    matched: list[tuple[Unit, UnitSpec]], key_to_pk: dict[Key, int], report: LoadReport
) -> None:
    _check_values(matched)
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
    for pk, (_parent, path) in rows.items():
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
        elif _refresh_link(link, spec):
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


def _refresh_link(link: UnitChange, spec: LinkSpec) -> bool:
    """Bring an existing link in line with the package, keeping what people entered."""
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
    return changed


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
