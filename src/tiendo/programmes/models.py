"""Programmes, their legal documents, components and indicators, and planned targets."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_number
from tiendo.core.numbers import MAX_DECIMAL_PLACES, shown, storable_problem
from tiendo.programmes.fields import PeriodField
from tiendo.programmes.periods import Period
from tiendo.units.models import Level


class ValueRefused(TiendoError, ValueError):
    """A figure an indicator does not accept (:meth:`Indicator.check_value`). The message
    does not name the indicator: the caller puts its own label (form field, Excel cell)
    before it."""

    code = "value.refused"


class DocumentKind(models.TextChoices):
    RESOLUTION = "resolution", _("Nghị quyết")
    DECISION = "decision", _("Quyết định")
    DECREE = "decree", _("Nghị định")
    CIRCULAR = "circular", _("Thông tư")
    GUIDELINE = "guideline", _("Hướng dẫn")
    PLAN = "plan", _("Kế hoạch")
    OFFICIAL_LETTER = "letter", _("Công văn")
    REPORT = "report", _("Báo cáo")
    OTHER = "other", _("Văn bản khác")


class LegalDocument(models.Model):
    number = models.CharField(_("số, ký hiệu"), max_length=80, unique=True)
    kind = models.CharField(_("loại văn bản"), max_length=20, choices=DocumentKind.choices)
    issued_on = models.DateField(_("ngày ban hành"))
    issuer = models.CharField(_("cơ quan ban hành"), max_length=200)
    summary = models.TextField(_("trích yếu"))

    class Meta:
        verbose_name = _("văn bản")
        verbose_name_plural = _("văn bản")
        ordering = ["issued_on", "number"]

    def __str__(self) -> str:
        return self.number


def _path_ids(unit) -> list[int]:
    """The primary keys of ``unit`` and its ancestors, read from its materialised path."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


class ProgrammeQuerySet(models.QuerySet):
    """Where a programme applies (see :meth:`Programme.applies_at`), as queries."""

    def _scope_links(self):
        return Programme.applies_to.through.objects

    def _without_scope(self) -> Q:
        return ~Exists(self._scope_links().filter(programme=OuterRef("pk")))

    def applying_to(self, unit) -> ProgrammeQuerySet:
        """The programmes whose scope holds ``unit``: a unit of ``applies_to`` or, without
        one, the owner is ``unit`` or one of its ancestors (or there is no owner, or it is
        the nation)."""
        line = _path_ids(unit)
        listed = self._scope_links().filter(unit_id__in=line).values("programme_id")
        by_owner = Q(owner__isnull=True) | Q(owner__level=Level.NATION) | Q(owner_id__in=line)
        return self.filter((self._without_scope() & by_owner) | Q(pk__in=listed))

    def concerning(self, unit) -> ProgrammeQuerySet:
        """The programmes applying to ``unit`` or to any unit below it: what the officers
        of ``unit`` deal with."""
        return self.concerning_any([unit.path]) | self.applying_to(unit)

    def concerning_any(self, paths: list[str]) -> ProgrammeQuerySet:
        """The programmes whose scope reaches into one of the subtrees at ``paths``."""
        below = Q(pk__in=[])
        owned = Q(pk__in=[])
        for path in paths:
            listed = self._scope_links().filter(unit__path__startswith=path)
            below |= Q(pk__in=listed.values("programme_id"))
            owned |= Q(owner__path__startswith=path)
        everywhere = Q(owner__isnull=True) | Q(owner__level=Level.NATION) | owned
        return self.filter((self._without_scope() & everywhere) | below)


class Programme(models.Model):
    code = models.CharField(_("mã"), max_length=40, unique=True)
    name = models.CharField(_("tên"), max_length=400)
    short_name = models.CharField(_("tên ngắn"), max_length=120, blank=True)
    issuer = models.CharField(_("cơ quan ban hành"), max_length=200, blank=True)
    owner = models.ForeignKey(
        "units.Unit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="programmes",
        verbose_name=_("đơn vị chủ trì"),
    )
    period = PeriodField(_("giai đoạn"), max_length=20)
    description = models.TextField(_("mô tả"), blank=True)
    version = models.CharField(
        _("phiên bản gói"),
        max_length=40,
        blank=True,
        help_text=_("Khóa “version” của gói siêu dữ liệu nạp lần cuối."),
    )
    package = models.CharField(_("gói siêu dữ liệu"), max_length=60, blank=True)
    documents = models.ManyToManyField(
        LegalDocument, blank=True, related_name="programmes", verbose_name=_("văn bản")
    )
    applies_to = models.ManyToManyField(
        "units.Unit",
        blank=True,
        related_name="applied_programmes",
        verbose_name=_("áp dụng cho"),
        help_text=_(
            "Các đơn vị (cùng cấp dưới) mà chương trình áp dụng; để trống: đơn vị chủ trì và "
            "cấp dưới (cả nước nếu không có đơn vị chủ trì hoặc là cấp trung ương)."
        ),
    )

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = _("chương trình")
        verbose_name_plural = _("chương trình")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def period_obj(self) -> Period:
        return self.period  # a PeriodField reads as a Period

    @property
    def is_national(self) -> bool:
        """Owned by no unit or by the nation: applies everywhere unless ``applies_to``."""
        return self.owner_id is None or self.owner.level == Level.NATION

    def scope_roots(self) -> list | None:
        """The units whose subtrees the programme applies to; ``None``: everywhere. Read
        once per instance (a form's rows ask it for every unit)."""
        if "_scope_roots" not in self.__dict__:
            listed = list(self.applies_to.all())
            self._scope_roots = listed or (None if self.is_national else [self.owner])
        return self._scope_roots

    def applies_at(self, unit) -> bool:
        """Whether ``unit`` is in the programme's scope: the rule of
        :meth:`ProgrammeQuerySet.applying_to`, for a programme in hand."""
        roots = self.scope_roots()
        return roots is None or any(unit.is_within(root) for root in roots)

    def reaches_into(self, unit) -> bool:
        """Whether the programme applies to ``unit`` or to some unit below it."""
        roots = self.scope_roots()
        return roots is None or any(unit.is_within(r) or r.is_within(unit) for r in roots)


class Component(models.Model):
    programme = models.ForeignKey(Programme, models.CASCADE, related_name="components")
    code = models.CharField(_("mã"), max_length=40)
    name = models.CharField(_("tên"), max_length=400)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("nội dung")
        verbose_name_plural = _("nội dung")
        ordering = ["programme", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="component_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Disaggregation(models.Model):
    """A way to split a value: funding source, content of spending, poverty status, …"""

    code = models.CharField(_("mã"), max_length=40, unique=True)
    name = models.CharField(_("tên"), max_length=200)

    class Meta:
        verbose_name = _("phân tổ")
        verbose_name_plural = _("phân tổ")

    def __str__(self) -> str:
        return self.name


class CategoryOption(models.Model):
    disaggregation = models.ForeignKey(Disaggregation, models.CASCADE, related_name="options")
    code = models.CharField(_("mã"), max_length=40)
    name = models.CharField(_("tên"), max_length=200)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["disaggregation", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["disaggregation", "code"], name="category_option_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ValueType(models.TextChoices):
    NUMBER = "number", _("Số")
    INTEGER = "integer", _("Số nguyên")
    PERCENT = "percent", _("Tỷ lệ %")
    RATIO = "ratio", _("Tỷ số (lần)")


class Aggregation(models.TextChoices):
    SUM = "sum", _("Cộng")
    AVERAGE = "average", _("Trung bình")
    LAST = "last", _("Giá trị mới nhất (số lũy kế)")
    LAST_IN_PERIOD = "last_in_period", _("Giá trị mới nhất trong kỳ (lũy kế trong kỳ)")
    RANGE = "range", _("Khoảng (thấp nhất - cao nhất)")
    NONE = "none", _("Không tổng hợp")


class CategoryDisplay(models.TextChoices):
    """How a disaggregated indicator's categories are shown in tables."""

    ROWS = "rows", _("Mỗi phân tổ một dòng con")
    COLUMNS = "columns", _("Mỗi phân tổ một cột")


class IndicatorQuerySet(models.QuerySet):
    def reported_by(self, unit) -> IndicatorQuerySet:
        """The indicators ``unit``'s level and kind report (:meth:`Indicator.reports_at`).

        The lists are JSON, which SQLite cannot search inside: they are read (a programme
        has tens of indicators, not thousands) and the match is a primary key filter."""
        keep = [
            pk
            for pk, levels, kinds in self.values_list("pk", "levels", "unit_kinds")
            if _reports(levels, kinds, unit)
        ]
        return self.filter(pk__in=keep)


def _reports(levels, kinds, unit) -> bool:
    return (not levels or unit.level in levels) and (not kinds or unit.kind in kinds)


class Indicator(models.Model):
    code = models.CharField(_("mã"), max_length=60, unique=True)
    name = models.CharField(_("tên"), max_length=400)
    short_name = models.CharField(_("tên ngắn"), max_length=160, blank=True)
    programme = models.ForeignKey(Programme, models.CASCADE, related_name="indicators")
    component = models.ForeignKey(
        Component, models.SET_NULL, null=True, blank=True, related_name="indicators"
    )
    measure_unit = models.CharField(_("đơn vị tính"), max_length=40)
    value_type = models.CharField(
        _("kiểu giá trị"), max_length=10, choices=ValueType.choices, default=ValueType.NUMBER
    )
    aggregation = models.CharField(
        _("cách tổng hợp"), max_length=20, choices=Aggregation.choices, default=Aggregation.SUM
    )
    decimals = models.PositiveSmallIntegerField(_("số chữ số thập phân"), default=0)
    disaggregation = models.ForeignKey(
        Disaggregation,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("phân tổ"),
    )
    show_categories = models.CharField(
        _("cách hiện phân tổ"),
        max_length=10,
        choices=CategoryDisplay.choices,
        default=CategoryDisplay.ROWS,
    )
    formula = models.CharField(
        _("công thức"),
        max_length=400,
        blank=True,
        help_text=_(
            "Tính từ chỉ tiêu khác sau khi tổng hợp, ví dụ: NQ04_GIAI_NGAN / NQ04_KE_HOACH * 100"
        ),
    )
    min_value = models.DecimalField(
        _("giá trị nhỏ nhất"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("giá trị lớn nhất"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    order = models.PositiveIntegerField(default=0)
    description = models.TextField(_("mô tả"), blank=True)
    display_unit = models.CharField(
        _("đơn vị hiển thị"),
        max_length=40,
        blank=True,
        help_text=_("Bội số của đơn vị tính dùng để hiển thị và nhập, ví dụ: tỷ đồng."),
    )
    display_factor = models.PositiveIntegerField(
        _("hệ số hiển thị"),
        default=1,
        help_text=_("Một đơn vị hiển thị bằng bao nhiêu đơn vị tính (1.000: tỷ đồng/triệu đồng)."),
    )
    levels = models.JSONField(
        _("cấp báo cáo"),
        default=list,
        blank=True,
        help_text=_("Các cấp đơn vị báo cáo chỉ tiêu (0: trung ương … 3: xã); trống: mọi cấp."),
    )
    unit_kinds = models.JSONField(
        _("loại đơn vị báo cáo"),
        default=list,
        blank=True,
        help_text=_("Các loại đơn vị báo cáo chỉ tiêu (commune, agency, …); trống: mọi loại."),
    )
    retired = models.BooleanField(
        _("thôi dùng"),
        default=False,
        help_text=_(
            "Không còn trong gói của chương trình: không đưa vào biểu mới; số liệu và lịch sử "
            "vẫn giữ."
        ),
    )

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("chỉ tiêu")
        verbose_name_plural = _("chỉ tiêu")
        ordering = ["programme", "order", "code"]

    def __str__(self) -> str:
        return self.name

    def reports_at(self, unit) -> bool:
        """Whether ``unit`` reports this indicator: its level among ``levels`` and its kind
        among ``unit_kinds`` (an empty list: any)."""
        return _reports(self.levels, self.unit_kinds, unit)

    @property
    def is_computed(self) -> bool:
        return bool(self.formula)

    @property
    def is_non_negative(self) -> bool:
        """Counts and percentages, and any indicator whose minimum is 0 or more."""
        return self.value_type in (ValueType.INTEGER, ValueType.PERCENT) or (
            self.min_value is not None and self.min_value >= 0
        )

    def check_value(self, value) -> None:
        """Refuse a figure this indicator does not accept, with :class:`ValueRefused`.

        The one copy of the rule, for the entry form, Excel files, packages and the API:
        storable (finite, within the bounds of the database column), not negative where the
        indicator counts things, within ``min_value``/``max_value``, whole for integers.
        """
        problem = storable_problem(value)
        if problem:
            raise ValueRefused(
                _("giá trị %(value)s %(problem)s."),
                code="value.not_storable",
                value=shown(value),
                problem=problem,
            )
        if value < 0 and self.is_non_negative:
            raise ValueRefused(
                _("không được âm (%(value)s)."), code="value.negative", value=format_number(value)
            )
        if self.min_value is not None and value < self.min_value:
            raise ValueRefused(
                _("nhỏ nhất là %(limit)s."),
                code="value.below_min",
                limit=format_number(self.min_value),
            )
        if self.max_value is not None and value > self.max_value:
            raise ValueRefused(
                _("lớn nhất là %(limit)s."),
                code="value.above_max",
                limit=format_number(self.max_value),
            )
        if self.value_type == ValueType.INTEGER and value != value.to_integral():
            raise ValueRefused(
                _("phải là số nguyên (%(unit)s), không có phần thập phân."),
                code="value.not_integer",
                unit=self.measure_unit,
            )

    @property
    def shown_unit(self) -> str:
        """The unit figures are shown and entered in: ``display_unit``, else the stored one."""
        return self.display_unit or self.measure_unit

    def to_display(self, value):
        """A stored value (in ``measure_unit``) in ``display_unit``: exact, the factor being
        a power of ten (``Decimal`` division by it never rounds)."""
        if value is None or self.display_factor == 1:
            return value
        return Decimal(value) / Decimal(self.display_factor)

    def from_display(self, value):
        """A value entered in ``display_unit`` as stored (in ``measure_unit``), exactly."""
        if value is None or self.display_factor == 1:
            return value
        return Decimal(value) * Decimal(self.display_factor)

    @property
    def display_places(self) -> int:
        """The decimals a stored figure gains in ``display_unit`` (3 for a factor of 1.000)."""
        return len(str(self.display_factor)) - 1

    def display_text(self, value, *, decimals: int | None = None) -> str:
        """A stored figure as people read it: in ``display_unit``, in Vietnamese format, at
        the indicator's precision carried over exactly (``66992`` triệu đồng → ``66,992``
        tỷ đồng); ``decimals`` (the stored unit's) overrides ``self.decimals``."""
        places = self.decimals if decimals is None else decimals
        return format_number(self.to_display(value), places + self.display_places)

    def exact_text(self, value) -> str:
        """A stored figure in ``display_unit`` with every decimal it has (what a field or a
        file shows, so that it reads back as stored); None is blank."""
        return "" if value is None else self.display_text(value, decimals=MAX_DECIMAL_PLACES)

    def entered(self, value):
        """A figure typed in ``display_unit`` as it is stored, refused with
        :class:`ValueRefused` when the stored unit cannot hold it exactly at the indicator's
        precision (1,2345678 tỷ đồng is 1.234,5678 triệu đồng: 4 decimals where 2 are kept);
        never rounded."""
        stored = self.from_display(value)
        if stored is None or self.display_factor == 1:
            return stored
        exponent = stored.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.decimals:
            raise ValueRefused(
                _(
                    "%(value)s %(shown)s là %(stored)s %(unit)s, quá %(decimals)s chữ số thập "
                    "phân mà chỉ tiêu lưu; không làm tròn, xin nhập số đổi được chính xác."
                ),
                code="value.display_inexact",
                value=format_number(value),
                shown=self.display_unit,
                stored=format_number(stored),
                unit=self.measure_unit,
                decimals=self.decimals,
            )
        return stored

    def category_codes(self) -> list[str]:
        if not self.disaggregation_id:
            return [""]
        return [o.code for o in self.disaggregation.options.all()]


class Target(models.Model):
    """The planned value (kế hoạch, chỉ tiêu giao) of an indicator for a unit and period.

    ``category`` (an option of the indicator's disaggregation) sets a part of the plan: the
    capital plan by funding source. A unit has either a total (``category=""``) or parts for
    an indicator and period, never both (packages refuse it), so the total is always the
    sum of its rows: what the aggregation reads. :func:`category_targets` gives the parts.
    """

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="targets")
    unit = models.ForeignKey("units.Unit", models.CASCADE, related_name="targets")
    period = PeriodField(_("kỳ"), max_length=20)
    category = models.CharField(_("nhóm phân tổ"), max_length=40, blank=True, default="")
    value = models.DecimalField(_("kế hoạch"), max_digits=20, decimal_places=6)
    document = models.ForeignKey(
        LegalDocument, models.SET_NULL, null=True, blank=True, verbose_name=_("văn bản giao")
    )

    class Meta:
        verbose_name = _("kế hoạch")
        verbose_name_plural = _("kế hoạch")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "unit", "period", "category"], name="target_unique"
            )
        ]

    def __str__(self) -> str:
        part = f"[{self.category}]" if self.category else ""
        return f"{self.indicator.code}{part} {self.unit} {self.period}: {self.value}"


def category_targets(indicator: Indicator, unit, period: str) -> dict[str, object]:
    """The plan of ``indicator`` for ``unit`` and ``period`` by category: the unit's own
    parts, else the sum of the parts set below it (the total is ``""`` when set so)."""
    own = dict(
        Target.objects.filter(indicator=indicator, unit=unit, period=period).values_list(
            "category", "value"
        )
    )
    if own:
        return own
    rows = (
        Target.objects.filter(
            indicator=indicator,
            unit__ancestor_links__ancestor=unit,
            unit__ancestor_links__depth__gt=0,
            period=period,
        )
        .values_list("category")
        .annotate(total=models.Sum("value"))
        .order_by()
    )
    return dict(rows)
