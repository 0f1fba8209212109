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
                  aggregation?, decimals?, disaggregation?, formula?, min?, max?,
                  description?}]
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

from tiendo.core.formatting import format_number
from tiendo.core.numbers import shown, storable_problem
from tiendo.core.text import nfc_deep
from tiendo.programmes import expressions
from tiendo.programmes.models import (
    Aggregation,
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
TOP_LEVEL_KEYS = {
    "package",
    "programme",
    "documents",
    "agencies",
    "disaggregations",
    "components",
    "indicators",
    "targets",
}


@dataclass(frozen=True)
class Section:
    """A top-level key of a package handled by a later app (validation rules, forms, …).

    ``check(items, checker, plan)`` validates the raw list and returns what ``apply`` needs;
    it reports problems through ``checker.error(key_path, message)`` and must not write.
    ``apply(checked, plan_objects, report)`` writes, inside the package's transaction, after
    the programme, indicators and agencies exist (``plan_objects`` maps "programme",
    "indicators", "agencies", "documents" to the saved objects).
    """

    key: str
    check: object
    apply: object


_SECTIONS: dict[str, Section] = {}


def register_section(key: str, check, apply) -> None:
    """Let an app that comes later in the dependency order own a package key."""
    _SECTIONS[key] = Section(key, check, apply)


class PackageError(ValueError):
    """A package that cannot be loaded; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


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


class _Refused(Exception):
    """Something a package may not contain, found while reading it (before any check)."""

    def __init__(self, message: str, line: int | None = None):
        self.message, self.line = message, line
        super().__init__(message)


def _refuse_anchor(event) -> None:
    kind = "bí danh “*" if isinstance(event, yaml.AliasEvent) else "neo “&"
    raise _Refused(
        f"{kind}{shown(event.anchor)}” của YAML không được dùng: gói siêu dữ liệu là dữ liệu "
        "thuần, xin viết đầy đủ từng giá trị (neo và bí danh cho phép một tệp vài trăm byte "
        "nở thành hàng tỷ phần tử).",
        event.start_mark.line + 1,
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
                raise _Refused(
                    f"lồng nhau quá {MAX_DEPTH} cấp (danh sách trong danh sách…).",
                    event.start_mark.line + 1,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def fetch_flow_collection_start(self, TokenClass):
        # Refused while scanning too: the scanner's look-ahead costs O(depth) per bracket.
        if self.flow_level >= MAX_DEPTH:
            raise _Refused(
                f"lồng nhau quá {MAX_DEPTH} cấp (danh sách trong danh sách…).",
                self.get_mark().line + 1,
            )
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
                    raise _Refused(
                        f"khóa “{shown(key)}” bị khai báo hai lần (lần đầu ở dòng {first}).", line
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def _bounded(self, node) -> None:
        digits = sum(ch.isdigit() for ch in node.value)
        if digits > MAX_NUMBER_DIGITS:
            raise _Refused(
                f"số “{shown(node.value, 20)}” có {digits} chữ số, quá dài "
                f"(tối đa {MAX_NUMBER_DIGITS}).",
                node.start_mark.line + 1,
            )

    def construct_yaml_int(self, node):
        self._bounded(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        self._bounded(node)
        return super().construct_yaml_float(node)


_PackageLoader.add_constructor("tag:yaml.org,2002:int", _PackageLoader.construct_yaml_int)
_PackageLoader.add_constructor("tag:yaml.org,2002:float", _PackageLoader.construct_yaml_float)


def _json_object(pairs: list) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise _Refused(f"khóa “{shown(key)}” bị khai báo hai lần trong cùng một bảng.")
        data[key] = value
    return data


def _json_number(text: str, kind=int):
    if sum(ch.isdigit() for ch in text) > MAX_NUMBER_DIGITS:
        raise _Refused(f"số “{shown(text, 20)}” quá dài (tối đa {MAX_NUMBER_DIGITS} chữ số).")
    return kind(text)


def _json_constant(name: str):
    raise _Refused(f"“{name}” không phải là số.")


def _too_deep(data) -> bool:
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


def _parse(text: str, suffix: str):
    if suffix == ".json":
        data = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_int=_json_number,
            parse_float=lambda t: _json_number(t, float),
            parse_constant=_json_constant,
        )
        if _too_deep(data):
            raise _Refused(f"lồng nhau quá {MAX_DEPTH} cấp (danh sách trong danh sách…).")
        return data
    loader = _PackageLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read_package(path: Path | str) -> dict:
    """The parsed package, or a PackageError naming the file and line.

    The file is refused unread past ``settings.PACKAGE_MAX_BYTES``; YAML goes through
    :class:`_PackageLoader`, JSON through the same limits.
    """
    path = Path(path)
    limit = settings.PACKAGE_MAX_BYTES
    try:
        with path.open("rb") as stream:
            raw = stream.read(limit + 1)
    except FileNotFoundError as exc:
        raise PackageError([f"{path}: không tìm thấy tệp."]) from exc
    except OSError as exc:
        raise PackageError([f"{path}: không đọc được tệp ({exc.strerror})."]) from exc
    if len(raw) > limit:
        raise PackageError(
            [
                f"{path}: tệp lớn quá {format_number(limit // 1024)} KB; một gói siêu dữ liệu "
                "chỉ vài chục KB — xin tách thành nhiều gói."
            ]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError([f"{path}: tệp không phải UTF-8 ({exc.reason})."]) from exc
    try:
        data = _parse(text, path.suffix.lower())
    except _Refused as exc:
        where = f" dòng {exc.line}:" if exc.line else ""
        raise PackageError([f"{path}:{where} {exc.message}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" dòng {mark.line + 1}, cột {mark.column + 1}" if mark else ""
        raise PackageError(
            [f"{path}:{where}: lỗi cú pháp YAML: {getattr(exc, 'problem', exc)}."]
        ) from exc
    except json.JSONDecodeError as exc:
        raise PackageError([f"{path}: dòng {exc.lineno}: lỗi cú pháp JSON: {exc.msg}."]) from exc
    except RecursionError:
        raise PackageError(
            [f"{path}: lồng nhau quá {MAX_DEPTH} cấp (danh sách trong danh sách…)."]
        ) from None
    if not isinstance(data, dict):
        raise PackageError([f"{path}: gói siêu dữ liệu phải là một bảng khóa: giá trị (mapping)."])
    return nfc_deep(data)


class _Checker:
    """Collects problems with their key paths instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(f"{self.source}: {key}: {message}")

    def mapping(self, data, key: str) -> dict:
        if not isinstance(data, dict):
            self.error(key, "phải là một bảng khóa: giá trị.")
            return {}
        return data

    def items(self, data: dict, key: str) -> list[tuple[str, dict]]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, "phải là một danh sách.")
            return []
        return [(f"{key}[{i}]", self.mapping(item, f"{key}[{i}]")) for i, item in enumerate(value)]

    def text(self, data: dict, key: str, path: str, *, required=True, max_length=None) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.error(f"{path}.{key}", "thiếu (bắt buộc).")
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.error(f"{path}.{key}", f"phải là chuỗi ký tự, không phải {value!r}.")
            return ""
        value = str(value)
        if max_length and len(value) > max_length:
            self.error(f"{path}.{key}", f"dài quá {max_length} ký tự.")
        return value

    def code(self, data: dict, key: str, path: str, pattern=CODE_RE, *, required=True) -> str:
        value = self.text(data, key, path, required=required, max_length=60)
        if value and not pattern.fullmatch(value):
            hint = (
                "chữ in hoa, số và dấu gạch dưới, bắt đầu bằng chữ"
                if pattern is CODE_RE
                else "chữ, số, dấu chấm, gạch ngang"
            )
            self.error(f"{path}.{key}", f"mã “{shown(value)}” không hợp lệ ({hint}).")
        return value

    def reference(self, data: dict, key: str, path: str, *, required=True) -> str:
        """The code of something declared elsewhere (a unit, an indicator): ASCII only."""
        value = self.text(data, key, path, required=required, max_length=60)
        if value and not value.isascii():
            self.error(
                f"{path}.{key}",
                f"mã “{shown(value)}” chứa ký tự ngoài bảng ASCII; mã chỉ dùng chữ không dấu, "
                "chữ số 0-9, dấu chấm, gạch ngang và gạch dưới.",
            )
            return ""
        return value

    def choice(self, data: dict, key: str, path: str, choices, default):
        value = data.get(key, default)
        allowed = [c.value for c in choices]
        if value not in allowed:
            self.error(
                f"{path}.{key}", f"“{value}” không hợp lệ; chọn một trong: {', '.join(allowed)}."
            )
            return default
        return value

    def day(self, data: dict, key: str, path: str, *, required=True) -> date | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", "thiếu ngày (dạng 2020-12-01).")
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(f"{path}.{key}", f"“{value}” không phải ngày hợp lệ (dạng 2020-12-01).")
            return None

    def number(self, data: dict, key: str, path: str, *, required=True) -> Decimal | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", "thiếu giá trị số.")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            self.error(f"{path}.{key}", f"“{shown(value)}” không phải là số.")
            return None
        try:
            number = Decimal(value) if isinstance(value, int) else Decimal(str(value).strip())
        except InvalidOperation:
            self.error(f"{path}.{key}", f"“{shown(value)}” không phải là số.")
            return None
        problem = storable_problem(number)
        if problem:
            self.error(f"{path}.{key}", f"“{shown(value)}” {problem}.")
            return None
        return number

    def period(self, data: dict, key: str, path: str) -> str:
        value = self.text(data, key, path)
        if value:
            try:
                return Period.parse(value).id
            except PeriodError as exc:
                self.error(f"{path}.{key}", str(exc))
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
            self.error(f"{path}.{key}", f"{exc} (đã chạy “tiendo units load” chưa?)")
            return None


def load_package(path: Path | str, *, dry_run: bool = False) -> LoadReport:
    """Check the whole package, then (unless ``dry_run``) write it in one transaction."""
    data = read_package(path)
    plan = _check(data, str(path))
    report = LoadReport(dry_run=dry_run)
    if dry_run:
        with transaction.atomic():
            _apply(plan, report)
            transaction.set_rollback(True)
        return report
    with transaction.atomic():
        _apply(plan, report)
    return report


def _check(data: dict, source: str) -> dict:
    c = _Checker(source)
    for key in data:
        if key not in TOP_LEVEL_KEYS and key not in _SECTIONS:
            c.error(
                key,
                f"khóa không được hỗ trợ; các khóa hợp lệ: {', '.join(sorted(TOP_LEVEL_KEYS | set(_SECTIONS)))}.",
            )
    c.code(data, "package", "package", SLUG_RE) if "package" in data else c.error(
        "package", "thiếu tên gói."
    )
    prog = c.mapping(data.get("programme"), "programme") if "programme" in data else None
    if prog is None:
        c.error("programme", "thiếu thông tin chương trình.")
        prog = {}
    plan: dict = {
        "programme": None,
        "documents": [],
        "agencies": [],
        "disaggregations": [],
        "components": [],
        "indicators": [],
        "targets": [],
    }

    period_text = c.period(prog, "period", "programme") if prog else ""
    period = Period.parse(period_text) if period_text else None
    plan["programme"] = {
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

    doc_numbers = set()
    for path, item in c.items(data, "documents"):
        number = c.text(item, "number", path, max_length=80)
        if number in doc_numbers:
            c.error(f"{path}.number", f"văn bản “{number}” bị khai báo hai lần.")
        doc_numbers.add(number)
        plan["documents"].append(
            {
                "number": number,
                "kind": c.choice(item, "kind", path, DocumentKind, DocumentKind.OTHER.value),
                "issued_on": c.day(item, "issued_on", path),
                "issuer": c.text(item, "issuer", path, max_length=200),
                "summary": c.text(item, "summary", path),
            }
        )

    agencies: dict[str, object] = {}
    for path, item in c.items(data, "agencies"):
        valid_from = c.day(item, "valid_from", path, required=False)
        valid_to = c.day(item, "valid_to", path, required=False)
        parent = c.unit(item, "parent", path, valid_from or valid_to)
        code = c.code(item, "code", path, SLUG_RE)
        if code in agencies:
            c.error(f"{path}.code", f"cơ quan “{code}” bị khai báo hai lần.")
        if valid_from and valid_to and valid_from > valid_to:
            c.error(f"{path}.valid_to", "ngày hết hiệu lực trước ngày có hiệu lực.")
        agency = {
            "code": code,
            "name": c.text(item, "name", path, max_length=200),
            "parent": parent,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        agencies[code] = agency
        plan["agencies"].append(agency)

    options_by_disaggregation: dict[str, set[str]] = {}
    for path, item in c.items(data, "disaggregations"):
        code = c.code(item, "code", path)
        options = []
        for opt_path, opt in c.items(item, "options"):
            options.append(
                {
                    "code": c.code(opt, "code", f"{path}.{opt_path}", SLUG_RE),
                    "name": c.text(opt, "name", f"{path}.{opt_path}", max_length=200),
                }
            )
        if not options:
            c.error(f"{path}.options", "phân tổ cần ít nhất một nhóm.")
        options_by_disaggregation[code] = {o["code"] for o in options}
        plan["disaggregations"].append(
            {"code": code, "name": c.text(item, "name", path), "options": options}
        )
    existing_disaggregations = set(Disaggregation.objects.values_list("code", flat=True))

    component_codes = set()
    for path, item in c.items(data, "components"):
        code = c.code(item, "code", path, SLUG_RE)
        component_codes.add(code)
        plan["components"].append(
            {"code": code, "name": c.text(item, "name", path, max_length=400)}
        )

    indicator_codes = {}
    for path, item in c.items(data, "indicators"):
        code = c.code(item, "code", path)
        if code in indicator_codes:
            c.error(f"{path}.code", f"chỉ tiêu “{code}” bị khai báo hai lần.")
        component = c.reference(item, "component", path, required=False)
        if component and component not in component_codes:
            c.error(f"{path}.component", f"không có nội dung “{component}” trong mục components.")
        disaggregation = c.reference(item, "disaggregation", path, required=False)
        if (
            disaggregation
            and disaggregation not in options_by_disaggregation
            and disaggregation not in existing_disaggregations
        ):
            c.error(f"{path}.disaggregation", f"không có phân tổ “{disaggregation}”.")
        decimals = item.get("decimals", 0)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            c.error(f"{path}.decimals", f"“{decimals}” phải là số nguyên từ 0 đến 6.")
            decimals = 0
        formula = c.text(item, "formula", path, required=False, max_length=400)
        references = set()
        if formula:
            try:
                references = expressions.references(expressions.parse(formula))
            except expressions.ExpressionError as exc:
                c.error(f"{path}.formula", f"công thức “{formula}” sai: {exc}")
        low, high = (
            c.number(item, "min", path, required=False),
            c.number(item, "max", path, required=False),
        )
        if low is not None and high is not None and low > high:
            c.error(f"{path}.max", "giá trị lớn nhất nhỏ hơn giá trị nhỏ nhất.")
        indicator = {
            "code": code,
            "name": c.text(item, "name", path, max_length=400),
            "short_name": c.text(item, "short_name", path, required=False, max_length=160),
            "component": component,
            "measure_unit": c.text(item, "measure_unit", path, max_length=40),
            "value_type": c.choice(item, "value_type", path, ValueType, ValueType.NUMBER.value),
            "aggregation": c.choice(item, "aggregation", path, Aggregation, Aggregation.SUM.value),
            "decimals": decimals,
            "disaggregation": disaggregation,
            "formula": formula,
            "min_value": low,
            "max_value": high,
            "description": c.text(item, "description", path, required=False),
            "_path": path,
            "_references": references,
        }
        indicator_codes[code] = indicator
        plan["indicators"].append(indicator)

    known = set(indicator_codes) | set(Indicator.objects.values_list("code", flat=True))
    for indicator in plan["indicators"]:
        missing = indicator["_references"] - known
        if missing:
            c.error(
                f"{indicator['_path']}.formula",
                f"công thức dùng chỉ tiêu không có: {', '.join(sorted(missing))}.",
            )
    _check_cycles(c, indicator_codes)

    for path, item in c.items(data, "targets"):
        code = c.reference(item, "indicator", path)
        if code and code not in known:
            c.error(f"{path}.indicator", f"không có chỉ tiêu “{code}”.")
        period_id = c.period(item, "period", path)
        on = Period.parse(period_id).end if period_id else None
        plan["targets"].append(
            {
                "indicator": code,
                "period": period_id,
                "unit": c.unit(item, "unit", path, on, agencies=agencies),
                "value": c.number(item, "value", path),
                "document": c.text(item, "document", path, required=False),
            }
        )
        doc = plan["targets"][-1]["document"]
        if doc and doc not in doc_numbers and not LegalDocument.objects.filter(number=doc).exists():
            c.error(f"{path}.document", f"không có văn bản “{doc}”.")

    plan["sections"] = {}
    for key, section in _SECTIONS.items():
        if key in data:
            items = c.items(data, key)
            plan["sections"][key] = section.check(items, c, plan)

    if c.problems:
        raise PackageError(c.problems)
    return plan


def _check_cycles(c: _Checker, indicators: dict) -> None:
    state: dict[str, int] = {}

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2 or code not in indicators:
            return
        if state.get(code) == 1:
            c.error(
                f"{indicators[code]['_path']}.formula",
                f"công thức vòng tròn: {' → '.join([*trail, code])}.",
            )
            return
        state[code] = 1
        for ref in indicators[code]["_references"]:
            visit(ref, [*trail, code])
        state[code] = 2

    for code in indicators:
        visit(code, [])


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
    p = plan["programme"]
    programme = upsert(
        report,
        "chương trình",
        Programme,
        {"code": p["code"]},
        {
            "name": p["name"],
            "short_name": p["short_name"],
            "issuer": p["issuer"],
            "period": p["period"],
            "description": p["description"],
            "owner": p["owner"],
        },
    )
    documents = {}
    for d in plan["documents"]:
        documents[d["number"]] = upsert(
            report,
            "văn bản",
            LegalDocument,
            {"number": d["number"]},
            {k: d[k] for k in ("kind", "issued_on", "issuer", "summary")},
        )
    programme.documents.add(*documents.values())

    agencies = {}
    for a in plan["agencies"]:
        parent = a["parent"]
        lookup = {
            "code": a["code"],
            "kind": UnitKind.AGENCY,
            "level": min(parent.level + 1, Level.COMMUNE),
            "valid_from": a["valid_from"],
        }
        agency = Unit.objects.filter(**lookup).first()
        values = {
            "name": a["name"],
            "parent": parent,
            "valid_to": a["valid_to"],
            "source": "metadata",
        }
        if agency is None:
            agency = Unit(**lookup, **values)
            agency.save()
            report.count("created", "cơ quan")
        elif any(getattr(agency, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(agency, k, v)
            agency.save()
            report.count("updated", "cơ quan")
        else:
            report.count("unchanged", "cơ quan")
        agencies[a["code"]] = agency

    disaggregations = {}
    for d in plan["disaggregations"]:
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

    components = {}
    for order, comp in enumerate(plan["components"]):
        components[comp["code"]] = upsert(
            report,
            "nội dung",
            Component,
            {"programme": programme, "code": comp["code"]},
            {"name": comp["name"], "order": order},
        )
    indicators = {}
    for order, i in enumerate(plan["indicators"]):
        disaggregation = None
        if i["disaggregation"]:
            disaggregation = disaggregations.get(i["disaggregation"]) or Disaggregation.objects.get(
                code=i["disaggregation"]
            )
        indicators[i["code"]] = upsert(
            report,
            "chỉ tiêu",
            Indicator,
            {"code": i["code"]},
            {
                "programme": programme,
                "name": i["name"],
                "short_name": i["short_name"],
                "component": components.get(i["component"]),
                "measure_unit": i["measure_unit"],
                "value_type": i["value_type"],
                "aggregation": i["aggregation"],
                "decimals": i["decimals"],
                "disaggregation": disaggregation,
                "formula": i["formula"],
                "min_value": i["min_value"],
                "max_value": i["max_value"],
                "description": i["description"],
                "order": order,
            },
        )
    for t in plan["targets"]:
        indicator = indicators.get(t["indicator"]) or Indicator.objects.get(code=t["indicator"])
        unit = t["unit"]
        if isinstance(unit, dict):
            unit = agencies[unit["code"]]
        document = documents.get(t["document"]) or (
            LegalDocument.objects.filter(number=t["document"]).first() if t["document"] else None
        )
        upsert(
            report,
            "kế hoạch",
            Target,
            {"indicator": indicator, "unit": unit, "period": t["period"]},
            {"value": t["value"], "document": document},
        )
    saved = {
        "programme": programme,
        "indicators": indicators,
        "agencies": agencies,
        "documents": documents,
    }
    for key, checked in plan.get("sections", {}).items():
        _SECTIONS[key].apply(checked, saved, report)
