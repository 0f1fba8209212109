"""The NTM programme as its agencies and communes live it.

A :class:`CriteriaSet` (bộ tiêu chí) is loaded from a package: its criteria, the
indicators of each criterion and their thresholds, by region (2016–2025 sets) or by
commune group (2026–2030). A threshold nobody could confirm from a reachable source is
stored with ``to_confirm`` set, never written as a constant in code.

An :class:`Assessment` (đánh giá) is one commune's result against one set in one year:
each criterion met or not (:class:`CriterionResult`), with the indicator values behind it
where they exist (:class:`IndicatorResult`), the number of criteria met and the level
reached. Its ``version`` rises with every save, so a form or file prepared before someone
else's save is refused rather than overwriting it; :class:`AssessmentChange` keeps who,
when, old and new of every change.

A :class:`Recognition` is the provincial decision that recognises a commune at a level
(and its withdrawal); an :class:`Assignment` gives a criterion (or one of its indicators)
to an agency as responsible or coordinating; a :class:`Sponsorship` (đỡ đầu) ties an
agency to a commune it sponsors, with the decision and its working group's decision.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.programmes.models import Programme
from tiendo.units.models import Level, Unit


class SetTier(models.TextChoices):
    STANDARD = "standard", _("Nông thôn mới")
    ADVANCED = "advanced", _("Nông thôn mới nâng cao")
    MODEL = "model", _("Nông thôn mới kiểu mẫu")


class NtmLevel(models.TextChoices):
    """The level a commune (or district) reached, in rising order."""

    NONE = "none", _("Chưa đạt chuẩn")
    STANDARD = "standard", _("Đạt chuẩn nông thôn mới")
    ADVANCED = "advanced", _("Đạt chuẩn nông thôn mới nâng cao")
    MODEL = "model", _("Đạt chuẩn nông thôn mới kiểu mẫu")


LEVEL_ORDER = [NtmLevel.NONE, NtmLevel.STANDARD, NtmLevel.ADVANCED, NtmLevel.MODEL]


class ThresholdBasis(models.TextChoices):
    """What a set's thresholds differ by."""

    NONE = "none", _("Như nhau cho mọi xã")
    REGION = "region", _("Theo vùng")
    GROUP = "group", _("Theo nhóm xã")


class CriteriaSet(models.Model):
    code = models.CharField(_("mã"), max_length=40, unique=True)
    name = models.CharField(_("tên"), max_length=300)
    level = models.PositiveSmallIntegerField(
        _("cấp áp dụng"), choices=Level.choices, default=Level.COMMUNE
    )
    tier = models.CharField(
        _("mức"), max_length=20, choices=SetTier.choices, default=SetTier.STANDARD
    )
    # the set a commune must already meet before this one (nâng cao needs đạt chuẩn)
    base = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="higher_sets",
        verbose_name=_("bộ tiêu chí nền"),
    )
    valid_from = models.DateField(_("áp dụng từ"))
    valid_to = models.DateField(_("áp dụng đến"), null=True, blank=True)
    decisions = models.CharField(
        _("căn cứ"), max_length=300, help_text=_("Số, ký hiệu các quyết định ban hành, sửa đổi")
    )
    threshold_basis = models.CharField(
        _("ngưỡng khác nhau theo"),
        max_length=10,
        choices=ThresholdBasis.choices,
        default=ThresholdBasis.NONE,
    )
    # {"key": "label"}: the regions (or commune groups) thresholds are given for
    classes = models.JSONField(_("vùng / nhóm xã"), default=dict, blank=True)
    # [{"label": "19 tiêu chí", "min": 19, "max": 19}, …], highest first
    bands = models.JSONField(_("nhóm theo số tiêu chí đạt"), default=list, blank=True)
    # the programme of the package the set came in: its figures (communes meeting every
    # criterion, per band, …) are indicators of this programme
    programme = models.ForeignKey(
        Programme,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="criteria_sets",
        verbose_name=_("chương trình"),
    )
    package = models.CharField(_("gói"), max_length=100, blank=True)
    package_version = models.CharField(max_length=64, blank=True)
    notes = models.TextField(_("ghi chú"), blank=True)

    class Meta:
        verbose_name = _("bộ tiêu chí")
        verbose_name_plural = _("bộ tiêu chí")
        ordering = ["level", "valid_from", "tier", "code"]

    def __str__(self) -> str:
        return self.name

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Criterion(models.Model):
    criteria_set = models.ForeignKey(
        CriteriaSet, models.CASCADE, related_name="criteria", verbose_name=_("bộ tiêu chí")
    )
    number = models.PositiveSmallIntegerField(_("số thứ tự"))
    name = models.CharField(_("tên tiêu chí"), max_length=200)
    group = models.CharField(_("nhóm"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tiêu chí")
        verbose_name_plural = _("tiêu chí")
        ordering = ["criteria_set", "number"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "number"], name="criterion_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"


class Comparison(models.TextChoices):
    AT_LEAST = "gte", "≥"
    AT_MOST = "lte", "≤"
    MET = "met", _("Đạt / không đạt")


class CriterionIndicator(models.Model):
    criterion = models.ForeignKey(
        Criterion, models.CASCADE, related_name="indicators", verbose_name=_("tiêu chí")
    )
    code = models.CharField(_("mã"), max_length=20, help_text=_("Số thứ tự, như 2.1"))
    name = models.CharField(_("nội dung chỉ tiêu"), max_length=500)
    unit_label = models.CharField(_("đơn vị tính"), max_length=40, blank=True)
    comparison = models.CharField(
        _("so sánh"), max_length=5, choices=Comparison.choices, default=Comparison.MET
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("chỉ tiêu của tiêu chí")
        verbose_name_plural = _("chỉ tiêu của tiêu chí")
        ordering = ["criterion", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "code"], name="criterion_indicator_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Threshold(models.Model):
    """The level an indicator must reach in a region or commune group ("" for every
    commune); ``value`` is empty for a yes/no indicator."""

    indicator = models.ForeignKey(
        CriterionIndicator, models.CASCADE, related_name="thresholds", verbose_name=_("chỉ tiêu")
    )
    applies_to = models.CharField(_("vùng / nhóm"), max_length=20, blank=True)
    value = models.DecimalField(_("ngưỡng"), max_digits=14, decimal_places=4, null=True, blank=True)
    text = models.CharField(_("mô tả"), max_length=300, blank=True)
    to_confirm = models.BooleanField(
        _("cần xác minh"),
        default=False,
        help_text=_("Chưa đối chiếu được với văn bản gốc: số liệu cần xác minh"),
    )
    source = models.CharField(_("nguồn"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("ngưỡng đạt")
        verbose_name_plural = _("ngưỡng đạt")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "applies_to"], name="threshold_per_class")
        ]

    def __str__(self) -> str:
        return f"{self.indicator} [{self.applies_to or '*'}]: {self.text or self.value}"


class Assessment(models.Model):
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="ntm_assessments", verbose_name=_("đơn vị")
    )
    criteria_set = models.ForeignKey(
        CriteriaSet, models.PROTECT, related_name="assessments", verbose_name=_("bộ tiêu chí")
    )
    year = models.PositiveSmallIntegerField(_("năm"))
    # the region or commune group whose thresholds apply (a key of the set's classes)
    applies_to = models.CharField(_("vùng / nhóm"), max_length=20, blank=True)
    criteria_met = models.PositiveSmallIntegerField(_("số tiêu chí đạt"), default=0)
    level = models.CharField(
        _("mức đạt"), max_length=20, choices=NtmLevel.choices, default=NtmLevel.NONE
    )
    note = models.TextField(_("ghi chú"), blank=True)
    # illustrative data (the demo's) is labelled so wherever it is shown
    illustrative = models.BooleanField(_("minh họa"), default=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("đánh giá tiêu chí")
        verbose_name_plural = _("đánh giá tiêu chí")
        ordering = ["year", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "criteria_set", "year"], name="assessment_per_unit_set_year"
            )
        ]
        indexes = [models.Index(fields=["criteria_set", "year"], name="assessment_set_year")]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}: {self.criteria_met}"


class CriterionResult(models.Model):
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="results")
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="results")
    met = models.BooleanField(_("đạt"), null=True, help_text=_("Trống: chưa đánh giá"))
    # True when ``met`` follows from the indicator values and thresholds
    derived = models.BooleanField(default=False)
    evidence = models.CharField(_("minh chứng"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "criterion"], name="result_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.met}"


class IndicatorResult(models.Model):
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="indicator_results")
    indicator = models.ForeignKey(CriterionIndicator, models.PROTECT, related_name="results")
    value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    met = models.BooleanField(null=True)
    evidence = models.CharField(_("minh chứng"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="result_per_criterion_indicator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.value} ({self.met})"


class AssessmentChange(models.Model):
    """Who changed what in an assessment, when, from what to what (one row per field)."""

    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="changes")
    field = models.CharField(max_length=60, help_text=_("criterion:3, indicator:2.1, level…"))
    old = models.CharField(max_length=300, blank=True)
    new = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=40, default="form")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.assessment_id} v{self.version} {self.field}: {self.old} → {self.new}"


class Recognition(models.Model):
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="ntm_recognitions")
    criteria_set = models.ForeignKey(
        CriteriaSet, models.PROTECT, related_name="recognitions", verbose_name=_("bộ tiêu chí")
    )
    level = models.CharField(_("mức"), max_length=20, choices=NtmLevel.choices)
    year = models.PositiveSmallIntegerField(_("năm đạt chuẩn"))
    decision_number = models.CharField(_("số quyết định"), max_length=80)
    decision_date = models.DateField(_("ngày quyết định"))
    issuer = models.CharField(_("cơ quan ban hành"), max_length=200)
    withdrawn_number = models.CharField(_("quyết định thu hồi"), max_length=80, blank=True)
    withdrawn_on = models.DateField(_("ngày thu hồi"), null=True, blank=True)
    illustrative = models.BooleanField(_("minh họa"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("quyết định công nhận")
        verbose_name_plural = _("quyết định công nhận")
        ordering = ["decision_date", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "criteria_set", "level", "decision_number"],
                name="recognition_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.get_level_display()} ({self.decision_number})"

    def in_force_on(self, day: date) -> bool:
        return self.decision_date <= day and (self.withdrawn_on is None or day < self.withdrawn_on)


class AssignmentRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("Chủ trì")
    COORDINATING = "coordinating", _("Phối hợp")


class Assignment(models.Model):
    """A criterion (or one of its indicators) given to an agency, by decision, for a
    period."""

    agency = models.ForeignKey(
        Unit, models.PROTECT, related_name="ntm_assignments", verbose_name=_("cơ quan")
    )
    criterion = models.ForeignKey(
        Criterion, models.PROTECT, related_name="assignments", verbose_name=_("tiêu chí")
    )
    indicator = models.ForeignKey(
        CriterionIndicator,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("chỉ tiêu"),
    )
    role = models.CharField(_("vai trò"), max_length=20, choices=AssignmentRole.choices)
    # the unit whose communes the assignment covers (the province)
    area = models.ForeignKey(
        Unit, models.PROTECT, related_name="ntm_assignment_areas", verbose_name=_("địa bàn")
    )
    decision_number = models.CharField(_("số quyết định"), max_length=80)
    decision_date = models.DateField(_("ngày quyết định"))
    valid_from = models.DateField(_("từ ngày"))
    valid_to = models.DateField(_("đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("phân công tiêu chí")
        verbose_name_plural = _("phân công tiêu chí")
        ordering = ["criterion__number", "role", "agency__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "criterion", "indicator", "role", "decision_number"],
                name="assignment_once",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="assignment_span",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} — {self.criterion} ({self.get_role_display()})"


class Sponsorship(models.Model):
    agency = models.ForeignKey(
        Unit, models.PROTECT, related_name="ntm_sponsored", verbose_name=_("cơ quan đỡ đầu")
    )
    commune = models.ForeignKey(
        Unit, models.PROTECT, related_name="ntm_sponsors", verbose_name=_("xã được đỡ đầu")
    )
    decision_number = models.CharField(_("số quyết định phân công"), max_length=80)
    decision_date = models.DateField(_("ngày quyết định"))
    working_group_number = models.CharField(
        _("quyết định thành lập tổ công tác"), max_length=80, blank=True
    )
    working_group_date = models.DateField(_("ngày"), null=True, blank=True)
    valid_from = models.DateField(_("từ ngày"))
    valid_to = models.DateField(_("đến ngày"), null=True, blank=True)
    # an illustrative record of the demo (not an official one) says so on every page
    illustrative = models.BooleanField(_("minh họa"), default=False)

    class Meta:
        verbose_name = _("đỡ đầu xây dựng nông thôn mới")
        verbose_name_plural = _("đỡ đầu xây dựng nông thôn mới")
        ordering = ["agency__code", "commune__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "commune", "decision_number"], name="sponsorship_once"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="sponsorship_span",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} → {self.commune}"
