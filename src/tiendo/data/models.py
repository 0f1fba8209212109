"""Data values, their full history, and the rollup that keeps aggregates fresh."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tiendo.data.qualifiers import Qualifier
from tiendo.programmes.fields import PeriodField


class DataValue(models.Model):
    """One number for (indicator, unit, period, category option)."""

    indicator = models.ForeignKey("programmes.Indicator", models.PROTECT, related_name="values")
    unit = models.ForeignKey("units.Unit", models.PROTECT, related_name="values")
    period = PeriodField(_("kỳ"), max_length=20)
    # Derived from ``period``; stored so that "every value inside 2021-2025" is a range scan.
    period_start = models.DateField()
    period_end = models.DateField()
    category = models.CharField(_("phân tổ"), max_length=40, blank=True, default="")
    value = models.DecimalField(_("giá trị"), max_digits=20, decimal_places=6)
    # the word written before the figure ("khoảng 334"): see tiendo.data.qualifiers
    qualifier = models.CharField(
        _("mức chính xác"), max_length=10, choices=Qualifier.choices, blank=True, default=""
    )
    comment = models.TextField(_("ghi chú"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("số liệu")
        verbose_name_plural = _("số liệu")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "period", "category"], name="datavalue_key"
            )
        ]
        indexes = [
            # Covering index of the aggregation: the values of some units inside a period
            # window, summed by indicator and category, are read from the index alone
            # (index-only scan on PostgreSQL, covering index on SQLite), so a pivot touches
            # one contiguous index range per unit whatever the order the values came in.
            models.Index(
                fields=["unit", "period_start", "period_end", "indicator", "category", "value"],
                name="datavalue_pivot",
            ),
            # the few qualified values, which the aggregation looks up to mark its cells
            models.Index(
                fields=["indicator", "period_start"],
                condition=~models.Q(qualifier=""),
                name="datavalue_qualified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.unit_id}/{self.period}/{self.category}: {self.value}"


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Nhập mới")
    UPDATE = "update", _("Sửa")
    DELETE = "delete", _("Xóa")


class DataValueChange(models.Model):
    """History: who changed which figure, when, from what to what. Deletions included."""

    indicator = models.ForeignKey("programmes.Indicator", models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.Unit", models.PROTECT, related_name="+")
    period = PeriodField(max_length=20)
    category = models.CharField(max_length=40, blank=True, default="")
    action = models.CharField(_("thao tác"), max_length=10, choices=ChangeAction.choices)
    old_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    new_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    old_qualifier = models.CharField(
        max_length=10, choices=Qualifier.choices, blank=True, default=""
    )
    new_qualifier = models.CharField(
        max_length=10, choices=Qualifier.choices, blank=True, default=""
    )
    old_comment = models.TextField(blank=True)
    new_comment = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.CharField(_("nguồn"), max_length=20, default="form")

    class Meta:
        verbose_name = _("lịch sử số liệu")
        verbose_name_plural = _("lịch sử số liệu")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["indicator", "unit", "period"], name="datavaluechange_key")]

    def __str__(self) -> str:
        return f"{self.action} {self.indicator_id}/{self.unit_id}/{self.period}: {self.old_value} → {self.new_value}"


class Rollup(models.Model):
    """Sum and count of the values of every unit strictly below ``unit``, per exact period.

    Maintained in the same transaction as every saved value (a handful of ancestor rows),
    so a figure is in every aggregate the moment it is saved; ``rebuild_rollups`` recomputes
    the whole table in one statement after a bulk load.
    """

    indicator = models.ForeignKey("programmes.Indicator", models.CASCADE, related_name="+")
    unit = models.ForeignKey("units.Unit", models.CASCADE, related_name="+")
    period = PeriodField(max_length=20)
    period_start = models.DateField()
    period_end = models.DateField()
    category = models.CharField(max_length=40, blank=True, default="")
    total = models.DecimalField(max_digits=24, decimal_places=6)
    count = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "period", "category"], name="rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["unit", "period_start", "period_end"], name="rollup_unit_period")
        ]

    def __str__(self) -> str:
        return f"Σ {self.indicator_id}/{self.unit_id}/{self.period}/{self.category}: {self.total} ({self.count})"


class Importance(models.TextChoices):
    HIGH = "high", _("Cao")
    MEDIUM = "medium", _("Trung bình")
    LOW = "low", _("Thấp")


class ValidationRule(models.Model):
    """A check between figures: ``left  op  right``, e.g. ``NQ04_DISBURSED <= NQ04_CAPITAL_PLAN``.

    Evaluated on aggregated values, so the same rule holds for a commune and a province.
    A rule whose operand is missing is "not evaluated", never violated. The message may use
    ``{left}`` and ``{right}``: the two sides' values, written the Vietnamese way.
    """

    programme = models.ForeignKey(
        "programmes.Programme",
        models.CASCADE,
        related_name="validation_rules",
        verbose_name=_("chương trình"),
    )
    code = models.CharField(_("mã"), max_length=60, unique=True)
    name = models.CharField(_("tên"), max_length=400)
    expression = models.CharField(
        _("biểu thức"),
        max_length=400,
        help_text=_("Ví dụ: NQ04_DISBURSED <= NQ04_CAPITAL_PLAN; NQ05_AREA >= prev(NQ05_AREA)"),
    )
    importance = models.CharField(
        _("mức độ"), max_length=10, choices=Importance.choices, default=Importance.MEDIUM
    )
    period_type = models.CharField(
        _("loại kỳ"),
        max_length=10,
        blank=True,
        help_text=_("year, half, quarter, month, date, phase; để trống: mọi kỳ"),
    )
    message = models.TextField(_("thông báo"))
    order = models.PositiveIntegerField(default=0)
    # False once the rule left its package: kept (findings point at it), never evaluated
    active = models.BooleanField(_("đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("quy tắc kiểm tra")
        verbose_name_plural = _("quy tắc kiểm tra")
        ordering = ["programme", "order", "code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.expression}"


class FindingKind(models.TextChoices):
    RULE = "rule", _("Vi phạm quy tắc")
    OUTLIER = "outlier", _("Giá trị bất thường")


class ValidationFinding(models.Model):
    """A violation or outlier that someone has looked at, with who, when and why.

    A rule violation is *explained* (the officer says why the figures are right; a
    high-importance violation then no longer blocks a submission); an outlier is *checked*
    (followed up). The finding records the values it was about: once a figure changes, the
    old explanation no longer covers it.
    """

    kind = models.CharField(_("loại"), max_length=10, choices=FindingKind.choices)
    # "rule:NQ04_DISBURSED_WITHIN_PLAN" or "outlier:NQ05_AREA:" (indicator and category)
    key = models.CharField(max_length=140)
    rule = models.ForeignKey(
        ValidationRule, models.CASCADE, null=True, blank=True, related_name="findings"
    )
    indicator = models.ForeignKey(
        "programmes.Indicator", models.CASCADE, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey("units.Unit", models.CASCADE, related_name="+")
    period = PeriodField(_("kỳ"), max_length=20)
    category = models.CharField(_("phân tổ"), max_length=40, blank=True, default="")
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    reference = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    message = models.TextField(_("nội dung"))
    note = models.TextField(_("giải trình"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("thời điểm"))

    class Meta:
        verbose_name = _("kết quả kiểm tra đã xử lý")
        verbose_name_plural = _("kết quả kiểm tra đã xử lý")
        constraints = [
            models.UniqueConstraint(fields=["unit", "period", "key"], name="finding_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.unit_id}/{self.period}"
