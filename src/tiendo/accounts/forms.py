"""Forms of the account pages; the rules themselves are in :mod:`tiendo.accounts.services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.accounts.models import Role
from tiendo.accounts.services import AccountError, unit_from_code


def show_refusal(form: forms.Form, error: AccountError) -> None:
    """Put a refusal beside its field (or above the form)."""
    name = {"unit": "unit_code", "full_name": "full_name"}.get(error.field, error.field)
    form.add_error(name if name in form.fields else None, str(error))


class AccountForm(forms.Form):
    username = forms.CharField(label=_("Tên đăng nhập"), max_length=150)
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    position = forms.CharField(label=_("Chức vụ"), max_length=120, required=False)
    unit_code = forms.CharField(
        label=_("Mã đơn vị"),
        max_length=32,
        required=False,
        help_text=_("Mã chính thức của đơn vị, ví dụ 08 (tỉnh), 00001 (xã)."),
    )
    role = forms.ChoiceField(label=_("Vai trò"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor, account=None, **kwargs):
        self.actor = actor
        self.account = account
        if account is not None:
            kwargs.setdefault(
                "initial",
                {
                    "username": account.username,
                    "full_name": account.first_name,
                    "email": account.email,
                    "position": account.position,
                    "unit_code": account.unit.code if account.unit_id else "",
                    "role": account.role,
                    "version": account.version,
                },
            )
        super().__init__(*args, **kwargs)
        roles = scope.assignable_roles(actor)
        if account is not None and account.role not in roles:
            roles = [account.role, *roles]
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]
        if account is not None:
            del self.fields["username"]
        else:
            del self.fields["version"]
        self.fields["unit_code"].widget.attrs["list"] = "unit-codes"

    def clean_unit_code(self):
        code = (self.cleaned_data.get("unit_code") or "").strip()
        if not code:
            return None
        unit = unit_from_code(code)
        if unit is None:
            raise forms.ValidationError(
                _("Không có đơn vị nào mang mã “%(code)s”."), params={"code": code}
            )
        return unit


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp danh sách tài khoản (.xlsx hoặc .csv)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
