"""The register of cooperatives (hợp tác xã, tổ hợp tác, liên hiệp HTX) and OCOP products.

A :class:`Cooperative` belongs to a unit — the commune it works in, or the unit whose
register keeps it (the provincial Cooperative Alliance keeps Văn Quỹ in seed 003) — and
says, besides what it is, what kept it from a loan: seed 000's cooperatives of three orange
districts "không đủ điều kiện vay vốn do chưa hoạt động theo đúng quy định; không có tài
sản thế chấp; không có trụ sở cố định". Those reasons are flags a register indicator can
filter on (:mod:`tiendo.households.sources`).

An :class:`OcopProduct` is recognised by a decision for 36 months; ``expires_on`` is
computed on every save so the register's queries filter on a column instead of doing date
arithmetic in SQL. Its producer is exactly one of a cooperative, an enterprise (by name) or
a household of the register.

Cooperatives are organisations, not personal data: the normal unit scope applies. Every
record has a ``version`` that rises with each save; :class:`Change` keeps who changed which
field, when, from what to what.
"""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.core.numbers import to_ascii
from tiendo.households.models import Household
from tiendo.programmes.models import Programme
from tiendo.units.models import Unit

RECOGNITION_MONTHS = 36
# Mã số thuế: 10 digits (the organisation), or 13 written 10-3 (a branch or unit under it).
TAX_CODE_RE = re.compile(r"^\d{10}(-\d{3})?$")


def normalise_tax_code(value: str) -> str:
    """``" 0101234567 001 "`` → ``"0101234567-001"``; other text is returned for the
    validator to refuse. Digits typed on another keyboard become ASCII first."""
    code = to_ascii((value or "").strip())
    compact = re.sub(r"[\s.\-]", "", code)
    if compact.isascii() and compact.isdigit() and len(compact) == 13:
        return f"{compact[:10]}-{compact[10:]}"
    if compact.isascii() and compact.isdigit() and len(compact) == 10:
        return compact
    return code


def validate_tax_code(value: str) -> None:
    if value and not TAX_CODE_RE.fullmatch(value):
        raise ValidationError(
            _(
                "Mã số thuế “%(value)s” không hợp lệ: phải gồm 10 chữ số, hoặc 13 chữ số viết "
                "dạng 10-3 (ví dụ 0101234567-001)."
            ),
            code="tax_code",
            params={"value": value[:40]},
        )


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` months; the 29th–31st become the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return date(year, month, min(day.day, last))


class Versioned(models.Model):
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # synthetic records (the demo's) are labelled wherever they are shown
    illustrative = models.BooleanField(_("minh họa"), default=False)

    class Meta:
        abstract = True


class CooperativeKind(models.TextChoices):
    COOPERATIVE = "htx", _("Hợp tác xã")
    GROUP = "tht", _("Tổ hợp tác")
    UNION = "lhhtx", _("Liên hiệp hợp tác xã")


class Sector(models.TextChoices):
    AGRICULTURE = "agriculture", _("Nông nghiệp")
    FORESTRY = "forestry", _("Lâm nghiệp")
    FISHERY = "fishery", _("Thủy sản")
    INDUSTRY = "industry", _("Công nghiệp, tiểu thủ công nghiệp")
    TRADE = "trade", _("Thương mại, dịch vụ")
    TRANSPORT = "transport", _("Vận tải")
    CONSTRUCTION = "construction", _("Xây dựng")
    CREDIT = "credit", _("Quỹ tín dụng nhân dân")
    ENVIRONMENT = "environment", _("Môi trường, nước sạch")
    OTHER = "other", _("Khác")


class CooperativeStatus(models.TextChoices):
    ACTIVE = "active", _("Đang hoạt động")
    SUSPENDED = "suspended", _("Tạm ngừng hoạt động")
    DISSOLVED = "dissolved", _("Đã giải thể")


# The reasons a cooperative could not borrow, as the register's flag fields, with their
# labels: the filter of the list page, the columns of its export and the register source.
OBSTACLES = {
    "no_collateral": _("Không có tài sản thế chấp"),
    "no_office": _("Không có trụ sở cố định"),
    "not_compliant": _("Chưa hoạt động theo đúng quy định"),
    "other_obstacle": _("Lý do khác"),
}


def any_obstacle() -> Q:
    """Cooperatives with at least one reason recorded for not getting a loan."""
    where = Q()
    for name in OBSTACLES:
        where |= Q(**{name: True})
    return where


class CooperativeQuerySet(models.QuerySet):
    def in_subtree(self, unit: Unit):
        return self.filter(unit__path__startswith=unit.path)

    def in_paths(self, paths: list[str] | None):
        """Records whose unit lies under one of ``paths`` (``None``: everything)."""
        if paths is None:
            return self
        where = Q(pk__in=[])
        for path in paths:
            where |= Q(unit__path__startswith=path)
        return self.filter(where)

    def unable_to_borrow(self):
        return self.filter(any_obstacle())


class Cooperative(Versioned):
    kind = models.CharField(
        _("loại hình"), max_length=8, choices=CooperativeKind.choices, default="htx"
    )
    name = models.CharField(_("tên"), max_length=300)
    tax_code = models.CharField(
        _("mã số thuế"), max_length=14, blank=True, validators=[validate_tax_code]
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="cooperatives", verbose_name=_("đơn vị")
    )
    founded_on = models.DateField(_("ngày thành lập"))
    members = models.PositiveIntegerField(_("số thành viên"), default=0)
    sector = models.CharField(
        _("lĩnh vực"), max_length=20, choices=Sector.choices, default="agriculture"
    )
    value_chain = models.CharField(_("chuỗi giá trị, sản phẩm chính"), max_length=200, blank=True)
    status = models.CharField(
        _("tình trạng"), max_length=12, choices=CooperativeStatus.choices, default="active"
    )
    no_collateral = models.BooleanField(OBSTACLES["no_collateral"], default=False)
    no_office = models.BooleanField(OBSTACLES["no_office"], default=False)
    not_compliant = models.BooleanField(OBSTACLES["not_compliant"], default=False)
    other_obstacle = models.BooleanField(OBSTACLES["other_obstacle"], default=False)
    obstacle_note = models.CharField(_("vướng mắc khác"), max_length=300, blank=True)
    note = models.TextField(_("ghi chú"), blank=True)

    objects = CooperativeQuerySet.as_manager()

    class Meta:
        verbose_name = _("hợp tác xã, tổ hợp tác")
        verbose_name_plural = _("hợp tác xã, tổ hợp tác")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code"], condition=~Q(tax_code=""), name="cooperative_tax_code"
            )
        ]
        indexes = [models.Index(fields=["unit", "founded_on"], name="cooperative_unit_day")]

    def __str__(self) -> str:
        return self.name

    @property
    def obstacles(self) -> list[str]:
        """The labels of what kept it from a loan (empty: nothing recorded)."""
        return [str(label) for name, label in OBSTACLES.items() if getattr(self, name)]


class SupportKind(models.TextChoices):
    EQUIPMENT = "equipment", _("Trang thiết bị, máy móc")
    CAPITAL = "capital", _("Vốn")
    TRAINING = "training", _("Đào tạo, tập huấn")
    TRADE_PROMOTION = "trade_promotion", _("Xúc tiến thương mại")
    INFRASTRUCTURE = "infrastructure", _("Kết cấu hạ tầng")
    CONSULTING = "consulting", _("Tư vấn, chuyển giao kỹ thuật")
    OTHER = "other", _("Khác")


class Support(models.Model):
    """Support a cooperative received: from whom, what, how much (triệu đồng), by what."""

    cooperative = models.ForeignKey(Cooperative, models.CASCADE, related_name="supports")
    given_on = models.DateField(_("ngày hỗ trợ"))
    giver = models.CharField(_("đơn vị, tổ chức hỗ trợ"), max_length=300)
    kind = models.CharField(_("hình thức hỗ trợ"), max_length=20, choices=SupportKind.choices)
    amount = models.DecimalField(
        _("giá trị (triệu đồng)"),
        max_digits=14,
        decimal_places=3,
        validators=[MinValueValidator(0)],
    )
    decision = models.CharField(_("quyết định, văn bản"), max_length=200, blank=True)
    purpose = models.CharField(_("nội dung"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("hỗ trợ hợp tác xã")
        verbose_name_plural = _("hỗ trợ hợp tác xã")
        ordering = ["cooperative", "given_on", "pk"]

    def __str__(self) -> str:
        return f"{self.cooperative_id} {self.given_on}: {self.amount}"


class OcopGroup(models.TextChoices):
    """The six product groups of the OCOP programme (Decision 148/QĐ-TTg, 2023)."""

    FOOD = "food", _("Thực phẩm")
    DRINK = "drink", _("Đồ uống")
    HERBAL = "herbal", _("Thảo dược")
    TEXTILE = "textile", _("Vải và may mặc")
    SOUVENIR = "souvenir", _("Lưu niệm, nội thất, trang trí")
    TOURISM = "tourism", _("Dịch vụ du lịch cộng đồng, du lịch nông thôn, điểm du lịch")


class ProducerKind(models.TextChoices):
    COOPERATIVE = "cooperative", _("Hợp tác xã, tổ hợp tác")
    ENTERPRISE = "enterprise", _("Doanh nghiệp")
    HOUSEHOLD = "household", _("Hộ sản xuất")


# Stars by score on the 100-point scale: 3★ 50–69, 4★ 70–89, 5★ 90–100.
STAR_BANDS = {1: (0, 29), 2: (30, 49), 3: (50, 69), 4: (70, 89), 5: (90, 100)}
RECOGNISED_STARS = 3  # from 3 stars a product is an OCOP product (provincial level)
NATIONAL_STARS = 5


class OcopQuerySet(models.QuerySet):
    def in_subtree(self, unit: Unit):
        return self.filter(unit__path__startswith=unit.path)

    in_paths = CooperativeQuerySet.in_paths

    def valid_on(self, day: date):
        """Recognised on ``day`` and not yet expired."""
        return self.filter(decision_date__lte=day, expires_on__gt=day)


class OcopProduct(Versioned):
    name = models.CharField(_("tên sản phẩm"), max_length=300)
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="ocop_products", verbose_name=_("đơn vị")
    )
    producer_kind = models.CharField(
        _("chủ thể"), max_length=12, choices=ProducerKind.choices, editable=False
    )
    cooperative = models.ForeignKey(
        Cooperative,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="ocop_products",
        verbose_name=_("hợp tác xã, tổ hợp tác"),
    )
    enterprise = models.CharField(_("doanh nghiệp"), max_length=300, blank=True)
    household = models.ForeignKey(
        Household,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="ocop_products",
        verbose_name=_("hộ sản xuất"),
    )
    group = models.CharField(_("nhóm sản phẩm"), max_length=12, choices=OcopGroup.choices)
    stars = models.PositiveSmallIntegerField(
        _("số sao"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    score = models.DecimalField(
        _("điểm đánh giá"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # the programme or resolution the product came out of (Hà Giang's NQ 04: Cam Sành)
    programme = models.ForeignKey(
        Programme,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("thuộc chương trình, nghị quyết"),
    )
    decision_number = models.CharField(_("số quyết định công nhận"), max_length=80)
    decision_date = models.DateField(_("ngày quyết định"))
    issuer = models.CharField(_("cơ quan công nhận"), max_length=200)
    expires_on = models.DateField(_("hết hiệu lực từ ngày"), editable=False)
    note = models.TextField(_("ghi chú"), blank=True)

    objects = OcopQuerySet.as_manager()

    class Meta:
        verbose_name = _("sản phẩm OCOP")
        verbose_name_plural = _("sản phẩm OCOP")
        ordering = ["unit__path", "-decision_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="ocop_stars_1_to_5"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        producer_kind="cooperative",
                        cooperative__isnull=False,
                        household__isnull=True,
                        enterprise="",
                    )
                    | (
                        Q(
                            producer_kind="enterprise",
                            cooperative__isnull=True,
                            household__isnull=True,
                        )
                        & ~Q(enterprise="")
                    )
                    | Q(
                        producer_kind="household",
                        cooperative__isnull=True,
                        household__isnull=False,
                        enterprise="",
                    )
                ),
                name="ocop_one_producer",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "decision_date"], name="ocop_unit_day"),
            models.Index(fields=["expires_on"], name="ocop_expires"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.fill_computed()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "expires_on", "producer_kind"}
        super().save(*args, **kwargs)

    def fill_computed(self) -> None:
        if self.decision_date:
            self.expires_on = add_months(self.decision_date, RECOGNITION_MONTHS)
        if self.cooperative_id:
            self.producer_kind = ProducerKind.COOPERATIVE
        elif self.household_id:
            self.producer_kind = ProducerKind.HOUSEHOLD
        else:
            self.producer_kind = ProducerKind.ENTERPRISE

    def clean(self):
        producers = [bool(self.cooperative_id), bool(self.household_id), bool(self.enterprise)]
        if sum(producers) != 1:
            raise ValidationError(
                _(
                    "Chủ thể sản xuất phải là đúng một trong: hợp tác xã, doanh nghiệp hoặc hộ "
                    "sản xuất."
                ),
                code="producer",
            )
        if self.score is not None and self.stars in STAR_BANDS:
            low, high = STAR_BANDS[self.stars]
            if not (low <= self.score < high + 1):
                raise ValidationError(
                    {
                        "score": _(
                            "Điểm %(score)s không khớp với hạng %(stars)s sao (từ %(low)s đến "
                            "%(high)s điểm)."
                        )
                        % {"score": self.score, "stars": self.stars, "low": low, "high": high}
                    },
                    code="score",
                )

    def valid_on(self, day: date) -> bool:
        self.fill_computed()
        return self.decision_date <= day < self.expires_on

    @property
    def last_valid_day(self) -> date:
        return self.expires_on - date.resolution

    @property
    def recognised(self) -> bool:
        return self.stars >= RECOGNISED_STARS

    @property
    def producer_name(self) -> str:
        """The producer's name, but never a household's: that is personal data, shown by
        the page only to who may see the household's records."""
        if self.cooperative_id:
            return self.cooperative.name
        return self.enterprise


class Change(models.Model):
    """Who changed which field of a record of this register, when, from what to what.

    ``record`` is ``"cooperative"``, ``"support"`` or ``"product"``; ``field`` ``"*"`` with
    ``old`` or ``new`` empty marks a record added or removed. A change belongs to the
    cooperative or the product whose page shows it."""

    cooperative = models.ForeignKey(
        Cooperative, models.CASCADE, null=True, blank=True, related_name="changes"
    )
    product = models.ForeignKey(
        OcopProduct, models.CASCADE, null=True, blank=True, related_name="changes"
    )
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

    def __str__(self) -> str:
        return f"{self.record}:{self.record_id} v{self.version} {self.field}"
