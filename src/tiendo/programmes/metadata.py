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
from django.db import transaction

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


def read_package(path: Path | str) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PackageError([f"{path}: không tìm thấy tệp."]) from exc
    except UnicodeDecodeError as exc:
        raise PackageError([f"{path}: tệp không phải UTF-8 ({exc.reason})."]) from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" dòng {mark.line + 1}, cột {mark.column + 1}" if mark else ""
        raise PackageError(
            [f"{path}:{where}: lỗi cú pháp YAML: {getattr(exc, 'problem', exc)}."]
        ) from exc
    except json.JSONDecodeError as exc:
        raise PackageError([f"{path}: dòng {exc.lineno}: lỗi cú pháp JSON: {exc.msg}."]) from exc
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
        if value and not pattern.match(value):
            hint = (
                "chữ in hoa, số và dấu gạch dưới, bắt đầu bằng chữ"
                if pattern is CODE_RE
                else "chữ, số, dấu chấm, gạch ngang"
            )
            self.error(f"{path}.{key}", f"mã “{value}” không hợp lệ ({hint}).")
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
        if isinstance(value, bool):
            self.error(f"{path}.{key}", f"“{value}” không phải là số.")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.error(f"{path}.{key}", f"“{value}” không phải là số.")
            return None
        if not number.is_finite():
            self.error(f"{path}.{key}", f"“{value}” không phải là số.")
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
        code = self.text(data, key, path, required=required)
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
        component = c.text(item, "component", path, required=False)
        if component and component not in component_codes:
            c.error(f"{path}.component", f"không có nội dung “{component}” trong mục components.")
        disaggregation = c.text(item, "disaggregation", path, required=False)
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
        code = c.text(item, "indicator", path)
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
