"""Saving commune assessments: checked whole, versioned, every change kept.

:func:`save_assessments` takes one :class:`AssessmentInput` per commune and year (a form
gives one, an Excel sheet many), checks them all, and writes them in one transaction or
none: a criterion declared met while its indicator values miss their thresholds, a
commune declared at a level while a criterion is unmet, a form prepared before someone
else's save — each refused with a message naming the row, the commune and the criterion.

What else must follow a save (the figures of the engine: communes meeting every
criterion, per band, average…) registers with :func:`register_after_save` and runs in the
same transaction, so the figures are fresh on every save.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.ntm import rules
from tiendo.ntm.models import (
    Assessment,
    AssessmentChange,
    CriteriaSet,
    Criterion,
    CriterionResult,
    IndicatorResult,
    NtmLevel,
    Recognition,
)
from tiendo.units.models import Unit

MAX_ASSESSMENTS = 20_000  # one upload: every commune of a province for several years


class AssessmentError(TiendoError):
    code = "ntm.assessment"


@dataclass
class AssessmentInput:
    """What a form or a sheet row says about one commune in one year.

    ``criteria`` maps a criterion's number to met (True / False) or unknown (None): a
    criterion absent from the mapping keeps what was saved. ``values`` maps an indicator's
    code to its value. ``level`` is the level declared (None: computed from the criteria).
    ``expected_version`` is the assessment's version when the form was prepared (0: it did
    not exist; None: no check). ``row`` names the sheet row in messages."""

    unit: Unit
    criteria_set: CriteriaSet
    year: int
    criteria: Mapping[int, bool | None] = field(default_factory=dict)
    values: Mapping[str, Decimal | None] = field(default_factory=dict)
    evidence: Mapping[int, str] = field(default_factory=dict)
    applies_to: str | None = None
    level: str | None = None
    note: str | None = None
    expected_version: int | None = None
    row: int | None = None


@dataclass
class SaveReport:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    assessments: list[Assessment] = field(default_factory=list)


_AFTER_SAVE: list[Callable[[list[Assessment]], None]] = []


def register_after_save(hook: Callable[[list[Assessment]], None]) -> None:
    """``hook(assessments)`` runs after every save, in its transaction, with the
    assessments written (created or changed)."""
    if hook not in _AFTER_SAVE:
        _AFTER_SAVE.append(hook)


_SET_LOADED: list[Callable[[CriteriaSet], None]] = []


def register_set_loaded(hook: Callable[[CriteriaSet], None]) -> None:
    """``hook(criteria_set)`` runs when a package has written a set (created or changed),
    in the package's transaction."""
    if hook not in _SET_LOADED:
        _SET_LOADED.append(hook)


def set_loaded(criteria_set: CriteriaSet) -> None:
    for hook in _SET_LOADED:
        hook(criteria_set)


def _where(item: AssessmentInput) -> dict:
    return {
        "row": item.row if item.row is not None else "",
        "unit": item.unit.name,
        "year": item.year,
    }


def _prefix(item: AssessmentInput):
    if item.row is not None:
        return _("Dòng %(row)s (%(unit)s, năm %(year)s): ")
    return _("%(unit)s, năm %(year)s: ")


def _error(item: AssessmentInput, code: str, message, **params) -> AssessmentError:
    text = str(_prefix(item)) % _where(item) + str(message) % params
    return AssessmentError(_("%(text)s"), code=code, text=text)


def _criteria_of(criteria_set: CriteriaSet) -> list[Criterion]:
    return list(criteria_set.criteria.prefetch_related("indicators__thresholds").order_by("number"))


def _year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _check_scope(item: AssessmentInput) -> list[AssessmentError]:
    cs, unit = item.criteria_set, item.unit
    start, end = _year_span(item.year)
    errors = []
    if unit.level != cs.level or unit.is_agency:
        errors.append(
            _error(
                item,
                "ntm.assessment.level",
                _("bộ tiêu chí “%(set)s” dùng cho %(level)s, không dùng cho đơn vị này."),
                set=cs.name,
                level=cs.get_level_display().lower(),
            )
        )
    if cs.valid_from > end or (cs.valid_to is not None and cs.valid_to < start):
        errors.append(
            _error(
                item,
                "ntm.assessment.set_period",
                _("bộ tiêu chí “%(set)s” không áp dụng trong năm %(year)s."),
                set=cs.name,
                year=item.year,
            )
        )
    lo = max(start, cs.valid_from)
    hi = min(end, cs.valid_to) if cs.valid_to else end
    if lo <= hi and not (
        (unit.valid_from is None or unit.valid_from <= hi)
        and (unit.valid_to is None or lo <= unit.valid_to)
    ):
        errors.append(
            _error(
                item,
                "ntm.assessment.unit_period",
                _("đơn vị không tồn tại trong thời gian áp dụng bộ tiêu chí năm %(year)s."),
                year=item.year,
            )
        )
    return errors


@dataclass
class _Plan:
    item: AssessmentInput
    current: Assessment | None
    met: dict[int, bool | None]
    derived: dict[int, bool]
    values: dict[str, tuple[Decimal | None, bool | None]]
    evidence: dict[int, str]
    applies_to: str
    level: str
    note: str
    criteria: list = field(default_factory=list)  # the set's, indicators prefetched
    old: tuple = ({}, {}, {})  # the current results (_old_results), read once


def _check(item: AssessmentInput, criteria: list[Criterion], current, old) -> _Plan | list:
    """The assessment ``item`` asks for, or the errors that refuse it."""
    errors = _check_scope(item)
    cs = item.criteria_set
    if item.expected_version is not None:
        have = current.version if current else 0
        if have != item.expected_version:
            who = current.updated_by.get_username() if current and current.updated_by else "?"
            errors.append(
                _error(
                    item,
                    "ntm.assessment.conflict",
                    _(
                        "đánh giá đã được %(user)s lưu sau khi biểu này được lập (phiên bản "
                        "%(have)s, biểu lập theo phiên bản %(expected)s). Tải lại để xem số "
                        "liệu mới rồi nhập lại."
                    ),
                    user=who,
                    have=have,
                    expected=item.expected_version,
                )
            )
    applies_to = (
        item.applies_to if item.applies_to is not None else (current.applies_to if current else "")
    )
    if cs.classes and applies_to not in cs.classes:
        errors.append(
            _error(
                item,
                "ntm.assessment.class",
                _("vùng / nhóm xã “%(value)s” không có trong bộ tiêu chí (có: %(known)s)."),
                value=applies_to,
                known=", ".join(cs.classes),
            )
        )
    by_number = {c.number: c for c in criteria}
    by_code = {i.code: i for c in criteria for i in c.indicators.all()}
    for number in item.criteria:
        if number not in by_number:
            errors.append(
                _error(item, "ntm.assessment.criterion", _("không có tiêu chí số %(n)s."), n=number)
            )
    for code in item.values:
        if code not in by_code:
            errors.append(
                _error(
                    item, "ntm.assessment.indicator", _("không có chỉ tiêu %(code)s."), code=code
                )
            )
    if errors:
        return errors

    old_met, old_values, old_evidence = old
    values = {}
    for code, indicator in by_code.items():
        value = item.values[code] if code in item.values else old_values.get(code)
        values[code] = (value, rules.indicator_met(indicator, value, applies_to))
    met, derived, evidence = {}, {}, {}
    for number, criterion in by_number.items():
        given = item.criteria.get(number)
        measured = [values[i.code][1] for i in criterion.indicators.all()]
        from_values = rules.all_met(measured) if measured else None
        if from_values is not None and given is not None and given != from_values:
            unmet = [i.code for i in criterion.indicators.all() if values[i.code][1] is False]
            errors.append(
                _error(
                    item,
                    "ntm.assessment.contradiction",
                    _(
                        "tiêu chí %(n)s (%(name)s) được ghi “%(given)s” nhưng theo giá trị các "
                        "chỉ tiêu là “%(measured)s”%(detail)s."
                    ),
                    n=number,
                    name=criterion.name,
                    given=_("đạt") if given else _("chưa đạt"),
                    measured=_("đạt") if from_values else _("chưa đạt"),
                    detail=(" (" + ", ".join(unmet) + ")") if unmet else "",
                )
            )
        if number in item.criteria and from_values is None:
            met[number] = given
        elif from_values is not None:
            met[number], derived[number] = from_values, True
        else:
            met[number] = old_met.get(number)
        evidence[number] = item.evidence.get(number, old_evidence.get(number, ""))[:500]
    count = sum(1 for v in met.values() if v)
    computed = rules.level_reached(cs, count, len(criteria))
    level = item.level if item.level is not None else computed
    if level not in NtmLevel.values:
        errors.append(
            _error(item, "ntm.assessment.level_value", _("mức đạt “%(v)s” không hợp lệ."), v=level)
        )
    elif rules.level_rank(level) > rules.level_rank(computed):
        unmet = [n for n, v in met.items() if not v]
        errors.append(
            _error(
                item,
                "ntm.assessment.level_unmet",
                _(
                    "được ghi “%(level)s” nhưng chưa đạt đủ tiêu chí: %(criteria)s chưa đạt "
                    "hoặc chưa đánh giá."
                ),
                level=NtmLevel(level).label,
                criteria=", ".join(str(n) for n in unmet) or "—",
            )
        )
    if errors:
        return errors
    note = item.note if item.note is not None else (current.note if current else "")
    return _Plan(
        item, current, met, derived, values, evidence, applies_to, level, note, criteria, old
    )


def _current(items: Sequence[AssessmentInput]) -> dict[tuple, tuple[Assessment, tuple]]:
    """The stored assessments of ``items`` with their results — (met, values, evidence) —
    keyed (unit, set, year): three queries, however many items (a sheet of a province)."""
    keys = {(i.unit.pk, i.criteria_set.pk, i.year) for i in items}
    found = (
        Assessment.objects.select_related("updated_by")
        .filter(
            unit__in={k[0] for k in keys},
            criteria_set__in={k[1] for k in keys},
            year__in={k[2] for k in keys},
        )
        .prefetch_related("results__criterion", "indicator_results__indicator")
    )
    current = {}
    for a in found:
        key = (a.unit_id, a.criteria_set_id, a.year)
        if key in keys:
            current[key] = (a, _old_results(a))
    return current


def _old_results(assessment: Assessment | None):
    """(met, values, evidence) of ``assessment``, from its prefetched results."""
    if assessment is None:
        return {}, {}, {}
    met, evidence = {}, {}
    for r in assessment.results.all():
        met[r.criterion.number] = r.met
        evidence[r.criterion.number] = r.evidence
    values = {r.indicator.code: r.value for r in assessment.indicator_results.all()}
    return met, values, evidence


def check_assessments(items: Sequence[AssessmentInput]) -> tuple[list[_Plan], list]:
    """Plans for every item, and the errors of all of them (nothing written)."""
    if len(items) > MAX_ASSESSMENTS:
        raise AssessmentError(
            _("Quá nhiều đánh giá trong một lần lưu (tối đa %(max)s)."),
            code="ntm.assessment.too_many",
            max=MAX_ASSESSMENTS,
        )
    criteria_by_set: dict[int, list[Criterion]] = {}
    stored = _current(items)
    seen: dict[tuple, AssessmentInput] = {}
    plans, errors = [], []
    for item in items:
        key = (item.unit.pk, item.criteria_set.pk, item.year)
        if key in seen:
            errors.append(
                _error(
                    item,
                    "ntm.assessment.twice",
                    _("đơn vị và năm này đã có ở dòng %(row)s."),
                    row=seen[key].row or "",
                )
            )
            continue
        seen[key] = item
        if item.criteria_set.pk not in criteria_by_set:
            criteria_by_set[item.criteria_set.pk] = _criteria_of(item.criteria_set)
        current, old = stored.get(key, (None, ({}, {}, {})))
        result = _check(item, criteria_by_set[item.criteria_set.pk], current, old)
        if isinstance(result, list):
            errors.extend(result)
        else:
            plans.append(result)
    return plans, errors


def save_assessments(
    items: Sequence[AssessmentInput], *, user=None, source: str = "form", dry_run: bool = False
) -> SaveReport:
    """Check every item, then write them all or none. Raises
    :class:`AssessmentRefused` with every error."""
    with transaction.atomic():
        # lock the rows being changed so that two saves of one assessment queue
        keys = [(i.unit.pk, i.criteria_set.pk, i.year) for i in items]
        if keys:
            list(
                Assessment.objects.select_for_update()
                .filter(unit__in={k[0] for k in keys}, year__in={k[2] for k in keys})
                .values_list("pk")
            )
        plans, errors = check_assessments(items)
        if errors:
            raise AssessmentRefused(errors)
        report = SaveReport()
        written = []
        for plan in plans:
            assessment, outcome = _write(plan, user, source)
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.assessments.append(assessment)
            if outcome != "unchanged":
                written.append(assessment)
        if written:
            for hook in _AFTER_SAVE:
                hook(written)
        if dry_run:
            transaction.set_rollback(True)
    return report


class AssessmentRefused(AssessmentError):
    code = "ntm.assessment.refused"

    def __init__(self, errors: list[AssessmentError]):
        self.errors = errors
        super().__init__(
            _("%(count)s lỗi, không lưu đánh giá nào: %(first)s"),
            count=len(errors),
            first=str(errors[0]) if errors else "",
        )


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "đạt" if value else "chưa đạt"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _write(plan: _Plan, user, source: str) -> tuple[Assessment, str]:
    item, current = plan.item, plan.current
    old_met, old_values, old_evidence = plan.old
    count = sum(1 for v in plan.met.values() if v)
    changes: list[tuple[str, object, object]] = []
    for number, met in plan.met.items():
        if old_met.get(number) != met or (current is None and met is not None):
            changes.append((f"criterion:{number}", old_met.get(number), met))
        if old_evidence.get(number, "") != plan.evidence[number]:
            changes.append(
                (f"evidence:{number}", old_evidence.get(number, ""), plan.evidence[number])
            )
    for code, (value, _met) in plan.values.items():
        if old_values.get(code) != value:
            changes.append((f"indicator:{code}", old_values.get(code), value))
    fields_ = {"applies_to": plan.applies_to, "level": plan.level, "note": plan.note}
    for name, new in fields_.items():
        old = getattr(current, name) if current else ""
        if old != new and (current is not None or new):
            changes.append((name, old, new))
    if current is not None and not changes:
        return current, "unchanged"
    if current is None:
        assessment = Assessment.objects.create(
            unit=item.unit,
            criteria_set=item.criteria_set,
            year=item.year,
            criteria_met=count,
            updated_by=user if getattr(user, "is_authenticated", False) else None,
            **fields_,
        )
        outcome = "created"
    else:
        assessment = current
        assessment.unit, assessment.criteria_set = item.unit, item.criteria_set  # in hand
        for name, new in fields_.items():
            setattr(assessment, name, new)
        assessment.criteria_met = count
        assessment.version += 1
        assessment.updated_by = user if getattr(user, "is_authenticated", False) else None
        assessment.save()
        outcome = "changed"
    _write_results(assessment, plan)
    by = assessment.updated_by
    AssessmentChange.objects.bulk_create(
        AssessmentChange(
            assessment=assessment,
            field=name,
            old=_shown(old)[:300],
            new=_shown(new)[:300],
            version=assessment.version,
            source=source[:40],
            changed_by=by,
        )
        for name, old, new in changes
    )
    return assessment, outcome


def _write_results(assessment: Assessment, plan: _Plan) -> None:
    criteria = {c.number: c for c in plan.criteria}
    indicators = {i.code: i for c in plan.criteria for i in c.indicators.all()}
    assessment.results.all().delete()
    CriterionResult.objects.bulk_create(
        CriterionResult(
            assessment=assessment,
            criterion=criteria[number],
            met=met,
            derived=plan.derived.get(number, False),
            evidence=plan.evidence[number],
        )
        for number, met in plan.met.items()
    )
    assessment.indicator_results.all().delete()
    IndicatorResult.objects.bulk_create(
        IndicatorResult(assessment=assessment, indicator=indicators[code], value=value, met=met)
        for code, (value, met) in plan.values.items()
        if value is not None
    )


def record_recognition(
    *,
    unit: Unit,
    criteria_set: CriteriaSet,
    year: int,
    decision_number: str,
    decision_date: date,
    issuer: str,
    level: str | None = None,
    user=None,
    illustrative: bool = False,
) -> Recognition:
    """Record the decision recognising ``unit`` at the level of ``criteria_set`` for
    ``year``: refused unless the commune's assessment of that set and year meets every
    criterion (a recognition without meeting them is the error the sheets make)."""
    level = level or rules.TIER_LEVEL[criteria_set.tier]
    item = AssessmentInput(unit=unit, criteria_set=criteria_set, year=year)
    assessment = Assessment.objects.filter(unit=unit, criteria_set=criteria_set, year=year).first()
    total = criteria_set.criteria.count()
    if assessment is None or assessment.criteria_met < total:
        raise _error(
            item,
            "ntm.recognition.unmet",
            _(
                "không thể ghi quyết định công nhận %(decision)s: đánh giá năm %(year)s "
                "đạt %(met)s/%(total)s tiêu chí."
            ),
            decision=decision_number,
            year=year,
            met=assessment.criteria_met if assessment else 0,
            total=total,
        )
    if rules.level_rank(level) > rules.level_rank(assessment.level):
        raise _error(
            item,
            "ntm.recognition.level",
            _("không thể công nhận mức “%(level)s”: đánh giá năm %(year)s ghi “%(have)s”."),
            level=NtmLevel(level).label,
            year=year,
            have=assessment.get_level_display(),
        )
    with transaction.atomic():
        recognition, _created = Recognition.objects.get_or_create(
            unit=unit,
            criteria_set=criteria_set,
            level=level,
            decision_number=decision_number,
            defaults={
                "year": year,
                "decision_date": decision_date,
                "issuer": issuer,
                "illustrative": illustrative,
                "created_by": user if getattr(user, "is_authenticated", False) else None,
            },
        )
        if _created:
            from tiendo.core.audit import audit

            audit(
                "ntm.recognition_recorded",
                actor=user,
                unit=unit,
                level=level,
                decision=decision_number,
            )
            for hook in _AFTER_SAVE:
                hook([assessment])
    return recognition


def withdraw_recognition(
    recognition: Recognition, number: str, day: date, user=None
) -> Recognition:
    """Record the decision ``number`` withdrawing ``recognition`` on ``day``; the figures
    of the commune (recognised, in force at year end) follow from that year on."""
    number = (number or "").strip()
    item = AssessmentInput(
        unit=recognition.unit, criteria_set=recognition.criteria_set, year=recognition.year
    )
    if not number:
        raise _error(
            item,
            "ntm.recognition.withdrawal_number",
            _("cần số quyết định thu hồi quyết định %(decision)s."),
            decision=recognition.decision_number,
        )
    with transaction.atomic():
        current = Recognition.objects.select_for_update().get(pk=recognition.pk)
        if current.withdrawn_on is not None:
            raise _error(
                item,
                "ntm.recognition.withdrawn",
                _("quyết định %(decision)s đã bị thu hồi theo %(withdrawal)s."),
                decision=current.decision_number,
                withdrawal=current.withdrawn_number,
            )
        if day < current.decision_date:
            raise _error(
                item,
                "ntm.recognition.withdrawal_date",
                _("ngày thu hồi phải sau ngày quyết định %(decision)s."),
                decision=current.decision_number,
            )
        current.withdrawn_number = number[:80]
        current.withdrawn_on = day
        current.save(update_fields=["withdrawn_number", "withdrawn_on"])
        from tiendo.core.audit import audit

        audit(
            "ntm.recognition_withdrawn",
            actor=user,
            unit=current.unit,
            decision=current.decision_number,
            withdrawal=number,
        )
        assessments = list(
            Assessment.objects.filter(
                unit=current.unit, criteria_set=current.criteria_set, year__gte=current.year
            )
        )
        if assessments:
            for hook in _AFTER_SAVE:
                hook(assessments)
    recognition.withdrawn_number, recognition.withdrawn_on = current.withdrawn_number, day
    return current
