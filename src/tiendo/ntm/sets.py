"""Criteria sets as metadata packages: the ``criteria_sets:`` section, and which set applies.

A set (bộ tiêu chí) ships as a plain YAML package (``tiendo/ntm/packages/*.yaml``) loaded
like any other with ``tiendo metadata load FILE --system``: the package's ``programme:`` is
the set's own programme (its figures are indicators of it), its ``documents:`` the legal
texts. The section is checked whole before anything is written, every problem named by its
key path (``criteria_sets[0].criteria[3].indicators[1].thresholds[0].applies_to``), in
Vietnamese; loading the same file twice changes nothing. Shape (``docs/ntm-criteria.md``)::

    criteria_sets:
      - code: XA-2021-2025            # ASCII: capitals, digits, "-"
        name: …
        level: commune                # commune | district
        tier: standard                # standard | advanced | model
        base: XA-2021-2025?           # the set a unit must already meet (same level)
        valid_from: 2022-03-08
        valid_to: 2025-06-30?
        decisions: 318/QĐ-TTg; 211/QĐ-TTg
        threshold_basis: region       # none | region | group
        classes: {MN: Trung du và miền núi phía Bắc, …}
        bands: [{label: 19 tiêu chí, min: 19, max: 19}, …]   # highest first, 0..n covered
        notes: …?
        criteria:
          - number: 1
            name: Quy hoạch
            group: Quy hoạch?
            indicators:
              - code: "1.1"
                name: …
                unit: "%"?
                comparison: gte       # gte | lte | met
                thresholds: [{applies_to: MN?, value: 70?, text: …?, to_confirm: true?,
                              source: …?}]

A reload never removes a criterion or an indicator that has assessment results (or an
agency's assignment): it is refused, named. One without is removed, and the difference
says so on the set's line.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_date
from tiendo.ntm import services
from tiendo.ntm.models import (
    Assessment,
    Comparison,
    CriteriaSet,
    Criterion,
    CriterionIndicator,
    SetTier,
    Threshold,
    ThresholdBasis,
)
from tiendo.programmes.metadata import PackageError, PackageProblem, load_package, upsert
from tiendo.units.models import Level, Unit

SET_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
CLASS_RE = re.compile(r"^[A-Z0-9][A-Z0-9_]*$")
INDICATOR_CODE_RE = re.compile(r"^[0-9]+(\.[0-9]+)*[a-z]?$")

MAX_SETS = 20  # one package: a set and its advanced / model sets, at most a few
MAX_CRITERIA = 60
MAX_INDICATORS = 60  # of one criterion
MAX_THRESHOLDS = 20  # of one indicator: one per region or group
MAX_CLASSES = 20
MAX_BANDS = 20
MAX_THRESHOLD = Decimal(10) ** 10  # Threshold.value: 14 digits, 4 decimals
THRESHOLD_PLACES = 4

LEVELS = {"commune": Level.COMMUNE, "district": Level.DISTRICT}
LEVEL_KEYS = {value: key for key, value in LEVELS.items()}

# what the difference calls each row
KIND_SET = "bộ tiêu chí"
KIND_CRITERION = "tiêu chí"
KIND_INDICATOR = "chỉ tiêu của tiêu chí"
KIND_THRESHOLD = "ngưỡng đạt"

PACKAGES_DIR = Path(__file__).resolve().parent / "packages"


def default_bands(total: int) -> list[dict]:
    """The bands of a 19-criteria set as provincial reports give them: 19; 15–18; 10–14;
    5–9; under 5."""
    if total != 19:
        return []
    return [
        {"label": "19 tiêu chí", "min": 19, "max": 19},
        {"label": "Từ 15 đến 18 tiêu chí", "min": 15, "max": 18},
        {"label": "Từ 10 đến 14 tiêu chí", "min": 10, "max": 14},
        {"label": "Từ 5 đến 9 tiêu chí", "min": 5, "max": 9},
        {"label": "Dưới 5 tiêu chí", "min": 0, "max": 4},
    ]


# --- checking: nothing written ---


def check_section(items, checker, plan) -> list[dict]:
    """Check the ``criteria_sets:`` items of a package (see ``programmes.metadata``)."""
    c = checker
    programme_code = (plan.get("programme") or {}).get("code")
    loaded = {
        cs.code: cs
        for cs in CriteriaSet.objects.select_related("programme").only(
            "code", "level", "programme__code", "classes"
        )
    }
    if len(items) > MAX_SETS:
        c.error(
            "criteria_sets",
            _("tối đa %(limit)s bộ tiêu chí trong một gói."),
            code="package.too_many",
            limit=MAX_SETS,
        )
        items = items[:MAX_SETS]
    checked, seen = [], {}
    for path, item in items:
        cs = _check_set(c, path, item, loaded, seen, programme_code)
        seen[cs["code"]] = cs
        checked.append(cs)
    return checked


def _set_code(c, path: str, item: dict, key: str, *, required=True) -> str:
    value = c.reference(item, key, path, required=required)
    if value and not SET_CODE_RE.fullmatch(value):
        c.error(
            f"{path}.{key}",
            _(
                "mã bộ tiêu chí “%(value)s” không hợp lệ: chữ in hoa không dấu, chữ số, các "
                "phần nối bằng dấu gạch ngang (như XA-2021-2025)."
            ),
            code="package.bad_code",
            value=value,
        )
        return ""
    if len(value) > 40:
        c.error(f"{path}.{key}", _("dài quá %(limit)s ký tự."), code="package.too_long", limit=40)
        return ""
    return value


def _check_set(c, path, item, loaded, seen, programme_code) -> dict:
    code = _set_code(c, path, item, "code")
    if code:
        if code in seen:
            c.error(
                f"{path}.code",
                _("bộ tiêu chí “%(value)s” bị khai báo hai lần."),
                code="package.duplicate",
                value=code,
            )
        before = loaded.get(code)
        owner = before.programme.code if before is not None and before.programme else None
        if owner and owner != programme_code:
            c.error(
                f"{path}.code",
                _(
                    "bộ tiêu chí “%(value)s” đã thuộc chương trình “%(owner)s”: gói của "
                    "chương trình khác không được sửa nó."
                ),
                code="package.set_of_other_programme",
                value=code,
                owner=owner,
            )
    level = c.choice(item, "level", path, list(LEVELS), "commune")
    basis = c.choice(item, "threshold_basis", path, ThresholdBasis, ThresholdBasis.NONE.value)
    classes = _check_classes(c, path, item, basis)
    valid_from = c.day(item, "valid_from", path)
    valid_to = c.day(item, "valid_to", path, required=False)
    if valid_from and valid_to and valid_to < valid_from:
        c.error(
            f"{path}.valid_to",
            _("ngày hết áp dụng (%(to)s) trước ngày bắt đầu áp dụng (%(start)s)."),
            code="package.bad_validity",
            to=format_date(valid_to),
            start=format_date(valid_from),
        )
    base = _check_base(c, path, item, code, LEVELS[level], loaded, seen)
    criteria = _check_criteria(c, path, item, classes)
    total = len(criteria)
    bands = _check_bands(c, path, item, total)
    checked = {
        "code": code,
        "name": c.text(item, "name", path, max_length=300),
        "level": LEVELS[level],
        "tier": c.choice(item, "tier", path, SetTier, SetTier.STANDARD.value),
        "base": base,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "decisions": c.text(item, "decisions", path, max_length=300),
        "threshold_basis": basis,
        "classes": classes,
        "bands": bands,
        "notes": c.text(item, "notes", path, required=False, max_length=5000),
        "criteria": criteria,
        "_path": path,
    }
    before = loaded.get(code)
    if before is not None:
        _check_removals(c, path, before, checked)
    return checked


def _check_classes(c, path: str, item: dict, basis: str) -> dict:
    raw = item.get("classes")
    key = f"{path}.classes"
    if raw is None or raw == {}:
        if basis != ThresholdBasis.NONE:
            c.error(
                key,
                _(
                    "ngưỡng khác nhau theo %(basis)s nhưng chưa khai báo các vùng / nhóm xã "
                    "(classes: {MÃ: tên})."
                ),
                code="package.missing",
                basis=basis,
            )
        return {}
    if not isinstance(raw, dict):
        c.error(key, _("phải là một bảng khóa: mã → tên."), code="package.not_mapping")
        return {}
    if basis == ThresholdBasis.NONE:
        c.error(
            key,
            _(
                "threshold_basis là none (như nhau cho mọi xã): không khai báo vùng / nhóm "
                "xã; hoặc đặt threshold_basis là region hay group."
            ),
            code="package.classes_without_basis",
        )
        return {}
    if len(raw) > MAX_CLASSES:
        c.error(
            key,
            _("tối đa %(limit)s vùng / nhóm xã."),
            code="package.too_many",
            limit=MAX_CLASSES,
        )
        return {}
    classes = {}
    for name, label in raw.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or not name.isascii() or not CLASS_RE.fullmatch(name):
            c.error(
                where,
                _(
                    "mã vùng / nhóm “%(value)s” không hợp lệ: chữ in hoa không dấu, chữ số và "
                    "dấu gạch dưới (như MN, NHOM_1)."
                ),
                code="package.bad_code",
                value=str(name),
            )
            continue
        if len(name) > 20:
            c.error(where, _("dài quá %(limit)s ký tự."), code="package.too_long", limit=20)
            continue
        text = c.text({name: label}, name, key, max_length=200)
        if text:
            classes[name] = text
    return classes


def _check_base(c, path, item, code, level, loaded, seen) -> str:
    base = _set_code(c, path, item, "base", required=False)
    if not base:
        return ""
    key = f"{path}.base"
    if base == code:
        c.error(key, _("bộ tiêu chí không làm nền cho chính nó."), code="package.bad_base")
        return ""
    found = seen.get(base) or loaded.get(base)
    if found is None:
        c.error(
            key,
            _(
                "không có bộ tiêu chí “%(value)s” (khai báo nó trước, trong gói này hoặc một "
                "gói đã nạp)."
            ),
            code="package.unknown_set",
            value=base,
        )
        return ""
    base_level = found["level"] if isinstance(found, dict) else found.level
    if base_level != level:
        c.error(
            key,
            _("bộ tiêu chí nền “%(value)s” dùng cho cấp khác."),
            code="package.bad_base",
            value=base,
        )
        return ""
    return base


def _check_bands(c, path: str, item: dict, total: int) -> list[dict]:
    key = f"{path}.bands"
    if "bands" not in item or item.get("bands") is None:
        bands = default_bands(total)
        if not bands and total:
            c.error(
                key,
                _(
                    "thiếu các nhóm theo số tiêu chí đạt (bands): chỉ bộ 19 tiêu chí có nhóm "
                    "mặc định."
                ),
                code="package.missing",
            )
        return bands
    items = c.items(item, "bands")
    if not items:
        c.error(key, _("cần ít nhất một nhóm."), code="package.missing")
        return []
    if len(items) > MAX_BANDS:
        c.error(key, _("tối đa %(limit)s nhóm."), code="package.too_many", limit=MAX_BANDS)
        return []
    bands, ok = [], True
    for band_path, band in items:
        where = f"{path}.{band_path}"
        label = c.text(band, "label", where, max_length=100)
        if "min" not in band or "max" not in band:
            c.error(
                where,
                _("mỗi nhóm cần cả min và max (số tiêu chí đạt, tính cả hai đầu)."),
                code="package.missing",
            )
            ok = False
            continue
        problems = len(c.problems)
        low = c.whole(band, "min", where, 0, 0, MAX_CRITERIA)
        high = c.whole(band, "max", where, 0, 0, MAX_CRITERIA)
        if len(c.problems) > problems:
            ok = False
            continue
        if low > high:
            c.error(
                f"{where}.max",
                _("max (%(high)s) nhỏ hơn min (%(low)s)."),
                code="package.bad_range",
                high=high,
                low=low,
            )
            ok = False
            continue
        if high > total:
            c.error(
                f"{where}.max",
                _("max (%(high)s) lớn hơn số tiêu chí của bộ (%(total)s)."),
                code="package.bad_range",
                high=high,
                total=total,
            )
            ok = False
        bands.append({"label": label, "min": low, "max": high, "_path": where})
    if ok:
        _check_band_cover(c, key, bands, total)
    return [{k: v for k, v in band.items() if k != "_path"} for band in bands]


def _check_band_cover(c, key: str, bands: list[dict], total: int) -> None:
    """Highest first, no overlap, no gap, from ``total`` down to 0."""
    expected = total
    for band in bands:
        if band["max"] > expected:
            c.error(
                band["_path"],
                _(
                    "nhóm “%(label)s” (%(low)s–%(high)s) chồng lên nhóm trước; các nhóm xếp từ "
                    "cao xuống thấp, không chồng nhau."
                ),
                code="package.bands_overlap",
                label=band["label"],
                low=band["min"],
                high=band["max"],
            )
            return
        if band["max"] < expected:
            c.error(
                band["_path"],
                _(
                    "không nhóm nào chứa %(missing)s tiêu chí đạt (các nhóm phải phủ từ 0 đến %(total)s)."
                ),
                code="package.bands_gap",
                missing=expected
                if band["max"] == expected - 1
                else f"{band['max'] + 1}–{expected}",
                total=total,
            )
            return
        expected = band["min"] - 1
    if expected >= 0:
        c.error(
            key,
            _(
                "không nhóm nào chứa %(missing)s tiêu chí đạt (các nhóm phải phủ từ 0 đến %(total)s)."
            ),
            code="package.bands_gap",
            missing=f"0–{expected}" if expected else "0",
            total=total,
        )


def _check_criteria(c, path: str, item: dict, classes: dict) -> list[dict]:
    key = f"{path}.criteria"
    items = c.items(item, "criteria")
    if not items:
        c.error(key, _("bộ tiêu chí cần ít nhất một tiêu chí."), code="package.missing")
        return []
    if len(items) > MAX_CRITERIA:
        c.error(key, _("tối đa %(limit)s tiêu chí."), code="package.too_many", limit=MAX_CRITERIA)
        items = items[:MAX_CRITERIA]
    criteria, codes = [], {}
    for position, (crit_path, crit) in enumerate(items, start=1):
        where = f"{path}.{crit_path}"
        number = 0
        if "number" not in crit:
            c.error(where, _("thiếu số thứ tự tiêu chí (number)."), code="package.missing")
        else:
            number = c.whole(crit, "number", where, 0, 1, MAX_CRITERIA)
        if number and number != position:
            c.error(
                f"{where}.number",
                _(
                    "tiêu chí số %(value)s ở vị trí thứ %(position)s: các tiêu chí đánh số liên "
                    "tiếp từ 1, không trùng, không bỏ số."
                ),
                code="package.criteria_not_consecutive",
                value=number,
                position=position,
            )
        criteria.append(
            {
                "number": number,
                "name": c.text(crit, "name", where, max_length=200),
                "group": c.text(crit, "group", where, required=False, max_length=200),
                "indicators": _check_indicators(c, where, crit, number, classes, codes),
                "_path": where,
            }
        )
    return criteria


def _check_indicators(c, path, crit, number, classes, codes) -> list[dict]:
    items = c.items(crit, "indicators")
    if len(items) > MAX_INDICATORS:
        c.error(
            f"{path}.indicators",
            _("tối đa %(limit)s chỉ tiêu trong một tiêu chí."),
            code="package.too_many",
            limit=MAX_INDICATORS,
        )
        items = items[:MAX_INDICATORS]
    indicators = []
    for ind_path, ind in items:
        where = f"{path}.{ind_path}"
        code = c.reference(ind, "code", where, required=True)
        if code and (len(code) > 20 or not INDICATOR_CODE_RE.fullmatch(code)):
            c.error(
                f"{where}.code",
                _("mã chỉ tiêu “%(value)s” không hợp lệ: số thứ tự như 2.1 hay 17.8."),
                code="package.bad_code",
                value=code,
            )
            code = ""
        if code and number and code.split(".")[0] != str(number):
            c.error(
                f"{where}.code",
                _(
                    "chỉ tiêu “%(value)s” nằm trong tiêu chí %(number)s: mã phải bắt đầu bằng “%(number)s.”."
                ),
                code="package.indicator_outside_criterion",
                value=code,
                number=number,
            )
        if code in codes:
            c.error(
                f"{where}.code",
                _("chỉ tiêu “%(value)s” bị khai báo hai lần (lần đầu ở %(first)s)."),
                code="package.duplicate",
                value=code,
                first=codes[code],
            )
        elif code:
            codes[code] = where
        comparison = c.choice(ind, "comparison", where, Comparison, Comparison.MET.value)
        indicators.append(
            {
                "code": code,
                "name": c.text(ind, "name", where, max_length=500),
                "unit_label": c.text(ind, "unit", where, required=False, max_length=40),
                "comparison": comparison,
                "thresholds": _check_thresholds(c, where, ind, comparison, classes),
                "_path": where,
            }
        )
    return indicators


def _check_thresholds(c, path, ind, comparison, classes) -> list[dict]:
    items = c.items(ind, "thresholds")
    if len(items) > MAX_THRESHOLDS:
        c.error(
            f"{path}.thresholds",
            _("tối đa %(limit)s ngưỡng cho một chỉ tiêu."),
            code="package.too_many",
            limit=MAX_THRESHOLDS,
        )
        items = items[:MAX_THRESHOLDS]
    thresholds, seen = [], set()
    for th_path, th in items:
        where = f"{path}.{th_path}"
        applies_to = c.reference(th, "applies_to", where, required=False)
        if applies_to and applies_to not in classes:
            c.error(
                f"{where}.applies_to",
                _("không có vùng / nhóm xã “%(value)s” trong classes của bộ; có: %(allowed)s."),
                code="package.unknown_class",
                value=applies_to,
                allowed=", ".join(classes) or _("(không có)"),
            )
        if applies_to in seen:
            c.error(
                f"{where}.applies_to",
                _("chỉ tiêu đã có ngưỡng cho “%(value)s”."),
                code="package.duplicate",
                value=applies_to or _("mọi xã"),
            )
        seen.add(applies_to)
        value = _threshold_value(c, where, th, comparison)
        to_confirm = th.get("to_confirm", False)
        if not isinstance(to_confirm, bool):
            c.error(
                f"{where}.to_confirm",
                _("phải là true hoặc false."),
                code="package.not_boolean",
            )
            to_confirm = True
        source = c.text(th, "source", where, required=False, max_length=300)
        if not source and not to_confirm:
            c.error(
                where,
                _(
                    "ngưỡng chưa ghi nguồn: ghi văn bản đã đối chiếu (source) hoặc đánh dấu "
                    "to_confirm: true (cần xác minh)."
                ),
                code="package.threshold_unsourced",
            )
        thresholds.append(
            {
                "applies_to": applies_to,
                "value": value,
                "text": c.text(th, "text", where, required=False, max_length=300),
                "to_confirm": to_confirm,
                "source": source,
            }
        )
    if comparison != Comparison.MET:
        _check_threshold_cover(c, path, thresholds, classes)
    return thresholds


def _threshold_value(c, where: str, th: dict, comparison: str) -> Decimal | None:
    value = c.number(th, "value", where, required=False)
    if value is None:
        return None
    if comparison == Comparison.MET:
        c.error(
            f"{where}.value",
            _(
                "chỉ tiêu đạt / không đạt (comparison: met) không có ngưỡng số; ghi điều "
                "kiện vào text, hoặc đặt comparison là gte hay lte."
            ),
            code="package.value_for_met",
        )
        return None
    exponent = value.normalize().as_tuple().exponent
    if abs(value) >= MAX_THRESHOLD or (isinstance(exponent, int) and exponent < -THRESHOLD_PLACES):
        c.error(
            f"{where}.value",
            _(
                "ngưỡng “%(value)s” ngoài giới hạn: trị tuyệt đối dưới 10.000.000.000, tối đa "
                "%(places)s chữ số thập phân."
            ),
            code="package.not_storable",
            value=str(value),
            places=THRESHOLD_PLACES,
        )
        return None
    return value


def _check_threshold_cover(c, path: str, thresholds: list[dict], classes: dict) -> None:
    """A ≥ or ≤ indicator needs a number for every region / group, or one for all."""
    numeric = {t["applies_to"] for t in thresholds if t["value"] is not None}
    if "" in numeric:
        return
    missing = [key for key in classes if key not in numeric]
    if not classes or missing:
        c.error(
            f"{path}.thresholds",
            _(
                "chỉ tiêu so sánh ≥ / ≤ cần ngưỡng số (value) cho mọi xã, hoặc cho từng vùng / "
                "nhóm; còn thiếu: %(missing)s."
            ),
            code="package.threshold_missing",
            missing=", ".join(missing) if classes and missing else _("mọi xã"),
        )


def _check_removals(c, path: str, before: CriteriaSet, checked: dict) -> None:
    """What a reload would take out of a loaded set must not have results behind it."""
    if checked["level"] != before.level and Assessment.objects.filter(criteria_set=before).exists():
        c.error(
            f"{path}.level",
            _("bộ tiêu chí “%(set)s” đã có kết quả đánh giá: không đổi cấp áp dụng được."),
            code="package.set_in_use",
            set=before.code,
        )
    numbers = {crit["number"] for crit in checked["criteria"]}
    kept_codes = {
        (crit["number"], ind["code"]) for crit in checked["criteria"] for ind in crit["indicators"]
    }
    for criterion in Criterion.objects.filter(criteria_set=before).exclude(number__in=numbers):
        if criterion.results.exists() or criterion.assignments.exists():
            c.error(
                f"{path}.criteria",
                _(
                    "tiêu chí %(number)s “%(name)s” của bộ “%(set)s” đã có kết quả đánh giá "
                    "hoặc phân công: gói không được bỏ nó."
                ),
                code="package.criterion_in_use",
                number=criterion.number,
                name=criterion.name,
                set=before.code,
            )
    indicators = CriterionIndicator.objects.filter(criterion__criteria_set=before).select_related(
        "criterion"
    )
    for indicator in indicators:
        if (indicator.criterion.number, indicator.code) in kept_codes:
            continue
        if indicator.results.exists() or indicator.assignments.exists():
            c.error(
                f"{path}.criteria",
                _(
                    "chỉ tiêu %(indicator)s “%(name)s” của bộ “%(set)s” đã có kết quả đánh giá "
                    "hoặc phân công: gói không được bỏ nó."
                ),
                code="package.indicator_in_use",
                indicator=indicator.code,
                name=indicator.name,
                set=before.code,
            )
    used = set(
        Assessment.objects.filter(criteria_set=before)
        .exclude(applies_to="")
        .values_list("applies_to", flat=True)
        .distinct()
    )
    for key in sorted(used - set(checked["classes"])):
        c.error(
            f"{path}.classes",
            _(
                "vùng / nhóm xã “%(value)s” đã dùng trong kết quả đánh giá của bộ “%(set)s”: "
                "gói không được bỏ nó."
            ),
            code="package.class_in_use",
            value=key,
            set=before.code,
        )


# --- writing, inside the package's transaction ---

SET_FIELDS = (
    "name",
    "level",
    "tier",
    "valid_from",
    "valid_to",
    "decisions",
    "threshold_basis",
    "classes",
    "bands",
    "notes",
)


def apply_section(checked: list[dict], saved: dict, report) -> None:
    """Write each set, its criteria, indicators and thresholds; then tell the hooks
    (:func:`tiendo.ntm.services.set_loaded`)."""
    programme = saved["programme"]
    for item in checked:
        base = CriteriaSet.objects.get(code=item["base"]) if item["base"] else None
        values = {k: item[k] for k in SET_FIELDS}
        values.update(
            base=base,
            programme=programme,
            package=programme.package,
            package_version=programme.version,
        )
        cs = upsert(report, KIND_SET, CriteriaSet, {"code": item["code"]}, values)
        _apply_criteria(cs, item["criteria"], report)
        services.set_loaded(cs)


def _apply_criteria(cs: CriteriaSet, criteria: list[dict], report) -> None:
    """The set's criteria, indicators and thresholds as the package has them, in a few
    queries whatever their number (a 19-criteria set has some 500 rows)."""
    old_numbers = sorted(cs.criteria.values_list("number", flat=True))
    old_codes = _indicator_codes(cs)
    saved = _write_rows(
        report,
        KIND_CRITERION,
        Criterion,
        {c.number: c for c in cs.criteria.all()},
        [
            (
                crit["number"],
                {"criteria_set": cs, "number": crit["number"]},
                {"name": crit["name"], "group": crit["group"]},
            )
            for crit in criteria
        ],
    )
    indicators = _write_rows(
        report,
        KIND_INDICATOR,
        CriterionIndicator,
        {
            (i.criterion_id, i.code): i
            for i in CriterionIndicator.objects.filter(criterion__criteria_set=cs)
        },
        [
            (
                (saved[crit["number"]].pk, ind["code"]),
                {"criterion": saved[crit["number"]], "code": ind["code"]},
                {
                    "name": ind["name"],
                    "unit_label": ind["unit_label"],
                    "comparison": ind["comparison"],
                    "order": order,
                },
            )
            for crit in criteria
            for order, ind in enumerate(crit["indicators"])
        ],
    )
    _apply_thresholds(cs, criteria, saved, indicators, report)
    kept = {i.pk for i in indicators.values()}
    gone = CriterionIndicator.objects.filter(criterion__criteria_set=cs).exclude(pk__in=kept)
    _delete(gone, cs)  # checked: none has results
    _delete(cs.criteria.exclude(pk__in=[c.pk for c in saved.values()]), cs)
    new_numbers = sorted(c["number"] for c in criteria)
    new_codes = _indicator_codes(cs)
    fields = []
    if old_numbers and old_numbers != new_numbers:
        fields.append((KIND_CRITERION, _numbers(old_numbers), _numbers(new_numbers)))
    removed = [code for code in old_codes if code not in new_codes]
    if removed:
        fields.append((str(_("bỏ chỉ tiêu")), ", ".join(removed), "—"))
    if fields:
        report.changed(KIND_SET, cs, {"code": cs.code}, fields)


def _write_rows(report, kind: str, model, existing: dict, wanted: list) -> dict:
    """Each ``(key, lookup, values)`` of ``wanted`` written: a row ``existing[key]`` with
    the same values only counted, a changed one through :func:`upsert` (which records each
    field's old and new value), the new ones created together; the rows by key."""
    rows, new = {}, []
    for key, lookup, values in wanted:
        obj = existing.get(key)
        if obj is None:
            new.append((key, lookup, model(**lookup, **values)))
        elif any(getattr(obj, k) != v for k, v in values.items()):
            rows[key] = upsert(report, kind, model, lookup, values)
        else:
            report.count("unchanged", kind)
            rows[key] = obj
    model.objects.bulk_create([obj for _key, _lookup, obj in new])
    for key, lookup, obj in new:
        report.count("created", kind)
        report.added(kind, obj, lookup)
        rows[key] = obj
    return rows


def _delete(rows, cs: CriteriaSet) -> None:
    """Remove what the package left out; checked to have no results, but a result saved
    since the check refuses the whole load rather than fail half-way."""
    try:
        rows.delete()
    except ProtectedError:
        raise PackageError(
            [
                PackageProblem(
                    _(
                        "bộ tiêu chí “%(set)s” vừa có kết quả đánh giá mới cho tiêu chí hoặc "
                        "chỉ tiêu gói bỏ đi: chưa nạp gì, xin nạp lại."
                    ),
                    code="package.criterion_in_use",
                    key="criteria_sets",
                    set=cs.code,
                )
            ]
        ) from None


def _indicator_codes(cs: CriteriaSet) -> list[str]:
    return list(
        CriterionIndicator.objects.filter(criterion__criteria_set=cs)
        .order_by("criterion__number", "order", "code")
        .values_list("code", flat=True)
    )


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers) or "—"


def _apply_thresholds(cs, criteria: list[dict], saved: dict, indicators: dict, report) -> None:
    wanted = []
    for crit in criteria:
        for ind in crit["indicators"]:
            indicator = indicators[(saved[crit["number"]].pk, ind["code"])]
            for th in ind["thresholds"]:
                wanted.append(
                    (
                        (indicator.pk, th["applies_to"]),
                        {"indicator": indicator, "applies_to": th["applies_to"]},
                        {k: th[k] for k in ("value", "text", "to_confirm", "source")},
                    )
                )
    existing = {
        (t.indicator_id, t.applies_to): t
        for t in Threshold.objects.filter(indicator__criterion__criteria_set=cs)
    }
    _write_rows(report, KIND_THRESHOLD, Threshold, existing, wanted)
    keys = {key for key, _lookup, _values in wanted}
    by_pk = {i.pk: i for i in indicators.values()}
    gone: dict[int, list] = {}
    for key, threshold in existing.items():
        if key not in keys and key[0] in by_pk:  # a removed indicator takes its own
            gone.setdefault(key[0], []).append(threshold)
    for indicator_pk, thresholds in gone.items():
        indicator = by_pk[indicator_pk]
        Threshold.objects.filter(pk__in=[t.pk for t in thresholds]).delete()
        report.changed(
            KIND_INDICATOR,
            indicator,
            {"code": indicator.code},
            [
                (
                    str(_("bỏ ngưỡng")),
                    ", ".join(sorted(t.applies_to or "*" for t in thresholds)),
                    "—",
                )
            ],
        )


# --- which set applies ---


def applicable_sets(unit: Unit, year: int, tier: str | None = None) -> list[CriteriaSet]:
    """The sets a unit is assessed against in ``year``: of its level, in force during the
    year while the unit itself existed (a commune of the old tree, valid until 30/06/2025,
    against the 2016–2020 and 2021–2025 sets; a commune of the new tree, from 01/07/2025,
    against the 2026–2030 set from its start). Standard sets first, then advanced, model;
    ``tier`` keeps one of them."""
    if unit.is_agency or unit.level not in LEVEL_KEYS:
        return []
    start, end = date(year, 1, 1), date(year, 12, 31)
    lo = max(start, unit.valid_from) if unit.valid_from else start
    hi = min(end, unit.valid_to) if unit.valid_to else end
    if lo > hi:
        return []
    sets = CriteriaSet.objects.filter(level=unit.level, valid_from__lte=hi).exclude(valid_to__lt=lo)
    if tier:
        sets = sets.filter(tier=tier)
    order = {t.value: i for i, t in enumerate(SetTier)}
    return sorted(sets, key=lambda cs: (order.get(cs.tier, 9), cs.valid_from, cs.code))


# --- the shipped sets ---


def shipped_packages() -> list[Path]:
    """The packages of the sets this app ships, base sets before the sets built on them."""
    return sorted(PACKAGES_DIR.glob("*.yaml"), key=_ship_order)


def _ship_order(path: Path) -> tuple:
    name = path.stem
    tier = 2 if "-km-" in name else 1 if "-nc-" in name else 0
    return (tier, name)


def load_shipped(stdout=None, *, dry_run: bool = False) -> list:
    """Load every shipped set (the installation's own packages: no user, ``--system``), in
    one transaction; the reports, one per package. ``stdout`` (a stream) gets a line each."""
    reports = []
    with transaction.atomic():
        for path in shipped_packages():
            report = load_package(path, dry_run=dry_run, actor=None)
            reports.append(report)
            if stdout is not None:
                stdout.write(f"{path.name}: {report.summary()}\n")
    return reports
