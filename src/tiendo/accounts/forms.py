"""Forms of the account pages. They only read what was posted: every rule of a field is in
:mod:`tiendo.accounts.fields` (through :mod:`tiendo.accounts.services`), so a page refuses
what an imported file or the command line refuses, with the same message."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.accounts.fields import (
    EMAIL_MAX,
    FULL_NAME_MAX,
    POSITION_MAX,
    USERNAME_MAX,
    AccountError,
    unit_for_code,
)
from tiendo.accounts.models import Role


def show_refusal(form: forms.Form, error: AccountError) -> None:
    """Put a refusal beside its field (or above the form)."""
    name = {"unit": "unit_code", "full_name": "full_name"}.get(error.field, error.field)
    form.add_error(name if name in form.fields else None, str(error))


def _text(label, limit, widget=forms.TextInput, **kwargs):
    """A field that only reads text: ``maxlength`` helps the browser, the services check."""
    return forms.CharField(
        label=label, required=False, widget=widget(attrs={"maxlength": limit}), **kwargs
    )


class _RoleField(forms.ChoiceField):
    """Offers the roles the user may give; whether a posted role may be given is the
    services' rule (:func:`tiendo.accounts.fields.check_role_for`), not the form's."""

    def valid_value(self, value) -> bool:
        return True


class AccountForm(forms.Form):
    username = _text(_("Tên đăng nhập"), USERNAME_MAX)
    full_name = _text(_("Họ và tên"), FULL_NAME_MAX)
    email = _text(_("Email"), EMAIL_MAX, widget=forms.EmailInput)
    position = _text(_("Chức vụ"), POSITION_MAX)
    unit_code = _text(
        _("Mã đơn vị"), 32, help_text=_("Mã chính thức của đơn vị, ví dụ 08 (tỉnh), 00001 (xã).")
    )
    role = _RoleField(label=_("Vai trò"), required=False)
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
        try:
            return unit_for_code(self.cleaned_data.get("unit_code"))
        except AccountError as error:
            raise forms.ValidationError(str(error)) from error


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp danh sách tài khoản (.xlsx hoặc .csv)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
