"""Django's admin site, for system administrators only, at ``/quan-tri-he-thong/``.

It lets in a Django superuser, or an account with the administrator role that is also
marked as staff; everyone else is refused, whatever Django permissions they hold. There is
one login page (the site's own, with the login throttle): the admin's login sends there.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tiendo.accounts.models import Role


class SystemAdminSite(admin.AdminSite):
    site_header = _("Quản trị hệ thống Tiến Độ")
    site_title = _("Quản trị hệ thống")
    index_title = _("Dữ liệu hệ thống")

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active
            and user.is_authenticated
            and (user.is_superuser or (user.is_staff and user.role == Role.ADMIN))
        )

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            raise PermissionDenied(_("Chỉ quản trị hệ thống mới vào được trang quản trị."))
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("login"))
