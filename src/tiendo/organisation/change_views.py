"""Recording a reorganisation of the unit tree from a page: one event, with its legal basis.

The page only reads the form and calls :func:`tiendo.units.changes.record_change`, which
checks the event like a change file, writes it in one transaction and audits it. What the
page adds is who may record (``accounts.scope``: the administrator, or the coordinator of
a province for the units they write) and a version of the unit taken when the form was
opened, so that a form sent twice, or after someone else changed the unit, records nothing.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.organisation.forms import (
    LINK_ROWS,
    MAX_LINK_ROWS,
    ChangeForm,
    link_forms,
    link_row_count,
)
from tiendo.units.changes import Link, UnitChangeRefused, record_change
from tiendo.units.models import ChangeKind, Unit, UnitChange, UnitKind
from tiendo.units.services import UnitNotFound, resolve_unit

PAGE_SOURCE = "thủ công"
NOT_A_SUCCESSOR_KIND = {UnitKind.NATION, UnitKind.AGENCY}


def unit_version(unit: Unit) -> str:
    """A fingerprint of what a change would alter: the unit's own fields and its links."""
    links = sorted(
        UnitChange.objects.filter(Q(predecessor=unit) | Q(successor=unit)).values_list(
            "pk", flat=True
        )
    )
    state = [unit.code, unit.name, unit.kind, unit.parent_id, unit.valid_from, unit.valid_to]
    text = "|".join(str(value) for value in [*state, *links])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@login_required
def change_record(request, pk: int):
    unit = scope.get_unit_or_403(request.user, pk)
    scope.check_record_unit_change(request.user, unit)
    if unit.is_agency:  # agencies are kept on their own page, not by reorganisations
        raise Http404(_("Cơ quan, tổ chức không có sắp xếp đơn vị hành chính."))
    form, rows, count, data = _forms(request, unit)
    errors: list[str] = []
    if data is not None:
        event = _record(request, unit, form, rows, errors)
        if event is not None:
            messages.success(
                request,
                _("Đã ghi nhận %(kind)s ngày %(day)s theo %(act)s.")
                % {
                    "kind": event.get_kind_display().lower(),
                    "day": event.effective_date.strftime("%d/%m/%Y"),
                    "act": event.act.number if event.act else "",
                },
            )
            return redirect("units:history", _unit_after(unit, event).pk)
    context = {
        "unit": unit,
        "form": form,
        "rows": rows,
        "errors": errors,
        "may_add_rows": count < MAX_LINK_ROWS,
    }
    return render(request, "organisation/change_form.html", context, status=400 if errors else 200)


def _forms(request, unit: Unit):
    """The event's form and its rows of links, and the data to record (None: only show)."""
    data = request.POST if request.method == "POST" else None
    unit_kinds = [(k.value, k.label) for k in UnitKind if k not in NOT_A_SUCCESSOR_KIND]
    count = link_row_count((data or request.GET).get("dong"))
    kinds = list(ChangeKind.choices)
    if data is not None and "them_dong" in data:  # more rows: show what was typed, unchecked
        count = link_row_count(count + LINK_ROWS)
        form = ChangeForm(None, kinds=kinds, initial=data.dict())
        return form, link_forms(unit_kinds=unit_kinds, count=count, shown=data), count, None
    initial = {"version": unit_version(unit), "kind": ChangeKind.MERGE}
    form = ChangeForm(data, kinds=kinds, initial=initial)
    rows = link_forms(data, unit_kinds=unit_kinds, first_code=unit.code, count=count)
    return form, rows, count, data


def _record(request, unit: Unit, form: ChangeForm, rows, errors: list[str]):
    """The event written, or None with the reasons in ``errors`` (and beside the fields)."""
    valid = form.is_valid() & all([row.is_valid() for row in rows])
    filled = [(number, row) for number, row in enumerate(rows) if valid and not row.is_blank]
    if valid and not filled:
        errors.append(_("Hãy nhập ít nhất một dòng đơn vị cũ → đơn vị mới."))
    if not valid or not filled:
        errors.extend(_field_errors(form, rows))
        return None
    if form.cleaned_data["version"] != unit_version(unit):
        errors.append(
            _(
                "Đơn vị %(name)s đã thay đổi từ khi bạn mở trang này (có thể thay đổi vừa được "
                "ghi). Hãy xem lại lịch sử đơn vị trước khi ghi lần nữa."
            )
            % {"name": unit.name}
        )
        return None
    data = form.cleaned_data
    if not _within_scope(request.user, data["effective"], filled, errors):
        return None
    try:
        return record_change(
            kind=data["kind"],
            effective=data["effective"],
            act={
                "number": data["act_number"].strip(),
                "signed_on": data["act_signed_on"],
                "issuer": data["act_issuer"].strip(),
                "title": data["act_title"].strip(),
            },
            links=[_link(row.cleaned_data) for _, row in filled],
            actor=request.user,
            note=data["note"].strip(),
            source=PAGE_SOURCE,
        )
    except UnitChangeRefused as refusal:
        errors.extend(_refusal_lines(refusal, filled))
        return None


def _link(row: dict) -> Link:
    share = row.get("share")
    return Link(
        from_code=row["from_code"].strip(),
        from_name=row["from_name"].strip(),
        to_code=row["to_code"].strip(),
        to_name=row["to_name"].strip(),
        to_kind=row["to_kind"],
        to_parent=row["to_parent"].strip(),
        share=None if share is None else share / 100,
        note=row["note"].strip(),
    )


def _within_scope(user, effective, filled, errors: list[str]) -> bool:
    """Every unit a row names — the unit that ends, the one it goes into, the new parent —
    must be one the user may change (a unit not found is left to the change rules, which
    name it)."""
    before = effective - timedelta(days=1)
    for number, row in filled:
        for code, day in (
            (row.cleaned_data["from_code"], before),
            (row.cleaned_data["to_code"], effective),
            (row.cleaned_data["to_parent"], effective),
        ):
            named = _unit_or_none(code, day)
            if named is not None and not scope.may_record_unit_change(user, named):
                errors.append(
                    _("Dòng %(row)s: bạn không được thay đổi đơn vị %(name)s (mã %(code)s).")
                    % {"row": number + 1, "name": named.name, "code": named.code}
                )
    return not errors


def _unit_or_none(code: str, day) -> Unit | None:
    code = (code or "").strip()
    if not code:
        return None
    try:
        return resolve_unit(code, day)
    except UnitNotFound:
        return None


def _field_errors(form, rows) -> list[str]:
    """The form's errors as sentences for the list at the top (each names its field)."""
    lines = [str(e) for errors in form.errors.values() for e in errors]
    for number, row in enumerate(rows):
        for errors in row.errors.values():
            lines += [
                _("Dòng %(row)s: %(error)s") % {"row": number + 1, "error": e} for e in errors
            ]
    return lines


def _refusal_lines(refusal: UnitChangeRefused, filled) -> list[str]:
    """The rules the event breaks, each with the page's row number when it has one."""
    page_rows = [number + 1 for number, _row in filled]
    lines = []
    for problem in getattr(refusal, "problems", None) or [refusal]:
        row = getattr(problem, "row", None)
        message = str(getattr(problem, "message", problem))
        if isinstance(row, int) and 1 <= row <= len(page_rows):
            message = _("Dòng %(row)s: %(error)s") % {"row": page_rows[row - 1], "error": message}
        lines.append(message)
    return lines


def _unit_after(unit: Unit, event) -> Unit:
    """Where to go once the event is written: the unit's successor in it, else the unit."""
    link = event.links.filter(predecessor=unit).select_related("successor").first()
    return link.successor if link else unit
