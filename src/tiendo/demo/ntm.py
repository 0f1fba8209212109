"""The NTM part of the demo: Quảng Trị's communes assessed 2016–2020, the Alliance's tasks.

* The communes assessed each year are the communes of that year. ``make demo`` loads the
  province's unit history (``units/history/quang-tri.csv``: the 2020 and 2025 mergers of
  communes) before the demo: 141 units at commune level before Resolution 832, 125 from
  2020. Without it (the tests' demo database), the communes that history rearranges have
  one version spanning 2016–2025 that loading it later would split, leaving their figures
  outside their validity (and the load refused): they are not assessed until it is loaded.
* The criteria set XA-2016-2020 (1980/QĐ-TTg) comes from its shipped package
  (``tiendo.ntm.sets.load_shipped``).
* The assignments of seed 003 (Decision 1763/QĐ-UBND: the Department of Agriculture
  responsible for criterion 13, the Cooperative Alliance coordinating) and the Alliance's
  sponsorship (Decision 1841/QĐ-UBND, working group 225/QĐ-LMHTX) are sections of the
  Quảng Trị package (``packages/quangtri-lmhtx-ntm.yaml``). The seed does not name the
  commune sponsored: the one chosen there is illustrative, and labelled so.
* Every xã of Quảng Trị gets an **illustrative** assessment for each year it existed from
  2016 to 2020 — plausible (mountain districts start lower, every commune gains criteria
  over the years, the hard criteria come last), deterministic (seeded by the commune's
  code, so a commune and the version that follows it after a merger keep one story) — saved
  through :func:`tiendo.ntm.services.save_assessments` like any entry, flagged
  ``illustrative`` and with a note saying so; a commune reaching all 19 criteria gets an
  illustrative recognition decision through :func:`~tiendo.ntm.services.record_recognition`.
  None of it is official data.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import tiendo.units
from tiendo.ntm.models import Assessment, CriteriaSet, Recognition
from tiendo.ntm.report import area_communes
from tiendo.ntm.services import AssessmentInput, record_recognition, save_assessments
from tiendo.units.changes import apply_changes, plan_changes, read_change_file
from tiendo.units.models import UnitEvent
from tiendo.units.services import resolve_unit

QUANG_TRI = "45"
SET_CODE = "XA-2016-2020"
YEARS = range(2016, 2021)
HISTORY = Path(tiendo.units.__file__).resolve().parent / "history" / "quang-tri.csv"
ILLUSTRATIVE_NOTE = (
    "Số liệu minh họa của bộ dữ liệu mẫu, không phải kết quả đánh giá chính thức của xã."
)
RECOGNITION_ISSUER = "Ủy ban nhân dân tỉnh Quảng Trị"
# Districts of the western mountains (Hướng Hóa, Đakrông): fewer criteria met at the start.
MOUNTAIN_DISTRICTS = {"465", "467"}
# Criteria communes reach last (income, poor households, production organisation,
# environment, schools): a higher weight puts them later in a commune's order.
HARD_CRITERIA = {5: 0.5, 10: 0.8, 11: 0.7, 13: 0.9, 17: 0.8, 14: 0.3}


class DemoNtmError(RuntimeError):
    pass


def history_loaded() -> bool:
    return UnitEvent.objects.filter(source__contains=HISTORY.name).exists()


def rearranged_codes() -> set[str]:
    """The codes of the communes the shipped history rearranges."""
    rows, _problems = read_change_file(HISTORY.name, HISTORY.read_bytes())
    return {row[key] for row in rows for key in ("from_code", "to_code") if row.get(key)}


def load_history() -> None:
    """Quảng Trị's unit changes (the file people load with ``tiendo units changes load``);
    an event already loaded is skipped."""
    rows, problems = read_change_file(HISTORY.name, HISTORY.read_bytes())
    plan = plan_changes(rows) if not problems else None
    problems = problems or plan.problems
    if problems:
        raise DemoNtmError("; ".join(str(p) for p in problems))
    apply_changes(plan, actor=None, source=f"tệp {HISTORY.name}")


def criteria_set() -> CriteriaSet:
    """The set XA-2016-2020, loaded from its shipped package."""
    try:
        from tiendo.ntm.sets import load_shipped  # noqa: PLC0415
    except ImportError as exc:
        raise DemoNtmError(
            "Dữ liệu mẫu cần bộ tiêu chí XA-2016-2020 (gói src/tiendo/ntm/packages/"
            "xa-2016-2020.yaml, nạp bằng tiendo.ntm.sets.load_shipped), nhưng mã nguồn chưa "
            f"có hàm đó: {exc}"
        ) from exc
    load_shipped()
    cs = CriteriaSet.objects.filter(code=SET_CODE).first()
    if cs is None:
        raise DemoNtmError(f"Các gói bộ tiêu chí đã nạp nhưng không có bộ {SET_CODE}.")
    return cs


def _region(cs: CriteriaSet) -> str:
    """Quảng Trị's region among the set's classes (Bắc Trung Bộ và Duyên hải miền Trung)."""
    if not cs.classes:
        return ""
    for key, label in cs.classes.items():
        if "trung bộ" in str(label).lower() or "miền trung" in str(label).lower():
            return key
    return next(iter(cs.classes))


def trajectory(code: str, district_code: str, numbers: list[int]) -> dict[int, set[int]]:
    """The criteria a commune meets each year: a start in 2016, a gain each year, the
    criteria in the commune's own order (hard ones late)."""
    rng = random.Random(f"tiendo-demo-ntm-{code}")
    total = len(numbers)
    low, high = (4, 11) if district_code in MOUNTAIN_DISTRICTS else (8, 17)
    count = rng.randint(low, high)
    order = sorted(numbers, key=lambda n: rng.random() + HARD_CRITERIA.get(n, 0))
    met = {}
    for year in YEARS:
        met[year] = set(order[: min(count, total)])
        count += rng.choice([0, 1, 1, 2, 2, 3])
    return met


def assessment_items(cs: CriteriaSet) -> list[AssessmentInput]:
    province = resolve_unit(QUANG_TRI, on=date(2020, 12, 31))
    numbers = sorted(cs.criteria.values_list("number", flat=True))
    region = _region(cs)
    waiting = set() if history_loaded() else rearranged_codes()
    items = []
    for year in YEARS:
        for commune in area_communes(province, year).select_related("parent").order_by("code"):
            if commune.code in waiting:
                continue
            met = trajectory(commune.code, commune.parent.code, numbers)[year]
            items.append(
                AssessmentInput(
                    unit=commune,
                    criteria_set=cs,
                    year=year,
                    criteria={n: n in met for n in numbers},
                    applies_to=region,
                    note=ILLUSTRATIVE_NOTE,
                )
            )
    return items


def load_assessments(cs: CriteriaSet) -> list[Assessment]:
    items = assessment_items(cs)
    report = save_assessments(items, source="demo")
    ids = [a.pk for a in report.assessments]
    Assessment.objects.filter(pk__in=ids, illustrative=False).update(illustrative=True)
    _recognise(cs, report.assessments)
    return report.assessments


def _recognise(cs: CriteriaSet, assessments: list[Assessment]) -> None:
    """An illustrative recognition for each commune in the first year it meets all."""
    total = cs.criteria.count()
    first: dict[int, Assessment] = {}
    for a in sorted(assessments, key=lambda a: a.year):
        if a.criteria_met == total and a.unit_id not in first:
            first[a.unit_id] = a
    for number, a in enumerate(sorted(first.values(), key=lambda a: (a.year, a.unit.code)), 1):
        if Recognition.objects.filter(unit=a.unit, criteria_set=cs).exists():
            continue
        record_recognition(
            unit=a.unit,
            criteria_set=cs,
            year=a.year,
            decision_number=f"MH-{number:03d}/QĐ-UBND",
            decision_date=date(a.year, 12, 28),
            issuer=RECOGNITION_ISSUER,
            illustrative=True,
        )


def load_demo_ntm() -> list[Assessment]:
    """The assessments (the history and the set are loaded before the packages)."""
    return load_assessments(CriteriaSet.objects.get(code=SET_CODE))
