"""Reorganisations of the unit tree: change files and single events.

A change file (``docs/unit-changes.md``) is one row per predecessor → successor link;
rows with the same ``event`` label are one :class:`~tiendo.units.models.UnitEvent`.
Loading is three steps, the shape of every import here:

* :func:`read_change_file` — the bytes, refused by size and row count before any parser
  sees them; CSV or YAML (a safe loader without anchors, aliases or custom tags);
* :func:`plan_changes` — the whole file checked against the tree as it is and as the
  earlier rows of the file leave it (an event can build on the one before), every problem
  named by its row; the plan says what would be added and which figures would fall
  outside their unit's validity. Nothing is written;
* :func:`apply_changes` — the plan re-made under a lock and written in one transaction,
  with one audit entry and its counts. An event already loaded (same kind, date, act and
  links: its ``fingerprint``) is skipped, so loading a file twice changes nothing.

:func:`record_change` is one event through the same checks (a page, a script).

The tree is kept as versions (see :mod:`tiendo.units.models`): an event ends the
predecessors on the day before its effective date and starts the successors on it; the
children of a unit that gets a new version get new versions under it (links of kind
``move``). For the tree before 01/07/2025, whose units the official package gives as they
were on 30/06/2025, an event inside a unit's span puts the existing unit after the event
and creates its earlier version (``from_*`` columns): see "Loading an earlier era" in the
document.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import yaml
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_number
from tiendo.core.text import nfc
from tiendo.units.models import (
    ChangeKind,
    LegalAct,
    Unit,
    UnitAncestor,
    UnitChange,
    UnitEvent,
    UnitKind,
)

MB = 1024 * 1024
MAX_BYTES = 2 * MB
MAX_ROWS = 20_000
MAX_LISTED_VALUES = 30
MANUAL_SOURCE = "thủ công"
FILE_UNIT_SOURCE = "tệp thay đổi"

COLUMNS = (
    "event",
    "kind",
    "effective",
    "act_number",
    "act_date",
    "act_issuer",
    "act_title",
    "from_code",
    "from_name",
    "from_kind",
    "from_parent",
    "to_code",
    "to_name",
    "to_kind",
    "to_parent",
    "share",
    "note",
)
REQUIRED = ("event", "kind", "effective", "act_number", "act_date", "act_issuer")
MAX_LENGTH = {"act_number": 200, "act_issuer": 200, "act_title": 500, "note": 300}
MAX_LENGTH |= {"from_name": 200, "to_name": 200, "event": 100}
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
LEVEL_OF_KIND = {
    UnitKind.PROVINCE: 1,
    UnitKind.CENTRAL_CITY: 1,
    UnitKind.RURAL_DISTRICT: 2,
    UnitKind.URBAN_DISTRICT: 2,
    UnitKind.DISTRICT_TOWN: 2,
    UnitKind.PROVINCIAL_CITY: 2,
    UnitKind.COMMUNE: 3,
    UnitKind.WARD: 3,
    UnitKind.TOWNSHIP: 3,
    UnitKind.SPECIAL_ZONE: 3,
}
# kinds whose one row changes one attribute of one unit, and the attribute
SINGLE_ROW_KINDS = {
    ChangeKind.RENAME: "name",
    ChangeKind.RECODE: "code",
    ChangeKind.MOVE: "parent",
    ChangeKind.RECLASSIFY: "kind",
}


# --- problems -----------------------------------------------------------------------------


@dataclass
class Problem:
    """One thing wrong with a change file or event, with the row it is on (None: the file)."""

    code: str
    message: object  # a lazy translatable text with %(name)s placeholders
    params: dict = field(default_factory=dict)
    row: int | None = None

    def __str__(self) -> str:
        text = str(self.message) % self.params if self.params else str(self.message)
        if self.row is None:
            return text
        return str(_("Dòng %(row)s: %(text)s")) % {"row": self.row, "text": text}


class UnitChangeRefused(TiendoError, ValueError):
    """A change file or event that cannot be loaded; ``problems`` lists every reason."""

    code = "unit_change.refused"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems), code=problems[0].code)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# --- reading a file -----------------------------------------------------------------------


class _ChangeFileLoader(yaml.SafeLoader):
    """The safe loader without anchors and aliases: a change file never needs them, and
    they are how a small YAML file expands into a huge document."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.YAMLError("anchors and aliases are not allowed")
        return super().compose_node(parent, index)


def read_change_file(name: str, data: bytes) -> tuple[list[dict], list[Problem]]:
    """The rows of a change file (CSV, or YAML for ``.yaml``/``.yml``) and the problems that
    stop it being read. Size and row count are refused before parsing."""
    if len(data) > MAX_BYTES:
        return [], [_file_problem("unit_change.too_big", _too_big_message(), name)]
    if data.count(b"\n") > MAX_ROWS + 1:
        return [], [_too_many_rows(name)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [_bad_file(name, _("tệp không phải văn bản UTF-8"))]
    if name.lower().endswith((".yaml", ".yml")):
        rows, problems = _yaml_rows(name, text)
    else:
        rows, problems = _csv_rows(name, text)
    if not problems and len(rows) > MAX_ROWS:
        problems = [_too_many_rows(name)]
    return rows, problems


def _too_big_message():
    return _("Tệp “%(name)s” lớn hơn %(mb)s MB.")


def _file_problem(code: str, message, name: str, **params) -> Problem:
    return Problem(code, message, {"name": name, "mb": MAX_BYTES // MB, **params})


def _too_many_rows(name: str) -> Problem:
    return _file_problem(
        "unit_change.too_many_rows",
        _("Tệp “%(name)s” có hơn %(limit)s dòng."),
        name,
        limit=format_number(MAX_ROWS),
    )


def _bad_file(name: str, reason) -> Problem:
    return _file_problem(
        "unit_change.bad_file", _("Không đọc được tệp “%(name)s”: %(reason)s."), name, reason=reason
    )


def _csv_rows(name: str, text: str) -> tuple[list[dict], list[Problem]]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        problems = _header_problems(name, header)
        if problems:
            return [], problems
        rows = [
            {k: v for k, v in row.items() if k is not None} | {"row": reader.line_num}
            for row in reader
        ]
    except csv.Error as exc:
        return [], [_bad_file(name, str(exc))]
    return rows, []


def _header_problems(name: str, header: Sequence[str]) -> list[Problem]:
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    problems = []
    if unknown:
        problems.append(
            _file_problem(
                "unit_change.unknown_column",
                _("Tệp “%(name)s” có cột không được hỗ trợ: %(columns)s."),
                name,
                columns=", ".join(unknown),
            )
        )
    if missing:
        problems.append(
            _file_problem(
                "unit_change.missing_value",
                _("Tệp “%(name)s” thiếu cột: %(columns)s."),
                name,
                columns=", ".join(missing),
            )
        )
    return problems


def _yaml_rows(name: str, text: str) -> tuple[list[dict], list[Problem]]:
    try:
        document = yaml.load(text, Loader=_ChangeFileLoader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return [], [_bad_file(name, type(exc).__name__)]
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        return [], [_bad_file(name, _("tệp YAML phải là một danh sách, mỗi mục một liên kết"))]
    rows, problems = [], []
    for number, item in enumerate(document, start=1):
        keys = [str(k) for k in item]
        unknown = [k for k in keys if k not in COLUMNS]
        if unknown:
            problems.append(
                Problem(
                    "unit_change.unknown_column",
                    _("khóa không được hỗ trợ: %(columns)s."),
                    {"columns": ", ".join(unknown)},
                    number,
                )
            )
        nested = [k for k, v in item.items() if isinstance(v, (list, dict))]
        if nested:
            problems.append(
                Problem(
                    "unit_change.bad_file",
                    _("giá trị của %(columns)s phải là một giá trị đơn."),
                    {"columns": ", ".join(map(str, nested))},
                    number,
                )
            )
        rows.append({str(k): v for k, v in item.items()} | {"row": number})
    return rows, problems


# --- parsing rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One predecessor → successor link of an event, as a file row or a caller gives it.

    Empty ``to_*`` fields take the predecessor's value; ``share`` None is the whole
    predecessor (or, for one of several successors, a share still to be entered).
    """

    from_code: str = ""
    from_name: str = ""
    from_kind: str = ""
    from_parent: str = ""
    to_code: str = ""
    to_name: str = ""
    to_kind: str = ""
    to_parent: str = ""
    share: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class Act:
    number: str
    signed_on: date | None
    issuer: str
    title: str = ""


@dataclass
class Row:
    row: int
    event: str
    kind: str
    effective: date
    act: Act
    link: Link


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    return " ".join(nfc(str(value)).split())


def _parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _parse_share(value) -> Decimal | None:
    """0…1 from ``0.4``, ``0,4`` or ``40%``; raises ValueError when it is not a share."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        share = value
    else:
        text = _text(value).replace(",", ".")
        percent = text.endswith("%")
        try:
            share = Decimal(text.rstrip("%").strip())
        except InvalidOperation as exc:
            raise ValueError(text) from exc
        if percent:
            share = share / 100
    if not share.is_finite() or not 0 <= share <= 1:
        raise ValueError(str(value))
    return share.quantize(Decimal("0.000001"))


def _parse_row(raw: Mapping) -> tuple[Row | None, list[Problem]]:
    """One row read and checked on its own (against nothing but the format)."""
    number = raw.get("row")
    values = {c: _text(raw.get(c)) for c in COLUMNS if c not in ("share", "effective", "act_date")}
    dates = {column: _parse_date(raw.get(column)) for column in ("effective", "act_date")}
    found = [
        *_presence_problems(raw, values),
        *_kind_problems(values),
        *_code_problems(raw, values),
        *(
            (
                "unit_change.bad_date",
                _(
                    "ngày “%(value)s” ở cột %(column)s không hợp lệ (dùng 2027-01-01 hoặc 01/01/2027)."
                ),
                {"value": _text(raw.get(column)), "column": column},
            )
            for column, day in dates.items()
            if day is None and _text(raw.get(column))
        ),
    ]
    try:
        share = _parse_share(raw.get("share"))
    except ValueError:
        share = None
        found.append(
            (
                "unit_change.bad_share",
                _("tỷ lệ “%(value)s” không hợp lệ (từ 0 đến 1, hoặc từ 0%% đến 100%%)."),
                {"value": _text(raw.get("share"))},
            )
        )
    if found:
        return None, [Problem(code, message, params, number) for code, message, params in found]
    link = Link(**{f.name: values[f.name] for f in fields(Link) if f.name != "share"}, share=share)
    act = Act(values["act_number"], dates["act_date"], values["act_issuer"], values["act_title"])
    return Row(number, values["event"], values["kind"], dates["effective"], act, link), []


def _presence_problems(raw: Mapping, values: dict):
    for column in REQUIRED:
        if not _text(raw.get(column)):
            code = "unit_change.missing_legal_basis" if column.startswith("act_") else None
            yield (
                code or "unit_change.missing_value",
                _("thiếu giá trị ở cột %(column)s."),
                {"column": column},
            )
    for column, limit in MAX_LENGTH.items():
        if len(values[column]) > limit:
            yield (
                "unit_change.too_long",
                _("cột %(column)s dài quá %(limit)s ký tự."),
                {"column": column, "limit": limit},
            )


def _kind_problems(values: dict):
    kind = values["kind"]
    if kind and kind not in ChangeKind.values:
        yield (
            "unit_change.unknown_kind",
            _("loại thay đổi “%(kind)s” không có; dùng một trong: %(kinds)s."),
            {"kind": kind, "kinds": ", ".join(ChangeKind.values)},
        )
    for column in ("from_kind", "to_kind"):
        if values[column] and values[column] not in LEVEL_OF_KIND:
            yield (
                "unit_change.unknown_kind",
                _("loại đơn vị “%(kind)s” ở cột %(column)s không có; dùng một trong: %(kinds)s."),
                {"kind": values[column], "column": column, "kinds": ", ".join(LEVEL_OF_KIND)},
            )


def _code_problems(raw: Mapping, values: dict):
    for column in ("from_code", "from_parent", "to_code", "to_parent"):
        if isinstance(raw.get(column), (int, float)) and not isinstance(raw.get(column), bool):
            # YAML reads 00700 as a number and drops the zeros (or reads it in octal)
            yield (
                "unit_change.bad_code",
                _("mã ở cột %(column)s phải viết trong ngoặc kép trong tệp YAML (“00700”)."),
                {"column": column},
            )
        elif values[column] and not CODE.match(values[column]):
            yield (
                "unit_change.bad_code",
                _(
                    "mã “%(code)s” ở cột %(column)s chỉ được gồm chữ cái không dấu, số, “.”, “-”, “_”."
                ),
                {"code": values[column], "column": column},
            )


# --- events of a file ---------------------------------------------------------------------


@dataclass
class EventSpec:
    """The rows of one event, checked to agree with each other."""

    label: str
    kind: str
    effective: date
    act: Act
    rows: list[Row]

    @property
    def first_row(self) -> int:
        return self.rows[0].row

    @property
    def fingerprint(self) -> str:
        """What identifies the event whichever file (or page) it comes from."""
        links = sorted(
            [
                *(
                    getattr(r.link, f.name) or ""
                    for f in fields(Link)
                    if f.name not in ("share", "note")
                ),
                str(r.link.share) if r.link.share is not None else "",
            ]
            for r in self.rows
        )
        content = [self.kind, self.effective.isoformat(), self.act.number, self.act.issuer, links]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()

    def predecessor_codes(self) -> list[str]:
        return list(dict.fromkeys(r.link.from_code for r in self.rows if r.link.from_code))

    def successor_code(self, row: Row) -> str:
        """The code of the row's successor; empty when the row has none (a dissolution)."""
        if self.kind == ChangeKind.DISSOLVE:
            return row.link.to_code
        return row.link.to_code or row.link.from_code

    def successor_codes(self) -> list[str]:
        return list(dict.fromkeys(c for r in self.rows if (c := self.successor_code(r))))


def _group_events(rows: list[Row], problems: list[Problem]) -> list[EventSpec]:
    events: dict[str, EventSpec] = {}
    for row in rows:
        spec = events.get(row.event)
        if spec is None:
            events[row.event] = EventSpec(row.event, row.kind, row.effective, row.act, [row])
            continue
        differs = [
            column
            for column, mine, theirs in (
                ("kind", row.kind, spec.kind),
                ("effective", row.effective, spec.effective),
                ("act_number", row.act.number, spec.act.number),
                ("act_date", row.act.signed_on, spec.act.signed_on),
                ("act_issuer", row.act.issuer, spec.act.issuer),
            )
            if mine != theirs
        ]
        if differs:
            problems.append(
                Problem(
                    "unit_change.event_mismatch",
                    _("sự kiện “%(event)s” đã ghi ở dòng %(first)s với %(columns)s khác."),
                    {"event": row.event, "first": spec.first_row, "columns": ", ".join(differs)},
                    row.row,
                )
            )
        else:
            if row.act.title and not spec.act.title:
                spec.act = row.act
            spec.rows.append(row)
    for spec in events.values():
        _check_shape(spec, problems)
    return list(events.values())


def _check_shape(spec: EventSpec, problems: list[Problem]) -> None:
    """The rows an event of its kind needs (counted, not yet looked up)."""
    preds, succs = spec.predecessor_codes(), spec.successor_codes()
    n = len(spec.rows)
    rules = {
        ChangeKind.MERGE: (
            len(preds) >= 2 and len(succs) == 1,
            _("một sáp nhập cần từ hai đơn vị cũ trở lên vào đúng một đơn vị mới."),
        ),
        ChangeKind.SPLIT: (
            len(preds) == 1 and len(succs) >= 2,
            _("một chia tách cần đúng một đơn vị cũ và từ hai đơn vị mới trở lên."),
        ),
        ChangeKind.ESTABLISH: (
            bool(succs) and all(r.link.to_code for r in spec.rows),
            _("một thành lập cần mã đơn vị mới (cột to_code) trên mỗi dòng."),
        ),
        ChangeKind.DISSOLVE: (
            bool(preds) and all(r.link.from_code for r in spec.rows),
            _("một giải thể cần mã đơn vị bị giải thể (cột from_code) trên mỗi dòng."),
        ),
    }
    for kind in SINGLE_ROW_KINDS:
        rules[kind] = (
            n == 1 and len(preds) == 1,
            _("loại thay đổi này cần đúng một dòng có mã đơn vị cũ (cột from_code)."),
        )
    ok, message = rules[spec.kind]
    if not ok:
        problems.append(
            Problem(
                "unit_change.rows_for_kind",
                _("sự kiện “%(event)s”: %(rule)s"),
                {"event": spec.label, "rule": message},
                spec.first_row,
            )
        )


# --- the tree as the plan leaves it -------------------------------------------------------


@dataclass(eq=False)
class Version:
    """A unit version in a plan: an existing row (``unit``) as the plan changes it, or a new one."""

    code: str
    name: str
    kind: str
    level: int
    parent: Version | None
    valid_from: date | None
    valid_to: date | None
    unit: Unit | None = None
    row: int | None = None  # the row that created or changed it
    event: PlannedEvent | None = None  # the event that created it

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def is_agency(self) -> bool:
        return self.kind == UnitKind.AGENCY

    @property
    def parent_code(self) -> str:
        return self.parent.code if self.parent else ""

    def span_changed(self) -> bool:
        return self.unit is not None and (
            (self.unit.valid_from, self.unit.valid_to) != (self.valid_from, self.valid_to)
        )

    def parent_changed(self) -> bool:
        return self.unit is not None and self.unit.parent_id != (
            self.parent.unit.pk if self.parent and self.parent.unit else None
        )

    def label(self) -> str:
        return f"{self.name} ({self.code})"


class TreeState:
    """The units a plan touches, read from the database once and changed in memory."""

    def __init__(self):
        self.by_pk: dict[int, Version] = {}
        self.by_code: dict[str, list[Version]] = {}
        self.children: dict[int, list[Version]] = {}  # by id() of the parent Version
        self.created: list[Version] = []

    def wrap(self, unit: Unit) -> Version:
        version = self.by_pk.get(unit.pk)
        if version is None:
            parent = self.wrap(unit.parent) if unit.parent_id else None
            version = Version(
                unit.code,
                unit.name,
                unit.kind,
                unit.level,
                parent,
                unit.valid_from,
                unit.valid_to,
                unit=unit,
            )
            self.by_pk[unit.pk] = version
        return version

    def preload(self, codes) -> None:
        """Read the versions of ``codes`` and their children a few queries at a time, so
        that a file of thousands of rows does not ask the database row by row."""
        codes = sorted({c for c in codes if c and c not in self.by_code})
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            units = Unit.objects.administrative().filter(code__in=chunk)
            for code in chunk:
                self.by_code[code] = []
            loaded = []
            for unit in units.select_related("parent__parent__parent"):
                version = self.wrap(unit)
                self.by_code[unit.code].append(version)
                loaded.append(version)
            children: dict[int, list[Version]] = {v.unit.pk: [] for v in loaded}
            for child in Unit.objects.filter(parent__in=list(children)).select_related("parent"):
                children[child.parent_id].append(self.wrap(child))
            for version in loaded:
                self.children.setdefault(id(version), children[version.unit.pk])

    def versions(self, code: str) -> list[Version]:
        if code not in self.by_code:
            units = Unit.objects.administrative().filter(code=code)
            self.by_code[code] = [
                self.wrap(u) for u in units.select_related("parent__parent__parent")
            ]
        return self.by_code[code]

    def on(self, code: str, day: date) -> list[Version]:
        return [v for v in self.versions(code) if v.valid_on(day)]

    def children_of(self, version: Version) -> list[Version]:
        key = id(version)
        if key not in self.children:
            self.children[key] = (
                [
                    self.wrap(u)
                    for u in Unit.objects.filter(parent=version.unit).select_related("parent")
                ]
                if version.unit
                else []
            )
        return self.children[key]

    def add(self, version: Version) -> None:
        if not version.is_agency:
            self.versions(version.code).append(version)
        self.created.append(version)
        if version.parent is not None:
            self.children_of(version.parent).append(version)

    def set_parent(self, version: Version, parent: Version) -> None:
        if version.parent is not None:
            siblings = self.children_of(version.parent)
            if version in siblings:
                siblings.remove(version)
        version.parent = parent
        self.children_of(parent).append(version)

    def changed(self) -> list[Version]:
        return [v for v in self.by_pk.values() if v.span_changed() or v.parent_changed()]


@dataclass(eq=False)
class PlannedLink:
    predecessor: Version
    successor: Version
    kind: str
    share: Decimal | None
    partial: bool
    note: str
    row: int
    # the link already in the database that this row documents (its act, its share)
    existing: UnitChange | None = None
    share_given: bool = True


@dataclass(eq=False)
class PlannedEvent:
    spec: EventSpec
    preds: dict[str, Version] = field(default_factory=dict)  # by code: the version that ends
    succs: dict[str, Version] = field(default_factory=dict)  # by code: the version that starts
    cut: dict[str, Version] = field(default_factory=dict)  # existing units that now start here
    started: list[Version] = field(default_factory=list)  # existing units given a start here
    # predecessors that already ended on the eve, linked to successors starting on the
    # date: the event documents links already there (the 2025 reform with its real act)
    documented: dict[int, list[UnitChange]] = field(default_factory=dict)
    links: list[PlannedLink] = field(default_factory=list)

    def units(self) -> list[Version]:
        return list(
            dict.fromkeys(
                [*self.preds.values(), *self.succs.values(), *self.started]
                + [v for lk in self.links for v in (lk.predecessor, lk.successor)]
            )
        )


@dataclass
class ChangePlan:
    """What a file or an event would do; ``problems`` empty when it may be applied."""

    rows: list[Mapping]
    events: list[PlannedEvent] = field(default_factory=list)
    already: list[EventSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    values_outside: list[str] = field(default_factory=list)
    state: TreeState | None = None

    @property
    def created(self) -> list[Version]:
        return self.state.created if self.state else []

    @property
    def changed(self) -> list[Version]:
        return self.state.changed() if self.state else []

    @property
    def links(self) -> list[PlannedLink]:
        return [lk for ev in self.events for lk in ev.links]

    def lines(self) -> list[str]:
        """What the plan would add, in plain text, one line each."""
        out = []
        for ev in self.events:
            spec = ev.spec
            out.append(
                str(
                    _(
                        "Sự kiện %(event)s: %(kind)s ngày %(date)s, căn cứ %(act)s (%(issuer)s, %(signed)s)."
                    )
                )
                % {
                    "event": spec.label,
                    "kind": ChangeKind(spec.kind).label,
                    "date": format_date(spec.effective),
                    "act": spec.act.number,
                    "issuer": spec.act.issuer,
                    "signed": format_date(spec.act.signed_on),
                }
            )
            for lk in ev.links:
                share = "" if lk.share is None else f" — {format_number(lk.share * 100)}%"
                out.append(f"  {lk.predecessor.label()} → {lk.successor.label()}{share}")
        for spec in self.already:
            out.append(
                str(_("Sự kiện %(event)s (dòng %(row)s) đã được nạp trước đây: bỏ qua."))
                % {"event": spec.label, "row": spec.first_row}
            )
        for version in self.created:
            out.append(
                str(_("Đơn vị mới: %(unit)s, %(span)s."))
                % {"unit": version.label(), "span": _span(version)}
            )
        for version in self.changed:
            out.append(
                str(_("Đơn vị đổi hiệu lực: %(unit)s, %(span)s."))
                % {"unit": version.label(), "span": _span(version)}
            )
        out.append(
            str(
                _(
                    "Tổng: %(events)s sự kiện, %(units)s đơn vị mới, %(changed)s đơn vị đổi hiệu lực, %(links)s liên kết."
                )
            )
            % {
                "events": format_number(len(self.events)),
                "units": format_number(len(self.created)),
                "changed": format_number(len(self.changed)),
                "links": format_number(len(self.links)),
            }
        )
        return out


def _span(version: Version) -> str:
    start = format_date(version.valid_from) if version.valid_from else "…"
    end = format_date(version.valid_to) if version.valid_to else "…"
    return str(_("hiệu lực %(start)s – %(end)s")) % {"start": start, "end": end}


# --- planning one day ---------------------------------------------------------------------


class DayPlanner:
    """The events of one effective date, applied to the state in four passes: predecessors
    end, successors start, new versions find their parents, links get their shares and
    children follow their parents."""

    def __init__(
        self, state: TreeState, day: date, specs: list[EventSpec], problems: list[Problem]
    ):
        self.state = state
        self.day = day
        self.eve = day - timedelta(days=1)
        self.events = [PlannedEvent(spec) for spec in specs]
        self.problems = problems
        self.ending: set[int] = set()  # id() of the versions that end (or are cut) today
        self.parent_wanted: list[tuple[Version, str, Version | None, date]] = []

    def refuse(self, problem: str, message, row: int | None, /, **params) -> None:
        self.problems.append(Problem(problem, message, params, row))

    def run(self) -> list[PlannedEvent]:
        for step in (self._predecessors, self._successors):
            for ev in self.events:
                step(ev)
        self._resolve_parents()
        for ev in self.events:
            self._links(ev)
            self._attribute_changes(ev)
        for ev in self.events:
            self._children(ev)
        return self.events

    # predecessors ----------------------------------------------------------------------

    def _predecessors(self, ev: PlannedEvent) -> None:
        successor_codes = set(ev.spec.successor_codes())
        for row in ev.spec.rows:
            code = row.link.from_code
            if not code or code in ev.preds:
                continue
            found = self.state.on(code, self.eve)
            if len(found) > 1:
                self._code_taken(row.row, code, self.eve)
                continue
            version = found[0] if found else self._past_unit(row)
            if version is None:
                continue
            if not found:
                ev.preds[code] = version
            elif id(version) in self.ending:
                self._ends_twice(row.row, version, self.eve)
                continue
            elif version.valid_to is None:
                version.valid_to, version.row = self.eve, row.row
                ev.preds[code] = version
            elif version.valid_to == self.eve and self._documents(ev, version):
                ev.preds[code] = version
            elif version.valid_to == self.eve:
                self._ends_twice(row.row, version, version.valid_to)
                continue
            elif code in successor_codes:
                ev.preds[code] = self._cut(ev, version, row)
            else:
                self._ends_twice(row.row, version, version.valid_to)
                continue
            self.ending.add(id(ev.preds[code]))
            self.ending.add(id(version))

    def _documents(self, ev: PlannedEvent, version: Version) -> bool:
        """Whether every row of ``version`` names a successor it is already linked to,
        starting on the date: the event gives existing links their act."""
        if version.unit is None:
            return False
        codes = {
            ev.spec.successor_code(r) for r in ev.spec.rows if r.link.from_code == version.code
        }
        links = list(
            UnitChange.objects.filter(
                predecessor=version.unit, successor__valid_from=self.day, successor__code__in=codes
            ).select_related("successor")
        )
        if not codes or "" in codes or {lk.successor.code for lk in links} != codes:
            return False
        ev.documented[id(version)] = links
        return True

    def _past_unit(self, row: Row) -> Version | None:
        """A predecessor the database does not hold on the day before: created as a past
        unit when the row describes it, else refused."""
        link = row.link
        if link.from_name and link.from_kind:
            past = Version(
                link.from_code,
                link.from_name,
                link.from_kind,
                LEVEL_OF_KIND[link.from_kind],
                None,
                None,
                self.eve,
                row=row.row,
            )
            self.parent_wanted.append((past, link.from_parent, None, self.eve))
            self.state.add(past)
            return past
        later = [
            v
            for v in self.state.versions(link.from_code)
            if v.valid_from and v.valid_from > self.eve
        ]
        if later:
            self.refuse(
                "unit_change.before_unit_existed",
                _(
                    "đơn vị mã %(code)s (%(name)s) chỉ có hiệu lực từ ngày %(start)s, sau ngày thay đổi %(date)s."
                ),
                row.row,
                code=link.from_code,
                name=later[0].name,
                start=format_date(later[0].valid_from),
                date=format_date(self.day),
            )
        else:
            self.refuse(
                "unit_change.unknown_unit",
                _("không có đơn vị nào mang mã %(code)s vào ngày %(date)s."),
                row.row,
                code=link.from_code,
                date=format_date(self.eve),
            )
        return None

    def _cut(self, ev: PlannedEvent, version: Version, row: Row) -> Version:
        """An existing unit of an earlier tree spanning the date: it keeps its span from
        the date, and its earlier version (the predecessor) is created."""
        link = row.link
        kind = link.from_kind or version.kind
        past = Version(
            version.code,
            link.from_name or version.name,
            kind,
            LEVEL_OF_KIND.get(kind, version.level),
            None,
            version.valid_from,
            self.eve,
            row=row.row,
            event=ev,
        )
        version.valid_from, version.row = self.day, row.row
        ev.cut[version.code] = version
        self.parent_wanted.append((past, link.from_parent, version.parent, self.eve))
        self.state.add(past)
        return past

    # successors ------------------------------------------------------------------------

    def _successors(self, ev: PlannedEvent) -> None:
        for row in ev.spec.rows:
            code = ev.spec.successor_code(row)
            if not code or code in ev.succs:
                continue
            if code in ev.cut:
                ev.succs[code] = ev.cut[code]
                self._check_same(ev.cut[code], row)
                continue
            found = self.state.on(code, self.day)
            if len(found) > 1:
                self._code_taken(row.row, code, self.day)
            elif found:
                self._existing_successor(ev, row, found[0])
            else:
                self._new_successor(ev, row, code)

    def _existing_successor(self, ev: PlannedEvent, row: Row, version: Version) -> None:
        if version.unit is None:  # a new unit of another row
            self._code_taken(row.row, version.code, self.day)
            return
        if version.valid_to is None and version.valid_from != self.day:
            self.refuse(
                "unit_change.code_taken",
                _(
                    "%(unit)s còn hiệu lực sau ngày %(date)s, nên không thể là đơn vị mới của sự kiện; nếu nó nhận thêm phần của đơn vị khác, thêm dòng %(code)s → %(code)s để nó có phiên bản mới."
                ),
                row.row,
                unit=version.label(),
                date=format_date(self.day),
                code=version.code,
            )
            return
        if version.valid_from != self.day:  # an earlier tree's unit formed by this event
            version.valid_from, version.row = self.day, row.row
            ev.started.append(version)
        self._check_same(version, row)
        ev.succs[version.code] = version

    def _new_successor(self, ev: PlannedEvent, row: Row, code: str) -> None:
        link = row.link
        base = ev.preds.get(code) or ev.preds.get(link.from_code)
        if base is None:
            missing = [c for c in ("to_name", "to_kind", "to_parent") if not getattr(link, c)]
            if missing:
                if not link.from_code:  # (a missing predecessor is refused already)
                    self.refuse(
                        "unit_change.missing_value",
                        _("đơn vị mới %(code)s cần %(columns)s."),
                        row.row,
                        code=code,
                        columns=", ".join(missing),
                    )
                return
        kind = link.to_kind or base.kind
        version = Version(
            code,
            link.to_name or base.name,
            kind,
            LEVEL_OF_KIND.get(kind, base.level if base else 3),
            None,
            self.day,
            None,
            row=row.row,
            event=ev,
        )
        ev.succs[code] = version
        self.parent_wanted.append(
            (version, link.to_parent, base.parent if base else None, self.day)
        )
        self.state.versions(code).append(version)
        self.state.created.append(version)

    def _check_same(self, version: Version, row: Row) -> None:
        """A successor that is an existing unit must be what the row says it becomes."""
        link = row.link
        differs = [
            (column, wanted, have)
            for column, wanted, have in (
                ("to_name", link.to_name, version.name),
                ("to_kind", link.to_kind, version.kind),
                ("to_parent", link.to_parent, version.parent_code),
            )
            if wanted and wanted != have
        ]
        for column, wanted, have in differs:
            self.refuse(
                "unit_change.successor_differs",
                _(
                    "đơn vị %(unit)s đã có trong cơ sở dữ liệu với %(column)s là “%(have)s”, không phải “%(wanted)s”."
                ),
                row.row,
                unit=version.label(),
                column=column,
                have=have,
                wanted=wanted,
            )

    # parents ---------------------------------------------------------------------------

    def _resolve_parents(self) -> None:
        for version, code, default, day in self.parent_wanted:
            parent = self._parent(version, code, default, day)
            if parent is not None:
                version.parent = parent
                self.state.children_of(parent).append(version)

    def _parent(self, version: Version, code: str, default: Version | None, day: date):
        if not code and default is None and version.event is None:
            # a unit gone before the database's trees: where its successor was
            following = self._successors_of(version)
            default = following[0].parent if following else None
        if not code and default is not None:
            if default.valid_on(day):
                return default
            following = self._successors_of(default)
            if len(following) == 1:
                return following[0]
            code = default.code
        if not code:
            return None
        found = self.state.on(code, day)
        if len(found) == 1:
            return found[0]
        self.refuse(
            "unit_change.unknown_unit",
            _("không có đơn vị cấp trên nào mang mã %(code)s vào ngày %(date)s (cho %(unit)s)."),
            version.row,
            code=code,
            date=format_date(day),
            unit=version.label(),
        )
        return None

    def _successors_of(self, version: Version) -> list[Version]:
        """The versions ``version`` becomes today, through the rows of today's events."""
        out = []
        for ev in self.events:
            for row in ev.spec.rows:
                if row.link.from_code and ev.preds.get(row.link.from_code) is version:
                    succ = ev.succs.get(ev.spec.successor_code(row))
                    if succ is not None and succ not in out:
                        out.append(succ)
        return out

    # links -----------------------------------------------------------------------------

    def _links(self, ev: PlannedEvent) -> None:
        for code, pred in ev.preds.items():
            rows = [
                r for r in ev.spec.rows if r.link.from_code == code and ev.spec.successor_code(r)
            ]
            shares = [r.link.share for r in rows if r.link.share is not None]
            total = sum(shares, Decimal(0))
            if shares and (len(shares) != len(rows) or total != 1):
                self.refuse(
                    "unit_change.shares_not_whole",
                    _(
                        "tỷ lệ phân bổ của %(unit)s phải có trên mọi dòng của nó và cộng lại bằng 100%%, hiện là %(total)s%%."
                    ),
                    rows[0].row,
                    unit=pred.label(),
                    total=format_number(total * 100),
                )
                continue
            for row in rows:
                succ = ev.succs.get(ev.spec.successor_code(row))
                if succ is None or succ is pred:
                    continue
                share = row.link.share if shares else (Decimal(1) if len(rows) == 1 else None)
                partial = share is None or share < 1
                existing = next(
                    (
                        lk
                        for lk in ev.documented.get(id(pred), [])
                        if succ.unit is not None and lk.successor_id == succ.unit.pk
                    ),
                    None,
                )
                ev.links.append(
                    PlannedLink(
                        pred,
                        succ,
                        ev.spec.kind,
                        share,
                        partial,
                        row.link.note,
                        row.row,
                        existing=existing,
                        share_given=bool(shares),
                    )
                )

    def _attribute_changes(self, ev: PlannedEvent) -> None:
        """A rename renames, a recode recodes, a move moves, a reclassification reclassifies."""
        attribute = SINGLE_ROW_KINDS.get(ev.spec.kind)
        if attribute is None or len(ev.links) != 1:
            return
        link = ev.links[0]
        if getattr(link.predecessor, attribute) == getattr(link.successor, attribute):
            self.refuse(
                "unit_change.nothing_changes",
                _("%(kind)s nhưng %(unit)s không thay đổi %(what)s."),
                link.row,
                kind=ChangeKind(ev.spec.kind).label,
                unit=link.predecessor.label(),
                what={
                    "name": _("tên"),
                    "code": _("mã"),
                    "parent": _("đơn vị cấp trên"),
                    "kind": _("loại"),
                }[attribute],
            )

    # children --------------------------------------------------------------------------

    def _children(self, ev: PlannedEvent) -> None:
        for code, pred in list(ev.preds.items()):
            if code in ev.cut:
                self._cut_children(ev, ev.cut[code], pred)
            elif id(pred) in ev.documented:
                continue  # ended already, with its children
            elif pred.unit is not None or pred.event is not None:
                self._move_children(ev, pred)
        past = [p for p in ev.preds.values() if p.unit is None and p.event is None]
        for version in ev.started:
            if len(ev.preds) == 1 and past:  # a unit that only changed its code, long ago
                self._cut_children(ev, version, past[0])
            else:
                self._unplaced([c for c in self._staying(version) if c.valid_on(self.eve)], version)

    def _staying(self, version: Version) -> list[Version]:
        return [c for c in self.state.children_of(version) if id(c) not in self.ending]

    def _move_children(self, ev: PlannedEvent, pred: Version) -> None:
        """A unit that ended today: its children still valid get versions under its successor."""
        children = [c for c in self._staying(pred) if c.valid_to is None or c.valid_to >= self.day]
        if not children:
            return
        following = [lk.successor for lk in ev.links if lk.predecessor is pred]
        if len(following) != 1:
            # an agency ends with its unit (as it is created: it does not outlive it); the
            # administrative units below must be placed by rows of the file
            for agency in [c for c in children if c.is_agency]:
                agency.valid_to = self.eve
                self.ending.add(id(agency))
            self._unplaced([c for c in children if not c.is_agency], pred)
            return
        for child in children:
            self.ending.add(id(child))
            new = Version(
                child.code,
                child.name,
                child.kind,
                child.level,
                following[0],
                max(self.day, child.valid_from or self.day),
                child.valid_to,
                row=ev.spec.first_row,
                event=ev,
            )
            child.valid_to = self.eve
            self.state.add(new)
            ev.links.append(
                PlannedLink(child, new, ChangeKind.MOVE, Decimal(1), False, "", ev.spec.first_row)
            )
            self._move_children(ev, child)

    def _cut_children(self, ev: PlannedEvent, later: Version, past: Version) -> None:
        """A unit cut in two: its children before the date go under its earlier version."""
        for child in [
            c for c in self._staying(later) if c.valid_from is None or c.valid_from <= self.eve
        ]:
            self.ending.add(id(child))
            if child.valid_to is not None and child.valid_to < self.day:
                self.state.set_parent(child, past)
                continue
            earlier = Version(
                child.code,
                child.name,
                child.kind,
                child.level,
                past,
                child.valid_from,
                self.eve,
                row=ev.spec.first_row,
                event=ev,
            )
            child.valid_from = self.day
            self.state.add(earlier)
            ev.links.append(
                PlannedLink(
                    earlier, child, ChangeKind.MOVE, Decimal(1), False, "", ev.spec.first_row
                )
            )
            self._cut_children(ev, child, earlier)

    def _unplaced(self, children: list[Version], parent: Version) -> None:
        if children:
            self.refuse(
                "unit_change.children_unplaced",
                _(
                    "các đơn vị trực thuộc %(unit)s (%(children)s) chưa được chuyển sang đơn vị nào; thêm dòng chuyển (move) cho chúng cùng ngày."
                ),
                parent.row,
                unit=parent.label(),
                children=", ".join(c.label() for c in children[:10]),
            )

    # shared problems -------------------------------------------------------------------

    def _code_taken(self, row: int, code: str, day: date) -> None:
        self.refuse(
            "unit_change.code_taken",
            _("mã %(code)s đã thuộc một đơn vị khác có hiệu lực ngày %(date)s."),
            row,
            code=code,
            date=format_date(day),
        )

    def _ends_twice(self, row: int, version: Version, end: date | None) -> None:
        self.refuse(
            "unit_change.ends_twice",
            _(
                "%(unit)s đã hết hiệu lực (ngày %(end)s) hoặc đã kết thúc ở một dòng khác; một đơn vị chỉ kết thúc một lần."
            ),
            row,
            unit=version.label(),
            end=format_date(end),
        )


# --- the whole plan -----------------------------------------------------------------------

# Later apps say which of their records a change of validity would leave outside their
# unit's span (data: figures). A check takes {unit pk: (valid_from, valid_to)} and returns
# (how many, a few of them described in Vietnamese).
_VALIDITY_CHECKS: list[Callable[[dict], tuple[int, list[str]]]] = []


def register_validity_check(check) -> None:
    if check not in _VALIDITY_CHECKS:
        _VALIDITY_CHECKS.append(check)


def outside_validity(spans: dict) -> tuple[int, list[str]]:
    """What every registered check finds outside the new ``spans`` {unit pk: (valid_from,
    valid_to)}: (how many, a few described) — for any source of a change of validity."""
    count, listed = 0, []
    for check in _VALIDITY_CHECKS:
        found, described = check(spans)
        count, listed = count + found, listed + described
    return count, listed


def plan_changes(rows: Sequence[Mapping]) -> ChangePlan:
    """Check change rows (mappings with the file's columns and, for messages, ``row``)
    whole, against the database and each other; nothing is written."""
    rows = [dict(r) | {"row": r.get("row", n)} for n, r in enumerate(rows, start=1)]
    plan = ChangePlan(rows=rows)
    if len(rows) > MAX_ROWS:
        plan.problems.append(_too_many_rows("—"))
        return plan
    if not rows:
        plan.problems.append(Problem("unit_change.bad_file", _("Không có dòng thay đổi nào.")))
        return plan
    parsed = []
    for raw in rows:
        row, problems = _parse_row(raw)
        plan.problems += problems
        if row is not None:
            parsed.append(row)
    specs = _group_events(parsed, plan.problems)
    if plan.problems:
        return plan
    loaded = set(
        UnitEvent.objects.filter(fingerprint__in=[s.fingerprint for s in specs]).values_list(
            "fingerprint", flat=True
        )
    )
    plan.already = [s for s in specs if s.fingerprint in loaded]
    todo = sorted((s for s in specs if s.fingerprint not in loaded), key=lambda s: s.effective)
    plan.state = TreeState()
    plan.state.preload(
        code
        for spec in todo
        for row in spec.rows
        for code in (row.link.from_code, row.link.to_code, row.link.from_parent, row.link.to_parent)
    )
    for day in sorted({s.effective for s in todo}):
        specs_of_day = [s for s in todo if s.effective == day]
        plan.events += DayPlanner(plan.state, day, specs_of_day, plan.problems).run()
        if plan.problems:
            return plan
    _check_codes(plan)
    if not plan.problems:
        _check_values(plan)
    return plan


def _check_codes(plan: ChangePlan) -> None:
    """No two administrative units of one code valid on the same day."""
    touched = {v.code for v in [*plan.created, *plan.changed] if not v.is_agency}
    for code in sorted(touched):
        versions = sorted(plan.state.versions(code), key=lambda v: v.valid_from or date.min)
        for earlier, later in zip(versions, versions[1:], strict=False):
            if earlier.valid_to is None or earlier.valid_to >= (later.valid_from or date.min):
                plan.problems.append(
                    Problem(
                        "unit_change.code_taken",
                        _(
                            "%(first)s và %(second)s cùng mang mã %(code)s và cùng có hiệu lực ngày %(date)s."
                        ),
                        {
                            "first": earlier.label(),
                            "second": later.label(),
                            "code": code,
                            "date": format_date(later.valid_from or earlier.valid_from or date.min),
                        },
                        later.row or earlier.row,
                    )
                )


def _check_values(plan: ChangePlan) -> None:
    spans = {v.unit.pk: (v.valid_from, v.valid_to) for v in plan.changed if v.span_changed()}
    if not spans:
        return
    for check in _VALIDITY_CHECKS:
        count, listed = check(spans)
        if count:
            plan.values_outside += listed
            plan.problems.append(
                Problem(
                    "unit_change.values_outside",
                    _(
                        "%(count)s số liệu sẽ nằm ngoài thời gian hiệu lực của đơn vị, nên tệp không được nạp: %(listed)s%(more)s"
                    ),
                    {
                        "count": format_number(count),
                        "listed": "\n  " + "\n  ".join(listed),
                        "more": "…" if count > len(listed) else ".",
                    },
                )
            )


# --- writing ------------------------------------------------------------------------------


@dataclass
class ApplyReport:
    events: list = field(default_factory=list)  # the UnitEvent rows written
    already: int = 0
    units_created: int = 0
    units_changed: int = 0
    links_created: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.events)

    def lines(self) -> list[str]:
        if not self.changed:
            return [str(_("Mọi sự kiện của tệp đã được nạp trước đây; không có gì thay đổi."))]
        n = format_number
        return [
            str(
                _(
                    "Đã ghi %(events)s sự kiện, %(units)s đơn vị mới, %(changed)s đơn vị đổi hiệu lực, %(links)s liên kết; %(already)s sự kiện đã có từ trước."
                )
            )
            % {
                "events": n(len(self.events)),
                "units": n(self.units_created),
                "changed": n(self.units_changed),
                "links": n(self.links_created),
                "already": n(self.already),
            }
        ]


def apply_changes(
    plan: ChangePlan, actor=None, source: str = MANUAL_SOURCE, *, note: str = ""
) -> ApplyReport:
    """Write a plan: re-made under a lock on the tree's roots (two loads queue), refused
    with every problem if it no longer holds, audited with its counts."""
    from tiendo.core.audit import audit

    if plan.problems:
        raise UnitChangeRefused(plan.problems)
    with transaction.atomic():
        list(Unit.objects.select_for_update().filter(parent__isnull=True).values_list("pk"))
        plan = plan_changes(plan.rows)
        if plan.problems:
            raise UnitChangeRefused(plan.problems)
        report = _write(plan, actor, source, note)
        if report.changed:
            audit(
                "unit_change.events_loaded",
                actor=actor,
                source=source,
                events=len(report.events),
                already=report.already,
                units_created=report.units_created,
                units_changed=report.units_changed,
                links=report.links_created,
            )
    return report


def _write(plan: ChangePlan, actor, source: str, note: str) -> ApplyReport:
    """The plan's rows, a few statements for the whole file: units, then events."""
    report = ApplyReport(already=len(plan.already))
    report.units_created, report.units_changed = _write_units(plan, source)
    report.events = _write_events(plan.events, actor, source, note)
    report.links_created = sum(len(ev.links) for ev in plan.events)
    return report


BATCH = 500
CLOSURE_BATCH = 2000


def _chunks(items: Sequence, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _paths_of(pks) -> dict[int, str]:
    """The stored paths of units, by pk."""
    pks = sorted(set(pks))
    out: dict[int, str] = {}
    for chunk in _chunks(pks):
        out.update(Unit.objects.filter(pk__in=chunk).values_list("pk", "path"))
    return out


def _closure(pk: int, path: str) -> list[UnitAncestor]:
    ids = [int(p) for p in path.strip("/").split("/") if p]
    return [UnitAncestor(unit_id=pk, ancestor_id=a, depth=d) for d, a in enumerate(reversed(ids))]


def _write_units(plan: ChangePlan, source: str) -> tuple[int, int]:
    """The versions of the plan as rows: (created, changed). What :meth:`Unit.save` does
    row by row — the path from the parent's, the closure rows — done for all at once."""
    changed = plan.changed
    # spans first: a cut unit frees its start for its earlier version; one statement for
    # the units given the same span (those of one date, usually)
    by_span: dict[tuple[date | None, date | None], list[int]] = {}
    for version in changed:
        version.unit.valid_from, version.unit.valid_to = version.valid_from, version.valid_to
        by_span.setdefault((version.valid_from, version.valid_to), []).append(version.unit.pk)
    for (start, end), pks in by_span.items():
        for chunk in _chunks(pks):
            Unit.objects.filter(pk__in=chunk).update(valid_from=start, valid_to=end)
    _create_versions(plan.created, source)
    # then the existing units placed under another version (one that exists now)
    _move_units([v for v in changed if v.parent_changed()])
    return len(plan.created), len(changed)


def _create_versions(created: list[Version], source: str) -> None:
    """New rows depth by depth (parents before their children, so that each gets its
    parent's pk), their paths from their parent's, their closure rows."""
    unit_source = MANUAL_SOURCE if source == MANUAL_SOURCE else FILE_UNIT_SOURCE
    paths = _paths_of(v.parent.unit.pk for v in created if v.parent and v.parent.unit)
    by_depth: dict[int, list[Version]] = {}
    for version in created:
        by_depth.setdefault(_depth(version), []).append(version)
    units = []
    for depth in sorted(by_depth):
        level = by_depth[depth]
        for version in level:
            version.unit = Unit(
                code=version.code,
                name=version.name,
                kind=version.kind,
                level=version.level,
                parent=version.parent.unit if version.parent else None,
                valid_from=version.valid_from,
                valid_to=version.valid_to,
                source=unit_source,
            )
        Unit.objects.bulk_create([v.unit for v in level], batch_size=BATCH)
        for version in level:
            unit = version.unit
            parent_path = paths.get(unit.parent_id) if unit.parent_id else None
            unit.path = paths[unit.pk] = f"{parent_path or '/'}{unit.pk}/"
            units.append(unit)
    Unit.objects.bulk_update(units, ["path"], BATCH)
    UnitAncestor.objects.bulk_create(
        [row for unit in units for row in _closure(unit.pk, unit.path)],
        batch_size=CLOSURE_BATCH,
    )


def _move_units(moved: list[Version]) -> None:
    """Existing units given another parent: their subtrees' paths rebased, the closure
    rows of every unit in them rebuilt."""
    if not moved:
        return
    for version in moved:
        version.unit.parent = version.parent.unit
    Unit.objects.bulk_update([v.unit for v in moved], ["parent"], BATCH)
    parent_of = {v.unit.pk: v.unit.parent_id for v in moved}
    stored = _paths_of([*parent_of, *(pk for pk in parent_of.values() if pk)])
    old = {pk: stored[pk] for pk in parent_of}  # the moved units' paths before the move
    new: dict[int, str] = {}

    def rebased(path: str, seen: frozenset = frozenset()) -> str:
        """Where a stored path goes: under the deepest moved unit it lies in, if any."""
        inside = [pk for pk, prefix in old.items() if path.startswith(prefix)]
        if not inside:
            return path
        root = max(inside, key=lambda pk: len(old[pk]))
        return new_path(root, seen) + path[len(old[root]) :]

    def new_path(pk: int, seen: frozenset = frozenset()) -> str:
        if pk not in new:
            if pk in seen:
                raise ValueError(f"unit #{pk} would be moved under itself")
            parent = parent_of[pk]
            base = rebased(stored[parent], seen | {pk}) if parent else "/"
            new[pk] = f"{base}{pk}/"
        return new[pk]

    for pk in parent_of:
        new_path(pk)
    subtree: dict[int, str] = {}
    prefixes = sorted(set(old.values()))
    for chunk in _chunks(prefixes, 50):
        query = models.Q()
        for prefix in chunk:
            query |= models.Q(path__startswith=prefix)
        subtree.update(Unit.objects.filter(query).values_list("pk", "path"))
    rows = [Unit(pk=pk, path=rebased(path)) for pk, path in subtree.items()]
    Unit.objects.bulk_update([u for u in rows if u.path != subtree[u.pk]], ["path"], BATCH)
    for version in moved:
        version.unit.path = new[version.unit.pk]
    for chunk in _chunks(sorted(subtree)):
        UnitAncestor.objects.filter(unit_id__in=chunk).delete()
    UnitAncestor.objects.bulk_create(
        [row for u in rows for row in _closure(u.pk, u.path)], batch_size=CLOSURE_BATCH
    )


def _write_events(events: list[PlannedEvent], actor, source: str, note: str) -> list[UnitEvent]:
    """The events with their units and their links, in bulk."""
    if not events:
        return []
    acts = _legal_acts([ev.spec.act for ev in events])
    creator = actor if getattr(actor, "is_authenticated", False) else None
    rows = UnitEvent.objects.bulk_create(
        [
            UnitEvent(
                kind=ev.spec.kind,
                effective_date=ev.spec.effective,
                act=acts[(ev.spec.act.number, ev.spec.act.issuer)],
                note=note[:300],
                source=source[:200],
                fingerprint=ev.spec.fingerprint,
                created_by=creator,
            )
            for ev in events
        ],
        batch_size=BATCH,
    )
    through = UnitEvent.units.through
    members = [
        through(unitevent_id=event.pk, unit_id=pk)
        for ev, event in zip(events, rows, strict=True)
        for pk in dict.fromkeys(v.unit.pk for v in ev.units())
    ]
    through.objects.bulk_create(members, batch_size=CLOSURE_BATCH)
    _document_links(
        [
            (event, lk)
            for ev, event in zip(events, rows, strict=True)
            for lk in ev.links
            if lk.existing is not None
        ]
    )
    UnitChange.objects.bulk_create(
        [
            UnitChange(
                kind=lk.kind,
                effective_date=ev.spec.effective,
                legal_basis=event.act.number,
                predecessor=lk.predecessor.unit,
                successor=lk.successor.unit,
                partial=lk.partial,
                share=lk.share,
                note=lk.note,
                event=event,
            )
            for ev, event in zip(events, rows, strict=True)
            for lk in ev.links
            if lk.existing is None
        ],
        batch_size=BATCH,
    )
    return rows


def _document_links(planned: list[tuple[UnitEvent, PlannedLink]]) -> None:
    """Existing links move to the event that documents them, with its act (and the share
    the row gives); an event left without links (a grouping made by the migration or the
    official load) goes."""
    if not planned:
        return
    before = {lk.existing.event_id for _, lk in planned} - {None}
    links = {}
    for event, lk in planned:
        link = lk.existing
        link.event, link.legal_basis = event, event.act.number
        if lk.share_given and link.share != lk.share:
            link.share, link.partial = lk.share, lk.partial
        links[link.pk] = link
    UnitChange.objects.bulk_update(
        list(links.values()), ["event", "legal_basis", "share", "partial"], BATCH
    )
    for chunk in _chunks(sorted(before)):
        UnitEvent.objects.filter(pk__in=chunk, links__isnull=True).delete()


def _depth(version: Version) -> int:
    depth, node = 0, version.parent
    while node is not None and node.unit is None:
        depth, node = depth + 1, node.parent
    return depth


def _legal_acts(specs: list[Act]) -> dict[tuple[str, str], LegalAct]:
    """The acts of the events by (number, issuer), read in one query and the missing ones
    created in one: the first event naming an act gives its date and title, the later ones
    fill what it left blank (as :meth:`get_or_create` then a save would, event by event)."""
    wanted: dict[tuple[str, str], list[Act]] = {}
    for spec in specs:
        wanted.setdefault((spec.number, spec.issuer), []).append(spec)
    acts: dict[tuple[str, str], LegalAct] = {}
    for chunk in _chunks(sorted({key[0] for key in wanted})):
        for act in LegalAct.objects.filter(number__in=chunk):
            if (act.number, act.issuer) in wanted:
                acts[(act.number, act.issuer)] = act
    fresh = [key for key in wanted if key not in acts]
    for key in fresh:
        first = wanted[key][0]
        acts[key] = LegalAct(
            number=first.number, issuer=first.issuer, signed_on=first.signed_on, title=first.title
        )
    filled = []
    for key, named in wanted.items():
        act, blanks = acts[key], set()
        for spec in named if key not in fresh else named[1:]:
            for name in ("signed_on", "title"):
                if getattr(spec, name) and not getattr(act, name):
                    setattr(act, name, getattr(spec, name))
                    blanks.add(name)
        if blanks and key not in fresh:
            filled.append(act)
    LegalAct.objects.bulk_create([acts[key] for key in fresh], batch_size=BATCH)
    LegalAct.objects.bulk_update(filled, ["signed_on", "title"], BATCH)
    return acts


# --- one event ----------------------------------------------------------------------------


def record_change(
    *,
    kind: str,
    effective: date,
    act: Mapping,
    links: Sequence[Link],
    actor=None,
    note: str = "",
    source: str = MANUAL_SOURCE,
):
    """Record one event: ``kind`` a :class:`ChangeKind` value, ``act`` a mapping with
    ``number``, ``signed_on``, ``issuer`` (and optionally ``title``), ``links`` one
    :class:`Link` per predecessor → successor (one link with only ``from_code`` for a
    dissolution without successor, only ``to_*`` for an establishment from nothing).

    The same checks as a change file; raises :class:`UnitChangeRefused` with every
    problem, or returns the :class:`~tiendo.units.models.UnitEvent` (the one already
    recorded, when this exact event was).
    """
    rows = [
        {
            "event": "1",
            "kind": kind,
            "effective": effective,
            "act_number": act.get("number", ""),
            "act_date": act.get("signed_on"),
            "act_issuer": act.get("issuer", ""),
            "act_title": act.get("title", ""),
            **{f.name: getattr(link, f.name) for f in fields(Link)},
            "row": n,
        }
        for n, link in enumerate(links, start=1)
    ]
    plan = plan_changes(rows)
    report = apply_changes(plan, actor, source, note=note)
    if report.events:
        return report.events[0]
    return UnitEvent.objects.get(fingerprint=plan.already[0].fingerprint)
