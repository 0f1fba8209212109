from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from tiendo.accounts.fields import check_username
from tiendo.accounts.models import User
from tiendo.core.admin import SystemModelAdmin


class _UsernameRule:
    """The username rule of the account pages, the import and the command line
    (:func:`tiendo.accounts.fields.check_username`) on a new or changed username here too."""

    def clean_username(self):
        clean = getattr(super(), "clean_username", None)
        username = clean() if clean is not None else self.cleaned_data.get("username")
        if username and "username" in self.changed_data:
            problem = check_username(username, exclude_pk=self.instance.pk)
            if problem is not None:
                raise forms.ValidationError(str(problem))
        return username


class _CreationForm(_UsernameRule, AdminUserCreationForm):
    pass


class _ChangeForm(_UsernameRule, UserChangeForm):
    pass


@admin.register(User)
class UserAdmin(SystemModelAdmin, DjangoUserAdmin):
    form = _ChangeForm
    add_form = _CreationForm
    list_display = ("username", "first_name", "email", "unit", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email", "unit__code", "unit__name")
    raw_id_fields = ("unit",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Người dùng"), {"fields": ("first_name", "last_name", "email", "position")}),
        (_("Đơn vị và vai trò"), {"fields": ("unit", "role", "must_change_password")}),
        (_("Quyền"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Thời điểm"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        (_("Đơn vị và vai trò"), {"fields": ("unit", "role")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def has_change_permission(self, request, obj=None):
        # only a superuser gives or takes superuser status, or edits a superuser
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            fields = (*fields, "is_superuser")
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)
