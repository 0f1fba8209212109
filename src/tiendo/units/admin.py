from django.contrib import admin

from tiendo.core.admin import ReadOnlyModelAdmin, SystemModelAdmin
from tiendo.units.models import LegalAct, Unit, UnitChange, UnitEvent


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


@admin.register(LegalAct)
class LegalActAdmin(SystemModelAdmin):
    list_display = ("number", "signed_on", "issuer", "title")
    search_fields = ("number", "issuer", "title")


@admin.register(UnitEvent)
class UnitEventAdmin(ReadOnlyModelAdmin):
    """Events are written by change files and the official load, with their audit entry."""

    list_display = ("kind", "effective_date", "act", "source", "created_at")
    list_filter = ("kind", "source")
    search_fields = ("act__number", "units__name", "units__code")
