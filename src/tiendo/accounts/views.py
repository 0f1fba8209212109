"""The account pages: a coordinator keeps the accounts of its unit and the units below it,
the administrator those of everyone. Every write goes through :mod:`tiendo.accounts.services`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.accounts.forms import AccountForm, ImportForm, show_refusal
from tiendo.accounts.importing import MAX_ROWS, ImportFileError, read_rows
from tiendo.accounts.models import Role
from tiendo.accounts.services import (
    AccountError,
    check_import,
    create_account,
    email_configured,
    import_accounts,
    password_changed,
    reset_password,
    set_active,
    update_account,
)
from tiendo.core.uploads import UploadError, uploaded_file
from tiendo.units.models import Unit

PER_PAGE = 50
UNIT_CHOICES_LIMIT = 500
IMPORT_SALT = "tiendo.accounts.import"
IMPORT_MAX_AGE = 3600


def _site_url(request) -> str:
    return request.build_absolute_uri("/")


def _unit_choices(user) -> list[Unit]:
    """Current units the user may put accounts in, for the unit code field's suggestions."""
    units = scope.readable_units(user).current().order_by("path")
    if not scope.is_admin(user):
        units = units.filter(path__startswith=user.unit.path)
    return list(units.only("code", "name")[:UNIT_CHOICES_LIMIT])


@login_required
def account_list(request):
    user = request.user
    scope.check_manage_accounts(user)
    accounts = scope.manageable_accounts(user).select_related("unit")
    query = (request.GET.get("q") or "").strip()
    if query:
        accounts = accounts.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
            | Q(unit__name__icontains=query)
            | Q(unit__code=query)
        )
    status = request.GET.get("trang_thai", "")
    if status == "khoa":
        accounts = accounts.filter(is_active=False)
    elif status == "hoat-dong":
        accounts = accounts.filter(is_active=True)
    page = Paginator(accounts.order_by("unit__path", "username"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "query": query, "status": status, "total": page.paginator.count}
    return render(request, "accounts/account_list.html", context)


def _password_page(request, issued, *, created: bool):
    context = {"issued": issued, "account": issued.account, "created": created}
    response = render(request, "accounts/password_issued.html", context)
    # a password shown once must not stay in a cache
    response["Cache-Control"] = "no-store"
    return response


@login_required
def account_create(request):
    user = request.user
    scope.check_manage_accounts(user)
    form = AccountForm(request.POST or None, actor=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = create_account(
                user,
                username=data["username"],
                full_name=data["full_name"],
                email=data["email"],
                position=data["position"],
                unit=data["unit_code"],
                role=data["role"],
                site_url=_site_url(request),
            )
        except AccountError as err:
            show_refusal(form, err)
        else:
            return _password_page(request, issued, created=True)
    context = {"form": form, "units": _unit_choices(user), "creating": True}
    return render(request, "accounts/account_form.html", context)


@login_required
def account_edit(request, pk: int):
    user = request.user
    scope.check_manage_accounts(user)
    account = scope.get_account_or_403(user, pk)
    form = AccountForm(request.POST or None, actor=user, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changes = update_account(
                user,
                account.pk,
                version=data["version"] if data["version"] is not None else -1,
                full_name=data["full_name"],
                email=data["email"],
                position=data["position"],
                unit=data["unit_code"],
                role=data["role"],
            )
        except AccountError as err:
            show_refusal(form, err)
        else:
            if changes:
                messages.success(request, _("Đã lưu tài khoản %(name)s.") % {"name": account})
            else:
                messages.info(request, _("Không có gì thay đổi."))
            return redirect("accounts:edit", account.pk)
    context = {
        "form": form,
        "account": account,
        "units": _unit_choices(user),
        "creating": False,
        "is_self": account.pk == user.pk,
        "mails_link": email_configured() and bool(account.email),
    }
    return render(request, "accounts/account_form.html", context)


@login_required
@require_POST
def account_active(request, pk: int):
    user = request.user
    scope.check_manage_accounts(user)
    account = scope.get_account_or_403(user, pk)
    active = request.POST.get("active") == "1"
    try:
        set_active(user, account.pk, active)
    except AccountError as err:
        messages.error(request, str(err))
    else:
        text = _("Đã mở khóa tài khoản %(name)s.") if active else _("Đã khóa tài khoản %(name)s.")
        messages.success(request, text % {"name": account})
    return redirect("accounts:edit", account.pk)


@login_required
@require_POST
def account_reset_password(request, pk: int):
    user = request.user
    scope.check_manage_accounts(user)
    account = scope.get_account_or_403(user, pk)
    try:
        issued = reset_password(user, account.pk, site_url=_site_url(request))
    except AccountError as err:
        messages.error(request, str(err))
        return redirect("accounts:edit", account.pk)
    return _password_page(request, issued, created=False)


@login_required
def account_import(request):
    """Upload a list: a dry run shows every row's effect and every problem; a second POST
    with the signed rows (``token``) writes them — all, or none when a row is wrong."""
    user = request.user
    scope.check_manage_accounts(user)
    form = ImportForm()
    context = {"form": form, "max_rows": MAX_ROWS, "roles": Role.choices}
    if request.method != "POST":
        return render(request, "accounts/account_import.html", context)
    if request.POST.get("token"):
        return _confirm_import(request, context)
    try:
        upload = uploaded_file(request, "file")
        if upload is None:
            context["error"] = _("Xin chọn tệp danh sách tài khoản (.xlsx hoặc .csv).")
            return render(request, "accounts/account_import.html", context)
        rows = read_rows(upload, upload.name)
    except (UploadError, ImportFileError) as err:
        context["error"] = str(err)
        return render(request, "accounts/account_import.html", context)
    plan = check_import(user, rows)
    context.update(plan=plan, filename=upload.name)
    if plan.valid:
        context["token"] = signing.dumps(
            {"user": user.pk, "rows": rows, "name": upload.name}, salt=IMPORT_SALT, compress=True
        )
    return render(request, "accounts/account_import.html", context)


def _confirm_import(request, context):
    user = request.user
    try:
        payload = signing.loads(request.POST["token"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
    except signing.BadSignature:
        payload = None
    if not payload or payload.get("user") != user.pk:
        context["error"] = _("Kết quả kiểm tra đã hết hạn; xin tải tệp lên lại.")
        return render(request, "accounts/account_import.html", context)
    if request.POST.get("action") == "cancel":
        messages.info(request, _("Đã hủy, không ghi tài khoản nào."))
        return redirect("accounts:import")
    try:
        plan = import_accounts(user, payload["rows"], site_url=_site_url(request))
    except AccountError as err:
        # something changed since the dry run (an account created meanwhile, a unit moved)
        context.update(plan=getattr(err, "plan", None), filename=payload["name"], error=str(err))
        return render(request, "accounts/account_import.html", context)
    context.update(done=plan, filename=payload["name"])
    response = render(request, "accounts/account_import.html", context)
    response["Cache-Control"] = "no-store"
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any account changes its own password here; one with a one-time password is sent
    here by :class:`~tiendo.accounts.middleware.PasswordChangeRequiredMiddleware`."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(self.request.user)
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("Đã đổi mật khẩu."))
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The page a mailed link opens: the account's owner chooses a password."""

    template_name = "accounts/reset_confirm.html"
    success_url = reverse_lazy("accounts:reset_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(form.user)
        return response


class PasswordResetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/reset_done.html"
