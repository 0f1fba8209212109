from django.contrib import admin

from tiendo.core.admin import ReadOnlyModelAdmin, SystemModelAdmin
from tiendo.data.models import DataValue, DataValueChange, Rollup, ValidationFinding, ValidationRule


# Figures are written only through tiendo.data.services (history, rollups, write guards):
# here they, their history and the computed rollups are read-only.
@admin.register(DataValue)
class DataValueAdmin(ReadOnlyModelAdmin):
    list_display = ("indicator", "unit", "period_start", "period_end", "category", "value")
    search_fields = ("indicator__code", "unit__code", "unit__name")


@admin.register(DataValueChange)
class DataValueChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("changed_at", "indicator", "unit", "action", "old_value", "new_value")
    list_filter = ("action", "source")
    search_fields = ("indicator__code", "unit__code", "unit__name")


admin.site.register(Rollup, ReadOnlyModelAdmin)
admin.site.register(ValidationFinding, ReadOnlyModelAdmin)
admin.site.register(ValidationRule, SystemModelAdmin)
