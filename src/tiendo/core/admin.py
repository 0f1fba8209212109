"""The admin site's model pages for system administrators, and the two kinds every app uses.

The admin site (``/quan-tri-he-thong/``, :class:`tiendo.accounts.adminsite.SystemAdminSite`)
is a repair tool for the system administrator. Its site decides who may enter; a model page
built on :class:`SystemModelAdmin` lets in exactly the people the site lets in, with no
Django model permissions to hand out. Nothing is deleted there (rows are retired, kept for
history), and every save is in the audit log. Rows kept by a service's history — the audit
log itself, value history, computed rollups — are :class:`ReadOnlyModelAdmin`: they can be
looked at, never added, changed or deleted.
"""

from __future__ import annotations

from django.contrib import admin

from tiendo.core.audit import audit
from tiendo.core.models import AuditEntry, Notification


class SystemModelAdmin(admin.ModelAdmin):
    list_per_page = 50

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if not self.raw_id_fields:
            # a select of every unit (ten thousand communes) or user would be a huge page
            self.raw_id_fields = tuple(
                f.name
                for f in model._meta.get_fields()
                if (f.many_to_one or f.many_to_many) and f.concrete and f.editable
            )

    def _allowed(self, request) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False

    # Every write of the admin site passes through Django's own change log (a save, a
    # password set on the user page); each is also in our audit log, with what changed.
    def log_addition(self, request, obj, message):
        audit("admin.added", actor=request.user, obj=obj, changes=message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit("admin.changed", actor=request.user, obj=obj, changes=message)
        return super().log_change(request, obj, message)


class ReadOnlyModelAdmin(SystemModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "action", "actor", "unit", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("action", "object_type", "object_id", "message")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "recipient", "message", "read_at")
    search_fields = ("message", "recipient__username")
