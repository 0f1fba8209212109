"""Metadata packages: a programme, its legal documents, components, indicators,
disaggregations, agencies and targets, as one YAML (or JSON) file.

A province adds its own resolution by writing such a file — no code. The whole file is
checked before anything is written; every problem is reported with the file, the key path
(``indicators[3].aggregation``) and what is wrong, in Vietnamese; then everything is
written in one transaction. Loading the same file twice changes nothing.

Shape (see ``tiendo/demo/packages/*.yaml`` for real ones)::

    package: hagiang-nq05
    programme: {code, name, short_name?, issuer?, period, owner?, description?}
    documents: [{number, kind, issued_on, issuer, summary}]
    agencies: [{code, name, parent, valid_from?, valid_to?}]
    disaggregations: [{code, name, options: [{code, name}]}]
    components: [{code, name}]
    indicators: [{code, name, short_name?, component?, measure_unit, value_type?,
                  aggregation?, decimals?, disaggregation?, show_categories?, formula?,
                  min?, max?, description?}]
    targets: [{indicator, unit, period, value, document?}]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
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

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.where(), super().__str__()) if part)


class PackageError(TiendoError, ValueError):
    """A package that cannot be loaded, with every problem found.

    ``errors`` are the :class:`PackageProblem` s (each with its ``code`` and key path);
    ``problems`` the same as text, one line each, which is also ``str(error)``.
    """

    code = "package.invalid"
    default_message = _("Gói siêu dữ liệu có lỗi, chưa nạp gì.")

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


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def count(self, bucket: str, kind: str) -> None:
        target = getattr(self, bucket)
        target[kind] = target.get(kind, 0) + 1

    def summary(self) -> str:
        def fmt(d):
            return ", ".join(f"{k}: {v}" for k, v in sorted(d.items())) or "không có"

        prefix = "(Chạy thử, chưa ghi gì) " if self.dry_run else ""
        return (
            f"{prefix}Tạo mới: {fmt(self.created)}. Cập nhật: {fmt(self.updated)}. "
            f"Không đổi: {fmt(self.unchanged)}."
        )


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
                self.error(f"{path}.{key}", _("thiếu (bắt buộc)."), code="package.missing")
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.error(
                f"{path}.{key}",
                _("phải là chuỗi ký tự, không phải %(value)s."),
                code="package.not_text",
                value=repr(value),
            )
            return ""
        value = str(value)
        if max_length and len(value) > max_length:
            self.error(
                f"{path}.{key}",
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
            self.error(f"{path}.{key}", message, code="package.bad_code", value=shown(value))
        return value

    def reference(self, data: dict, key: str, path: str, *, required=True) -> str:
        """The code of something declared elsewhere (a unit, an indicator): ASCII only."""
        value = self.text(data, key, path, required=required, max_length=60)
        if value and not value.isascii():
            self.error(
                f"{path}.{key}",
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
            self.error(f"{path}.{key}", message, code=code, value=value)
        return value

    def choice(self, data: dict, key: str, path: str, choices, default):
        value = data.get(key, default)
        allowed = [c.value for c in choices]
        if value not in allowed:
            self.error(
                f"{path}.{key}",
                _("“%(value)s” không hợp lệ; chọn một trong: %(allowed)s."),
                code="package.bad_choice",
                value=value,
                allowed=", ".join(allowed),
            )
            return default
        return value

    def day(self, data: dict, key: str, path: str, *, required=True) -> date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(
                    f"{path}.{key}", _("thiếu ngày (dạng 2020-12-01)."), code="package.missing"
                )
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(
                f"{path}.{key}",
                _("“%(value)s” không phải ngày hợp lệ (dạng 2020-12-01)."),
                code="package.bad_date",
                value=value,
            )
            return None

    def number(self, data: dict, key: str, path: str, *, required=True) -> Decimal | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", _("thiếu giá trị số."), code="package.missing")
            return None
        number = self._decimal(value)
        if number is None:
            self.error(
                f"{path}.{key}",
                _("“%(value)s” không phải là số."),
                code="package.not_number",
                value=shown(value),
            )
            return None
        problem = storable_problem(number)
        if problem:
            self.error(
                f"{path}.{key}",
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

    def period(self, data: dict, key: str, path: str) -> str:
        value = self.text(data, key, path)
        if value:
            try:
                return Period.parse(value).id
            except PeriodError as exc:
                self.error(f"{path}.{key}", "%(reason)s", code="package.bad_period", reason=exc)
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
                f"{path}.{key}",
                _("%(reason)s (đã chạy “tiendo units load” chưa?)"),
                code="package.unknown_unit",
                reason=exc,
            )
            return None


def load_package(path: Path | str, *, dry_run: bool = False) -> LoadReport:
    """Check the whole package, then (unless ``dry_run``) write it in one transaction."""
    data = read_package(path)
    plan = _check(data, str(path))
    report = LoadReport(dry_run=dry_run)
    with transaction.atomic():
        _apply(plan, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


# --- checking: one step per section, nothing written ---


def _check(data: dict, source: str) -> dict:
    """The plan of what to write; a PackageError with every problem found if any."""
    c = _Checker(source)
    _check_keys(c, data)
    plan: dict = {"programme": _check_programme(c, data)}
    for section in _BUILT_IN_SECTIONS:
        plan[section.key] = section.check(c.items(data, section.key), c, plan)
    plan["sections"] = {
        key: section.check(c.items(data, key), c, plan)
        for key, section in _SECTIONS.items()
        if key in data
    }
    if c.problems:
        raise PackageError(c.problems)
    return plan


def _check_keys(c: _Checker, data: dict) -> None:
    allowed = TOP_LEVEL_KEYS | set(_SECTIONS)
    for key in data:
        if key not in allowed:
            c.error(
                key,
                _("khóa không được hỗ trợ; các khóa hợp lệ: %(allowed)s."),
                code="package.unknown_key",
                allowed=", ".join(sorted(allowed)),
            )
    if "package" in data:
        c.code(data, "package", "package", SLUG_RE)
    else:
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
        "code": c.code(prog, "code", "programme", SLUG_RE),
        "name": c.text(prog, "name", "programme", max_length=400),
        "short_name": c.text(prog, "short_name", "programme", required=False, max_length=120),
        "issuer": c.text(prog, "issuer", "programme", required=False, max_length=200),
        "period": period_text,
        "description": c.text(prog, "description", "programme", required=False),
        "owner": c.unit(
            prog, "owner", "programme", period.start if period else None, required=False
        ),
    }


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
    _check_formula_operands(c, indicators, _with_loaded_indicators(set(by_code)))
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
    references = _formula_references(c, path, formula)
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
        "_path": path,
        "_references": references,
    }


def _check_decimals(c: _Checker, path: str, item: dict) -> int:
    decimals = item.get("decimals", 0)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        c.error(
            f"{path}.decimals",
            _("“%(value)s” phải là số nguyên từ 0 đến 6."),
            code="package.bad_decimals",
            value=decimals,
        )
        return 0
    return decimals


def _formula_references(c: _Checker, path: str, formula: str) -> set[str]:
    if not formula:
        return set()
    try:
        return expressions.references(expressions.parse(formula))
    except expressions.ExpressionError as exc:
        c.error(
            f"{path}.formula",
            _("công thức “%(formula)s” sai: %(reason)s"),
            code="package.bad_formula",
            formula=formula,
            reason=exc,
        )
        return set()


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


def _with_loaded_indicators(declared: set[str]) -> set[str]:
    """Codes a formula or a target may name: this package's and those already loaded."""
    return declared | set(Indicator.objects.values_list("code", flat=True))


def _check_formula_operands(c: _Checker, indicators: list[dict], known: set[str]) -> None:
    for indicator in indicators:
        missing = indicator["_references"] - known
        if missing:
            c.error(
                f"{indicator['_path']}.formula",
                _("công thức dùng chỉ tiêu không có: %(codes)s."),
                code="package.unknown_indicator",
                codes=", ".join(sorted(missing)),
            )


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
    known = _with_loaded_indicators({indicator["code"] for indicator in plan["indicators"]})
    documents = {document["number"] for document in plan["documents"]}
    agencies = {agency["code"]: agency for agency in plan["agencies"]}
    targets = []
    for path, item in items:
        code = c.reference(item, "indicator", path)
        if code and code not in known:
            c.error(
                f"{path}.indicator",
                _("không có chỉ tiêu “%(value)s”."),
                code="package.unknown_indicator",
                value=code,
            )
        period_id = c.period(item, "period", path)
        on = Period.parse(period_id).end if period_id else None
        target = {
            "indicator": code,
            "period": period_id,
            "unit": c.unit(item, "unit", path, on, agencies=agencies),
            "value": c.number(item, "value", path),
            "document": c.text(item, "document", path, required=False),
        }
        _check_document_named(c, f"{path}.document", target["document"], documents)
        targets.append(target)
    return targets


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


def upsert(report: LoadReport, kind: str, model, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.count("created", kind)
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        report.count("updated", kind)
    else:
        report.count("unchanged", kind)
    return obj


def _apply(plan: dict, report: LoadReport) -> None:
    saved = {"programme": _apply_programme(plan["programme"], report)}
    for section in _BUILT_IN_SECTIONS:
        saved[section.key] = section.apply(plan[section.key], saved, report)
    for key, checked in plan.get("sections", {}).items():
        _SECTIONS[key].apply(checked, saved, report)


PROGRAMME_FIELDS = ("name", "short_name", "issuer", "period", "description", "owner")
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
)


def _apply_programme(p: dict, report: LoadReport) -> Programme:
    values = {k: p[k] for k in PROGRAMME_FIELDS}
    return upsert(report, "chương trình", Programme, {"code": p["code"]}, values)


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
        lookup = {"indicator": indicator, "unit": unit, "period": t["period"]}
        values = {"value": t["value"], "document": document}
        targets.append(upsert(report, "kế hoạch", Target, lookup, values))
    return targets


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
TOP_LEVEL_KEYS = {"package", "programme", *(section.key for section in _BUILT_IN_SECTIONS)}
