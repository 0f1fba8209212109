"""The reporting cycle: forms, report requests, submissions and their approval.

A coordination office sends an official letter (:class:`ReportRequest`) asking units for
the figures of some forms (:class:`Form`) and for narrative sections; each unit answers
with one :class:`Submission`, which goes draft → submitted → returned/approved. The
figures themselves live in the data app (``DataValue``), written through its services, so
that every change keeps its history; approval locks them (see ``reporting.locks``).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tiendo.programmes.fields import PeriodField
from tiendo.programmes.periods import Period, PeriodType
from tiendo.units.models import UnitKind

PERIOD_TYPE_CHOICES = [
    (PeriodType.YEAR.value, _("Năm")),
    (PeriodType.HALF.value, _("6 tháng")),
    (PeriodType.QUARTER.value, _("Quý")),
    (PeriodType.MONTH.value, _("Tháng")),
    (PeriodType.DATE.value, _("Đến ngày")),
    (PeriodType.PHASE.value, _("Giai đoạn")),
]


class Form(models.Model):
    """A form (biểu mẫu): the indicators a kind of unit reports for a programme."""

    code = models.CharField(_("mã biểu"), max_length=60, unique=True)
    name = models.CharField(_("tên biểu"), max_length=300)
    programme = models.ForeignKey(
        "programmes.Programme", models.CASCADE, related_name="forms", verbose_name=_("chương trình")
    )
    # UnitKind values; an empty list means every kind of unit.
    unit_kinds = models.JSONField(_("loại đơn vị báo cáo"), default=list, blank=True)
    period_type = models.CharField(_("loại kỳ"), max_length=10, choices=PERIOD_TYPE_CHOICES)
    indicators = models.ManyToManyField(
        "programmes.Indicator", through="FormIndicator", related_name="forms"
    )
    opens_days_before_end = models.PositiveIntegerField(
        _("mở nhập trước khi hết kỳ (ngày)"),
        default=30,
        help_text=_("Báo cáo năm thường viết trước khi hết năm, với số ước thực hiện."),
    )
    closes_days_after_end = models.PositiveIntegerField(
        _("đóng nhập sau khi hết kỳ (ngày)"), default=15
    )
    description = models.TextField(_("hướng dẫn"), blank=True)

    class Meta:
        verbose_name = _("biểu mẫu")
        verbose_name_plural = _("biểu mẫu")
        ordering = ["programme", "code"]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, unit) -> bool:
        """Whether ``unit`` fills this form: one of its kinds, within its programme's units."""
        kind_ok = not self.unit_kinds or unit.kind in self.unit_kinds
        return kind_ok and self.programme.applies_at(unit)

    def window(self, period: Period) -> tuple[date, date]:
        """The first and last day on which a unit may enter this form's figures."""
        return (
            period.end - timedelta(days=self.opens_days_before_end),
            period.end + timedelta(days=self.closes_days_after_end),
        )


class PeriodRule(models.TextChoices):
    """Which period a form's indicator is entered for, from the request's period."""

    PERIOD = "period", _("Kỳ báo cáo")
    AS_OF = "as_of", _("Lũy kế đến ngày lấy số liệu của công văn")
    PERIOD_END = "period_end", _("Ước thực hiện đến hết kỳ")


class FormIndicator(models.Model):
    form = models.ForeignKey(Form, models.CASCADE, related_name="lines")
    indicator = models.ForeignKey("programmes.Indicator", models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(default=0)
    # Category option codes asked for; empty means every category of the disaggregation.
    categories = models.JSONField(_("phân tổ"), default=list, blank=True)
    period_rule = models.CharField(
        _("kỳ của số liệu"), max_length=12, choices=PeriodRule.choices, default=PeriodRule.PERIOD
    )

    class Meta:
        ordering = ["form", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "indicator", "period_rule"], name="form_indicator_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.form.code}: {self.indicator.code}"


class EntryWindowReopening(models.Model):
    """A coordinator reopens a form's entry window for one unit and period, with a reason."""

    form = models.ForeignKey(Form, models.CASCADE, related_name="reopenings")
    unit = models.ForeignKey("units.Unit", models.CASCADE, related_name="+")
    period = PeriodField(_("kỳ"), max_length=20)
    until = models.DateField(_("mở đến ngày"))
    reason = models.TextField(_("lý do"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mở lại hạn nhập")
        verbose_name_plural = _("mở lại hạn nhập")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.form.code} {self.unit} {self.period} → {self.until:%d/%m/%Y}"


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Đang soạn")
    SENT = "sent", _("Đã gửi")
    CLOSED = "closed", _("Đã kết thúc")


class ReportRequest(models.Model):
    """An official letter asking units for figures and narrative by a deadline."""

    number_symbol = models.CharField(_("số, ký hiệu"), max_length=80)
    issued_on = models.DateField(_("ngày ban hành"))
    issuer = models.ForeignKey(
        "units.Unit", models.PROTECT, related_name="issued_requests", verbose_name=_("đơn vị gửi")
    )
    title = models.CharField(_("trích yếu"), max_length=400)
    summary = models.TextField(_("nội dung yêu cầu"), blank=True)
    period = PeriodField(_("kỳ báo cáo"), max_length=20)
    data_as_of = models.DateField(_("số liệu tính đến ngày"), null=True, blank=True)
    deadline = models.DateField(_("hạn gửi báo cáo"))
    forms = models.ManyToManyField(Form, blank=True, related_name="requests")
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    sent_at = models.DateTimeField(_("ngày gửi"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("công văn yêu cầu báo cáo")
        verbose_name_plural = _("công văn yêu cầu báo cáo")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "number_symbol", "issued_on"], name="request_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number_symbol} ngày {self.issued_on:%d/%m/%Y}"

    @property
    def period_obj(self) -> Period:
        return self.period  # a PeriodField reads as a Period

    def period_for(self, rule: str) -> Period:
        """The period an indicator of a form is entered for under this request."""
        return period_under_rule(self.period_obj, rule, as_of=self.data_as_of)


def period_under_rule(period: Period, rule: str, *, as_of: date | None = None) -> Period:
    """The period a form line under ``rule`` is entered for in ``period``: the period
    itself, its last day, or the ``as_of`` date (a letter's "data as of")."""
    if rule == PeriodRule.AS_OF and as_of:
        return Period.parse(as_of.isoformat())
    if rule in (PeriodRule.AS_OF, PeriodRule.PERIOD_END):
        return Period.parse(period.end.isoformat())
    return period


class RecipientRule(models.Model):
    """ "Every unit of kind K under unit U": expanded into recipients when the letter is sent."""

    request = models.ForeignKey(ReportRequest, models.CASCADE, related_name="rules")
    unit_kind = models.CharField(_("loại đơn vị"), max_length=20, choices=UnitKind.choices)
    under = models.ForeignKey(
        "units.Unit", models.CASCADE, related_name="+", verbose_name=_("trực thuộc")
    )

    def __str__(self) -> str:
        return f"{self.get_unit_kind_display()} thuộc {self.under}"


class RequestRecipient(models.Model):
    request = models.ForeignKey(ReportRequest, models.CASCADE, related_name="recipients")
    unit = models.ForeignKey("units.Unit", models.PROTECT, related_name="report_requests")
    rule = models.ForeignKey(RecipientRule, models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "unit"], name="request_recipient_unique")
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.unit}"


class NarrativeSection(models.Model):
    """A part of the report's text the letter asks for ("Thuận lợi, khó khăn", …)."""

    request = models.ForeignKey(ReportRequest, models.CASCADE, related_name="sections")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(_("tiêu đề"), max_length=300)
    guidance = models.TextField(_("hướng dẫn"), blank=True)

    class Meta:
        ordering = ["request", "order", "pk"]

    def __str__(self) -> str:
        return self.title


class SubmissionState(models.TextChoices):
    DRAFT = "draft", _("Đang soạn")
    SUBMITTED = "submitted", _("Đã gửi")
    RETURNED = "returned", _("Bị trả lại")
    APPROVED = "approved", _("Đã duyệt")


class Submission(models.Model):
    """One unit's answer to a request: values through the forms and narrative text."""

    request = models.ForeignKey(ReportRequest, models.CASCADE, related_name="submissions")
    unit = models.ForeignKey("units.Unit", models.PROTECT, related_name="submissions")
    state = models.CharField(
        _("trạng thái"),
        max_length=10,
        choices=SubmissionState.choices,
        default=SubmissionState.DRAFT,
        db_index=True,
    )
    first_submitted_at = models.DateTimeField(_("gửi lần đầu"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("gửi lúc"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(_("trả lại lúc"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    return_reason = models.TextField(_("lý do trả lại"), blank=True)
    approved_at = models.DateTimeField(_("duyệt lúc"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("báo cáo của đơn vị")
        verbose_name_plural = _("báo cáo của đơn vị")
        ordering = ["request", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["request", "unit"], name="submission_unique")
        ]
        indexes = [models.Index(fields=["unit", "state"], name="submission_unit_state")]

    def __str__(self) -> str:
        return f"{self.unit} — {self.request}"

    def approver_units(self) -> list:
        """The units whose officers approve this submission.

        The unit directly above approves (the district approves its communes, the province
        its districts). An agency, or a unit that consolidates for the issuer (the province
        whose steering committee sent the letter), is approved by the issuing unit itself.
        """
        unit, issuer = self.unit, self.request.issuer
        if unit.is_agency or issuer.is_within(unit) or unit.parent_id is None:
            return [issuer]
        return [unit.parent]

    @property
    def is_editable(self) -> bool:
        return self.state in (SubmissionState.DRAFT, SubmissionState.RETURNED)

    @property
    def on_time(self) -> bool | None:
        """Whether the first submission came by the deadline; None before it is submitted."""
        if self.first_submitted_at is None:
            return None
        from django.utils import timezone

        return timezone.localdate(self.first_submitted_at) <= self.request.deadline

    @property
    def sections(self) -> list[tuple[str, str]]:
        """The narrative, in the request's order: (section title, text); empty text if none."""
        texts = {s.section_id: s.text for s in self.section_texts.all()}
        return [(s.title, texts.get(s.pk, "")) for s in self.request.sections.all()]


class SubmissionSection(models.Model):
    submission = models.ForeignKey(Submission, models.CASCADE, related_name="section_texts")
    section = models.ForeignKey(NarrativeSection, models.CASCADE, related_name="+")
    text = models.TextField(_("nội dung"), blank=True)

    class Meta:
        ordering = ["section__order", "section__pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "section"], name="submission_section_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.submission}: {self.section}"


class SubmissionWaiver(models.Model):
    """A unit below a consolidating unit that need not report this time, with the reason."""

    request = models.ForeignKey(ReportRequest, models.CASCADE, related_name="waivers")
    unit = models.ForeignKey("units.Unit", models.CASCADE, related_name="+")
    reason = models.TextField(_("lý do"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("miễn báo cáo")
        verbose_name_plural = _("miễn báo cáo")
        constraints = [
            models.UniqueConstraint(fields=["request", "unit"], name="submission_waiver_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.request}"
