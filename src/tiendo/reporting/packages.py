"""The ``forms:`` section of a metadata package: programmes ship their forms in YAML.

forms:
  - code: NTM_LMHTX_NAM
    name: Biểu kết quả thực hiện vốn sự nghiệp
    unit_kinds: [agency]
    period_type: year
    opens_days_before_end: 60
    closes_days_after_end: 15
    indicators:
      - NTM_RECURRENT_ALLOCATED
      - {code: NTM_RECURRENT_DISBURSED, period: as_of, categories: [TRAINING]}
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tiendo.programmes.metadata import known_indicators
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import PeriodType
from tiendo.reporting.models import Form, FormIndicator, PeriodRule
from tiendo.units.models import UnitKind

DAY_LIMITS = (("opens_days_before_end", 30), ("closes_days_after_end", 15))


def check_forms(items, c, plan) -> list[dict]:
    """Check the ``forms:`` items of a package (see ``programmes.metadata``)."""
    known = known_indicators(plan)
    programme_code = (plan.get("programme") or {}).get("code")
    owners = dict(Form.objects.values_list("code", "programme__code"))
    checked, seen = [], set()
    for path, item in items:
        code = c.code(item, "code", path)
        if code:
            c.once(seen, code, f"{path}.code", _("biểu “%(value)s” bị khai báo hai lần."))
        if code in owners and owners[code] != programme_code:
            c.error(
                f"{path}.code",
                _("biểu “%(value)s” đã thuộc chương trình “%(owner)s”."),
                code="package.form_of_other_programme",
                value=code,
                owner=owners[code],
            )
        checked.append(
            {
                "code": code,
                "name": c.text(item, "name", path, max_length=300),
                "description": c.text(item, "description", path, required=False),
                "unit_kinds": _check_unit_kinds(c, item, path),
                "period_type": c.choice(
                    item, "period_type", path, PeriodType, PeriodType.YEAR.value
                ),
                "lines": _check_lines(c, item, path, known),
                **{key: c.whole(item, key, path, default, 0, 3660) for key, default in DAY_LIMITS},
            }
        )
    return checked


def _check_unit_kinds(c, item, path) -> list[str]:
    kinds = c.codes(item, "unit_kinds", path)
    allowed = [k.value for k in UnitKind]
    for kind in kinds:
        if kind not in allowed:
            c.error(
                f"{path}.unit_kinds",
                _("loại đơn vị “%(value)s” không hợp lệ; chọn trong: %(allowed)s."),
                code="package.unknown_unit_kind",
                value=kind,
                allowed=", ".join(allowed),
            )
    return [kind for kind in kinds if kind in allowed]


def _check_lines(c, item, path, known) -> list[dict]:
    lines = []
    for line_path, raw in _indicator_items(c, item, path):
        line = _check_line(c, line_path, raw, known)
        if line is not None:
            lines.append(line)
    if not lines:
        c.error(
            f"{path}.indicators",
            _("biểu cần ít nhất một chỉ tiêu."),
            code="package.no_indicators",
        )
    return lines


def _check_line(c, line_path, raw, known) -> dict | None:
    code = c.reference(raw, "code", line_path)
    rule = c.choice(raw, "period", line_path, PeriodRule, PeriodRule.PERIOD.value)
    categories = c.codes(raw, "categories", line_path)
    if not code:
        return None
    indicator = c.indicator(f"{line_path}.code", code, known, entered=True)
    if indicator is None:
        return None
    for category in categories:
        c.category(f"{line_path}.categories", indicator, category)
    return {"code": code, "period_rule": rule, "categories": categories}


def _indicator_items(c, item, path):
    raw = item.get("indicators")
    if not isinstance(raw, list):
        c.error(
            f"{path}.indicators",
            _("phải là một danh sách chỉ tiêu."),
            code="package.not_list",
        )
        return []
    result = []
    for i, entry in enumerate(raw):
        line_path = f"{path}.indicators[{i}]"
        if isinstance(entry, str):
            entry = {"code": entry}
        elif not isinstance(entry, dict):
            c.error(
                line_path,
                _("phải là mã chỉ tiêu hoặc bảng {code, period?, categories?}."),
                code="package.bad_line",
            )
            continue
        result.append((line_path, entry))
    return result


def apply_forms(checked, saved, report) -> None:
    from tiendo.programmes.metadata import upsert

    programme = saved["programme"]
    for f in checked:
        form = upsert(
            report,
            "biểu mẫu",
            Form,
            {"code": f["code"]},
            {
                "name": f["name"],
                "programme": programme,
                "description": f["description"],
                "unit_kinds": f["unit_kinds"],
                "period_type": f["period_type"],
                "opens_days_before_end": f["opens_days_before_end"],
                "closes_days_after_end": f["closes_days_after_end"],
            },
        )
        keep = []
        for order, line in enumerate(f["lines"]):
            indicator = saved["indicators"].get(line["code"]) or Indicator.objects.get(
                code=line["code"]
            )
            obj = upsert(
                report,
                "chỉ tiêu của biểu",
                FormIndicator,
                {"form": form, "indicator": indicator, "period_rule": line["period_rule"]},
                {"order": order, "categories": line["categories"]},
            )
            keep.append(obj.pk)
        FormIndicator.objects.filter(form=form).exclude(pk__in=keep).delete()
    _report_gone_forms(checked, saved, report)


def _report_gone_forms(checked, saved, report) -> None:
    """Forms of the programme the package no longer has: kept, listed in the difference.
    (The package's own forms cannot name an indicator it retires: ``check_forms`` refuses
    it; forms loaded before keep their lines, so past answers show as they were.)"""
    programme = saved["programme"]
    declared = {f["code"] for f in checked}
    for form in programme.forms.exclude(code__in=declared).order_by("code"):
        report.gone(str(_("biểu mẫu")), form.code)
