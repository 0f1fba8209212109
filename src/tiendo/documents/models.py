"""Report templates (Word files with placeholders, versioned per unit), report definitions
(what to render: unit, period, programmes and the header of the official document) and the
documents generated from them, each kept with the data it was built from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.programmes.fields import PeriodField


class TemplateKind(models.TextChoices):
    PROGRAMME_RESULTS = "programme_results", _("Báo cáo kết quả thực hiện chương trình")
    AGENCY_NTM_ANNUAL = "agency_ntm_annual", _("Báo cáo năm của cơ quan về Chương trình NTM")
    SECTIONS = "sections", _("Báo cáo theo các mục (mục của báo cáo, phụ lục)")


class ReportTemplate(models.Model):
    """One version of a Word template. ``unit`` empty: the template shipped with the system."""

    unit = models.ForeignKey(
        "units.Unit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="report_templates",
        verbose_name=_("đơn vị"),
    )
    kind = models.CharField(_("loại báo cáo"), max_length=40, choices=TemplateKind.choices)
    name = models.CharField(_("tên mẫu"), max_length=200)
    version = models.PositiveIntegerField(_("phiên bản"))
    content = models.BinaryField(_("tệp .docx"))
    digest = models.CharField(max_length=64, help_text="sha256 of the file's parts")
    note = models.CharField(_("ghi chú"), max_length=400, blank=True)
    active = models.BooleanField(_("đang dùng"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mẫu báo cáo")
        verbose_name_plural = _("mẫu báo cáo")
        ordering = ["kind", "unit_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unit", "version"], name="reporttemplate_version"
            ),
            models.UniqueConstraint(
                fields=["kind", "version"],
                condition=Q(unit__isnull=True),
                name="reporttemplate_builtin_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def filename(self) -> str:
        owner = self.unit.code if self.unit_id else "mac-dinh"
        return f"mau-{self.kind}-{owner}-v{self.version}.docx"


class SignerCapacity(models.TextChoices):
    DIRECT = "", _("Ký trực tiếp")
    ON_BEHALF = "TM.", _("TM. (thay mặt tập thể)")
    DEPUTY = "KT.", _("KT. (ký thay người đứng đầu)")
    ACTING = "Q.", _("Q. (quyền)")
    BY_ORDER = "TL.", _("TL. (thừa lệnh)")


class ReportDefinition(models.Model):
    """A report to render: whose figures, for which period, under which header."""

    slug = models.SlugField(_("mã báo cáo"), max_length=80, unique=True)
    title = models.CharField(_("tên báo cáo"), max_length=300)
    kind = models.CharField(_("loại báo cáo"), max_length=40, choices=TemplateKind.choices)
    unit = models.ForeignKey(
        "units.Unit", models.PROTECT, related_name="report_definitions", verbose_name=_("đơn vị")
    )
    period = PeriodField(_("kỳ báo cáo"), max_length=20)
    programmes = models.ManyToManyField("programmes.Programme", related_name="+")
    # Header of the official document (Decree 30/2020/NĐ-CP).
    parent_agency = models.CharField(_("cơ quan chủ quản"), max_length=200, blank=True)
    issuing_agency = models.CharField(_("cơ quan ban hành"), max_length=200)
    number = models.CharField(_("số"), max_length=20, blank=True)
    symbol = models.CharField(_("ký hiệu"), max_length=40, help_text="BC-UBND")
    place = models.CharField(_("địa danh"), max_length=80)
    issued_on = models.DateField(_("ngày ban hành"), null=True, blank=True)
    doc_title = models.CharField(_("tên loại văn bản"), max_length=80, default="BÁO CÁO")
    summary = models.CharField(_("trích yếu"), max_length=500)
    basis = models.TextField(_("căn cứ, mở đầu"), blank=True)
    signer_capacity = models.CharField(
        _("quyền hạn ký"), max_length=4, choices=SignerCapacity.choices, blank=True
    )
    signing_for = models.CharField(
        _("ký thay mặt / thay cho"), max_length=200, blank=True, help_text="LIÊN MINH HỢP TÁC XÃ"
    )
    signer_title = models.CharField(_("chức vụ người ký"), max_length=200, blank=True)
    signer_name = models.CharField(_("người ký"), max_length=120)
    recipients = models.JSONField(_("nơi nhận"), default=list)
    # Figures: extra periods shown beside the main one, annex tables.
    options = models.JSONField(default=dict, blank=True)
    # Narrative source: the report request answered; ``unit`` consolidates it. Which of the
    # request's sections goes where in the template: ``options["narrative_sections"]``
    # (see narrative.py).
    request = models.ForeignKey(
        "reporting.ReportRequest",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="report_definitions",
        verbose_name=_("công văn yêu cầu báo cáo"),
    )
    # An uploaded template of this definition only (else the nearest of its kind).
    template = models.ForeignKey(
        ReportTemplate,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="definitions",
        verbose_name=_("mẫu riêng"),
    )
    # Raised at every edit: a form posted from an older revision is refused.
    revision = models.PositiveIntegerField(_("lần sửa"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("báo cáo định nghĩa")
        verbose_name_plural = _("báo cáo định nghĩa")
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "unit"],
                condition=Q(request__isnull=False),
                name="reportdefinition_one_per_request_unit",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def number_and_symbol(self) -> str:
        number = self.number
        if number.isdigit() and int(number) < 10:
            number = f"0{int(number)}"
        return f"{number or '      '}/{self.symbol}"


class DocumentFormat(models.TextChoices):
    DOCX = "docx", "Word (.docx)"
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel (.xlsx)"


CONTENT_TYPES = {
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class GeneratedDocument(models.Model):
    """A rendered file, stored unchanged, with the snapshot of every figure in it."""

    definition = models.ForeignKey(
        ReportDefinition, models.PROTECT, related_name="documents", verbose_name=_("báo cáo")
    )
    format = models.CharField(_("định dạng"), max_length=8, choices=DocumentFormat.choices)
    template = models.ForeignKey(
        ReportTemplate, models.PROTECT, null=True, blank=True, related_name="documents"
    )
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    snapshot = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("văn bản đã tạo")
        verbose_name_plural = _("văn bản đã tạo")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def filename(self) -> str:
        return f"{self.definition.slug}-{self.pk}.{self.format}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]
