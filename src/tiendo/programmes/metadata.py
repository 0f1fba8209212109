"""Metadata packages: a programme, its legal documents, components, indicators,
disaggregations, agencies and targets, as one YAML (or JSON) file.

A province adds its own resolution by writing such a file — no code. The whole file is
checked before anything is written; every problem is reported with the file, the key path
(``indicators[3].aggregation``) and what is wrong, in Vietnamese; then everything is
written in one transaction. Loading the same file twice changes nothing.

Strict: a key no check asks for is refused with the nearest valid key, in every section
(registered ones too, see :class:`_Tracked`); every reference (indicator, category, unit,
unit kind, period, document) is checked. A load reports its difference from what was
loaded (:class:`LoadReport`); what left the package is retired or kept, never deleted.
``docs/packages.md`` describes the format for package authors.

Shape (see ``tiendo/demo/packages/*.yaml`` for real ones)::

    package: hagiang-nq05
    version: "2024.1"?
    programme: {code, name, short_name?, issuer?, period, owner?, applies_to?, description?}
    documents: [{number, kind, issued_on, issuer, summary}]
    agencies: [{code, name, parent, valid_from?, valid_to?}]
    disaggregations: [{code, name, options: [{code, name}]}]
    components: [{code, name}]
    indicators: [{code, name, short_name?, component?, measure_unit, value_type?,
                  aggregation?, decimals?, disaggregation?, show_categories?, formula?,
                  min?, max?, description?, display_unit?, display_factor?, levels?,
                  unit_kinds?}]
    targets: [{indicator, unit, period, category?, value, document?}]
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tiendo.accounts.scope import is_admin, may_administer_programme
from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date, format_number
from tiendo.core.numbers import shown, storable_problem
from tiendo.core.text import nfc_deep
from tiendo.programmes import expressions
from tiendo.programmes.models import (
    Aggregation,
    CategoryDisplay,
    CategoryOption,
    Component,
    Disaggregation,
    DocumentKind,
    Indicator,
    LegalDocument,
    Programme,
    Target,
    ValueType,
)
from tiendo.programmes.periods import Period, PeriodError
from tiendo.units.models import Level, Unit, UnitKind
from tiendo.units.services import UnitNotFound, resolve_unit

CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Section:
    """A top-level list of a package: this module's own (documents, indicators, …) and
    those a later app owns (validation rules, forms, …) are checked and written alike.

    ``check(items, checker, plan)`` validates the raw list and returns what ``apply`` needs;
    it reports problems through ``checker.error(key_path, message, code=…, **params)`` and
    must not write. ``apply(checked, plan_objects, report)`` writes, inside the package's
    transaction, after the sections before it (a registered section: after all of this
    module's; ``plan_objects`` maps "programme", "documents", "agencies", "disaggregations",
    "components", "indicators" to the saved objects by code).

    A section declares its keys by reading them: every mapping it is given remembers the
    keys asked for (``item.get("period")`` counts even when absent), and a key nobody
    asked for is refused as unknown, with the nearest one asked for. ``apply`` writes
    through :func:`upsert` (which records the difference) and may list with
    ``report.gone(kind, label)`` what the package no longer has.
    """

    key: str
    check: object
    apply: object


_SECTIONS: dict[str, Section] = {}


def register_section(key: str, check, apply) -> None:
    """Let an app that comes later in the dependency order own a package key."""
    _SECTIONS[key] = Section(key, check, apply)


class PackageProblem(TiendoError):
    """One thing wrong in a package, and where: a key path (``indicators[3].min``) or a line.

    Shown as ``file: where: what``; ``code`` (``package.duplicate``, ``package.bad_code``…)
    says what without the wording.
    """

    code = "package.invalid"

    def __init__(
        self, message=None, *, code=None, source="", key="", line=None, column=None, **params
    ):
        if key:
            params.setdefault("path", key)  # the key path, for callers reading params only
        super().__init__(message, code=code, **params)
        self.source, self.key, self.line, self.column = source, key, line, column

    def where(self) -> str:
        if self.key:
            return self.key
        if self.line and self.column:
            return str(_("dòng %(line)s, cột %(column)s")) % {
                "line": self.line,
                "column": self.column,
            }
        if self.line:
            return str(_("dòng %(line)s")) % {"line": self.line}
        return ""

    def what(self) -> str:
        """The message alone (a message without placeholders is not %-formatted, so the
        ``path`` parameter every key's problem carries cannot break a literal ``%``)."""
        text = str(self.message)
        return text % self.params if "%(" in text else text

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.where(), self.what()) if part)


class PackageError(TiendoError, ValueError):
    """A package that cannot be loaded, with every problem found.

    ``errors`` are the :class:`PackageProblem` s (each with its ``code`` and key path);
    ``problems`` the same as text, one line each, which is also ``str(error)``.
    """

    code = "package.invalid"
    default_message = _("Gói siêu dữ liệu có lỗi, chưa nạp gì.")
    ownership = False  # refused for what it would change, not for how it is written

    def __init__(self, problems: list[PackageProblem]):
        self.errors = list(problems)
        super().__init__()

    @property
    def problems(self) -> list[str]:
        return [str(problem) for problem in self.errors]

    @property
    def codes(self) -> list[str]:
        return [problem.code for problem in self.errors]

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass(frozen=True)
class Change:
    """One line of a load's difference: ``kind`` (``chỉ tiêu``), ``label`` (its code),
    ``action`` (added, changed, gone, retired, replaced) and, when changed, the
    ``(field, old, new)`` of each field, as text."""

    action: str
    kind: str
    label: str
    fields: tuple = ()
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "kind": self.kind,
            "label": self.label,
            "fields": [list(f) for f in self.fields],
            "note": self.note,
        }


@dataclass
class LoadReport:
    """What a load did (or, in a dry run, would do): counts by kind and the difference from
    what was loaded before (``changes``)."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    changes: list[Change] = field(default_factory=list)
    package: str = ""
    version: str = ""
    previous_version: str = ""

    def count(self, bucket: str, kind: str) -> None:
        target = getattr(self, bucket)
        target[kind] = target.get(kind, 0) + 1

    def added(self, kind: str, obj, lookup: dict) -> None:
        self.changes.append(Change("added", kind, _label(obj, lookup)))

    def changed(self, kind: str, obj, lookup: dict, fields: list[tuple]) -> None:
        self.changes.append(Change("changed", kind, _label(obj, lookup), tuple(fields)))

    def gone(self, kind: str, label: str, *, retired: bool = False) -> None:
        """Something loaded before that the package no longer has: retired, or kept as is."""
        self.changes.append(Change("retired" if retired else "gone", kind, label))

    def replaced(self, target) -> None:
        """A plan total replaced by its parts by category, or parts by a total."""
        lookup = {
            "indicator": target.indicator,
            "unit": target.unit,
            "period": target.period,
            "category": target.category,
        }
        self.changes.append(
            Change("replaced", str(_("kế hoạch")), _label(target, lookup), note=_text(target.value))
        )

    def of(self, action: str) -> list[Change]:
        return [change for change in self.changes if change.action == action]

    def summary(self) -> str:
        def fmt(d):
            return ", ".join(f"{k}: {v}" for k, v in sorted(d.items())) or str(_("không có"))

        return str(
            _("%(prefix)sTạo mới: %(created)s. Cập nhật: %(updated)s. Không đổi: %(unchanged)s.")
        ) % {
            "prefix": str(_("(Chạy thử, chưa ghi gì) ")) if self.dry_run else "",
            "created": fmt(self.created),
            "updated": fmt(self.updated),
            "unchanged": fmt(self.unchanged),
        }

    def diff_lines(self) -> list[str]:
        """The difference from what was loaded, in Vietnamese, for people to read."""
        lines = []
        if self.version or self.previous_version:
            lines.append(
                str(_("Phiên bản gói: %(old)s → %(new)s"))
                % {"old": self.previous_version or "—", "new": self.version or "—"}
            )
        sections = (
            ("added", _("Thêm mới"), "+"),
            ("changed", _("Thay đổi"), "~"),
            ("replaced", _("Thay thế (tổng ↔ theo nhóm phân tổ)"), "×"),
            ("retired", _("Không còn trong gói — thôi dùng (số liệu và lịch sử vẫn giữ)"), "-"),
            ("gone", _("Không còn trong gói — giữ nguyên, không xóa"), "-"),
        )
        for action, heading, mark in sections:
            changes = self.of(action)
            if not changes:
                continue
            lines.append(f"{heading} ({len(changes)}):")
            for change in changes:
                line = f"  {mark} {change.kind} {change.label}"
                if change.fields:
                    line += ": " + "; ".join(f"{f}: {old} → {new}" for f, old, new in change.fields)
                if change.note:
                    line += f" ({change.note})"
                lines.append(line)
        if not self.changes:
            lines.append(str(_("Không có gì khác với bản đã nạp.")))
        return lines

    def as_dict(self) -> dict:
        return {
            "package": self.package,
            "version": self.version,
            "previous_version": self.previous_version,
            "created": self.created,
            "updated": self.updated,
            "changes": [change.as_dict() for change in self.changes],
        }


def _text(value) -> str:
    """A stored value as the difference shows it: Vietnamese numbers and dates, codes."""
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, bool):
        return str(_("có")) if value else str(_("không"))
    if isinstance(value, (Decimal, int, float)):
        return format_number(value)
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    code = getattr(value, "code", None) or getattr(value, "number", None)
    if code:
        return str(code)
    return shown(str(value), 60)


def _label(obj, lookup: dict) -> str:
    """What a changed row is, by the fields that find it: its code (``SOURCE[CENTRAL]`` for
    a category option), else ``PLAN[CENTRAL] 028 2022`` for a target."""
    if "code" in lookup:
        parent = lookup.get("disaggregation")
        code = str(lookup["code"])
        return f"{parent.code}[{code}]" if parent is not None else code
    parts = [_text(v) for k, v in lookup.items() if k != "category" and v not in (None, "")]
    if lookup.get("category") and parts:
        parts[0] += f"[{lookup['category']}]"
    return " ".join(parts)


MAX_DEPTH = 20  # a real package nests 4 levels (indicators[3].options[0].code)
MAX_NUMBER_DIGITS = 40  # digits in one YAML/JSON number; values are bounded far below


def _too_deep(line: int | None = None) -> PackageProblem:
    return PackageProblem(
        _("lồng nhau quá %(depth)s cấp (danh sách trong danh sách…)."),
        code="package.too_deep",
        line=line,
        depth=MAX_DEPTH,
    )


def _refuse_anchor(event) -> None:
    if isinstance(event, yaml.AliasEvent):
        message = _(
            "bí danh “*%(name)s” của YAML không được dùng: gói siêu dữ liệu là dữ liệu "
            "thuần, xin viết đầy đủ từng giá trị (neo và bí danh cho phép một tệp vài trăm byte "
            "nở thành hàng tỷ phần tử)."
        )
    else:
        message = _(
            "neo “&%(name)s” của YAML không được dùng: gói siêu dữ liệu là dữ liệu "
            "thuần, xin viết đầy đủ từng giá trị (neo và bí danh cho phép một tệp vài trăm byte "
            "nở thành hàng tỷ phần tử)."
        )
    raise PackageProblem(
        message,
        code="package.yaml_anchor",
        line=event.start_mark.line + 1,
        name=shown(event.anchor),
    )


class _PackageLoader(yaml.SafeLoader):
    """PyYAML's safe loader, for plain data only.

    Refuses anchors and aliases (``&a`` / ``*a``: the "billion laughs" bomb and cycles),
    nesting deeper than ``MAX_DEPTH`` (the composer recurses once per level), numbers of
    more than ``MAX_NUMBER_DIGITS`` digits (``int()`` raises past 4.300) and a key given twice
    in one mapping (PyYAML keeps the last one silently).
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            _refuse_anchor(event)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep(event.start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def fetch_flow_collection_start(self, TokenClass):
        # Refused while scanning too: the scanner's look-ahead costs O(depth) per bracket.
        if self.flow_level >= MAX_DEPTH:
            raise _too_deep(self.get_mark().line + 1)
        super().fetch_flow_collection_start(TokenClass)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _value in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key, line = self.construct_object(key_node), key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable: PyYAML refuses it below
                    continue
                if first is not None:
                    raise PackageProblem(
                        _("khóa “%(name)s” bị khai báo hai lần (lần đầu ở dòng %(first)s)."),
                        code="package.duplicate_key",
                        line=line,
                        name=shown(key),
                        first=first,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def _bounded(self, node) -> None:
        digits = sum(ch.isdigit() for ch in node.value)
        if digits > MAX_NUMBER_DIGITS:
            raise PackageProblem(
                _("số “%(number)s” có %(digits)s chữ số, quá dài (tối đa %(limit)s)."),
                code="package.number_too_long",
                line=node.start_mark.line + 1,
                number=shown(node.value, 20),
                digits=digits,
                limit=MAX_NUMBER_DIGITS,
            )

    def construct_yaml_int(self, node):
        self._bounded(node)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node):
        # 2020-13-01 matches YAML's date pattern; PyYAML's date() then raises a bare ValueError
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            raise PackageProblem(
                _("“%(value)s” không phải ngày hợp lệ (dạng 2020-12-01)."),
                code="package.bad_date",
                line=node.start_mark.line + 1,
                value=shown(node.value),
            ) from None

    def construct_yaml_float(self, node):
        self._bounded(node)
        return super().construct_yaml_float(node)


_PackageLoader.add_constructor("tag:yaml.org,2002:int", _PackageLoader.construct_yaml_int)
_PackageLoader.add_constructor("tag:yaml.org,2002:float", _PackageLoader.construct_yaml_float)
_PackageLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _PackageLoader.construct_yaml_timestamp
)


def _json_object(pairs: list) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise PackageProblem(
                _("khóa “%(name)s” bị khai báo hai lần trong cùng một bảng."),
                code="package.duplicate_key",
                name=shown(key),
            )
        data[key] = value
    return data


def _json_number(text: str, kind=int):
    if sum(ch.isdigit() for ch in text) > MAX_NUMBER_DIGITS:
        raise PackageProblem(
            _("số “%(number)s” quá dài (tối đa %(limit)s chữ số)."),
            code="package.number_too_long",
            number=shown(text, 20),
            limit=MAX_NUMBER_DIGITS,
        )
    return kind(text)


def _json_constant(name: str):
    raise PackageProblem(_("“%(name)s” không phải là số."), code="package.not_number", name=name)


def _nested_too_deep(data) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def _parse_json(text: str):
    data = json.loads(
        text,
        object_pairs_hook=_json_object,
        parse_int=_json_number,
        parse_float=lambda t: _json_number(t, float),
        parse_constant=_json_constant,
    )
    if _nested_too_deep(data):
        raise _too_deep()
    return data


def _parse_yaml(text: str):
    loader = _PackageLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _parse(text: str, suffix: str):
    """The data in ``text``, or a PackageProblem naming the line of a syntax error."""
    try:
        return _parse_json(text) if suffix == ".json" else _parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PackageProblem(
            _("lỗi cú pháp YAML: %(reason)s."),
            code="package.yaml_syntax",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            reason=getattr(exc, "problem", exc),
        ) from exc
    except json.JSONDecodeError as exc:
        raise PackageProblem(
            _("lỗi cú pháp JSON: %(reason)s."),
            code="package.json_syntax",
            line=exc.lineno,
            reason=exc.msg,
        ) from exc
    except RecursionError:
        raise _too_deep() from None


def _read_text(path: Path) -> str:
    limit = settings.PACKAGE_MAX_BYTES
    try:
        with path.open("rb") as stream:
            raw = stream.read(limit + 1)
    except FileNotFoundError as exc:
        raise PackageProblem(_("không tìm thấy tệp."), code="package.file_missing") from exc
    except OSError as exc:
        raise PackageProblem(
            _("không đọc được tệp (%(reason)s)."), code="package.unreadable", reason=exc.strerror
        ) from exc
    if len(raw) > limit:
        raise PackageProblem(
            _(
                "tệp lớn quá %(size)s KB; một gói siêu dữ liệu chỉ vài chục KB — xin tách "
                "thành nhiều gói."
            ),
            code="package.too_large",
            size=format_number(limit // 1024),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageProblem(
            _("tệp không phải UTF-8 (%(reason)s)."), code="package.not_utf8", reason=exc.reason
        ) from exc


def read_package(path: Path | str) -> dict:
    """The parsed package, or a PackageError naming the file and line.

    The file is refused unread past ``settings.PACKAGE_MAX_BYTES``; YAML goes through
    :class:`_PackageLoader`, JSON through the same limits.
    """
    path = Path(path)
    try:
        data = _parse(_read_text(path), path.suffix.lower())
        if not isinstance(data, dict):
            raise PackageProblem(
                _("gói siêu dữ liệu phải là một bảng khóa: giá trị (mapping)."),
                code="package.not_mapping",
            )
    except PackageProblem as problem:
        problem.source = str(path)
        raise PackageError([problem]) from problem
    return nfc_deep(data)


class _Tracked(dict):
    """A mapping of the package that remembers which keys its checker asked for.

    Every mapping of a package is wrapped so (``_track``); a key the checks never asked for
    is a key nobody understands (``aggregaton: last``), refused by :func:`_check_unknown_keys`
    with the nearest key that was asked for. A section registered by another app is covered
    without declaring anything: the keys it reads are its keys. Iterating a mapping (a
    free-form table) counts as reading every key of it.
    """

    def __init__(self, data: dict, path: str):
        super().__init__(data)
        self.path = path
        self.asked: set = set()
        self.touched = False

    def _ask(self, key) -> None:
        self.touched = True
        if isinstance(key, str):
            self.asked.add(key)

    def _ask_all(self) -> None:
        self.touched = True
        self.asked.update(k for k in dict.keys(self) if isinstance(k, str))

    def get(self, key, default=None):
        self._ask(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._ask(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self._ask(key)
        return super().__contains__(key)

    def setdefault(self, key, default=None):
        self._ask(key)
        return super().setdefault(key, default)

    def pop(self, key, *default):
        self._ask(key)
        return super().pop(key, *default)

    def keys(self):
        self._ask_all()
        return super().keys()

    def values(self):
        self._ask_all()
        return super().values()

    def items(self):
        self._ask_all()
        return super().items()

    def __iter__(self):
        self._ask_all()
        return super().__iter__()

    def copy(self):
        self._ask_all()
        return dict(super().items())


def _track(value, path: str = ""):
    """``value`` with every mapping in it a :class:`_Tracked` knowing its key path."""
    if isinstance(value, dict):
        return _Tracked(
            {k: _track(v, f"{path}.{k}" if path else str(k)) for k, v in dict.items(value)}, path
        )
    if isinstance(value, list):
        return [_track(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _tracked_mappings(value):
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, _Tracked):
            yield node
            stack.extend(dict.values(node))
        elif isinstance(node, list):
            stack.extend(node)


def _item_label(mapping: _Tracked) -> str:
    """``indicators[3] “NQ05_AREA”``: where a mapping is, with its code when it has one."""
    code = dict.get(mapping, "code") or dict.get(mapping, "number")
    if isinstance(code, (str, int)) and not isinstance(code, bool) and str(code).strip():
        return f"{mapping.path} “{shown(str(code))}”"
    return mapping.path


def _check_unknown_keys(c: _Checker, data: _Tracked) -> None:
    """Refuse every key no check asked for, at every level, with the nearest known key."""
    for mapping in _tracked_mappings(data):
        if not mapping.touched or mapping is data:
            continue
        known = sorted(k for k in mapping.asked if isinstance(k, str))
        for key in dict.keys(mapping):
            if key in mapping.asked:
                continue
            _unknown_key(c, f"{mapping.path}.{key}", key, known, _item_label(mapping))


def _unknown_key(c: _Checker, path: str, key, known, where: str) -> None:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    params = {"name": shown(str(key)), "where": where, "allowed": ", ".join(known)}
    if close:
        c.error(
            path,
            _("khóa “%(name)s” không có ở %(where)s. Có phải “%(suggestion)s”?"),
            code="package.unknown_key",
            suggestion=close[0],
            **params,
        )
    else:
        c.error(
            path,
            _("khóa “%(name)s” không có ở %(where)s; các khóa hợp lệ: %(allowed)s."),
            code="package.unknown_key",
            suggestion="",
            **params,
        )


def _at(path: str, key: str) -> str:
    """The key path of ``key`` inside ``path`` (``indicators[3].aggregation``)."""
    return f"{path}.{key}" if path else key


def describe(value) -> str:
    """A package value as a reader wrote it, never a Python repr (``[1, 2]``, ``true``,
    ``30/06/2022``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return str(_("(trống)"))
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (int, float, Decimal)):
        return shown(value)
    if isinstance(value, list):
        return str(_("một danh sách"))
    if isinstance(value, dict):
        return str(_("một bảng khóa"))
    return shown(str(value))


def _nearest(code: str, known) -> str:
    close = difflib.get_close_matches(str(code), list(known), n=1, cutoff=0.75)
    return close[0] if close else ""


@dataclass(frozen=True)
class KnownIndicator:
    """An indicator a package may name: declared in it or already loaded."""

    code: str
    formula: str = ""
    categories: frozenset = frozenset()  # its disaggregation's option codes; empty: none
    retired: bool = False


def known_indicators(plan: dict) -> dict[str, KnownIndicator]:
    """The indicators a package's formulas, targets, forms and rules may name, by code:
    those loaded, then this package's own (which replace them)."""
    options: dict[str, set] = {}
    for disaggregation, option in CategoryOption.objects.values_list(
        "disaggregation__code", "code"
    ):
        options.setdefault(disaggregation, set()).add(option)
    for d in plan.get("disaggregations", []):
        options[d["code"]] = {o["code"] for o in d["options"]}
    known = {
        code: KnownIndicator(code, formula, frozenset(options.get(dis, ())), retired)
        for code, formula, dis, retired in Indicator.objects.values_list(
            "code", "formula", "disaggregation__code", "retired"
        )
    }
    programme = (plan.get("programme") or {}).get("code")
    declared = {i["code"] for i in plan.get("indicators", [])}
    if "indicators" in plan.get("stated", ()):
        loaded = Indicator.objects.filter(programme__code=programme)
        for code in loaded.values_list("code", flat=True):
            if code not in declared:  # retired by this load
                known[code] = dataclasses.replace(known[code], retired=True)
    for i in plan.get("indicators", []):
        categories = frozenset(options.get(i["disaggregation"], ()))
        known[i["code"]] = KnownIndicator(i["code"], i["formula"], categories)
    return known


def expression_operands(node) -> set[tuple[str, str]]:
    """The ``(indicator code, category)`` pairs a parsed expression reads (category ``""``:
    the total)."""
    if isinstance(node, expressions.Ref):
        return {(node.code, node.category)}
    found: set = set()
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            found |= expression_operands(getattr(node, f.name))
    elif isinstance(node, (list, tuple)):
        for part in node:
            found |= expression_operands(part)
    return found


class _Checker:
    """Collects problems with their key paths instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[PackageProblem] = []

    def error(self, key: str, message, *, code: str = "package.invalid", **params) -> None:
        """Note what is wrong at ``key`` (a key path): a lazy message with named ``params``."""
        self.problems.append(
            PackageProblem(message, code=code, source=self.source, key=key, **params)
        )

    def parsed(self, key: str, text: str, parse, message, *, code: str, **params):
        """``parse(text)`` (a formula or rule parser), or ``None`` with the problem noted at
        ``key``: ``message`` names the parser's reason as ``%(reason)s``."""
        try:
            return parse(text)
        except expressions.ExpressionError as exc:
            self.error(key, message, code=code, reason=exc, **params)
            return None

    def once(self, seen: set, value: str, key: str, message) -> None:
        """Note a code declared twice in one list (``message`` names it as ``%(value)s``)."""
        if value in seen:
            self.error(key, message, code="package.duplicate", value=value)
        seen.add(value)

    def mapping(self, data, key: str) -> dict:
        if not isinstance(data, dict):
            self.error(key, _("phải là một bảng khóa: giá trị."), code="package.not_mapping")
            return {}
        return data

    def items(self, data: dict, key: str) -> list[tuple[str, dict]]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, _("phải là một danh sách."), code="package.not_list")
            return []
        return [(f"{key}[{i}]", self.mapping(item, f"{key}[{i}]")) for i, item in enumerate(value)]

    def text(self, data: dict, key: str, path: str, *, required=True, max_length=None) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.error(_at(path, key), _("thiếu (bắt buộc)."), code="package.missing")
            return ""
        if isinstance(value, date):
            self.error(
                _at(path, key),
                _(
                    "cần một chuỗi ký tự, nhưng YAML đọc “%(value)s” là một ngày; xin đặt "
                    "trong dấu ngoặc kép."
                ),
                code="package.date_not_text",
                value=format_date(value),
            )
            return ""
        if isinstance(value, float):  # version: 1.10 is read as 1.1
            self.error(
                _at(path, key),
                _(
                    "cần một chuỗi ký tự, nhưng YAML đọc “%(value)s” là một số thập phân; xin "
                    "đặt trong dấu ngoặc kép."
                ),
                code="package.number_not_text",
                value=describe(value),
            )
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.error(
                _at(path, key),
                _("phải là chuỗi ký tự, không phải %(value)s."),
                code="package.not_text",
                value=describe(value),
            )
            return ""
        value = str(value)
        if max_length and len(value) > max_length:
            self.error(
                _at(path, key),
                _("dài quá %(limit)s ký tự."),
                code="package.too_long",
                limit=max_length,
            )
        return value

    def code(self, data: dict, key: str, path: str, pattern=CODE_RE, *, required=True) -> str:
        value = self.text(data, key, path, required=required, max_length=60)
        if value and not pattern.fullmatch(value):
            if pattern is CODE_RE:
                message = _(
                    "mã “%(value)s” không hợp lệ (chữ in hoa, số và dấu gạch dưới, bắt đầu "
                    "bằng chữ)."
                )
            else:
                message = _("mã “%(value)s” không hợp lệ (chữ, số, dấu chấm, gạch ngang).")
            self.error(_at(path, key), message, code="package.bad_code", value=shown(value))
        return value

    def reference(self, data: dict, key: str, path: str, *, required=True) -> str:
        """The code of something declared elsewhere (a unit, an indicator): ASCII only."""
        value = self.text(data, key, path, required=required, max_length=60)
        if value and not value.isascii():
            self.error(
                _at(path, key),
                _(
                    "mã “%(value)s” chứa ký tự ngoài bảng ASCII; mã chỉ dùng chữ không dấu, "
                    "chữ số 0-9, dấu chấm, gạch ngang và gạch dưới."
                ),
                code="package.not_ascii",
                value=shown(value),
            )
            return ""
        return value

    def declared(self, data: dict, key: str, path: str, known: set, message, *, code: str) -> str:
        """An optional reference that must be one of ``known`` (``message`` names it as
        ``%(value)s``)."""
        value = self.reference(data, key, path, required=False)
        if value and value not in known:
            self.error(_at(path, key), message, code=code, value=value)
        return value

    def choice(self, data: dict, key: str, path: str, choices, default):
        value = data.get(key, default)
        allowed = [c if isinstance(c, str) else c.value for c in choices]
        if not isinstance(value, str) or value not in allowed:
            self.error(
                _at(path, key),
                _("“%(value)s” không hợp lệ; chọn một trong: %(allowed)s."),
                code="package.bad_choice",
                value=describe(value),
                allowed=", ".join(allowed),
            )
            return default
        return value

    def whole(self, data: dict, key: str, path: str, default: int, low: int, high: int) -> int:
        """An optional whole number from ``low`` to ``high``."""
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.error(
                _at(path, key),
                _("“%(value)s” phải là số nguyên từ %(low)s đến %(high)s."),
                code="package.bad_number",
                value=describe(value),
                low=low,
                high=high,
            )
            return default
        return value

    def codes(self, data: dict, key: str, path: str) -> list[str]:
        """An optional list of ASCII codes (``[commune, ward]``)."""
        value = data.get(key) or []
        if not isinstance(value, list):
            self.error(_at(path, key), _("phải là một danh sách mã."), code="package.not_list")
            return []
        codes = []
        for i, entry in enumerate(value):
            code = self.reference({key: entry}, key, path, required=False)
            if code:
                codes.append(code)
            elif entry in (None, ""):
                self.error(f"{path}.{key}[{i}]", _("mã trống."), code="package.missing")
        return codes

    def indicator(self, key: str, code: str, known: dict, *, entered=False):
        """The indicator ``code`` names (one of ``known``, see :func:`known_indicators`), or
        None after noting why not: unknown, retired, or computed where a figure is entered."""
        found = known.get(code)
        if found is None:
            self.error(
                key,
                _("không có chỉ tiêu “%(value)s”."),
                code="package.unknown_indicator",
                value=code,
                suggestion=_nearest(code, known),
            )
            return None
        if found.retired:
            self.error(
                key,
                _("chỉ tiêu “%(value)s” đã thôi dùng (không còn trong gói của chương trình)."),
                code="package.retired_indicator",
                value=code,
            )
            return None
        if entered and found.formula:
            self.error(
                key,
                _("chỉ tiêu “%(value)s” được tính theo công thức, không đưa vào biểu nhập."),
                code="package.computed_indicator",
                value=code,
            )
            return None
        return found

    def category(self, key: str, indicator, category: str) -> bool:
        """Whether ``category`` is one of ``indicator``'s (a :class:`KnownIndicator`)."""
        if not indicator.categories:
            self.error(
                key,
                _("chỉ tiêu “%(indicator)s” không có phân tổ, không dùng được nhóm “%(value)s”."),
                code="package.not_disaggregated",
                indicator=indicator.code,
                value=category,
            )
            return False
        if category not in indicator.categories:
            self.error(
                key,
                _(
                    "chỉ tiêu “%(indicator)s” không có nhóm phân tổ “%(value)s”; các nhóm: "
                    "%(allowed)s."
                ),
                code="package.unknown_category",
                indicator=indicator.code,
                value=category,
                allowed=", ".join(sorted(indicator.categories)),
            )
            return False
        return True

    def operands(self, key: str, node, known: dict, *, rule: bool = False) -> None:
        """Every indicator and category an expression (a parsed formula, or a validation
        rule when ``rule``) names must exist."""
        pairs = expression_operands(node)
        missing = sorted({code for code, _category in pairs if code not in known})
        if missing:
            if rule:
                message = _("biểu thức dùng chỉ tiêu không có: %(codes)s.")
            else:
                message = _("công thức dùng chỉ tiêu không có: %(codes)s.")
            self.error(key, message, code="package.unknown_indicator", codes=", ".join(missing))
        for code, category in sorted(pairs):
            if category and code in known:
                self.category(key, known[code], category)

    def day(self, data: dict, key: str, path: str, *, required=True) -> date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(
                    _at(path, key), _("thiếu ngày (dạng 2020-12-01)."), code="package.missing"
                )
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.error(
                _at(path, key),
                _("“%(value)s” không phải ngày hợp lệ (dạng 2020-12-01)."),
                code="package.bad_date",
                value=describe(value),
            )
            return None

    def number(self, data: dict, key: str, path: str, *, required=True) -> Decimal | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(_at(path, key), _("thiếu giá trị số."), code="package.missing")
            return None
        number = self._decimal(value)
        if number is None:
            if isinstance(value, (list, dict, date, bool)):
                message = _("phải là một số, không phải %(value)s.")
            else:
                message = _("“%(value)s” không phải là số.")
            self.error(_at(path, key), message, code="package.not_number", value=describe(value))
            return None
        problem = storable_problem(number)
        if problem:
            self.error(
                _at(path, key),
                _("“%(value)s” %(problem)s."),
                code="package.not_storable",
                value=shown(value),
                problem=problem,
            )
            return None
        return number

    @staticmethod
    def _decimal(value) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            return None
        try:
            return Decimal(value) if isinstance(value, int) else Decimal(str(value).strip())
        except InvalidOperation:
            return None

    def period(self, data: dict, key: str, path: str, *, required=True) -> str:
        """A period id (``2022``, ``2022Q1``, ``2021-2025``, a day): its ASCII id."""
        raw = data.get(key)
        if isinstance(raw, datetime):
            raw = raw.date()
        if isinstance(raw, date):  # unquoted 2022-06-30: a day period
            return raw.isoformat()
        value = self.text(data, key, path, required=required)
        if value:
            try:
                return Period.parse(value).id
            except PeriodError as exc:
                self.error(_at(path, key), "%(reason)s", code="package.bad_period", reason=exc)
        return ""

    def unit(
        self,
        data: dict,
        key: str,
        path: str,
        on: date | None = None,
        *,
        required=True,
        agencies=None,
    ):
        code = self.reference(data, key, path, required=required)
        if not code:
            return None
        if agencies and code in agencies:
            return agencies[code]
        try:
            return resolve_unit(code, on)
        except UnitNotFound as exc:
            self.error(
                _at(path, key),
                _("%(reason)s (đã chạy “tiendo units load” chưa?)"),
                code="package.unknown_unit",
                reason=exc,
            )
            return None


def load_package(path: Path | str, *, dry_run: bool = False, actor=None) -> LoadReport:
    """Check the whole package, then (unless ``dry_run``) write it in one transaction.

    ``actor`` is the user loading it (``tiendo metadata load --as``): the package may then
    change only a programme that user administers (:func:`check_ownership`); ``None`` is the
    installation itself (``--system``, the demo). The report holds the difference from what
    was loaded (``report.changes``, shown by ``report.diff_lines()``); a dry run computes it
    the same way and rolls back. Every load written is audited (``metadata.loaded``) with
    who loaded it, its package, version and difference.
    """
    data = read_package(path)
    plan = _check(data, str(path))
    report = LoadReport(dry_run=dry_run)
    try:
        return _write(plan, report, path, actor)
    except PackageError as exc:
        if actor is not None and not dry_run and exc.ownership:
            audit(  # a user trying to change what is not theirs: kept, after the rollback
                "metadata.refused",
                actor=actor,
                unit=plan["programme"]["owner"],
                source=Path(path).name,
                programme=plan["programme"]["code"],
                codes=exc.codes,
            )
        raise


def _write(plan: dict, report: LoadReport, path, actor) -> LoadReport:
    dry_run = report.dry_run
    with transaction.atomic():
        before = (
            Programme.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(code=plan["programme"]["code"])
            .first()
        )
        check_ownership(plan, before, actor, str(path))
        saved = _apply(plan, report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit(
                "metadata.loaded",
                actor=actor,
                unit=saved["programme"].owner,
                obj=saved["programme"],
                message=report.summary(),
                source=Path(path).name,
                loaded_by=actor.username if actor is not None else "system",
                **report.as_dict(),
            )
    return report


# --- ownership: who may change which programme, and where a programme reaches ---


def check_ownership(plan: dict, before: Programme | None, actor, source: str) -> None:
    """Refuse (a :class:`PackageError`, nothing written) a package that changes what is not
    its own: a programme of another owner (a province extends a national programme in a
    programme of its own, never by editing it), one the loading user does not administer,
    an indicator of another programme, a target outside the programme's units."""
    c = _Checker(source)
    _check_owner_kept(c, plan["programme"], before, actor)
    _check_administers(c, plan["programme"], actor)
    _check_indicators_owned(c, plan)
    _check_targets_in_scope(c, plan)
    if c.problems:
        refused = PackageError(c.problems)
        refused.ownership = True
        raise refused


def _check_owner_kept(c: _Checker, p: dict, before: Programme | None, actor) -> None:
    """A package never moves a programme to another owner; one loaded before it had an
    owner may be given one by the installation or an administrator."""
    owner = p["owner"]
    if before is None or before.owner_id == (owner.pk if owner else None):
        return
    if before.owner_id is not None or (actor is not None and not is_admin(actor)):
        c.error(
            "programme.owner",
            _(
                "chương trình “%(programme)s” đã có và thuộc “%(owner)s”; gói của đơn vị "
                "khác không được sửa nó. Xin tạo chương trình riêng (mã khác, "
                "owner là đơn vị của mình), dùng lại chỉ tiêu của chương trình kia khi cần."
            ),
            code="package.programme_of_other_owner",
            programme=before.code,
            owner=before.owner.name if before.owner_id else _("toàn hệ thống"),
        )


def _check_administers(c: _Checker, p: dict, actor) -> None:
    owner = p["owner"]
    if actor is not None and not may_administer_programme(actor, owner):
        c.error(
            "programme.owner",
            _(
                "%(user)s không quản trị “%(owner)s”, đơn vị chủ trì chương trình "
                "“%(programme)s”: không được nạp gói này."
            ),
            code="package.not_yours",
            user=actor.username,
            owner=owner.name if owner else _("toàn hệ thống"),
            programme=p["code"],
        )


def _check_indicators_owned(c: _Checker, plan: dict) -> None:
    declared = {i["code"]: i["_path"] for i in plan["indicators"]}
    others = Indicator.objects.filter(code__in=declared).exclude(
        programme__code=plan["programme"]["code"]
    )
    for code, programme in others.values_list("code", "programme__code"):
        c.error(
            f"{declared[code]}.code",
            _(
                "chỉ tiêu “%(value)s” thuộc chương trình “%(programme)s”: gói này không được "
                "khai báo lại; dùng lại nó bằng mã (trong biểu, quy tắc, kế hoạch) hoặc đặt mã "
                "khác."
            ),
            code="package.indicator_of_other_programme",
            value=code,
            programme=programme,
        )


def _check_targets_in_scope(c: _Checker, plan: dict) -> None:
    p = plan["programme"]
    owner = p["owner"]
    roots = p["applies_to"] or ([] if owner is None or owner.level == Level.NATION else [owner])
    if not roots:
        return
    for target in plan["targets"]:
        unit = target["unit"]
        unit = unit["parent"] if isinstance(unit, dict) else unit  # a declared agency
        if unit is not None and not any(unit.is_within(root) for root in roots):
            c.error(
                f"{target['_path']}.unit",
                _(
                    "“%(unit)s” nằm ngoài các đơn vị chương trình “%(programme)s” áp dụng: "
                    "không giao kế hoạch được."
                ),
                code="package.outside_scope",
                unit=unit.name,
                programme=p["code"],
            )


# --- checking: one step per section, nothing written ---


def _check(data: dict, source: str) -> dict:
    """The plan of what to write; a PackageError with every problem found if any."""
    c = _Checker(source)
    data = _track(data)
    _check_keys(c, data)
    plan: dict = {"programme": _check_programme(c, data), "stated": set(dict.keys(data))}
    for section in _BUILT_IN_SECTIONS:
        plan[section.key] = section.check(c.items(data, section.key), c, plan)
    plan["sections"] = {
        key: section.check(c.items(data, key), c, plan)
        for key, section in _SECTIONS.items()
        if key in data
    }
    _check_unknown_keys(c, data)
    if c.problems:
        raise PackageError(c.problems)
    return plan


def _check_keys(c: _Checker, data: dict) -> None:
    allowed = TOP_LEVEL_KEYS | set(_SECTIONS)
    for key in dict.keys(data):
        if key not in allowed:
            _unknown_key(c, str(key), key, sorted(allowed), str(_("gói")))
    if "package" not in data:
        c.error("package", _("thiếu tên gói."), code="package.missing")


def _check_programme(c: _Checker, data: dict) -> dict:
    if "programme" in data:
        prog = c.mapping(data["programme"], "programme")
    else:
        c.error("programme", _("thiếu thông tin chương trình."), code="package.missing")
        prog = {}
    period_text = c.period(prog, "period", "programme") if prog else ""
    period = Period.parse(period_text) if period_text else None
    return {
        "package": c.code(data, "package", "", SLUG_RE, required=False)
        if "package" in data
        else "",
        "version": c.text(data, "version", "", required=False, max_length=40),
        "code": c.code(prog, "code", "programme", SLUG_RE),
        "name": c.text(prog, "name", "programme", max_length=400),
        "short_name": c.text(prog, "short_name", "programme", required=False, max_length=120),
        "issuer": c.text(prog, "issuer", "programme", required=False, max_length=200),
        "period": period_text,
        "description": c.text(prog, "description", "programme", required=False),
        **_check_scope(c, prog, period.start if period else None),
    }


def _check_scope(c: _Checker, prog: dict, on: date | None) -> dict:
    """The owner and the units the programme applies to, each inside the owner's subtree
    (a national owner, or none, reaches everywhere)."""
    owner = c.unit(prog, "owner", "programme", on, required=False)
    applies_to = []
    for i, code in enumerate(c.codes(prog, "applies_to", "programme")):
        key = f"programme.applies_to[{i}]"
        unit = c.unit({f"applies_to[{i}]": code}, f"applies_to[{i}]", "programme", on)
        if unit is None:
            continue
        if owner is not None and owner.level != Level.NATION and not unit.is_within(owner):
            c.error(
                key,
                _(
                    "chương trình áp dụng cho “%(unit)s”, đơn vị nằm ngoài “%(owner)s” (đơn vị "
                    "chủ trì): chỉ áp dụng được cho đơn vị chủ trì và cấp dưới."
                ),
                code="package.outside_owner",
                unit=unit.name,
                owner=owner.name,
            )
        applies_to.append(unit)
    return {"owner": owner, "applies_to": applies_to}


def _check_documents(items, c: _Checker, plan: dict) -> list[dict]:
    documents, numbers = [], set()
    for path, item in items:
        number = c.text(item, "number", path, max_length=80)
        c.once(numbers, number, f"{path}.number", _("văn bản “%(value)s” bị khai báo hai lần."))
        documents.append(
            {
                "number": number,
                "kind": c.choice(item, "kind", path, DocumentKind, DocumentKind.OTHER.value),
                "issued_on": c.day(item, "issued_on", path),
                "issuer": c.text(item, "issuer", path, max_length=200),
                "summary": c.text(item, "summary", path),
            }
        )
    return documents


def _check_agencies(items, c: _Checker, plan: dict) -> list[dict]:
    agencies, codes = [], set()
    for path, item in items:
        valid_from = c.day(item, "valid_from", path, required=False)
        valid_to = c.day(item, "valid_to", path, required=False)
        parent = c.unit(item, "parent", path, valid_from or valid_to)
        code = c.code(item, "code", path, SLUG_RE)
        c.once(codes, code, f"{path}.code", _("cơ quan “%(value)s” bị khai báo hai lần."))
        if valid_from and valid_to and valid_from > valid_to:
            c.error(
                f"{path}.valid_to",
                _("ngày hết hiệu lực trước ngày có hiệu lực."),
                code="package.bad_validity",
            )
        agencies.append(
            {
                "code": code,
                "name": c.text(item, "name", path, max_length=200),
                "parent": parent,
                "valid_from": valid_from,
                "valid_to": valid_to,
            }
        )
    return agencies


def _check_disaggregations(items, c: _Checker, plan: dict) -> list[dict]:
    disaggregations = []
    for path, item in items:
        code = c.code(item, "code", path)
        options = [
            {
                "code": c.code(opt, "code", f"{path}.{opt_path}", SLUG_RE),
                "name": c.text(opt, "name", f"{path}.{opt_path}", max_length=200),
            }
            for opt_path, opt in c.items(item, "options")
        ]
        if not options:
            c.error(
                f"{path}.options", _("phân tổ cần ít nhất một nhóm."), code="package.no_options"
            )
        disaggregations.append(
            {"code": code, "name": c.text(item, "name", path), "options": options}
        )
    return disaggregations


def _check_components(items, c: _Checker, plan: dict) -> list[dict]:
    return [
        {
            "code": c.code(item, "code", path, SLUG_RE),
            "name": c.text(item, "name", path, max_length=400),
        }
        for path, item in items
    ]


def _check_indicators(items, c: _Checker, plan: dict) -> list[dict]:
    known = {
        "components": {comp["code"] for comp in plan["components"]},
        "disaggregations": {d["code"] for d in plan["disaggregations"]}
        | set(Disaggregation.objects.values_list("code", flat=True)),
    }
    indicators, codes = [], set()
    for path, item in items:
        code = c.code(item, "code", path)
        c.once(codes, code, f"{path}.code", _("chỉ tiêu “%(value)s” bị khai báo hai lần."))
        indicators.append(_check_indicator(c, path, item, code, known))
    by_code = {indicator["code"]: indicator for indicator in indicators}
    known_all = known_indicators({**plan, "indicators": indicators})
    for indicator in indicators:
        if indicator["_tree"] is not None:
            c.operands(f"{indicator['_path']}.formula", indicator["_tree"], known_all)
    _check_cycles(c, by_code)
    return indicators


def _check_indicator(c: _Checker, path: str, item: dict, code: str, known: dict) -> dict:
    component = c.declared(
        item,
        "component",
        path,
        known["components"],
        _("không có nội dung “%(value)s” trong mục components."),
        code="package.unknown_component",
    )
    disaggregation = c.declared(
        item,
        "disaggregation",
        path,
        known["disaggregations"],
        _("không có phân tổ “%(value)s”."),
        code="package.unknown_disaggregation",
    )
    decimals = _check_decimals(c, path, item)
    formula = c.text(item, "formula", path, required=False, max_length=400)
    tree = _parse_formula(c, path, formula)
    low, high = _check_range(c, path, item)
    return {
        "code": code,
        "name": c.text(item, "name", path, max_length=400),
        "short_name": c.text(item, "short_name", path, required=False, max_length=160),
        "component": component,
        "measure_unit": c.text(item, "measure_unit", path, max_length=40),
        "value_type": c.choice(item, "value_type", path, ValueType, ValueType.NUMBER.value),
        "aggregation": c.choice(item, "aggregation", path, Aggregation, Aggregation.SUM.value),
        "decimals": decimals,
        "disaggregation": disaggregation,
        "show_categories": c.choice(
            item, "show_categories", path, CategoryDisplay, CategoryDisplay.ROWS.value
        ),
        "formula": formula,
        "min_value": low,
        "max_value": high,
        "description": c.text(item, "description", path, required=False),
        **_check_display(c, path, item),
        **_check_reporters(c, path, item),
        "_path": path,
        "_tree": tree,
        "_references": expressions.references(tree) if tree is not None else set(),
    }


def _check_reporters(c: _Checker, path: str, item: dict) -> dict:
    """Which levels (``levels: [1, 3]``) and kinds of unit (``unit_kinds: [agency]``)
    report the indicator; an empty or absent list: all."""
    return {
        "levels": _choices_list(c, item, "levels", path, [int(v) for v in Level.values]),
        "unit_kinds": _choices_list(c, item, "unit_kinds", path, list(UnitKind.values)),
    }


def _choices_list(c: _Checker, item: dict, key: str, path: str, allowed: list) -> list:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        c.error(_at(path, key), _("phải là một danh sách."), code="package.not_list")
        return []
    chosen = []
    for i, entry in enumerate(value):
        if isinstance(entry, bool) or entry not in allowed:
            c.error(
                f"{_at(path, key)}[{i}]",
                _("“%(value)s” không hợp lệ; chọn một trong: %(allowed)s."),
                code="package.bad_choice",
                value=describe(entry),
                allowed=", ".join(str(a) for a in allowed),
            )
        elif entry not in chosen:
            chosen.append(entry)
    return sorted(chosen) if key == "levels" else chosen


def _check_display(c: _Checker, path: str, item: dict) -> dict:
    """``display_unit`` and ``display_factor``: a multiple of the measure unit to show and
    enter figures in (tỷ đồng for triệu đồng: 1000), a power of ten so it converts exactly."""
    unit = c.text(item, "display_unit", path, required=False, max_length=40)
    factor = item.get("display_factor")
    if factor is None and not unit:
        return {"display_unit": "", "display_factor": 1}
    if factor is None or not unit:
        missing = "display_factor" if factor is None else "display_unit"
        c.error(
            _at(path, missing),
            _("cần cả display_unit và display_factor (đơn vị hiển thị và hệ số của nó)."),
            code="package.display_unit_incomplete",
        )
        return {"display_unit": "", "display_factor": 1}
    if (
        not isinstance(factor, int)
        or isinstance(factor, bool)
        or factor < 10
        or factor > 10**9
        or str(factor).rstrip("0") != "1"
    ):
        c.error(
            _at(path, "display_factor"),
            _("“%(value)s” phải là 10, 100, 1.000, … (lũy thừa của 10) để đổi đơn vị chính xác."),
            code="package.bad_display_factor",
            value=describe(factor),
        )
        return {"display_unit": "", "display_factor": 1}
    return {"display_unit": unit, "display_factor": factor}


def _check_decimals(c: _Checker, path: str, item: dict) -> int:
    decimals = item.get("decimals", 0)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        c.error(
            f"{path}.decimals",
            _("“%(value)s” phải là số nguyên từ 0 đến 6."),
            code="package.bad_decimals",
            value=describe(decimals),
        )
        return 0
    return decimals


def _parse_formula(c: _Checker, path: str, formula: str):
    if not formula:
        return None
    return c.parsed(
        f"{path}.formula",
        formula,
        expressions.parse,
        _("công thức “%(formula)s” sai: %(reason)s"),
        code="package.bad_formula",
        formula=formula,
    )


def _check_range(c: _Checker, path: str, item: dict) -> tuple[Decimal | None, Decimal | None]:
    low = c.number(item, "min", path, required=False)
    high = c.number(item, "max", path, required=False)
    if low is not None and high is not None and low > high:
        c.error(
            f"{path}.max",
            _("giá trị lớn nhất nhỏ hơn giá trị nhỏ nhất."),
            code="package.bad_range",
        )
    return low, high


def _check_cycles(c: _Checker, indicators: dict) -> None:
    state: dict[str, int] = {}

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2 or code not in indicators:
            return
        if state.get(code) == 1:
            c.error(
                f"{indicators[code]['_path']}.formula",
                _("công thức vòng tròn: %(cycle)s."),
                code="package.formula_cycle",
                cycle=" → ".join([*trail, code]),
            )
            return
        state[code] = 1
        for ref in indicators[code]["_references"]:
            visit(ref, [*trail, code])
        state[code] = 2

    for code in indicators:
        visit(code, [])


def _check_targets(items, c: _Checker, plan: dict) -> list[dict]:
    known = known_indicators(plan)
    documents = {document["number"] for document in plan["documents"]}
    agencies = {agency["code"]: agency for agency in plan["agencies"]}
    targets = []
    for path, item in items:
        target = _check_target(c, path, item, known, agencies)
        _check_document_named(c, f"{path}.document", target["document"], documents)
        targets.append(target)
    _check_total_and_parts(c, targets)
    return targets


def _check_target(c: _Checker, path: str, item: dict, known: dict, agencies: dict) -> dict:
    code = c.reference(item, "indicator", path)
    indicator = c.indicator(f"{path}.indicator", code, known) if code else None
    category = c.reference(item, "category", path, required=False)
    if category and indicator is not None:
        c.category(f"{path}.category", indicator, category)
    period_id = c.period(item, "period", path)
    on = Period.parse(period_id).end if period_id else None
    return {
        "indicator": code,
        "category": category,
        "period": period_id,
        "unit": c.unit(item, "unit", path, on, agencies=agencies),
        "value": c.number(item, "value", path),
        "document": c.text(item, "document", path, required=False),
        "_path": path,
    }


def _target_key(target: dict) -> tuple:
    unit = target["unit"]
    unit_code = unit["code"] if isinstance(unit, dict) else getattr(unit, "code", None)
    return target["indicator"], unit_code, target["period"]


def _check_total_and_parts(c: _Checker, targets: list[dict]) -> None:
    """One target per (indicator, unit, period, category); and either the total or the
    parts by category, never both: the total of a unit is the sum of what is set for it."""
    seen: dict[tuple, dict] = {}
    for target in targets:
        key = _target_key(target)
        if None in key or "" in key:
            continue
        categories = seen.setdefault(key, {})
        category = target["category"]
        if category in categories:
            c.error(
                target["_path"],
                _("kế hoạch này trùng với %(first)s (cùng chỉ tiêu, đơn vị, kỳ, nhóm)."),
                code="package.duplicate",
                first=categories[category],
            )
        elif categories and ("" in categories or not category):
            c.error(
                f"{target['_path']}.category",
                _(
                    "chỉ tiêu “%(indicator)s” của đơn vị này trong kỳ %(period)s đã có kế hoạch "
                    "%(other)s ở %(first)s: ghi hoặc tổng, hoặc từng nhóm phân tổ (tổng là "
                    "tổng các nhóm), không ghi cả hai."
                ),
                code="package.target_total_and_parts",
                indicator=key[0],
                period=key[2],
                other=_("theo nhóm") if category == "" else _("tổng"),
                first=next(iter(categories.values())),
            )
        categories.setdefault(category, target["_path"])


def _check_document_named(c: _Checker, key: str, number: str, declared: set[str]) -> None:
    if (
        number
        and number not in declared
        and not LegalDocument.objects.filter(number=number).exists()
    ):
        c.error(
            key,
            _("không có văn bản “%(value)s”."),
            code="package.unknown_document",
            value=number,
        )


# --- writing: one step per section, inside the package's transaction ---


# Model fields the difference names by the package key that sets them.
PACKAGE_KEYS = {"min_value": "min", "max_value": "max"}


def upsert(report: LoadReport, kind: str, model, lookup: dict, values: dict):
    """The row ``lookup`` finds, created or updated with ``values``; counted in ``report``
    and, with each changed field's old and new value, added to its difference."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.count("created", kind)
        report.added(kind, obj, lookup)
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        fields = [
            (PACKAGE_KEYS.get(k, k), _text(getattr(obj, k)), _text(values[k])) for k in changed
        ]
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        report.count("updated", kind)
        report.changed(kind, obj, lookup, fields)
    else:
        report.count("unchanged", kind)
    return obj


def _apply(plan: dict, report: LoadReport) -> dict:
    saved = {"programme": _apply_programme(plan["programme"], report)}
    for section in _BUILT_IN_SECTIONS:
        saved[section.key] = section.apply(plan[section.key], saved, report)
    _retire_missing(plan, saved, report)
    for key, checked in plan.get("sections", {}).items():
        _SECTIONS[key].apply(checked, saved, report)
    return saved


def _retire_missing(plan: dict, saved: dict, report: LoadReport) -> None:
    """What the programme had before and its package no longer has: indicators are retired
    (off new forms; values and history kept); the rest is kept as it is, and listed. Only
    for the sections the package states: a package without ``targets:`` says nothing of
    the targets loaded before."""
    programme, stated = saved["programme"], plan["stated"]
    if "indicators" in stated:
        _retire_indicators(programme, saved["indicators"], report)
    if "components" in stated:
        for component in programme.components.exclude(
            pk__in=[c.pk for c in saved["components"].values()]
        ):
            report.gone(str(_("nội dung")), component.code)
    if "documents" in stated:
        for document in programme.documents.exclude(
            pk__in=[d.pk for d in saved["documents"].values()]
        ):
            report.gone(str(_("văn bản")), document.number)
    if "targets" in stated:
        _list_gone_targets(programme, {t.pk for t in saved["targets"]}, report)


def _retire_indicators(programme: Programme, kept: dict, report: LoadReport) -> None:
    missing = programme.indicators.exclude(pk__in=[i.pk for i in kept.values()])
    for indicator in missing.filter(retired=False).order_by("order", "code"):
        indicator.retired = True
        indicator.save(update_fields=["retired"])
        report.gone(str(_("chỉ tiêu")), indicator.code, retired=True)


def _list_gone_targets(programme: Programme, kept: set, report: LoadReport) -> None:
    for target in (
        Target.objects.filter(indicator__programme=programme)
        .exclude(pk__in=kept)
        .select_related("indicator", "unit")
        .order_by("indicator__code", "unit__code", "period", "category")
    ):
        part = f"[{target.category}]" if target.category else ""
        report.gone(
            str(_("kế hoạch")),
            f"{target.indicator.code}{part} {target.unit.code} {target.period}",
        )


PROGRAMME_FIELDS = (
    "name",
    "short_name",
    "issuer",
    "period",
    "description",
    "owner",
    "version",
    "package",
)
DOCUMENT_FIELDS = ("kind", "issued_on", "issuer", "summary")
INDICATOR_FIELDS = (
    "name",
    "short_name",
    "measure_unit",
    "value_type",
    "aggregation",
    "decimals",
    "show_categories",
    "formula",
    "min_value",
    "max_value",
    "description",
    "display_unit",
    "display_factor",
    "levels",
    "unit_kinds",
)


def _apply_programme(p: dict, report: LoadReport) -> Programme:
    values = {k: p[k] for k in PROGRAMME_FIELDS}
    before = Programme.objects.filter(code=p["code"]).first()
    report.package, report.version = p["package"], p["version"]
    report.previous_version = before.version if before else ""
    programme = upsert(report, "chương trình", Programme, {"code": p["code"]}, values)
    _apply_scope(programme, p["applies_to"], report, created=before is None)
    return programme


def _apply_scope(programme: Programme, units: list, report: LoadReport, *, created) -> None:
    old = sorted(programme.applies_to.all(), key=lambda u: u.code)
    new = sorted(units, key=lambda u: u.code)
    if [u.pk for u in old] == [u.pk for u in new]:
        return
    programme.applies_to.set(new)
    if created:
        return
    shown_old = ", ".join(u.code for u in old) or "—"
    report.changed(
        "chương trình",
        programme,
        {"code": programme.code},
        [("applies_to", shown_old, ", ".join(u.code for u in new) or "—")],
    )


def _apply_documents(checked: list[dict], saved: dict, report: LoadReport) -> dict:
    documents = {
        d["number"]: upsert(
            report,
            "văn bản",
            LegalDocument,
            {"number": d["number"]},
            {k: d[k] for k in DOCUMENT_FIELDS},
        )
        for d in checked
    }
    saved["programme"].documents.add(*documents.values())
    return documents


def _apply_agencies(checked: list[dict], saved: dict, report: LoadReport) -> dict:
    agencies = {}
    for a in checked:
        parent = a["parent"]
        lookup = {
            "code": a["code"],
            "kind": UnitKind.AGENCY,
            "level": min(parent.level + 1, Level.COMMUNE),
            "valid_from": a["valid_from"],
        }
        values = {
            "name": a["name"],
            "parent": parent,
            "valid_to": a["valid_to"],
            "source": "metadata",
        }
        agencies[a["code"]] = upsert(report, "cơ quan", Unit, lookup, values)
    return agencies


def _apply_disaggregations(checked: list[dict], saved: dict, report: LoadReport) -> dict:
    disaggregations = {}
    for d in checked:
        obj = upsert(report, "phân tổ", Disaggregation, {"code": d["code"]}, {"name": d["name"]})
        for order, o in enumerate(d["options"]):
            upsert(
                report,
                "nhóm phân tổ",
                CategoryOption,
                {"disaggregation": obj, "code": o["code"]},
                {"name": o["name"], "order": order},
            )
        for option in obj.options.exclude(code__in=[o["code"] for o in d["options"]]):
            report.gone(str(_("nhóm phân tổ")), f"{d['code']}[{option.code}]")
        disaggregations[d["code"]] = obj
    return disaggregations


def _apply_components(checked: list[dict], saved: dict, report: LoadReport) -> dict:
    return {
        comp["code"]: upsert(
            report,
            "nội dung",
            Component,
            {"programme": saved["programme"], "code": comp["code"]},
            {"name": comp["name"], "order": order},
        )
        for order, comp in enumerate(checked)
    }


def _apply_indicators(checked: list[dict], saved: dict, report: LoadReport) -> dict:
    indicators = {}
    for order, i in enumerate(checked):
        disaggregation = None
        if i["disaggregation"]:
            disaggregation = saved["disaggregations"].get(
                i["disaggregation"]
            ) or Disaggregation.objects.get(code=i["disaggregation"])
        values = {
            **{k: i[k] for k in INDICATOR_FIELDS},
            "programme": saved["programme"],
            "component": saved["components"].get(i["component"]),
            "disaggregation": disaggregation,
            "order": order,
            "retired": False,
        }
        indicators[i["code"]] = upsert(report, "chỉ tiêu", Indicator, {"code": i["code"]}, values)
    return indicators


def _apply_targets(checked: list[dict], saved: dict, report: LoadReport) -> list:
    targets = []
    for t in checked:
        indicator = saved["indicators"].get(t["indicator"]) or Indicator.objects.get(
            code=t["indicator"]
        )
        unit = t["unit"]
        if isinstance(unit, dict):  # an agency this package declares
            unit = saved["agencies"][unit["code"]]
        document = saved["documents"].get(t["document"]) or (
            LegalDocument.objects.filter(number=t["document"]).first() if t["document"] else None
        )
        lookup = {
            "indicator": indicator,
            "unit": unit,
            "period": t["period"],
            "category": t["category"],
        }
        values = {"value": t["value"], "document": document}
        _replace_other_kind(lookup, report)
        targets.append(upsert(report, "kế hoạch", Target, lookup, values))
    return targets


def _replace_other_kind(lookup: dict, report: LoadReport) -> None:
    """A total replaces the parts by category set before for the same indicator, unit and
    period, and parts replace a total: the two together would count the plan twice."""
    same = Target.objects.filter(
        indicator=lookup["indicator"], unit=lookup["unit"], period=lookup["period"]
    )
    other = same.exclude(category="") if not lookup["category"] else same.filter(category="")
    for target in other:
        report.replaced(target)
        target.delete()


# The sections of the package this app owns, in the order they are checked and written;
# each step sees the plan (or saved objects) of the sections before it.
_BUILT_IN_SECTIONS = (
    Section("documents", _check_documents, _apply_documents),
    Section("agencies", _check_agencies, _apply_agencies),
    Section("disaggregations", _check_disaggregations, _apply_disaggregations),
    Section("components", _check_components, _apply_components),
    Section("indicators", _check_indicators, _apply_indicators),
    Section("targets", _check_targets, _apply_targets),
)
TOP_LEVEL_KEYS = {
    "package",
    "version",
    "programme",
    *(section.key for section in _BUILT_IN_SECTIONS),
}
