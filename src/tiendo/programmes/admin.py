from django.contrib import admin

from tiendo.core.admin import SystemModelAdmin
from tiendo.programmes.models import (
    CategoryOption,
    Component,
    Disaggregation,
    Indicator,
    LegalDocument,
    Programme,
    Target,
)


@admin.register(Programme)
class ProgrammeAdmin(SystemModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Indicator)
class IndicatorAdmin(SystemModelAdmin):
    list_display = ("code", "name", "programme", "measure_unit", "aggregation")
    list_filter = ("programme",)
    search_fields = ("code", "name")


for model in (LegalDocument, Component, Disaggregation, CategoryOption, Target):
    admin.site.register(model, SystemModelAdmin)
