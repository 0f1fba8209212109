from django.contrib import admin

from tiendo.core.admin import ReadOnlyModelAdmin, SystemModelAdmin
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    NarrativeSection,
    ReportRequest,
    RequestRecipient,
    Submission,
    SubmissionSection,
    SubmissionWaiver,
)


@admin.register(ReportRequest)
class ReportRequestAdmin(SystemModelAdmin):
    list_display = ("number_symbol", "title", "issuer", "period", "deadline")
    search_fields = ("number_symbol", "title")


@admin.register(Form)
class FormAdmin(SystemModelAdmin):
    list_display = ("code", "name", "programme")
    search_fields = ("code", "name")


for model in (FormIndicator, NarrativeSection, RequestRecipient):
    admin.site.register(model, SystemModelAdmin)
# the answers move only through the workflow services (submit, approve, return)
for model in (Submission, SubmissionSection, SubmissionWaiver):
    admin.site.register(model, ReadOnlyModelAdmin)
