"""Who does what in the NTM programme: criteria assigned to agencies, communes sponsored.

An :class:`~tiendo.ntm.models.Assignment` (phân công) gives a criterion of a set — or one
of its indicators — to an agency as responsible (chủ trì) or coordinating (phối hợp), by a
provincial decision, for a period, over an area (the province whose communes it covers).
A :class:`~tiendo.ntm.models.Sponsorship` (đỡ đầu) ties an agency to a commune it
sponsors, by a decision, with the decision that set up the agency's working group.

Both arrive two ways:

* in a metadata package, sections ``ntm_assignments:`` and ``ntm_sponsorships:``
  (registered in ``ntm/apps.py``), checked whole with the package — every key known,
  every unit, set and criterion found, the area inside the programme's owner — and
  written with its difference::

      ntm_assignments:
        - agency: 45.LMHTX                          # an agency unit (or the package's own)
          criterion: {set: XA-2016-2020, number: 13}
          indicator: "13.1"                         # optional: one indicator only
          role: coordinating                        # responsible | coordinating
          area: "45"                                # the province
          decision: 1763/QĐ-UBND
          decision_date: 2017-06-28
          valid_from: 2017-06-28
          valid_to: 2020-12-31                      # optional
      ntm_sponsorships:
        - agency: 45.LMHTX
          commune: "19441"                          # resolved as on valid_from
          decision: 1841/QĐ-UBND
          decision_date: 2020-07-14
          working_group: 225/QĐ-LMHTX               # optional
          working_group_date: 2020-11-06
          valid_from: 2020-07-14
          illustrative: true                        # a demo record, not an official one

* one by one, by a coordinator, through :func:`record_assignment`,
  :func:`end_assignment`, :func:`record_sponsorship` and :func:`end_sponsorship` — each
  checked, written in a transaction and audited.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date
from tiendo.ntm.models import (
    Assignment,
    AssignmentRole,
    CriteriaSet,
    Criterion,
    CriterionIndicator,
    Sponsorship,
)
from tiendo.units.models import Level, Unit, UnitKind


class AgencyTaskError(TiendoError):
    code = "ntm.agency"


# --- queries ------------------------------------------------------------------------------


def _overlapping(qs: QuerySet, start: date, end: date) -> QuerySet:
    return qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start), valid_from__lte=end)


def assignments_during(start: date, end: date) -> QuerySet[Assignment]:
    """Assignments in force on at least one day from ``start`` to ``end``."""
    return _overlapping(Assignment.objects.all(), start, end).select_related(
        "agency", "area", "criterion__criteria_set", "indicator"
    )


def sponsorships_during(start: date, end: date) -> QuerySet[Sponsorship]:
    return _overlapping(Sponsorship.objects.all(), start, end).select_related(
        "agency", "commune__parent"
    )


def year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


# --- checks shared by the package sections and the services -----------------------------


def _agency_problem(unit: Unit | None):
    if unit is not None and unit.kind != UnitKind.AGENCY:
        return _("“%(unit)s” không phải là cơ quan, tổ chức.")
    return None


def _span_problem(valid_from: date | None, valid_to: date | None):
    if valid_from and valid_to and valid_to < valid_from:
        return _("ngày kết thúc %(end)s trước ngày bắt đầu %(start)s.")
    return None


def _set_period_problem(criteria_set: CriteriaSet, valid_from: date, valid_to: date | None):
    """An assignment must fall (at least partly) in the years its set applies."""
    if valid_from and criteria_set.valid_to and valid_from > criteria_set.valid_to:
        return _("bộ tiêu chí “%(set)s” chỉ áp dụng đến %(set_end)s.")
    if valid_to and valid_to < criteria_set.valid_from:
        return _("bộ tiêu chí “%(set)s” chỉ áp dụng từ %(set_start)s.")
    return None


def _set_params(criteria_set: CriteriaSet) -> dict:
    return {
        "set": criteria_set.code,
        "set_start": format_date(criteria_set.valid_from),
        "set_end": format_date(criteria_set.valid_to),
    }


def _commune_problem(commune: Unit | None):
    if commune is not None and (commune.level != Level.COMMUNE or commune.is_agency):
        return _("“%(unit)s” không phải là đơn vị cấp xã.")
    return None


def _in_area(unit: Unit | dict, area: Unit) -> bool:
    """``unit`` (or an agency a package declares: a mapping with its ``parent``) lies in
    ``area``."""
    if isinstance(unit, dict):
        parent = unit.get("parent")
        return parent is not None and parent.is_within(area)
    return unit.is_within(area)


# --- package sections -----------------------------------------------------------------------

_ROLES = [r.value for r in AssignmentRole]


def _owner_roots(plan: dict) -> list[Unit]:
    owner = (plan.get("programme") or {}).get("owner")
    return [owner] if isinstance(owner, Unit) else []


def _package_agency(c, item: dict, path: str, plan: dict, on: date | None):
    """The agency an item names: one the package declares (its mapping, written before
    this section) or a unit of the tree; ``None`` with the problem noted."""
    declared = {a["code"]: a for a in plan.get("agencies") or []}
    code = c.reference(item, "agency", path)
    if not code:
        return None
    if code in declared:
        return declared[code]
    unit = c.unit(item, "agency", path, on)
    problem = _agency_problem(unit)
    if problem:
        c.error(f"{path}.agency", problem, code="package.ntm_not_agency", unit=unit.name)
        return None
    return unit


def _agency_code(agency) -> str:
    return agency["code"] if isinstance(agency, dict) else agency.code


def _check_area(c, path: str, key: str, unit: Unit | None, roots: list[Unit]) -> None:
    if unit is None or not roots:
        return
    if not any(unit.is_within(root) for root in roots):
        c.error(
            f"{path}.{key}",
            _("“%(unit)s” nằm ngoài địa bàn của chương trình (%(owner)s)."),
            code="package.outside_scope",
            unit=unit.name,
            owner=", ".join(r.name for r in roots),
        )


def _criterion_of(c, item: dict, path: str) -> Criterion | None:
    """``criterion: {set: XA-2016-2020, number: 13}``: the criterion, found."""
    raw = item.get("criterion")
    key = f"{path}.criterion"
    if raw is None:
        c.error(key, _("thiếu (bắt buộc)."), code="package.missing")
        return None
    ref = c.mapping(raw, key)
    if not ref:
        return None
    set_code = c.reference(ref, "set", key)
    number = c.whole(ref, "number", key, 0, 1, 99)
    if not set_code or not number:
        return None
    criteria_set = CriteriaSet.objects.filter(code=set_code).first()
    if criteria_set is None:
        c.error(
            f"{key}.set",
            _("không có bộ tiêu chí “%(value)s” (nạp gói bộ tiêu chí trước)."),
            code="package.ntm_unknown_set",
            value=set_code,
        )
        return None
    criterion = criteria_set.criteria.filter(number=number).first()
    if criterion is None:
        c.error(
            f"{key}.number",
            _("bộ tiêu chí “%(set)s” không có tiêu chí số %(number)s."),
            code="package.ntm_unknown_criterion",
            set=set_code,
            number=number,
        )
    return criterion


def check_assignments(items, c, plan) -> list[dict]:
    """Check the ``ntm_assignments:`` items of a package; nothing is written."""
    roots = _owner_roots(plan)
    checked, seen = [], set()
    for path, item in items:
        valid_from = c.day(item, "valid_from", path)
        valid_to = c.day(item, "valid_to", path, required=False)
        decision = c.text(item, "decision", path, max_length=80)
        decision_date = c.day(item, "decision_date", path)
        role = c.choice(item, "role", path, _ROLES, None)
        agency = _package_agency(c, item, path, plan, valid_from)
        area = c.unit(item, "area", path, valid_from)
        criterion = _criterion_of(c, item, path)
        indicator_code = c.text(item, "indicator", path, required=False, max_length=20)
        indicator = None
        if area is not None and area.level != Level.PROVINCE:
            c.error(
                f"{path}.area",
                _("địa bàn phân công phải là một tỉnh, không phải “%(unit)s”."),
                code="package.ntm_area_not_province",
                unit=area.name,
            )
        _check_area(c, path, "area", area, roots)
        if agency is not None and area is not None and not _in_area(agency, area):
            c.error(
                f"{path}.agency",
                _("cơ quan “%(agency)s” không thuộc địa bàn “%(area)s”."),
                code="package.ntm_agency_outside_area",
                agency=_agency_code(agency),
                area=area.name,
            )
        problem = _span_problem(valid_from, valid_to)
        if problem:
            c.error(
                f"{path}.valid_to",
                problem,
                code="package.bad_validity",
                start=format_date(valid_from),
                end=format_date(valid_to),
            )
        if criterion is not None:
            cs = criterion.criteria_set
            problem = valid_from and _set_period_problem(cs, valid_from, valid_to)
            if problem:
                c.error(
                    f"{path}.valid_from", problem, code="package.ntm_set_period", **_set_params(cs)
                )
            if indicator_code:
                indicator = criterion.indicators.filter(code=indicator_code).first()
                if indicator is None:
                    c.error(
                        f"{path}.indicator",
                        _("tiêu chí số %(number)s không có chỉ tiêu “%(value)s”."),
                        code="package.ntm_unknown_indicator",
                        number=criterion.number,
                        value=indicator_code,
                    )
        if agency is not None and criterion is not None:
            key = (_agency_code(agency), criterion.pk, indicator_code, role, decision)
            c.once(
                seen,
                key,
                path,
                _(
                    "phân công này đã khai báo ở trên (cùng cơ quan, tiêu chí, vai trò, quyết định)."
                ),
            )
        checked.append(
            {
                "agency": agency,
                "criterion": criterion,
                "indicator": indicator,
                "role": role,
                "area": area,
                "decision_number": decision,
                "decision_date": decision_date,
                "valid_from": valid_from,
                "valid_to": valid_to,
            }
        )
    return checked


def _saved_agency(agency, saved: dict) -> Unit:
    if isinstance(agency, dict):  # an agency this package declares, written before
        return saved["agencies"][agency["code"]]
    return agency


def apply_assignments(checked: list[dict], saved: dict, report) -> None:
    from tiendo.programmes.metadata import upsert  # noqa: PLC0415

    for a in checked:
        upsert(
            report,
            str(_("phân công tiêu chí")),
            Assignment,
            {
                "agency": _saved_agency(a["agency"], saved),
                "criterion": a["criterion"],
                "indicator": a["indicator"],
                "role": a["role"],
                "decision_number": a["decision_number"],
            },
            {
                "area": a["area"],
                "decision_date": a["decision_date"],
                "valid_from": a["valid_from"],
                "valid_to": a["valid_to"],
            },
        )


def check_sponsorships(items, c, plan) -> list[dict]:
    """Check the ``ntm_sponsorships:`` items of a package; nothing is written."""
    roots = _owner_roots(plan)
    checked, seen = [], set()
    for path, item in items:
        valid_from = c.day(item, "valid_from", path)
        valid_to = c.day(item, "valid_to", path, required=False)
        decision = c.text(item, "decision", path, max_length=80)
        decision_date = c.day(item, "decision_date", path)
        group = c.text(item, "working_group", path, required=False, max_length=80)
        group_date = c.day(item, "working_group_date", path, required=bool(group))
        illustrative = item.get("illustrative", False)
        if not isinstance(illustrative, bool):
            c.error(
                f"{path}.illustrative",
                _("phải là true hoặc false."),
                code="package.not_boolean",
            )
            illustrative = False
        agency = _package_agency(c, item, path, plan, valid_from)
        commune = c.unit(item, "commune", path, valid_from)
        problem = _commune_problem(commune)
        if problem:
            c.error(f"{path}.commune", problem, code="package.ntm_not_commune", unit=commune.name)
            commune = None
        _check_area(c, path, "commune", commune, roots)
        if commune is not None and valid_from and not commune.is_valid_on(valid_from):
            c.error(
                f"{path}.commune",
                _("xã “%(unit)s” không còn tồn tại ngày %(day)s."),
                code="package.ntm_commune_period",
                unit=commune.name,
                day=format_date(valid_from),
            )
        problem = _span_problem(valid_from, valid_to)
        if problem:
            c.error(
                f"{path}.valid_to",
                problem,
                code="package.bad_validity",
                start=format_date(valid_from),
                end=format_date(valid_to),
            )
        if agency is not None and commune is not None:
            c.once(
                seen,
                (_agency_code(agency), commune.pk, decision),
                path,
                _("xã này đã được khai báo đỡ đầu ở trên theo cùng quyết định."),
            )
        checked.append(
            {
                "agency": agency,
                "commune": commune,
                "decision_number": decision,
                "decision_date": decision_date,
                "working_group_number": group,
                "working_group_date": group_date,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "illustrative": illustrative,
            }
        )
    return checked


def apply_sponsorships(checked: list[dict], saved: dict, report) -> None:
    from tiendo.programmes.metadata import upsert  # noqa: PLC0415

    for s in checked:
        upsert(
            report,
            str(_("đỡ đầu xây dựng nông thôn mới")),
            Sponsorship,
            {
                "agency": _saved_agency(s["agency"], saved),
                "commune": s["commune"],
                "decision_number": s["decision_number"],
            },
            {k: s[k] for k in s if k not in {"agency", "commune", "decision_number"}},
        )


# --- services: one record at a time, by a coordinator ---------------------------------------


def province_of(record) -> Unit:
    """The province whose coordinator manages an assignment or a sponsorship."""
    if isinstance(record, Assignment):
        return record.area
    commune = record.commune
    return next((u for u in commune.ancestors() if u.level == Level.PROVINCE), commune)


def _may_manage(user, area: Unit) -> None:
    from tiendo.accounts.scope import may_manage_ntm_tasks  # noqa: PLC0415

    if not may_manage_ntm_tasks(user, area):
        raise AgencyTaskError(
            _("Chỉ văn phòng điều phối của %(area)s được ghi phân công và đỡ đầu."),
            code="ntm.agency.forbidden",
            area=area.name,
        )


def _raise(problem, code: str, **params):
    if problem:
        raise AgencyTaskError(problem, code=code, **params)


def record_assignment(
    user,
    *,
    agency: Unit,
    criterion: Criterion,
    role: str,
    area: Unit,
    decision_number: str,
    decision_date: date,
    valid_from: date,
    valid_to: date | None = None,
    indicator: CriterionIndicator | None = None,
) -> Assignment:
    """Record that ``agency`` is responsible for (or coordinates) ``criterion`` — or one of
    its indicators — over ``area`` from ``valid_from``, by decision ``decision_number``."""
    _may_manage(user, area)
    _raise(_agency_problem(agency), "ntm.agency.not_agency", unit=agency.name)
    if role not in _ROLES:
        raise AgencyTaskError(
            _("Vai trò “%(value)s” không hợp lệ."), code="ntm.agency.role", value=role
        )
    if area.level != Level.PROVINCE:
        raise AgencyTaskError(
            _("Địa bàn phân công phải là một tỉnh, không phải “%(unit)s”."),
            code="ntm.agency.area",
            unit=area.name,
        )
    if not agency.is_within(area):
        raise AgencyTaskError(
            _("Cơ quan “%(agency)s” không thuộc địa bàn “%(area)s”."),
            code="ntm.agency.outside_area",
            agency=agency.name,
            area=area.name,
        )
    if indicator is not None and indicator.criterion_id != criterion.pk:
        raise AgencyTaskError(
            _("Chỉ tiêu %(indicator)s không thuộc tiêu chí số %(number)s."),
            code="ntm.agency.indicator",
            indicator=indicator.code,
            number=criterion.number,
        )
    decision_number = (decision_number or "").strip()
    if not decision_number:
        raise AgencyTaskError(_("Thiếu số quyết định."), code="ntm.agency.decision")
    _raise(
        _span_problem(valid_from, valid_to),
        "ntm.agency.span",
        start=format_date(valid_from),
        end=format_date(valid_to),
    )
    cs = criterion.criteria_set
    _raise(
        _set_period_problem(cs, valid_from, valid_to), "ntm.agency.set_period", **_set_params(cs)
    )
    with transaction.atomic():
        if Assignment.objects.filter(
            agency=agency,
            criterion=criterion,
            indicator=indicator,
            role=role,
            decision_number=decision_number,
        ).exists():
            raise AgencyTaskError(
                _("Phân công này đã được ghi theo quyết định %(decision)s."),
                code="ntm.agency.twice",
                decision=decision_number,
            )
        assignment = Assignment.objects.create(
            agency=agency,
            criterion=criterion,
            indicator=indicator,
            role=role,
            area=area,
            decision_number=decision_number,
            decision_date=decision_date,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        _audit(
            user,
            agency,
            assignment,
            action="ntm.assignment_recorded",
            criterion=criterion.number,
            set=cs.code,
            role=str(AssignmentRole(role).label),
            decision=decision_number,
        )
    return assignment


def end_assignment(user, assignment: Assignment, on: date) -> Assignment:
    """The assignment ends on ``on`` (its last day)."""
    return _end(user, Assignment, assignment, on, action="ntm.assignment_ended")


def record_sponsorship(
    user,
    *,
    agency: Unit,
    commune: Unit,
    decision_number: str,
    decision_date: date,
    valid_from: date,
    valid_to: date | None = None,
    working_group_number: str = "",
    working_group_date: date | None = None,
    illustrative: bool = False,
) -> Sponsorship:
    """Record that ``agency`` sponsors ``commune`` from ``valid_from`` by decision
    ``decision_number``, with its working group's decision."""
    province = next((u for u in commune.ancestors() if u.level == Level.PROVINCE), None)
    _may_manage(user, province or commune)
    _raise(_agency_problem(agency), "ntm.agency.not_agency", unit=agency.name)
    _raise(_commune_problem(commune), "ntm.agency.not_commune", unit=commune.name)
    decision_number = (decision_number or "").strip()
    if not decision_number:
        raise AgencyTaskError(_("Thiếu số quyết định."), code="ntm.agency.decision")
    _raise(
        _span_problem(valid_from, valid_to),
        "ntm.agency.span",
        start=format_date(valid_from),
        end=format_date(valid_to),
    )
    if not commune.is_valid_on(valid_from):
        raise AgencyTaskError(
            _("Xã “%(unit)s” không tồn tại ngày %(day)s."),
            code="ntm.agency.commune_period",
            unit=commune.name,
            day=format_date(valid_from),
        )
    if working_group_number and working_group_date is None:
        raise AgencyTaskError(
            _("Thiếu ngày của quyết định thành lập tổ công tác %(decision)s."),
            code="ntm.agency.working_group_date",
            decision=working_group_number,
        )
    with transaction.atomic():
        if Sponsorship.objects.filter(
            agency=agency, commune=commune, decision_number=decision_number
        ).exists():
            raise AgencyTaskError(
                _("Việc đỡ đầu xã này đã được ghi theo quyết định %(decision)s."),
                code="ntm.agency.twice",
                decision=decision_number,
            )
        sponsorship = Sponsorship.objects.create(
            agency=agency,
            commune=commune,
            decision_number=decision_number,
            decision_date=decision_date,
            working_group_number=working_group_number.strip(),
            working_group_date=working_group_date,
            valid_from=valid_from,
            valid_to=valid_to,
            illustrative=illustrative,
        )
        _audit(
            user,
            agency,
            sponsorship,
            action="ntm.sponsorship_recorded",
            commune=commune.name,
            decision=decision_number,
        )
    return sponsorship


def end_sponsorship(user, sponsorship: Sponsorship, on: date) -> Sponsorship:
    """The sponsorship ends on ``on`` (its last day)."""
    return _end(user, Sponsorship, sponsorship, on, action="ntm.sponsorship_ended")


def _end(user, model, record, on: date, *, action: str):
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=record.pk)
        _may_manage(user, province_of(locked))
        if locked.valid_to is not None and locked.valid_to <= on:
            raise AgencyTaskError(
                _("Đã kết thúc ngày %(day)s."),
                code="ntm.agency.already_ended",
                day=format_date(locked.valid_to),
            )
        if on < locked.valid_from:
            raise AgencyTaskError(
                _("Ngày kết thúc %(end)s trước ngày bắt đầu %(start)s."),
                code="ntm.agency.span",
                end=format_date(on),
                start=format_date(locked.valid_from),
            )
        locked.valid_to = on
        locked.save(update_fields=["valid_to"])
        _audit(user, locked.agency, locked, action=action, day=on.isoformat())
    return locked


def _audit(user, agency: Unit, obj, *, action: str, **data) -> None:
    from tiendo.core.audit import audit  # noqa: PLC0415

    audit(action, actor=user, unit=agency, obj=obj, agency=agency.name, **data)
