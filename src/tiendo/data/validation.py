"""Validation rules and outliers: the checks a careful officer makes before sending figures up.

Rules (:class:`~tiendo.data.models.ValidationRule`) compare two expressions over indicator
codes (``NQ04_DISBURSED <= NQ04_CAPITAL_PLAN``; ``NTM_DISBURSED[TRAINING] <= ...``;
``NQ05_AREA >= prev(NQ05_AREA)``; a stated rate against its operands,
``RATE_STATED ≈ todate(PAID) / todate(PLAN) * 100 ± 0.005``; ``... if CONDITION``). They are evaluated on the *aggregated* values of a unit
(:class:`~tiendo.data.aggregation.Aggregator`), so one rule holds for a commune and for a
province alike. A rule whose operand is missing (or divides by zero) is "not evaluated",
never violated: an empty cell is not a wrong one.

Public API, for the other apps:

- :func:`validate_unit` — every applicable rule for one unit and period;
- :func:`validate_units` — the same over many units at once (a province and all below it);
- :func:`validate_entries` — the rules touching figures just saved (warnings beside fields);
- :func:`blocking_violations` — what stops a submission (high importance, not explained);
- :func:`explain_violation` / :func:`check_outlier` — record who looked at a finding and why;
- :func:`find_outliers` — stored values outside the indicator's min–max, or far from the
  unit's own history (robust z-score with the median absolute deviation).
"""

from __future__ import annotations

import statistics
import string
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.data.aggregation import Aggregator
from tiendo.data.models import (
    DataValue,
    FindingKind,
    Importance,
    ValidationFinding,
    ValidationRule,
)
from tiendo.programmes import expressions
from tiendo.programmes.metadata import known_indicators, upsert
from tiendo.programmes.models import Indicator, Programme
from tiendo.programmes.periods import Period, PeriodError, PeriodType
from tiendo.units.models import Unit

# Iglewicz and Hoaglin's modified z-score: 0.6745 (x - median) / MAD; above 3.5 is an outlier.
MAD_THRESHOLD = Decimal("3.5")
MAD_SCALE = Decimal("0.6745")
# When more than half the history is identical the MAD is 0; the mean absolute deviation
# (scaled to the same units) then stands in for it.
MEAN_AD_SCALE = Decimal("1.253314")
MIN_HISTORY = 4

OPERATOR_SYMBOLS = {
    "==": "=",
    "!=": "≠",
    "<": "<",
    "<=": "≤",
    ">": ">",
    ">=": "≥",
    "~=": "≈",
}
MESSAGE_FIELDS = {"left", "right"}
IMPORTANCE_RANK = {Importance.HIGH: 0, Importance.MEDIUM: 1, Importance.LOW: 2}


class FindingError(TiendoError, ValueError):
    """A finding that cannot be recorded; the message is Vietnamese."""

    code = "finding.refused"


def format_value(value) -> str:
    """A rule's side as an official writes it: ``17.286``, ``29,41``, ``197,3``."""
    return format_number(value, 2)


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A rule that does not hold for a unit and period, with both sides' values."""

    rule: ValidationRule
    unit: Unit
    period: Period
    left: Decimal
    right: Decimal
    message: str

    @property
    def importance(self) -> str:
        return self.rule.importance

    @property
    def key(self) -> str:
        return f"rule:{self.rule.code}"

    @property
    def codes(self) -> set[str]:
        """Indicator codes the rule reads: the fields beside which to show the warning."""
        return expressions.references(expressions.parse_rule(self.rule.expression))

    def as_dict(self) -> dict:
        return {
            "rule": self.rule.code,
            "name": self.rule.name,
            "expression": self.rule.expression,
            "importance": self.rule.importance,
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "period": self.period.id,
            "left": str(self.left),
            "right": str(self.right),
            "message": self.message,
        }


@dataclass(frozen=True)
class Outlier:
    """A stored value to follow up: outside the indicator's range or far from its history."""

    indicator: Indicator
    unit: Unit
    period: str
    category: str
    value: Decimal
    kind: str  # "range" or "history"
    reason: str
    median: Decimal | None = None

    @property
    def key(self) -> str:
        return f"outlier:{self.indicator.code}:{self.category}"

    def as_dict(self) -> dict:
        return {
            "indicator": self.indicator.code,
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "period": self.period,
            "category": self.category,
            "value": str(self.value),
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass
class Report:
    """What a run found, and how many checks ran or could not run for want of figures."""

    violations: list[Violation] = field(default_factory=list)
    evaluated: int = 0
    not_evaluated: int = 0
    rules: int = 0

    def by_unit(self) -> list[tuple[Unit, list[Violation]]]:
        grouped: dict[int, list[Violation]] = defaultdict(list)
        units = {}
        for v in self.violations:
            grouped[v.unit.pk].append(v)
            units[v.unit.pk] = v.unit
        ordered = sorted(units.values(), key=lambda u: (u.level, u.code))
        return [(u, grouped[u.pk]) for u in ordered]


# -- rules ---------------------------------------------------------------------------------


def rules_for(period: Period, programme: Programme | None = None):
    """The rules in force (not retired from their package) that apply to a period of this
    type (and programme)."""
    rules = ValidationRule.objects.select_related("programme").filter(
        Q(period_type="") | Q(period_type=period.type.value), active=True
    )
    if programme is not None:
        rules = rules.filter(programme=programme)
    return list(rules.order_by("programme__code", "order", "code"))


def render_message(rule: ValidationRule, left: Decimal, right: Decimal) -> str:
    return rule.message.format(left=format_value(left), right=format_value(right))


def check_rules(units, period: Period | str, rules) -> Report:
    """Evaluate ``rules`` on the aggregated values of each of ``units`` for ``period``."""
    period = Period.parse(period)
    units = list(units)
    report = Report(rules=len(rules))
    if not units or not rules:
        return report
    parsed = [(rule, expressions.parse_rule(rule.expression)) for rule in rules]
    _share_programmes(rules)
    codes = set().union(*(expressions.references(tree) for _rule, tree in parsed))
    indicators = list(Indicator.objects.filter(code__in=codes).select_related("disaggregation"))
    # period id -> unit pk -> code -> Cell; other periods (the year before, the programme
    # period so far) are aggregated only when a rule reads them, for every unit at once
    cells_by_period = {period.id: Aggregator(indicators, period).for_units(units)}

    def cells(target: Period) -> dict:
        if target.id not in cells_by_period:
            cells_by_period[target.id] = Aggregator(indicators, target).for_units(units)
        return cells_by_period[target.id]

    for unit in units:
        for rule, tree in parsed:
            if not rule.programme.applies_at(unit):
                continue  # one province's rules never run on another's figures

            def resolve(code, category, offset, to_date=False, unit=unit, rule=rule):
                try:
                    target = period
                    for _ in range(-offset):
                        target = target.previous()
                    if to_date:
                        target = to_date_period(target, rule.programme)
                except PeriodError:  # no period before the first year the calendar knows
                    return None
                if target is None:
                    return None
                cell = cells(target)[unit.pk].get(code)
                if cell is None:
                    return None
                return cell.categories.get(category) if category else cell.value

            if tree.condition is not None and not expressions.evaluate(tree.condition, resolve):
                report.not_evaluated += 1  # the rule does not apply here (or cannot tell)
                continue
            left = expressions.evaluate(tree.left, resolve)
            right = expressions.evaluate(tree.right, resolve)
            tolerance = None
            if tree.tolerance is not None:
                tolerance = expressions.evaluate(tree.tolerance, resolve)
            if left is None or right is None or (tree.tolerance is not None and tolerance is None):
                report.not_evaluated += 1
                continue
            report.evaluated += 1
            holds = expressions.evaluate(
                expressions.Compare(
                    tree.op,
                    expressions.Num(left),
                    expressions.Num(right),
                    None if tolerance is None else expressions.Num(tolerance),
                ),
                resolve,
            )
            if not holds:
                report.violations.append(
                    Violation(rule, unit, period, left, right, render_message(rule, left, right))
                )
    report.violations.sort(
        key=lambda v: (v.unit.level, v.unit.code, IMPORTANCE_RANK.get(v.importance, 9))
    )
    return report


def _share_programmes(rules) -> None:
    """One programme object for the rules of a programme: its units are read once."""
    seen: dict[int, Programme] = {}
    for rule in rules:
        rule.programme = seen.setdefault(rule.programme_id, rule.programme)


def to_date_period(period: Period, programme: Programme | None) -> Period | None:
    """From the start of ``programme``'s period to the end of ``period`` (``todate(x)``).

    A 2022 report of a 2021-2025 programme states "so far" figures: 2021-2022 (so does one
    for 2022Q4 or as of 31/12/2022). ``None`` when that is not a span of whole years inside
    the programme period (a period ending within a year, one starting before the programme):
    the rule is then not evaluated.
    """
    if programme is None:
        return None
    phase = programme.period
    if not isinstance(phase, Period):  # a stored text that names no period
        return None
    start, end = phase.start.year, period.end.year
    if period.end.month != 12 or period.end.day != 31 or not phase.start <= period.start:
        return None
    end = min(end, phase.end.year)
    if end < start:
        return None
    return Period.year(start) if end == start else Period.parse(f"{start}-{end}")


def units_below(unit: Unit, period: Period | str) -> list[Unit]:
    """The unit and every unit below it that existed during ``period``, top-down."""
    period = Period.parse(period)
    below = (
        Unit.objects.subtree(unit, include_self=False)
        .valid_during(period)
        .order_by("level", "code")
    )
    return [unit, *below]


def validate_units(units, period: Period | str, *, programme: Programme | None = None) -> Report:
    """Every applicable rule over several units (e.g. :func:`units_below`), in one pass."""
    period = Period.parse(period)
    return check_rules(units, period, rules_for(period, programme))


def validate_unit(
    unit: Unit, period: Period | str, *, programme: Programme | None = None
) -> list[Violation]:
    """Violations of the rules (of ``programme``, or all) by the aggregated figures of ``unit``."""
    return validate_units([unit], period, programme=programme).violations


def _enclosing(period: Period, period_type: str) -> Period | None:
    """The period of ``period_type`` that contains ``period`` (a year holds its months)."""
    if period.type == period_type:
        return period
    year, month = period.start.year, period.start.month
    candidates = {
        PeriodType.YEAR: str(year),
        PeriodType.HALF: f"{year}S{1 if month <= 6 else 2}",
        PeriodType.QUARTER: f"{year}Q{(month + 2) // 3}",
        PeriodType.MONTH: f"{year}{month:02d}",
    }
    identifier = candidates.get(period_type)
    if identifier is None:
        return None
    candidate = Period.parse(identifier)
    return candidate if candidate.contains(period) else None


def validate_entries(entries) -> list[Violation]:
    """Violations of the rules that read the figures just saved (call it after saving).

    ``entries`` are :class:`tiendo.data.services.Entry` objects. For each unit and period
    saved, every rule that reads one of the saved indicators is evaluated — on the saved
    period, or, for a rule of another period type, on the period of that type containing
    it (a value "as of 31/10/2020" is checked by the year-2020 rules). Show each
    violation beside the fields of ``violation.codes``.
    """
    saved: dict[tuple[int, str], set[str]] = defaultdict(set)
    units: dict[int, Unit] = {}
    for entry in entries:
        saved[(entry.unit.pk, entry.period)].add(entry.indicator.code)
        units[entry.unit.pk] = entry.unit
    if not saved:
        return []
    all_rules = [
        (rule, expressions.references(expressions.parse_rule(rule.expression)))
        for rule in ValidationRule.objects.filter(active=True)
        .select_related("programme")
        .order_by("order", "code")
    ]
    violations: list[Violation] = []
    for (unit_pk, period_id), codes in saved.items():
        period = Period.parse(period_id)
        by_period: dict[Period, list[ValidationRule]] = defaultdict(list)
        for rule, reads in all_rules:
            if not reads & codes:
                continue
            target = _enclosing(period, rule.period_type) if rule.period_type else period
            if target is not None:
                by_period[target].append(rule)
        for target, rules in by_period.items():
            violations += check_rules([units[unit_pk]], target, rules).violations
    return violations


def _fingerprint(item) -> tuple:
    if isinstance(item, Violation):
        return (item.unit.pk, item.period.id, item.key, item.left, item.right)
    return (item.unit.pk, item.period, item.key, item.value, None)


def findings_for(items) -> dict[tuple, ValidationFinding]:
    """The recorded finding of each item (violation or outlier), by ``(unit pk, period, key)``,
    only while it still speaks of the same values."""
    items = list(items)
    if not items:
        return {}
    rows = ValidationFinding.objects.filter(
        unit_id__in={i.unit.pk for i in items}, key__in={i.key for i in items}
    ).select_related("resolved_by")
    by_key = {(f.unit_id, f.period, f.key): f for f in rows}
    out = {}
    for item in items:
        fp = _fingerprint(item)
        finding = by_key.get(fp[:3])
        if finding is not None and _same_values(finding, fp[3], fp[4]):
            out[fp[:3]] = finding
    return out


def _same_values(finding: ValidationFinding, value, reference) -> bool:
    def same(a, b):
        return (a is None and b is None) or (a is not None and b is not None and a == b)

    return same(finding.value, value) and same(finding.reference, reference)


def blocking_violations(
    unit: Unit, period: Period | str, programme: Programme | None
) -> list[Violation]:
    """What stops ``unit`` from submitting its figures for ``period``.

    **Call this on submit** (reporting app): the high-importance violations of the
    programme's rules by the unit's aggregated figures, except those the officer has
    explained (:func:`explain_violation`) for exactly these values. An empty list means the
    submission may go; otherwise show each ``violation.message`` and ask for an explanation.
    """
    violations = [
        v for v in validate_unit(unit, period, programme=programme) if v.importance == "high"
    ]
    findings = findings_for(violations)
    return [v for v in violations if (v.unit.pk, v.period.id, v.key) not in findings]


@transaction.atomic
def _record(item, *, kind: str, user, note: str, action: str) -> ValidationFinding:
    note = (note or "").strip()
    if not note:
        raise FindingError(
            _("Xin ghi rõ lý do (giải trình) trước khi xác nhận."), code="finding.no_note"
        )
    if isinstance(item, Violation):
        values = {
            "rule": item.rule,
            "indicator": None,
            "category": "",
            "value": item.left,
            "reference": item.right,
            "message": item.message,
        }
        period_id = item.period.id
    else:
        values = {
            "rule": None,
            "indicator": item.indicator,
            "category": item.category,
            "value": item.value,
            "reference": None,
            "message": item.reason,
        }
        period_id = item.period
    values |= {"note": note, "resolved_by": user, "resolved_at": timezone.now()}
    finding = (
        ValidationFinding.objects.select_for_update()
        .filter(unit=item.unit, period=period_id, key=item.key)
        .first()
    )
    old_note = finding.note if finding else ""
    if finding is None:
        finding = ValidationFinding.objects.create(
            kind=kind, key=item.key, unit=item.unit, period=period_id, **values
        )
    else:
        for name, value in values.items():
            setattr(finding, name, value)
        finding.save(update_fields=list(values))
    audit(
        action,
        actor=user,
        unit=item.unit,
        obj=finding,
        problem=values["message"],
        note=note,
        period=period_id,
        key=item.key,
        value=values["value"],
        reference=values["reference"],
        old_note=old_note,
    )
    return finding


def explain_violation(violation: Violation, *, user, note: str) -> ValidationFinding:
    """The officer explains why the figures are right despite the rule (kept with the values)."""
    return _record(
        violation, kind=FindingKind.RULE, user=user, note=note, action="validation.explained"
    )


def check_outlier(outlier: Outlier, *, user, note: str) -> ValidationFinding:
    """Someone followed an outlier up: the value is confirmed (or was corrected)."""
    return _record(
        outlier, kind=FindingKind.OUTLIER, user=user, note=note, action="validation.outlier_checked"
    )


# -- outliers ------------------------------------------------------------------------------


def robust_z(value: Decimal, history: list[Decimal]) -> tuple[Decimal | None, Decimal]:
    """Modified z-score of ``value`` against ``history`` and the history's median.

    ``None`` when the history is flat (every past value equal): nothing to compare against.
    """
    median = statistics.median(history)
    deviations = [abs(x - median) for x in history]
    mad = statistics.median(deviations)
    if mad:
        return MAD_SCALE * (value - median) / mad, median
    mean_ad = sum(deviations) / len(deviations)
    if mean_ad:
        return (value - median) / (MEAN_AD_SCALE * mean_ad), median
    return None, median


def _range_reason(dv: DataValue) -> str:
    """Why a stored value lies outside its indicator's ``min_value`` – ``max_value``, or ""."""
    indicator = dv.indicator
    if indicator.min_value is not None and dv.value < indicator.min_value:
        text, limit = (
            _("Giá trị %(value)s nhỏ hơn mức thấp nhất cho phép (%(limit)s %(unit)s)."),
            indicator.min_value,
        )
    elif indicator.max_value is not None and dv.value > indicator.max_value:
        text, limit = (
            _("Giá trị %(value)s lớn hơn mức cao nhất cho phép (%(limit)s %(unit)s)."),
            indicator.max_value,
        )
    else:
        return ""
    return text % {  # in the unit the figure is read and typed in
        "value": indicator.display_text(dv.value, decimals=2),
        "limit": indicator.display_text(limit, decimals=2),
        "unit": indicator.shown_unit,
    }


def find_outliers(
    unit: Unit,
    period: Period | str,
    programme: Programme | None = None,
    *,
    below: bool = False,
) -> list[Outlier]:
    """Stored values of ``unit`` (and, with ``below``, of every unit under it) inside
    ``period`` that need a follow-up:

    - outside the indicator's ``min_value`` – ``max_value``;
    - far from the unit's own history for the same indicator, category and period type
      (modified z-score above 3.5, with at least four earlier values).
    """
    period = Period.parse(period)
    scope = Q(unit__path__startswith=unit.path) if below else Q(unit=unit)
    values = DataValue.objects.filter(
        scope, period_start__gte=period.start, period_end__lte=period.end
    )
    if programme is not None:
        values = values.filter(indicator__programme=programme)
    values = list(values.select_related("indicator", "unit").order_by("unit__level", "unit__code"))
    if not values:
        return []
    outliers: list[Outlier] = []
    for dv in values:
        reason = _range_reason(dv)
        if reason:
            outliers.append(
                Outlier(dv.indicator, dv.unit, dv.period, dv.category, dv.value, "range", reason)
            )

    # history: earlier values of the same (indicator, unit, category), same period type
    history: dict[tuple, list[tuple]] = defaultdict(list)
    rows = (
        DataValue.objects.filter(
            scope,
            indicator_id__in={dv.indicator_id for dv in values},
            period_end__lt=period.end,
        )
        .values_list("indicator_id", "unit_id", "category", "period", "period_end", "value")
        .order_by()
    )
    for indicator_id, unit_id, category, period, period_end, value in rows:
        history[(indicator_id, unit_id, category, period.type)].append((period_end, value))
    for dv in values:
        own = dv.period
        past = [
            value
            for end, value in history.get((dv.indicator_id, dv.unit_id, dv.category, own.type), [])
            if end < own.start
        ]
        if len(past) < MIN_HISTORY:
            continue
        z, median = robust_z(dv.value, past)
        if z is not None and abs(z) > MAD_THRESHOLD:
            outliers.append(
                Outlier(
                    dv.indicator,
                    dv.unit,
                    dv.period,
                    dv.category,
                    dv.value,
                    "history",
                    f"Giá trị {format_value(dv.value)} lệch xa so với các kỳ trước của đơn vị "
                    f"(trung vị {format_value(median)}).",
                    median=median,
                )
            )
    return outliers


# -- the validation_rules: section of metadata packages ------------------------------------


def message_fields(message: str) -> set[str]:
    """Placeholders a message uses; ``ValueError`` on unbalanced braces or a format spec."""
    names = set()
    for _text, name, spec, conversion in string.Formatter().parse(message):
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(name)
        names.add(name)
    return names


def check_section(items, checker, plan) -> list[dict]:
    """Check the ``validation_rules:`` items of a package (see ``programmes.metadata``)."""
    known = known_indicators(plan)
    programme_code = (plan.get("programme") or {}).get("code")
    owners = dict(ValidationRule.objects.values_list("code", "programme__code"))
    checked, seen = [], set()
    for order, (path, item) in enumerate(items):
        code = _check_rule_code(checker, path, item, seen, owners, programme_code)
        checked.append(
            {
                "code": code,
                "name": checker.text(item, "name", path, max_length=400),
                "expression": _check_rule_expression(checker, path, item, known),
                "importance": checker.choice(
                    item, "importance", path, Importance, Importance.MEDIUM.value
                ),
                "period_type": _check_rule_period_type(checker, path, item),
                "message": _check_rule_message(checker, path, item),
                "order": order,
            }
        )
    return checked


def _check_rule_code(checker, path, item, seen, owners, programme_code) -> str:
    code = checker.code(item, "code", path)
    if not code:
        return code
    checker.once(seen, code, f"{path}.code", _("quy tắc “%(value)s” bị khai báo hai lần."))
    if code in owners and owners[code] != programme_code:
        checker.error(
            f"{path}.code",
            _("quy tắc “%(value)s” đã thuộc chương trình “%(owner)s”."),
            code="package.rule_of_other_programme",
            value=code,
            owner=owners[code],
        )
    return code


def _check_rule_expression(checker, path, item, known) -> str:
    expression = checker.text(item, "expression", path, max_length=400)
    if not expression:
        return expression
    tree = checker.parsed(
        f"{path}.expression",
        expression,
        expressions.parse_rule,
        _("biểu thức “%(expression)s” sai: %(reason)s"),
        code="package.bad_expression",
        expression=expression,
    )
    if tree is not None:
        checker.operands(f"{path}.expression", tree, known, rule=True)
    return expression


def _check_rule_period_type(checker, path, item) -> str:
    if not item.get("period_type"):
        return ""
    allowed = [t.value for t in PeriodType]
    period_type = checker.choice(item, "period_type", path, allowed, "")
    return period_type


def _check_rule_message(checker, path, item) -> str:
    message = checker.text(item, "message", path)
    if not message:
        return message
    try:
        unknown = message_fields(message) - MESSAGE_FIELDS
    except ValueError:
        checker.error(
            f"{path}.message",
            _(
                "chỉ dùng {left} và {right}, đúng như vậy (dấu ngoặc nhọn cân đối, không "
                "thêm định dạng)."
            ),
            code="package.bad_message",
        )
        return message
    if unknown:
        checker.error(
            f"{path}.message",
            _("chỉ được dùng {left} và {right}, không dùng %(fields)s."),
            code="package.bad_message",
            fields=", ".join("{" + u + "}" for u in sorted(unknown)),
        )
    return message


def apply_section(checked: list[dict], saved: dict, report) -> None:
    """Write the package's rules (one that had left it and comes back is in force again);
    the programme's rules the package no longer has are retired — kept, with their
    findings, but no longer evaluated — never deleted."""
    for rule in checked:
        upsert(
            report,
            "quy tắc kiểm tra",
            ValidationRule,
            {"code": rule["code"]},
            {
                "programme": saved["programme"],
                **{k: v for k, v in rule.items() if k != "code"},
                "active": True,
            },
        )
    gone = saved["programme"].validation_rules.exclude(code__in=[r["code"] for r in checked])
    for rule in gone.filter(active=True).order_by("order", "code"):
        rule.active = False
        rule.save(update_fields=["active"])
        report.gone(str(_("quy tắc kiểm tra")), rule.code, retired=True)
