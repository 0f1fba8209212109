"""The NTM rows on the system administrator's site (``/quan-tri-he-thong/``).

Everything here is written elsewhere, and read-only here: criteria sets, their criteria,
indicators and thresholds come from their packages (``tiendo metadata load … --system``,
reloaded to change them); assessments, their results and change log from
:func:`tiendo.ntm.services.save_assessments`; recognitions from
:func:`~tiendo.ntm.services.record_recognition`; assignments and sponsorships from their
packages. Editing a row here would bypass the checks and the history of those paths.
"""

from django.contrib import admin

from tiendo.core.admin import ReadOnlyModelAdmin
from tiendo.ntm.models import (
    Assessment,
    AssessmentChange,
    Assignment,
    CriteriaSet,
    Criterion,
    CriterionIndicator,
    CriterionResult,
    IndicatorResult,
    Recognition,
    Sponsorship,
    Threshold,
)


@admin.register(CriteriaSet)
class CriteriaSetAdmin(ReadOnlyModelAdmin):
    list_display = ("code", "name", "level", "tier", "valid_from", "valid_to", "programme")
    list_filter = ("level", "tier", "threshold_basis")
    search_fields = ("code", "name", "decisions")


@admin.register(Criterion)
class CriterionAdmin(ReadOnlyModelAdmin):
    list_display = ("criteria_set", "number", "name", "group")
    list_filter = ("criteria_set",)
    search_fields = ("name", "criteria_set__code")


@admin.register(CriterionIndicator)
class CriterionIndicatorAdmin(ReadOnlyModelAdmin):
    list_display = ("code", "name", "criterion", "comparison", "unit_label")
    list_filter = ("criterion__criteria_set", "comparison")
    search_fields = ("code", "name", "criterion__criteria_set__code")


@admin.register(Threshold)
class ThresholdAdmin(ReadOnlyModelAdmin):
    list_display = ("indicator", "applies_to", "value", "text", "to_confirm", "source")
    list_filter = ("to_confirm", "indicator__criterion__criteria_set")
    search_fields = ("indicator__code", "indicator__name", "source")


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyModelAdmin):
    list_display = ("unit", "criteria_set", "year", "criteria_met", "level", "version")
    list_filter = ("criteria_set", "year", "level", "illustrative")
    search_fields = ("unit__code", "unit__name")


@admin.register(AssessmentChange)
class AssessmentChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("changed_at", "assessment", "field", "old", "new", "version", "source")
    list_filter = ("source",)
    search_fields = ("assessment__unit__code", "assessment__unit__name", "field")


@admin.register(Recognition)
class RecognitionAdmin(ReadOnlyModelAdmin):
    list_display = ("unit", "criteria_set", "level", "year", "decision_number", "withdrawn_on")
    list_filter = ("criteria_set", "level", "year", "illustrative")
    search_fields = ("unit__code", "unit__name", "decision_number")


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyModelAdmin):
    list_display = ("agency", "criterion", "indicator", "role", "area", "decision_number")
    list_filter = ("role", "criterion__criteria_set")
    search_fields = ("agency__code", "agency__name", "decision_number")


@admin.register(Sponsorship)
class SponsorshipAdmin(ReadOnlyModelAdmin):
    list_display = ("agency", "commune", "decision_number", "valid_from", "valid_to")
    list_filter = ("illustrative",)
    search_fields = ("agency__code", "agency__name", "commune__code", "commune__name")


admin.site.register(CriterionResult, ReadOnlyModelAdmin)
admin.site.register(IndicatorResult, ReadOnlyModelAdmin)
