"""Who may take part in a component, and who may borrow under it: the ``eligibility:``
section of a programme's package, checked against the register.

Seed 000 (the summary report on Resolutions 04 and 05) names what kept households out:
"some households registered to borrow, but their orange land is not in the commune of
their permanent residence, so they could not reach the Resolution's loans". A province
states such conditions in its package, per component, from a small closed set of kinds::

    eligibility:
      - component: VAY_VON
        rules:
          - rule: land_in_residence_commune
            message: Đất trồng cam phải nằm trong xã nơi hộ đăng ký thường trú.
          - rule: poverty_level_in
            levels: [poor, near_poor]
            year: record
          - rule: max_loan
            amount: 100
          - rule: head_age
            min: 18
            max: 70

The kinds (:data:`KINDS`):

- ``land_in_residence_commune``: every plot of the household for the component (else for
  its programme, else any plot) lies in the household's residence commune;
- ``poverty_level_in``: the household's poverty classification in ``year`` is one of
  ``levels`` (``poor``, ``near_poor``, ``escaped``, ``none``); ``year`` is ``record`` (the
  year of the enrolment or of the loan's disbursement, the default) or a year;
- ``max_loan``: a loan of the component is at most ``amount`` triệu đồng (enrolments are
  not concerned);
- ``head_age``: the head's age in the record's year is at least ``min`` and at most
  ``max`` (either may be left out).

``message`` (optional) is what a page shows instead of the rule's own explanation. An
unknown kind, a key a kind does not take or a bad value is refused when the package is
loaded, with the key path (``eligibility[0].rules[1].levels``), in Vietnamese; a rule the
package no longer has is retired, never deleted.

The rules are checked against the enrolments and loans of a component
(:func:`check_record`, :func:`evaluate_household`); :func:`failing_households` lists the
households of a unit that fail one, with the reason — for an officer to correct the
record or explain it, never to refuse anything automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_number
from tiendo.households.models import (
    EligibilityRule,
    Enrolment,
    Household,
    Loan,
    Plot,
    PovertyLevel,
)
from tiendo.programmes.metadata import upsert
from tiendo.units.models import Level
from tiendo.units.services import current_successors

LAND = "land_in_residence_commune"
POVERTY = "poverty_level_in"
MAX_LOAN = "max_loan"
HEAD_AGE = "head_age"
KINDS = (LAND, POVERTY, MAX_LOAN, HEAD_AGE)
RECORD_YEAR = "record"
MESSAGE_MAX = 400


# --- the package section ------------------------------------------------------------------


def check_section(items, checker, plan) -> list[dict]:
    """Check the ``eligibility:`` items of a package (see ``programmes.metadata``)."""
    components = {c["code"] for c in plan.get("components", []) if c.get("code")}
    checked, seen = [], set()
    for path, item in items:
        code = checker.reference(item, "component", path)
        if code:
            checker.once(
                seen,
                code,
                f"{path}.component",
                _("nội dung “%(value)s” đã có điều kiện ở mục trước; gộp các điều kiện vào một."),
            )
            if code not in components:
                checker.error(
                    f"{path}.component",
                    _("không có nội dung “%(value)s” trong mục components của gói."),
                    code="package.unknown_component",
                    value=code,
                )
        rules = item.get("rules")
        if not isinstance(rules, list) or not rules:
            checker.error(
                f"{path}.rules",
                _("phải là một danh sách điều kiện (ít nhất một)."),
                code="package.not_list",
            )
            rules = []
        checked.append(
            {
                "component": code,
                "rules": [
                    _check_rule(
                        checker, f"{path}.rules[{i}]", checker.mapping(rule, f"{path}.rules[{i}]")
                    )
                    for i, rule in enumerate(rules)
                ],
            }
        )
    return checked


def _check_rule(checker, path: str, rule: dict) -> dict:
    if not rule:
        return {}
    kind = checker.choice(rule, "rule", path, KINDS, "")
    params: dict = {}
    if kind == POVERTY:
        params["levels"] = _levels(checker, path, rule)
        year = rule.get("year", RECORD_YEAR)
        if year == RECORD_YEAR:
            params["year"] = RECORD_YEAR
        else:
            params["year"] = checker.whole(rule, "year", path, 0, 2000, 2100)
    elif kind == MAX_LOAN:
        amount = checker.number(rule, "amount", path)
        if amount is not None and amount <= 0:
            checker.error(
                f"{path}.amount",
                _("phải là một số lớn hơn 0 (triệu đồng)."),
                code="package.bad_number",
            )
        params["amount"] = str(amount) if amount is not None else ""
    elif kind == HEAD_AGE:
        if rule.get("min") is None and rule.get("max") is None:
            checker.error(path, _("cần ít nhất một trong min, max (tuổi)."), code="package.missing")
        for key in ("min", "max"):
            if rule.get(key) is not None:
                params[key] = checker.whole(rule, key, path, 0, 0, 150)
        low, high = params.get("min"), params.get("max")
        if low is not None and high is not None and low > high:
            checker.error(
                f"{path}.max", _("phải lớn hơn hoặc bằng min."), code="package.bad_number"
            )
    message = checker.text(rule, "message", path, required=False, max_length=MESSAGE_MAX)
    return {"kind": kind, "params": params, "message": message}


def _levels(checker, path: str, rule: dict) -> list[str]:
    levels = rule.get("levels")
    if not isinstance(levels, list) or not levels:
        checker.error(
            f"{path}.levels",
            _("phải là một danh sách phân loại: %(allowed)s."),
            code="package.not_list",
            allowed=", ".join(PovertyLevel.values),
        )
        return []
    for i, level in enumerate(levels):
        if level not in PovertyLevel.values:
            checker.error(
                f"{path}.levels[{i}]",
                _("“%(value)s” không hợp lệ; chọn một trong: %(allowed)s."),
                code="package.bad_choice",
                value=str(level)[:40],
                allowed=", ".join(PovertyLevel.values),
            )
    return [str(level) for level in levels]


def apply_section(checked: list[dict], saved: dict, report) -> None:
    """Write the package's rules; the programme's rules it no longer has are retired."""
    kind = str(_("điều kiện tham gia"))
    kept = []
    for item in checked:
        component = saved["components"][item["component"]]
        for order, rule in enumerate(item["rules"]):
            obj = upsert(
                report,
                kind,
                EligibilityRule,
                {"component": component, "order": order},
                {**rule, "active": True},
            )
            kept.append(obj.pk)
    gone = EligibilityRule.objects.filter(
        component__programme=saved["programme"], active=True
    ).exclude(pk__in=kept)
    for rule in gone.select_related("component").order_by("component__code", "order"):
        rule.active = False
        rule.save(update_fields=["active"])
        report.gone(kind, f"{rule.component.code}[{rule.order}] {rule.kind}", retired=True)


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    household: Household
    record: Enrolment | Loan
    rule: EligibilityRule
    reason: str  # what the check found, in the language of the request

    @property
    def message(self) -> str:
        """The package's wording if it gave one, followed by what was found."""
        if self.rule.message:
            return f"{self.rule.message} ({self.reason})"
        return self.reason

    @property
    def record_kind(self) -> str:
        return "loan" if isinstance(self.record, Loan) else "enrolment"


def _record_year(record) -> int:
    return (record.disbursed_on if isinstance(record, Loan) else record.enrolled_on).year


def _check_land(household, record, rule) -> str | None:
    plots = list(household.plots.all())
    relevant = (
        [p for p in plots if p.component_id == record.component_id]
        or [p for p in plots if p.programme_id == record.programme_id]
        or plots
    )
    day = record.disbursed_on if isinstance(record, Loan) else record.enrolled_on
    outside = [p for p in relevant if not _same_commune(p.land_unit, household.unit, day)]
    if not outside:
        return None
    return "; ".join(
        _t("thửa %(crop)s %(area)s ha ở %(land)s, ngoài xã nơi cư trú (%(home)s)")
        % {
            "crop": p.crop,
            "area": format_number(p.area_ha),
            "land": p.land_unit.name,
            "home": household.unit.name,
        }
        for p in outside
    )


def _same_commune(land, home, day) -> bool:
    """Whether a plot's commune is the residence commune on ``day`` (the record's date),
    through the reorganisations: each is taken as the commune it is, or became, on that day
    (a commune merged into another lies in it; a household of a commune that merged with its
    neighbour lives, after the merger, in the commune that holds both). A plot recorded
    under a commune of a later tree than the record's date is compared on the day that
    commune began."""
    if land.pk == home.pk:
        return True
    days = {day}
    begun = max(land.valid_from or day, home.valid_from or day)
    if begun > day:
        days.add(begun)
    return any(_communes_on(land, d) & _communes_on(home, d) for d in days)


def _communes_on(unit, day) -> set[int]:
    """The communes ``unit`` is or became on ``day`` (never its district or province)."""
    return {u.pk for u in current_successors(unit, day) if u.level == Level.COMMUNE}


def _check_poverty(household, record, rule) -> str | None:
    year = rule.params.get("year", RECORD_YEAR)
    year = _record_year(record) if year == RECORD_YEAR else int(year)
    levels = rule.params.get("levels") or []
    status = next((s for s in household.poverty.all() if s.year == year), None)
    wanted = ", ".join(str(PovertyLevel(level).label).lower() for level in levels)
    if status is None:
        return _t("chưa có kết quả rà soát hộ nghèo năm %(year)s (cần: %(wanted)s)") % {
            "year": year,
            "wanted": wanted,
        }
    if status.level in levels:
        return None
    return _t("năm %(year)s hộ là “%(level)s” (cần: %(wanted)s)") % {
        "year": year,
        "level": status.get_level_display().lower(),
        "wanted": wanted,
    }


def _check_max_loan(household, record, rule) -> str | None:
    if not isinstance(record, Loan):
        return None
    cap = Decimal(rule.params["amount"])
    if record.amount <= cap:
        return None
    return _t("khoản vay %(amount)s triệu đồng, vượt mức tối đa %(cap)s triệu đồng") % {
        "amount": format_number(record.amount),
        "cap": format_number(cap),
    }


def _check_head_age(household, record, rule) -> str | None:
    age = _record_year(record) - household.head_birth_year
    low, high = rule.params.get("min"), rule.params.get("max")
    if (low is None or age >= low) and (high is None or age <= high):
        return None
    return _t("chủ hộ %(age)s tuổi năm %(year)s (cần từ %(low)s đến %(high)s tuổi)") % {
        "age": age,
        "year": _record_year(record),
        "low": low if low is not None else 0,
        "high": high if high is not None else "…",
    }


CHECKS = {
    LAND: _check_land,
    POVERTY: _check_poverty,
    MAX_LOAN: _check_max_loan,
    HEAD_AGE: _check_head_age,
}


def rules_by_component(component_ids=None) -> dict[int, list[EligibilityRule]]:
    rules = EligibilityRule.objects.filter(active=True).select_related("component")
    if component_ids is not None:
        rules = rules.filter(component_id__in=set(component_ids))
    found: dict[int, list[EligibilityRule]] = {}
    for rule in rules.order_by("component_id", "order"):
        found.setdefault(rule.component_id, []).append(rule)
    return found


def check_record(record, household: Household, rules: list[EligibilityRule]) -> list[Failure]:
    """The rules of ``record``'s component that ``record`` (an enrolment or a loan of
    ``household``) fails."""
    failures = []
    for rule in rules:
        check = CHECKS.get(rule.kind)
        reason = check(household, record, rule) if check else None
        if reason:
            failures.append(Failure(household, record, rule, reason))
    return failures


def _prefetched(households):
    return households.select_related("unit").prefetch_related(
        "poverty",
        Prefetch("plots", queryset=Plot.objects.select_related("land_unit")),
        Prefetch("enrolments", queryset=Enrolment.objects.select_related("programme", "component")),
        Prefetch("loans", queryset=Loan.objects.select_related("programme", "component")),
    )


def _failures(household: Household, rules: dict[int, list[EligibilityRule]]) -> list[Failure]:
    failures = []
    for record in [*household.enrolments.all(), *household.loans.all()]:
        if record.component_id in rules:
            failures += check_record(record, household, rules[record.component_id])
    return failures


def evaluate_household(household: Household) -> list[Failure]:
    """Every rule an enrolment or a loan of ``household`` fails."""
    household = _prefetched(Household.objects.filter(pk=household.pk)).get()
    components = {r.component_id for r in [*household.enrolments.all(), *household.loans.all()]}
    return _failures(household, rules_by_component(components))


def evaluate(record) -> list[Failure]:
    """The rules one enrolment or loan fails."""
    household = _prefetched(Household.objects.filter(pk=record.household_id)).get()
    return check_record(
        record, household, rules_by_component([record.component_id]).get(record.component_id, [])
    )


def failing_households(units, *, programme=None) -> list[tuple[Household, list[Failure]]]:
    """The households (not removed) of ``units`` and below with an enrolment or a loan that
    fails a rule of its component, with the failures; ``programme`` narrows to one."""
    rules = rules_by_component()
    if programme is not None:
        rules = {k: v for k, v in rules.items() if v[0].component.programme_id == programme.pk}
    if not rules:
        return []
    households = (
        Household.objects.active()
        .in_units(units)
        .filter(Q(enrolments__component_id__in=rules) | Q(loans__component_id__in=rules))
    )
    found = []
    for household in _prefetched(households.distinct().order_by("unit__code", "code")):
        failures = _failures(household, rules)
        if failures:
            found.append((household, failures))
    return found
