"""The household register (danh sách hộ) behind the resolutions' figures.

A :class:`Household` lives in its residence commune — the :class:`~tiendo.units.models.Unit`
of the commune as it was when the household was registered, so figures stay history-true
through reorganisations (the 2025 merger maps old communes to new ones in the unit tree; a
household is never moved by a merger). Its head's ID number is stored encrypted
(:mod:`tiendo.households.crypto`) with a keyed blind index for duplicate checks and its last
three digits for masked display.

Every record has a ``version`` that rises with each save; :class:`RecordChange` keeps who
changed which field of which record, when, from what to what. A removed household is
marked removed (``removed_at``), never deleted: the figures it contributed to are computed
again without it, and the history of those figures and of the household stays.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from tiendo.households import crypto, identity
from tiendo.programmes.models import Component, Programme
from tiendo.units.models import Unit


class Sex(models.TextChoices):
    MALE = identity.MALE, _("Nam")
    FEMALE = identity.FEMALE, _("Nữ")


class PovertyLevel(models.TextChoices):
    POOR = "poor", _("Hộ nghèo")
    NEAR_POOR = "near_poor", _("Hộ cận nghèo")
    ESCAPED = "escaped", _("Hộ mới thoát nghèo")
    NONE = "none", _("Không thuộc diện nghèo, cận nghèo")


class Versioned(models.Model):
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class HouseholdQuerySet(models.QuerySet):
    def active(self):
        return self.filter(removed_at__isnull=True)

    def in_units(self, units):
        """Households whose residence commune is one of ``units`` or below one of them."""
        paths = [u.path for u in units]
        if not paths:
            return self.none()
        where = Q()
        for path in paths:
            where |= Q(unit__path__startswith=path)
        return self.filter(where)


class Household(Versioned):
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="households", verbose_name=_("xã nơi cư trú")
    )
    # the commune's own register number (số thứ tự / mã hộ), ASCII; unique within the commune
    code = models.CharField(_("mã hộ"), max_length=40)
    village = models.CharField(_("thôn, bản, tổ dân phố"), max_length=200, blank=True)
    head_name = models.CharField(_("họ và tên chủ hộ"), max_length=200)
    head_birth_year = models.PositiveSmallIntegerField(_("năm sinh chủ hộ"))
    head_sex = models.CharField(_("giới tính chủ hộ"), max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(_("dân tộc"), max_length=60, blank=True)
    # the head's ID number: encrypted, its keyed index, its last three digits
    head_id_encrypted = models.TextField(blank=True, editable=False)
    head_id_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    head_id_last3 = models.CharField(max_length=3, blank=True, editable=False)
    phone = models.CharField(_("số điện thoại"), max_length=20, blank=True)
    note = models.TextField(_("ghi chú"), blank=True)
    # synthetic records (the demo's) are labelled wherever they are shown
    illustrative = models.BooleanField(_("minh họa"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(_("xóa lúc"), null=True, blank=True)
    removed_reason = models.CharField(_("lý do xóa"), max_length=300, blank=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("hộ gia đình")
        verbose_name_plural = _("hộ gia đình")
        ordering = ["unit__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="household_code_per_commune")
        ]
        indexes = [
            models.Index(fields=["head_name", "head_birth_year"], name="household_name_year")
        ]
        permissions = [("view_id_numbers", _("Xem số căn cước đầy đủ"))]

    def __str__(self) -> str:
        return f"{self.code} {self.head_name}"

    # The ID number goes in and out only through these two methods.
    def set_head_id(self, number: str) -> None:
        number = identity.normalise(number)
        self.head_id_encrypted = crypto.encrypt(number)
        self.head_id_index = crypto.blind_index(number)
        self.head_id_last3 = number[-3:] if number else ""

    def head_id(self) -> str:
        return crypto.decrypt(self.head_id_encrypted)

    @property
    def head_id_masked(self) -> str:
        return identity.mask(self.head_id_last3)


class Member(models.Model):
    household = models.ForeignKey(Household, models.CASCADE, related_name="members")
    name = models.CharField(_("họ và tên"), max_length=200)
    birth_year = models.PositiveSmallIntegerField(_("năm sinh"), null=True, blank=True)
    sex = models.CharField(_("giới tính"), max_length=1, choices=Sex.choices, blank=True)
    relation = models.CharField(_("quan hệ với chủ hộ"), max_length=60, blank=True)
    id_encrypted = models.TextField(blank=True, editable=False)
    id_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_last3 = models.CharField(max_length=3, blank=True, editable=False)

    class Meta:
        verbose_name = _("thành viên hộ")
        verbose_name_plural = _("thành viên hộ")
        ordering = ["household", "pk"]

    def __str__(self) -> str:
        return self.name

    def set_id(self, number: str) -> None:
        number = identity.normalise(number)
        self.id_encrypted = crypto.encrypt(number)
        self.id_index = crypto.blind_index(number)
        self.id_last3 = number[-3:] if number else ""


class PovertyStatus(models.Model):
    """The household's classification in a year's poverty review (rà soát hộ nghèo)."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="poverty")
    year = models.PositiveSmallIntegerField(_("năm"))
    level = models.CharField(_("phân loại"), max_length=20, choices=PovertyLevel.choices)

    class Meta:
        verbose_name = _("phân loại hộ nghèo")
        verbose_name_plural = _("phân loại hộ nghèo")
        ordering = ["household", "year"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="poverty_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year}: {self.level}"


class Enrolment(Versioned):
    """A household taking part in a programme (and one of its components), by decision."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="enrolments")
    programme = models.ForeignKey(Programme, models.PROTECT, related_name="+")
    component = models.ForeignKey(
        Component, models.PROTECT, null=True, blank=True, related_name="+"
    )
    enrolled_on = models.DateField(_("ngày tham gia"))
    # benefiting from the policies (a loan, a grant, seedlings), not only taking part
    benefiting = models.BooleanField(_("được thụ hưởng chính sách"), default=False)
    decision_number = models.CharField(_("số quyết định"), max_length=80, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)
    ended_on = models.DateField(_("ngày kết thúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("tham gia chương trình")
        verbose_name_plural = _("tham gia chương trình")
        ordering = ["household", "enrolled_on"]
        indexes = [models.Index(fields=["programme", "enrolled_on"], name="enrolment_prog_date")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.programme_id} {self.enrolled_on}"


class Loan(Versioned):
    """A loan of entrusted capital through the Social Policy Bank (vốn ủy thác qua NHCSXH).

    Amounts in triệu đồng (the reports' unit)."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="loans")
    programme = models.ForeignKey(Programme, models.PROTECT, related_name="+")
    component = models.ForeignKey(
        Component, models.PROTECT, null=True, blank=True, related_name="+"
    )
    contract_number = models.CharField(_("số hợp đồng / khế ước"), max_length=60, blank=True)
    amount = models.DecimalField(_("số tiền vay (triệu đồng)"), max_digits=14, decimal_places=3)
    disbursed_on = models.DateField(_("ngày giải ngân"))
    term_months = models.PositiveSmallIntegerField(_("thời hạn (tháng)"))
    purpose = models.CharField(_("mục đích vay"), max_length=300, blank=True)
    interest_rate = models.DecimalField(
        _("lãi suất (%/năm)"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    interest_support = models.DecimalField(
        _("hỗ trợ lãi suất (triệu đồng)"), max_digits=14, decimal_places=3, default=Decimal(0)
    )
    lender = models.CharField(
        _("nơi cho vay"), max_length=200, default="Ngân hàng Chính sách xã hội", blank=True
    )

    class Meta:
        verbose_name = _("khoản vay")
        verbose_name_plural = _("khoản vay")
        ordering = ["household", "disbursed_on"]
        indexes = [models.Index(fields=["programme", "disbursed_on"], name="loan_prog_date")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.amount} {self.disbursed_on}"

    @property
    def due_on(self) -> date:
        months = self.disbursed_on.month - 1 + self.term_months
        year, month = self.disbursed_on.year + months // 12, months % 12 + 1
        day = min(self.disbursed_on.day, 28)
        return date(year, month, day)

    def repaid(self, on: date) -> Decimal:
        got = self.repayments.filter(paid_on__lte=on).aggregate(s=Sum("principal"))["s"]
        return got or Decimal(0)

    def outstanding(self, on: date) -> Decimal:
        """Principal owed at the end of ``on`` (nothing before the disbursement)."""
        if on < self.disbursed_on:
            return Decimal(0)
        return max(self.amount - self.repaid(on), Decimal(0))

    def overdue(self, on: date) -> Decimal:
        """The part of what is owed on ``on`` that was due by then (the whole remainder
        once the term has ended; repayment schedules by instalment are not kept)."""
        return self.outstanding(on) if on > self.due_on else Decimal(0)


class Repayment(models.Model):
    loan = models.ForeignKey(Loan, models.CASCADE, related_name="repayments")
    paid_on = models.DateField(_("ngày trả"))
    principal = models.DecimalField(_("gốc (triệu đồng)"), max_digits=14, decimal_places=3)
    interest = models.DecimalField(
        _("lãi (triệu đồng)"), max_digits=14, decimal_places=3, default=Decimal(0)
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("trả nợ")
        verbose_name_plural = _("trả nợ")
        ordering = ["loan", "paid_on"]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.paid_on}: {self.principal}"


class Plot(Versioned):
    """A plot or garden of the household: an orange plot (NQ 04), a renovated garden (NQ 05).

    The land may lie in another commune than the household's residence (``land_unit``):
    seed 000's households whose orange land is outside their commune could not borrow."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="plots")
    land_unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="plots", verbose_name=_("xã nơi có đất")
    )
    programme = models.ForeignKey(
        Programme, models.PROTECT, null=True, blank=True, related_name="+"
    )
    component = models.ForeignKey(
        Component, models.PROTECT, null=True, blank=True, related_name="+"
    )
    area_ha = models.DecimalField(_("diện tích (ha)"), max_digits=12, decimal_places=4)
    crop = models.CharField(_("cây trồng, vật nuôi"), max_length=120)
    is_garden = models.BooleanField(_("là vườn hộ"), default=False)
    year_renovated = models.PositiveSmallIntegerField(_("năm cải tạo"), null=True, blank=True)
    # yearly incomes in triệu đồng, before the programme and after it
    income_before = models.DecimalField(
        _("thu nhập trước (triệu đồng/năm)"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    income_after = models.DecimalField(
        _("thu nhập sau (triệu đồng/năm)"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    net_income_after = models.DecimalField(
        _("thu nhập sau trừ chi phí (triệu đồng/năm)"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
    )
    jobs = models.PositiveIntegerField(_("lao động có việc làm ổn định"), default=0)

    class Meta:
        verbose_name = _("thửa đất, vườn")
        verbose_name_plural = _("thửa đất, vườn")
        ordering = ["household", "pk"]

    def __str__(self) -> str:
        return f"{self.household_id} {self.crop} {self.area_ha} ha"


class RecordChange(models.Model):
    """Who changed which field of a register record, when, from what to what.

    ``record`` is ``"household"``, ``"enrolment"``, ``"loan"``, ``"plot"``, ``"member"``,
    ``"poverty"`` or ``"repayment"``; ``field`` ``"*"`` with ``old`` or ``new`` empty marks
    a record added or removed. ID numbers appear only masked."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="changes")
    record = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=60)
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
        indexes = [models.Index(fields=["household", "changed_at"], name="change_household_at")]

    def __str__(self) -> str:
        return f"{self.record}:{self.record_id} v{self.version} {self.field}"


class PersonalDataExport(models.Model):
    """Every export of personal data: who, when, what filter, how many rows."""

    exported_at = models.DateTimeField(auto_now_add=True, db_index=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    unit = models.ForeignKey(Unit, models.SET_NULL, null=True, related_name="+")
    # "list" (a filtered list), "household" (one household's own data), "drill" (records
    # behind a figure)
    kind = models.CharField(max_length=20)
    filters = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField()
    with_id_numbers = models.BooleanField(default=False)

    class Meta:
        ordering = ["-exported_at"]

    def __str__(self) -> str:
        return f"{self.exported_at:%Y-%m-%d} {self.kind} {self.rows}"


class EligibilityRule(models.Model):
    """A condition a household must meet to take part in (or borrow under) a component,
    from the ``eligibility:`` section of the programme's package
    (:mod:`tiendo.households.eligibility` names the kinds and their parameters).

    A rule the package no longer has is retired (``active`` off), never deleted."""

    component = models.ForeignKey(Component, models.CASCADE, related_name="eligibility_rules")
    order = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=400, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("điều kiện tham gia")
        verbose_name_plural = _("điều kiện tham gia")
        ordering = ["component", "order"]
        constraints = [
            models.UniqueConstraint(fields=["component", "order"], name="eligibility_rule_order")
        ]

    def __str__(self) -> str:
        return f"{self.component.code}[{self.order}] {self.kind}"


class Measure(models.TextChoices):
    COUNT = "count", _("Đếm bản ghi")
    DISTINCT_HOUSEHOLDS = "distinct_households", _("Đếm số hộ (mỗi hộ một lần)")
    SUM = "sum", _("Cộng một trường")


class PeriodMode(models.TextChoices):
    IN_PERIOD = "in_period", _("Các bản ghi trong kỳ")
    TO_PERIOD_END = "to_period_end", _("Lũy kế đến cuối kỳ")
    VALID_ON_PERIOD_END = "valid_on_period_end", _("Còn hiệu lực vào cuối kỳ")


class RegisterIndicator(models.Model):
    """An indicator of a package whose figures are computed from a register
    (``register_indicators:``, :mod:`tiendo.households.indicators`), not entered.

    The indicator itself stays defined in the package's ``indicators:``; this row binds it
    to a source, a measure and the filter that selects its records."""

    indicator = models.OneToOneField(
        "programmes.Indicator", models.CASCADE, related_name="register_binding"
    )
    programme = models.ForeignKey(Programme, models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)
    measure = models.CharField(max_length=30, choices=Measure.choices)
    field = models.CharField(max_length=60, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    period = models.CharField(max_length=30, choices=PeriodMode.choices)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("chỉ tiêu tính từ sổ")
        verbose_name_plural = _("chỉ tiêu tính từ sổ")
        ordering = ["programme", "order"]

    def __str__(self) -> str:
        return f"{self.indicator_id} ← {self.source}.{self.measure}"
