"""Pages of the household register: a unit's list, a household's page, its forms, the
eligibility failures of a unit, the exports and their audit.

Personal data (Decree 13/2023/NĐ-CP): every page answers through
:mod:`tiendo.accounts.scope` — :func:`~tiendo.accounts.scope.check_see_records` for a
unit, :func:`~tiendo.accounts.scope.get_record_or_403` for a household — so a leader and a
user of another unit get a 403 on every page, as on the unit pages. ID numbers are shown
masked (last three digits) except to :func:`~tiendo.accounts.scope.may_see_id_numbers`;
a form never shows a stored number back. Every export is recorded in
:class:`~tiendo.households.models.PersonalDataExport` (who, which filter, how many rows,
with full ID numbers or not); a duplicate in a unit the reader may not see is counted,
never named.

Writes go through :mod:`tiendo.households.services`; a view only parses and calls.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.core import exporters as x
from tiendo.core.formatting import format_date, format_number
from tiendo.core.numbers import to_ascii
from tiendo.core.text import nfc
from tiendo.households import crypto, eligibility, identity, services
from tiendo.households.forms import (
    DAY_FORMATS,
    EnrolmentForm,
    HouseholdForm,
    ListFilter,
    LoanForm,
    MemberForm,
    PlotForm,
    PovertyForm,
    RemoveForm,
    RepaymentForm,
    show_refusal,
)
from tiendo.households.models import (
    Enrolment,
    Household,
    Loan,
    Member,
    PersonalDataExport,
    Plot,
    PovertyLevel,
    PovertyStatus,
    RecordChange,
    Repayment,
)
from tiendo.programmes.models import Programme
from tiendo.units.models import Level

PER_PAGE = 50
MAX_EXPORT_ROWS = 20000
HISTORY_SHOWN = 100


def _households():
    return Household.objects.select_related("unit")


def _today_or(request) -> date:
    raw = (request.GET.get("ngay") or "").strip()[:20]
    for fmt in DAY_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return timezone.localdate()


@login_required
def index(request):
    """The register of the user's own unit."""
    unit = request.user.unit
    if unit is None:
        return redirect("units:list")
    scope.check_see_records(request.user, unit)
    return redirect("households:list", unit.pk)


# --- the list -----------------------------------------------------------------------------


def _filtered(request, unit):
    households = _households().in_units([unit])
    villages = households.exclude(village="").order_by("village").values_list("village", flat=True)
    programmes = Programme.objects.order_by("code")
    form = ListFilter(
        request.GET or None, villages=list(dict.fromkeys(villages)), programmes=programmes
    )
    values = form.values()
    removed = values.get("da_xoa", "")
    if removed == "1":
        households = households.filter(removed_at__isnull=False)
    elif removed != "tat-ca":
        households = households.active()
    query = to_ascii(nfc(values.get("q", "")))
    if query:
        digits = identity.normalise(query)
        where = Q(head_name__icontains=query) | Q(code__iexact=query) | Q(code__istartswith=query)
        if digits.isdigit() and len(digits) == 3:
            where |= Q(head_id_last3=digits)
        elif digits.isdigit() and len(digits) == 12:
            where |= Q(head_id_index=crypto.blind_index(digits))
        households = households.filter(where)
    if values.get("thon"):
        households = households.filter(village=values["thon"])
    if values.get("ngheo"):
        year = values.get("nam") or timezone.localdate().year
        values["nam"] = year
        households = households.filter(poverty__year=year, poverty__level=values["ngheo"])
    if values.get("chuong_trinh"):
        households = households.filter(enrolments__programme__code=values["chuong_trinh"])
    return form, values, households.distinct().order_by("unit__code", "code")


@login_required
def household_list(request, unit_id: int):
    user = request.user
    unit = scope.check_see_records(user, scope.get_unit_or_403(user, unit_id))
    form, values, households = _filtered(request, unit)
    page = Paginator(households, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "unit": unit,
        "form": form,
        "filters": values,
        "page": page,
        "query": query.urlencode(),
        "may_edit": scope.may_edit_records(user, unit),
        # a household lives in a commune: added there; a list of the units above names its
        # communes row by row (an agency has none)
        "may_add": scope.may_edit_records(user, unit) and unit.level == Level.COMMUNE,
        "may_import": scope.may_edit_records(user, unit) and not unit.is_agency,
        "may_audit": scope.may_audit_exports(user, unit),
        "levels": dict(PovertyLevel.choices),
    }
    return render(request, "households/list.html", context)


class ListExport(x.Exporter):
    formats = ("xlsx",)

    def __init__(self, unit, households, *, with_ids: bool, filters: dict):
        self.unit, self.households, self.with_ids, self.filters = (
            unit,
            households,
            with_ids,
            filters,
        )
        self.filename = "danh-sach-ho-" + x.ascii_name(unit.code)
        self.count = 0

    def tables(self):
        year = self.filters.get("nam") or timezone.localdate().year
        header = [
            _("STT"),
            _("Mã hộ"),
            _("Xã nơi cư trú"),
            _("Thôn, bản"),
            _("Họ và tên chủ hộ"),
            _("Năm sinh"),
            _("Giới tính"),
            _("Dân tộc"),
            _("Số căn cước") if self.with_ids else _("Số căn cước (ẩn)"),
            _("Phân loại năm %(year)s") % {"year": year},
            _("Xóa khỏi danh sách"),
        ]
        body = []
        for n, h in enumerate(self.households.prefetch_related("poverty"), start=1):
            level = next((s for s in h.poverty.all() if s.year == year), None)
            body.append(
                x.row(
                    x.number(n),
                    x.text(h.code),
                    x.text(h.unit.name),
                    x.text(h.village),
                    x.text(h.head_name),
                    x.number(h.head_birth_year),
                    x.text(h.get_head_sex_display()),
                    x.text(h.ethnicity),
                    x.text(h.head_id() if self.with_ids else h.head_id_masked),
                    x.text(level.get_level_display() if level else ""),
                    x.text(h.removed_reason if h.removed_at else ""),
                )
            )
        self.count = len(body)
        title = _("Danh sách hộ gia đình — %(unit)s") % {"unit": self.unit.name}
        return [
            x.Table(
                name=str(_("Danh sách hộ")),
                widths=[6, 12, 22, 18, 26, 9, 9, 10, 16, 18, 20],
                title=[x.title_line(title, bold=True)],
                header=[x.row(*(x.text(str(h), bold=True, wrap=True) for h in header))],
                body=body,
                notes=[
                    x.title_line(
                        _(
                            "Dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP): chỉ dùng cho công việc được giao."
                        ),
                        italic=True,
                    )
                ],
                frozen_columns=2,
            )
        ]


def _shown_filters(values: dict) -> dict:
    return {k: (v.code if hasattr(v, "code") else v) for k, v in values.items()}


@login_required
def export_list(request, unit_id: int):
    user = request.user
    unit = scope.check_see_records(user, scope.get_unit_or_403(user, unit_id))
    _form, values, households = _filtered(request, unit)
    count = households.count()
    if count > MAX_EXPORT_ROWS:
        messages.error(
            request,
            _("Danh sách có %(n)s hộ, quá %(limit)s hộ xuất được một lần; hãy lọc bớt.")
            % {"n": count, "limit": MAX_EXPORT_ROWS},
        )
        return redirect(f"{_list_url(unit)}?{request.GET.urlencode()}")
    with_ids = scope.may_see_id_numbers(user, unit)
    exporter = ListExport(unit, households, with_ids=with_ids, filters=values)
    response = exporter.response("xlsx")
    PersonalDataExport.objects.create(
        exported_by=user,
        unit=unit,
        kind="list",
        filters=_shown_filters(values),
        rows=exporter.count,
        with_id_numbers=with_ids,
    )
    response["Cache-Control"] = "no-store"
    return response


# --- one household ------------------------------------------------------------------------


def _get(request, pk, *, write=False) -> Household:
    return scope.get_record_or_403(request.user, pk, queryset=_households(), write=write)


def _visible_duplicates(user, household):
    seen, hidden = [], 0
    for duplicate in services.duplicates(household):
        if scope.may_see_records(user, duplicate.household.unit):
            seen.append(duplicate)
        else:
            hidden += 1
    return seen, hidden


@login_required
def household_detail(request, pk: int):
    user = request.user
    household = _get(request, pk)
    on = _today_or(request)
    loans = list(
        household.loans.select_related("programme", "component").prefetch_related("repayments")
    )
    loan_rows = [
        {"loan": loan, "outstanding": loan.outstanding(on), "overdue": loan.overdue(on)}
        for loan in loans
    ]
    duplicates, hidden_duplicates = _visible_duplicates(user, household)
    may_ids = scope.may_see_id_numbers(user, household.unit)
    members = list(household.members.all())
    context = {
        "household": household,
        "head_id": household.head_id() if may_ids else household.head_id_masked,
        "members": [
            (m, crypto.decrypt(m.id_encrypted) if may_ids else identity.mask(m.id_last3))
            for m in members
        ],
        "poverty": household.poverty.all(),
        "enrolments": household.enrolments.select_related("programme", "component"),
        "loan_rows": loan_rows,
        "plots": household.plots.select_related("land_unit", "programme", "component"),
        "changes": household.changes.select_related("changed_by")[:HISTORY_SHOWN],
        "duplicates": duplicates,
        "hidden_duplicates": hidden_duplicates,
        "failures": eligibility.evaluate_household(household),
        "on": on,
        "may_edit": scope.may_edit_records(user, household.unit) and household.removed_at is None,
        "may_ids": may_ids,
        "levels": PovertyLevel.choices,
    }
    return render(request, "households/detail.html", context)


def _form_page(request, form, *, household=None, unit=None, title, back):
    return render(
        request,
        "households/form.html",
        {
            "form": form,
            "household": household,
            "unit": unit or household.unit,
            "title": title,
            "back": back,
        },
    )


@login_required
def household_create(request, unit_id: int):
    user = request.user
    unit = scope.check_see_records(user, scope.get_unit_or_403(user, unit_id), write=True)
    form = HouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.create_household(unit, form.data_for_service(), user=user)
        except services.RegisterError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Đã thêm hộ %(code)s.") % {"code": household.code})
            return redirect("households:detail", household.pk)
    return _form_page(request, form, unit=unit, title=_("Thêm hộ gia đình"), back=_list_url(unit))


def _list_url(unit) -> str:
    return reverse("households:list", args=[unit.pk])


def _detail_url(household) -> str:
    return reverse("households:detail", args=[household.pk])


@login_required
def household_edit(request, pk: int):
    user = request.user
    household = _get(request, pk, write=True)
    initial = {
        f: getattr(household, f)
        for f in (
            "code",
            "head_name",
            "head_birth_year",
            "head_sex",
            "village",
            "ethnicity",
            "phone",
            "note",
        )
    }
    initial["version"] = household.version
    form = HouseholdForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_household(
                household,
                form.data_for_service(),
                expected_version=form.cleaned_data["version"],
                user=user,
            )
        except services.RegisterError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Đã lưu hộ %(code)s.") % {"code": household.code})
            return redirect("households:detail", household.pk)
    title = _("Sửa hộ %(code)s") % {"code": household.code}
    return _form_page(request, form, household=household, title=title, back=_detail_url(household))


@login_required
def household_remove(request, pk: int):
    user = request.user
    household = _get(request, pk, write=True)
    form = RemoveForm(request.POST or None, initial={"version": household.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.remove_household(
                household,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
                user=user,
            )
        except services.RegisterError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request, _("Đã xóa hộ %(code)s khỏi danh sách.") % {"code": household.code}
            )
            return redirect("households:detail", household.pk)
    title = _("Xóa hộ %(code)s khỏi danh sách") % {"code": household.code}
    return _form_page(request, form, household=household, title=title, back=_detail_url(household))


# --- the household's records --------------------------------------------------------------

# URL word → (service kind, model, form)
RECORDS = {
    "thanh-vien": ("member", Member, MemberForm),
    "tham-gia": ("enrolment", Enrolment, EnrolmentForm),
    "vay": ("loan", Loan, LoanForm),
    "dat": ("plot", Plot, PlotForm),
}
TITLES = {
    "member": (_("Thêm thành viên"), _("Sửa thành viên")),
    "enrolment": (_("Thêm việc tham gia chương trình"), _("Sửa việc tham gia chương trình")),
    "loan": (_("Thêm khoản vay"), _("Sửa khoản vay")),
    "plot": (_("Thêm thửa đất, vườn"), _("Sửa thửa đất, vườn")),
}
FIELDS = {
    "member": ("name", "birth_year", "sex", "relation"),
    "enrolment": (
        "programme",
        "component",
        "enrolled_on",
        "benefiting",
        "decision_number",
        "decision_date",
        "ended_on",
    ),
    "loan": (
        "programme",
        "component",
        "contract_number",
        "amount",
        "disbursed_on",
        "term_months",
        "purpose",
        "interest_rate",
        "interest_support",
        "lender",
    ),
    "plot": (
        "programme",
        "component",
        "area_ha",
        "crop",
        "is_garden",
        "year_renovated",
        "income_before",
        "income_after",
        "net_income_after",
        "jobs",
    ),
}


def _record_spec(kind: str):
    if kind not in RECORDS:
        raise Http404(_("Không tìm thấy."))
    return RECORDS[kind]


def _initial(service_kind, household, record) -> dict:
    if record is None:
        initial = {"version": household.version if service_kind == "member" else None}
        if service_kind == "plot":
            initial["land_unit"] = household.unit.code
        return initial
    initial = {f: getattr(record, f) for f in FIELDS[service_kind]}
    if service_kind == "plot":
        initial["land_unit"] = record.land_unit.code
    initial["version"] = household.version if service_kind == "member" else record.version
    return initial


def _save(service_kind, household, form, record, user):
    data = form.data_for_service()
    version = form.cleaned_data.get("version")
    if service_kind == "member":
        return services.save_member(
            household, data, member=record, expected_version=version, user=user
        )
    return services.save_record(
        service_kind, household, data, record=record, expected_version=version, user=user
    )


@login_required
def record_form(request, pk: int, kind: str, record_id: int | None = None):
    """Add (``record_id`` None) or change a member, an enrolment, a loan or a plot."""
    service_kind, model, form_class = _record_spec(kind)
    user = request.user
    household = _get(request, pk, write=True)
    record = None
    if record_id is not None:
        record = get_object_or_404(model, pk=record_id, household=household)
    form = form_class(request.POST or None, initial=_initial(service_kind, household, record))
    if request.method == "POST" and form.is_valid():
        try:
            _save(service_kind, household, form, record, user)
        except services.RegisterError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Đã lưu."))
            return redirect("households:detail", household.pk)
    title = TITLES[service_kind][0 if record is None else 1]
    return _form_page(request, form, household=household, title=title, back=_detail_url(household))


@login_required
@require_POST
def record_remove(request, pk: int, kind: str, record_id: int):
    service_kind, model, _form = _record_spec(kind)
    user = request.user
    household = _get(request, pk, write=True)
    record = get_object_or_404(model, pk=record_id, household=household)
    version = request.POST.get("version", "")
    version = int(version) if version.isdigit() else None
    try:
        if service_kind == "member":
            services.remove_member(record, expected_version=version, user=user)
        else:
            services.remove_record(service_kind, record, expected_version=version, user=user)
    except services.RegisterError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Đã xóa."))
    return redirect("households:detail", household.pk)


@login_required
def poverty(request, pk: int):
    user = request.user
    household = _get(request, pk, write=True)
    initial = {"version": household.version, "year": timezone.localdate().year}
    form = PovertyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_poverty(
                household,
                form.cleaned_data["year"],
                form.cleaned_data["level"],
                expected_version=form.cleaned_data["version"],
                user=user,
            )
        except services.RegisterError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Đã lưu."))
            return redirect("households:detail", household.pk)
    title = _("Phân loại hộ nghèo theo năm")
    return _form_page(request, form, household=household, title=title, back=_detail_url(household))


@login_required
def repayment(request, pk: int, record_id: int):
    user = request.user
    household = _get(request, pk, write=True)
    loan = get_object_or_404(Loan, pk=record_id, household=household)
    form = RepaymentForm(request.POST or None, initial={"version": loan.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_repayment(
                loan,
                form.data_for_service(),
                expected_version=form.cleaned_data["version"],
                user=user,
            )
        except services.RegisterError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Đã lưu."))
            return redirect("households:detail", household.pk)
    title = _("Trả nợ khoản vay %(amount)s triệu đồng ngày %(day)s") % {
        "amount": format_number(loan.amount),
        "day": format_date(loan.disbursed_on),
    }
    return _form_page(request, form, household=household, title=title, back=_detail_url(household))


# --- one household's own data (Decree 13: the person's request) -------------------------


def household_data(household: Household, *, with_ids: bool) -> dict:
    """Everything the register keeps about ``household``, as plain values."""

    def plain(value):
        if isinstance(value, date):
            return value.isoformat()
        if value is None or isinstance(value, (int, bool, str)):
            return value
        return str(value)

    def rows(queryset, fields):
        return [{f: plain(getattr(r, f)) for f in fields} for r in queryset]

    head = {
        f: plain(getattr(household, f))
        for f in (
            "code",
            "village",
            "head_name",
            "head_birth_year",
            "head_sex",
            "ethnicity",
            "phone",
            "note",
            "removed_at",
            "removed_reason",
        )
    }
    head["unit"] = household.unit.name
    head["head_id"] = household.head_id() if with_ids else household.head_id_masked
    members = [
        {
            **{f: plain(getattr(m, f)) for f in ("name", "birth_year", "sex", "relation")},
            "id_number": crypto.decrypt(m.id_encrypted) if with_ids else identity.mask(m.id_last3),
        }
        for m in household.members.all()
    ]
    loans = []
    for loan in household.loans.select_related("programme", "component"):
        loans.append(
            {
                **{
                    f: plain(getattr(loan, f))
                    for f in ("programme", "component", *FIELDS["loan"][2:])
                },
                "repayments": rows(loan.repayments.all(), ("paid_on", "principal", "interest")),
            }
        )
    return {
        "household": head,
        "members": members,
        "poverty": rows(household.poverty.all(), ("year", "level")),
        "enrolments": rows(
            household.enrolments.select_related("programme", "component"), FIELDS["enrolment"]
        ),
        "loans": loans,
        "plots": rows(
            household.plots.select_related("land_unit", "programme", "component"),
            ("land_unit", *FIELDS["plot"]),
        ),
        "history": rows(
            household.changes.select_related("changed_by"),
            ("changed_at", "record", "field", "old", "new", "changed_by"),
        ),
    }


# The Excel file of one household's data reads in Vietnamese, as the person asking for it
# does: sheet names and headers from the models' own labels (the JSON keeps the field keys,
# for a program).
SHEETS = {
    "household": (gettext_lazy("Hộ"), Household),
    "members": (gettext_lazy("Thành viên"), Member),
    "poverty": (gettext_lazy("Phân loại hộ nghèo"), PovertyStatus),
    "enrolments": (gettext_lazy("Tham gia chương trình"), Enrolment),
    "loans": (gettext_lazy("Khoản vay"), Loan),
    "plots": (gettext_lazy("Thửa đất, vườn"), Plot),
    "history": (gettext_lazy("Lịch sử thay đổi"), RecordChange),
    "repayments": (gettext_lazy("Trả nợ"), Repayment),
}
HEADERS = {
    "unit": gettext_lazy("Xã nơi cư trú"),
    "head_id": gettext_lazy("Số căn cước chủ hộ"),
    "id_number": gettext_lazy("Số căn cước"),
    "programme": gettext_lazy("Chương trình"),
    "component": gettext_lazy("Nội dung"),
    "changed_at": gettext_lazy("Thời điểm"),
    "record": gettext_lazy("Hồ sơ"),
    "field": gettext_lazy("Trường"),
    "old": gettext_lazy("Giá trị cũ"),
    "new": gettext_lazy("Giá trị mới"),
    "changed_by": gettext_lazy("Người sửa"),
    "loan": gettext_lazy("Khoản vay số"),
}


def _header(sheet: str, key: str) -> str:
    if key in HEADERS:
        return str(HEADERS[key])
    try:
        label = str(SHEETS[sheet][1]._meta.get_field(key).verbose_name)
    except FieldDoesNotExist:
        return key
    return label[:1].upper() + label[1:]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("có") if value else _("không")
    return str(value)


class HouseholdExport(x.Exporter):
    formats = ("xlsx",)

    def __init__(self, household, data):
        self.data = data
        self.filename = "ho-" + x.ascii_name(f"{household.unit.code}-{household.code}")

    def tables(self):
        tables = []
        sheets = [("household", [self.data["household"]])] + [
            (key, self.data[key])
            for key in ("members", "poverty", "enrolments", "loans", "plots", "history")
        ]
        for key, records in sheets:
            records = [{k: v for k, v in r.items() if k != "repayments"} for r in records]
            tables.append(self._table(key, records, 18))
        repayments = [
            {"loan": i, **r}
            for i, loan in enumerate(self.data["loans"], 1)
            for r in loan["repayments"]
        ]
        tables.append(
            self._table("repayments", repayments, 14, ["loan", "paid_on", "principal", "interest"])
        )
        return tables

    @staticmethod
    def _table(key, records, width, fields=None):
        fields = fields or (list(records[0]) if records else [])
        return x.Table(
            name=str(SHEETS[key][0]),
            widths=[width] * max(len(fields), 1),
            header=[x.row(*(x.text(_header(key, f), bold=True) for f in fields or ["—"]))],
            body=[x.row(*(x.text(_cell(r[f])) for f in fields)) for r in records],
        )


@login_required
def export_household(request, pk: int):
    user = request.user
    household = _get(request, pk)
    with_ids = scope.may_see_id_numbers(user, household.unit)
    data = household_data(household, with_ids=with_ids)
    fmt = "json" if request.GET.get("dinh-dang") == "json" else "xlsx"
    if fmt == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
        name = "ho-" + x.ascii_name(f"{household.unit.code}-{household.code}")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    else:
        response = HouseholdExport(household, data).response("xlsx")
    PersonalDataExport.objects.create(
        exported_by=user,
        unit=household.unit,
        kind="household",
        filters={"household": household.pk, "code": household.code, "format": fmt},
        rows=1,
        with_id_numbers=with_ids,
    )
    response["Cache-Control"] = "no-store"
    return response


# --- a unit's eligibility failures and its exports audit ---------------------------------


@login_required
def eligibility_failures(request, unit_id: int):
    user = request.user
    unit = scope.check_see_records(user, scope.get_unit_or_403(user, unit_id))
    code = (request.GET.get("chuong_trinh") or "")[:40]
    programme = Programme.objects.filter(code=code).first() if code.isascii() and code else None
    rows = eligibility.failing_households([unit], programme=programme)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "unit": unit,
        "page": page,
        "total": len(rows),
        "programme": programme,
        "programmes": Programme.objects.order_by("code"),
    }
    return render(request, "households/eligibility.html", context)


@login_required
def export_audit(request, unit_id: int):
    user = request.user
    unit = scope.check_audit_exports(user, scope.get_unit_or_403(user, unit_id))
    exports = PersonalDataExport.objects.filter(unit__path__startswith=unit.path).select_related(
        "exported_by", "unit"
    )
    page = Paginator(exports, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "households/exports.html", {"unit": unit, "page": page})
