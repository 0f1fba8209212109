from django.contrib import admin

from tiendo.core.admin import SystemModelAdmin
from tiendo.units.models import Unit, UnitChange


@admin.register(Unit)
class UnitAdmin(SystemModelAdmin):
    list_display = ("code", "name", "kind", "level", "parent", "valid_from", "valid_to")
    list_filter = ("kind", "level")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(UnitChange)
class UnitChangeAdmin(SystemModelAdmin):
    list_display = ("predecessor", "successor", "kind", "effective_date", "partial", "share")
    list_filter = ("kind",)
    search_fields = ("predecessor__name", "successor__name", "legal_basis")
    raw_id_fields = ("predecessor", "successor")
