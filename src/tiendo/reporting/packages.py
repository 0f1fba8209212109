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

from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import PeriodType
from tiendo.reporting.models import Form, FormIndicator, PeriodRule
from tiendo.units.models import UnitKind


def check_forms(items, c, plan) -> list[dict]:
    declared = {i["code"]: i for i in plan["indicators"]}
    checked = []
    seen = set()
    for path, item in items:
        code = c.code(item, "code", path)
        if code in seen:
            c.error(f"{path}.code", f"biểu “{code}” bị khai báo hai lần.")
        seen.add(code)
        kinds = item.get("unit_kinds", []) or []
        if not isinstance(kinds, list):
            c.error(f"{path}.unit_kinds", "phải là một danh sách loại đơn vị.")
            kinds = []
        allowed_kinds = [k.value for k in UnitKind]
        for kind in kinds:
            if kind not in allowed_kinds:
                c.error(
                    f"{path}.unit_kinds",
                    f"loại đơn vị “{kind}” không hợp lệ; chọn trong: {', '.join(allowed_kinds)}.",
                )
        period_type = c.choice(item, "period_type", path, PeriodType, PeriodType.YEAR.value)
        days = {}
        for key, default in (("opens_days_before_end", 30), ("closes_days_after_end", 15)):
            value = item.get(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3660:
                c.error(f"{path}.{key}", f"“{value}” phải là số ngày (số nguyên từ 0 đến 3660).")
                value = default
            days[key] = value
        lines = []
        for line_path, raw in _indicator_items(c, item, path):
            ind_code = c.text(raw, "code", line_path)
            if not ind_code:
                continue
            declared_ind = declared.get(ind_code)
            existing = None
            if declared_ind is None:
                existing = Indicator.objects.filter(code=ind_code).first()
                if existing is None:
                    c.error(f"{line_path}.code", f"không có chỉ tiêu “{ind_code}”.")
                    continue
            formula = declared_ind["formula"] if declared_ind else existing.formula
            if formula:
                c.error(
                    f"{line_path}.code",
                    f"chỉ tiêu “{ind_code}” được tính theo công thức, không đưa vào biểu nhập.",
                )
            rule = c.choice(raw, "period", line_path, PeriodRule, PeriodRule.PERIOD.value)
            categories = raw.get("categories", []) or []
            if not isinstance(categories, list):
                c.error(f"{line_path}.categories", "phải là một danh sách mã phân tổ.")
                categories = []
            lines.append({"code": ind_code, "period_rule": rule, "categories": categories})
        if not lines:
            c.error(f"{path}.indicators", "biểu cần ít nhất một chỉ tiêu.")
        checked.append(
            {
                "code": code,
                "name": c.text(item, "name", path, max_length=300),
                "description": c.text(item, "description", path, required=False),
                "unit_kinds": kinds,
                "period_type": period_type,
                "lines": lines,
                **days,
            }
        )
    return checked


def _indicator_items(c, item, path):
    raw = item.get("indicators")
    if not isinstance(raw, list):
        c.error(f"{path}.indicators", "phải là một danh sách chỉ tiêu.")
        return []
    result = []
    for i, entry in enumerate(raw):
        line_path = f"{path}.indicators[{i}]"
        if isinstance(entry, str):
            entry = {"code": entry}
        elif not isinstance(entry, dict):
            c.error(line_path, "phải là mã chỉ tiêu hoặc bảng {code, period?, categories?}.")
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
