"""The register's pages: lists of cooperatives and OCOP products in a unit's subtree, a
page for each record, their forms, their Excel exports.

Cooperatives are organisations, not personal data: whoever reads a unit reads its
cooperatives and products (a leader too); whoever writes a unit edits them. A product made
by a household names the household only to who may see the household's records. The views
parse and call :mod:`tiendo.cooperatives.services`, which check scope and version again.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from tiendo.accounts import scope
from tiendo.cooperatives import services
from tiendo.cooperatives.exports import CooperativeExport, OcopExport
from tiendo.cooperatives.forms import (
    CooperativeFilter,
    CooperativeForm,
    OcopFilter,
    OcopForm,
    SupportForm,
    unit_choices,
)
from tiendo.cooperatives.models import Cooperative, OcopProduct, Support
from tiendo.units.models import Unit

PER_PAGE = 50


def _get_or_404(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None


def _area(request) -> Unit | None:
    """The unit of ``?don_vi=`` (read-checked), or ``None``: everything the user reads."""
    pk = request.GET.get("don_vi")
    if not pk:
        return None
    return scope.get_unit_or_403(request.user, pk)


def _in_scope(queryset, request, area: Unit | None):
    if area is not None:
        return queryset.in_subtree(area)
    return queryset.in_paths(scope.readable_paths(request.user))


def _query_string(request, drop=("page",)) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


def _show_filter_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _can_write_somewhere(user) -> bool:
    return bool(
        user.is_authenticated
        and (scope.is_admin(user) or (user.unit_id and scope.can_write(user, user.unit)))
    )


# --- Cooperatives ----------------------------------------------------------------------------


def _cooperatives(request):
    area = _area(request)
    records = _in_scope(Cooperative.objects.select_related("unit"), request, area)
    filters = CooperativeFilter(request.GET)
    if not filters.is_valid():
        _show_filter_errors(request, filters)
        return area, filters, records.none()
    data = filters.cleaned_data
    if data["q"]:
        records = records.filter(Q(name__icontains=data["q"]) | Q(tax_code=data["q"].strip()))
    if data["loai"]:
        records = records.filter(kind=data["loai"])
    if data["linh_vuc"]:
        records = records.filter(sector=data["linh_vuc"])
    if data["tinh_trang"]:
        records = records.filter(status=data["tinh_trang"])
    if data["vuong_mac"] == "any":
        records = records.unable_to_borrow()
    elif data["vuong_mac"]:
        records = records.filter(**{data["vuong_mac"]: True})
    return area, filters, records.order_by("unit__path", "name")


@login_required
def cooperative_list(request):
    area, filters, records = _cooperatives(request)
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "area": area,
        "filters": filters,
        "page": page,
        "total": page.paginator.count,
        "query": _query_string(request),
        "export_query": _query_string(request, drop=("page",)),
        "may_add": _can_write_somewhere(request.user),
    }
    return render(request, "cooperatives/cooperative_list.html", context)


@login_required
def cooperative_export(request):
    area, filters, records = _cooperatives(request)
    return CooperativeExport(records, area=area, filters=filters).response("xlsx")


def _readable_cooperative(user, pk, *, write=False) -> Cooperative:
    record = _get_or_404(Cooperative.objects.select_related("unit"), pk)
    scope.check_unit(user, record.unit, write=write)
    return record


@login_required
def cooperative_detail(request, pk: int):
    record = _readable_cooperative(request.user, pk)
    supports = list(record.supports.all())
    products = list(record.ocop_products.select_related("unit").order_by("-decision_date"))
    changes = _history(record, request)
    may_edit = scope.can_write(request.user, record.unit)
    context = {
        "record": record,
        "supports": supports,
        "support_total": record.supports.aggregate(s=Sum("amount"))["s"],
        "products": products,
        "changes": changes,
        "may_edit": may_edit,
        "support_form": SupportForm() if may_edit else None,
        "today": timezone.localdate(),
    }
    return render(request, "cooperatives/cooperative_detail.html", context)


_RECORD_MODELS = {"cooperative": Cooperative, "support": Support, "product": OcopProduct}


def _history(record, request):
    """A page of the record's changes, each with the Vietnamese name of its field."""
    page = Paginator(record.changes.select_related("changed_by"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for change in page.object_list:
        change.label = change.field
        model = _RECORD_MODELS.get(change.record)
        if model is not None and change.field != "*":
            with contextlib.suppress(FieldDoesNotExist):
                change.label = capfirst(model._meta.get_field(change.field).verbose_name)
    return page


def _save_refused(form, err: services.RegisterError) -> None:
    if isinstance(err, services.InvalidRecord) and err.errors:
        for field, errors in err.errors.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        form.add_error(None, str(err))


@login_required
def cooperative_create(request):
    user = request.user
    if not _can_write_somewhere(user):
        raise PermissionDenied(_("Bạn không có quyền thêm hợp tác xã."))
    initial = {}
    if request.GET.get("don_vi"):
        initial["unit_code"] = scope.get_unit_or_403(user, request.GET["don_vi"], write=True).code
    form = CooperativeForm(request.POST or None, user=user, initial=initial)
    return _create_page(
        request, form, services.create_cooperative, "cooperatives:detail", "cooperative_form"
    )


@login_required
def cooperative_edit(request, pk: int):
    user = request.user
    record = _readable_cooperative(user, pk, write=True)
    form = CooperativeForm(request.POST or None, user=user, instance=record)
    return _edit_page(
        request,
        record,
        form,
        services.update_cooperative,
        "cooperatives:detail",
        "cooperative_form",
    )


def _create_page(request, form, create, detail: str, template: str):
    """The create page of a register record: ``create(user, data)`` on a valid POST, then its
    page; the form again with the refusal otherwise."""
    if request.method == "POST":
        if form.is_valid():
            try:
                record = create(request.user, form.register_data())
            except services.RegisterError as err:
                _save_refused(form, err)
            else:
                messages.success(request, _("Đã thêm %(name)s.") % {"name": record.name})
                return redirect(detail, record.pk)
        messages.error(request, _("Chưa lưu: hãy sửa các ô báo lỗi."))
    context = {"form": form, "creating": True, "units": unit_choices(request.user)}
    return render(request, f"cooperatives/{template}.html", context)


def _edit_page(request, record, form, update, detail: str, template: str):
    """The edit page of a register record: ``update(user, pk, data, expected_version=)``
    against the version the form was opened at (a form without one never overwrites)."""
    if request.method == "POST":
        if form.is_valid():
            version = form.cleaned_data["version"]
            try:
                changes = update(
                    request.user,
                    record.pk,
                    form.register_data(),
                    expected_version=-1 if version is None else version,
                )
            except services.RegisterError as err:
                _save_refused(form, err)
            else:
                if changes:
                    messages.success(request, _("Đã lưu %(name)s.") % {"name": record.name})
                else:
                    messages.info(request, _("Không có gì thay đổi."))
                return redirect(detail, record.pk)
        messages.error(request, _("Chưa lưu: hãy sửa các ô báo lỗi."))
    context = {
        "form": form,
        "record": record,
        "creating": False,
        "units": unit_choices(request.user),
    }
    return render(request, f"cooperatives/{template}.html", context)


@login_required
def support_add(request, pk: int):
    user = request.user
    # scope first: a GET from someone who may not write is refused, not merely "not allowed"
    record = _readable_cooperative(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = SupportForm(request.POST)
    if form.is_valid():
        try:
            services.add_support(user, record, form.register_data())
        except services.RegisterError as err:
            messages.error(request, str(err))
        else:
            messages.success(request, _("Đã ghi khoản hỗ trợ."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
    return redirect(reverse("cooperatives:detail", args=[record.pk]) + "#ho-tro")


@login_required
def support_remove(request, pk: int, support: int):
    user = request.user
    record = _readable_cooperative(user, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    item = _get_or_404(Support.objects.filter(cooperative=record), support)
    services.remove_support(user, item)
    messages.success(request, _("Đã xóa khoản hỗ trợ."))
    return redirect(reverse("cooperatives:detail", args=[record.pk]) + "#ho-tro")


# --- OCOP products -------------------------------------------------------------------------


def _products(request):
    area = _area(request)
    records = _in_scope(
        OcopProduct.objects.select_related("unit", "cooperative", "household__unit"),
        request,
        area,
    )
    filters = OcopFilter(request.GET)
    if not filters.is_valid():
        _show_filter_errors(request, filters)
        return area, filters, records.none()
    data = filters.cleaned_data
    if data["q"]:
        records = records.filter(name__icontains=data["q"])
    if data["sao"]:
        records = records.filter(stars__gte=data["sao"])
    if data["nhom"]:
        records = records.filter(group=data["nhom"])
    if data["ngay"]:
        records = records.valid_on(data["ngay"])
    return area, filters, records.order_by("unit__path", "-decision_date", "name")


def _producer(user, product: OcopProduct) -> str:
    if product.household_id is None:
        return product.producer_name
    if scope.may_see_records(user, product.household.unit):
        return f"{product.household.code} {product.household.head_name}"
    return _("Hộ sản xuất (thông tin cá nhân, không hiển thị)")


@login_required
def product_list(request):
    area, filters, records = _products(request)
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    for product in page.object_list:
        product.producer_shown = _producer(request.user, product)
    by_stars = dict(records.values_list("stars").annotate(n=Count("pk")).order_by("stars"))
    context = {
        "area": area,
        "filters": filters,
        "page": page,
        "total": page.paginator.count,
        "by_stars": sorted(by_stars.items()),
        "query": _query_string(request),
        "may_add": _can_write_somewhere(request.user),
        "today": timezone.localdate(),
    }
    return render(request, "cooperatives/product_list.html", context)


@login_required
def product_export(request):
    area, filters, records = _products(request)
    rows = [(p, _producer(request.user, p)) for p in records]
    return OcopExport(rows, area=area, filters=filters).response("xlsx")


def _readable_product(user, pk, *, write=False) -> OcopProduct:
    record = _get_or_404(
        OcopProduct.objects.select_related("unit", "cooperative", "household__unit", "programme"),
        pk,
    )
    scope.check_unit(user, record.unit, write=write)
    return record


@login_required
def product_detail(request, pk: int):
    record = _readable_product(request.user, pk)
    changes = _history(record, request)
    context = {
        "record": record,
        "producer": _producer(request.user, record),
        "changes": changes,
        "may_edit": scope.can_write(request.user, record.unit),
        "today": timezone.localdate(),
    }
    return render(request, "cooperatives/product_detail.html", context)


@login_required
def product_create(request):
    user = request.user
    if not _can_write_somewhere(user):
        raise PermissionDenied(_("Bạn không có quyền thêm sản phẩm OCOP."))
    initial = {}
    if request.GET.get("htx"):
        cooperative = _readable_cooperative(user, request.GET["htx"], write=True)
        initial = {"cooperative": cooperative.pk, "unit_code": cooperative.unit.code}
    form = OcopForm(request.POST or None, user=user, initial=initial)
    return _create_page(
        request, form, services.create_product, "cooperatives:product", "product_form"
    )


@login_required
def product_edit(request, pk: int):
    user = request.user
    record = _readable_product(user, pk, write=True)
    form = OcopForm(request.POST or None, user=user, instance=record)
    return _edit_page(
        request, record, form, services.update_product, "cooperatives:product", "product_form"
    )
