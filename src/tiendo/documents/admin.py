from django.contrib import admin

from tiendo.core.admin import ReadOnlyModelAdmin, SystemModelAdmin
from tiendo.documents.models import GeneratedDocument, ReportDefinition, ReportTemplate


@admin.register(ReportDefinition)
class ReportDefinitionAdmin(SystemModelAdmin):
    list_display = ("slug", "title", "unit", "period")
    search_fields = ("slug", "title")


# a template is checked when uploaded (documents.services) and a document is what was
# rendered: both only looked at here
admin.site.register(ReportTemplate, ReadOnlyModelAdmin)
admin.site.register(GeneratedDocument, ReadOnlyModelAdmin)
