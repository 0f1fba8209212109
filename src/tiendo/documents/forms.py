"""The forms of the report definition pages: the header, one formset of narrative
sections (ordered, added and removed), one of annex tables. They turn the post into a spec
(``definitions.check_spec``); the service checks it and reports every problem at once."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.documents.definitions import ANNEX_ROWS, CATEGORY_LAYOUTS, ROWS_UNITS
from tiendo.documents.models import SignerCapacity, TemplateKind
from tiendo.documents.narrative import Section
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import Period, PeriodError
from tiendo.reporting.models import NarrativeSection, ReportRequest
from tiendo.units.models import Level, Unit

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class DefinitionForm(forms.Form):
    title = forms.CharField(label=_("Tên báo cáo"), max_length=300)
    slug = forms.CharField(
        label=_("Mã báo cáo (trong đường dẫn)"),
        max_length=80,
        required=False,
        help_text=_("Để trống: tạo từ tên báo cáo."),
    )
    unit = forms.ModelChoiceField(label=_("Đơn vị ban hành"), queryset=Unit.objects.none())
    kind = forms.ChoiceField(label=_("Mẫu của hệ thống"), choices=TemplateKind.choices)
    template_file = forms.FileField(
        label=_("Hoặc tải mẫu riêng (.docx)"),
        required=False,
        help_text=_("Tệp Word có chỗ đặt biến; xem trang “Biến của mẫu”."),
    )
    shipped_template = forms.BooleanField(
        label=_("Bỏ mẫu riêng, dùng mẫu của hệ thống"), required=False
    )
    parent_agency = forms.CharField(label=_("Cơ quan chủ quản"), max_length=200, required=False)
    issuing_agency = forms.CharField(label=_("Cơ quan ban hành"), max_length=200)
    number = forms.CharField(label=_("Số"), max_length=20, required=False)
    symbol = forms.CharField(label=_("Ký hiệu"), max_length=40, initial="BC-UBND")
    place = forms.CharField(label=_("Địa danh"), max_length=80)
    issued_on = forms.DateField(
        label=_("Ngày ban hành"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_("Dạng 15/12/2024; để trống nếu chưa có."),
        widget=forms.DateInput(format="%d/%m/%Y"),
    )
    doc_title = forms.CharField(label=_("Tên loại văn bản"), max_length=80, initial="BÁO CÁO")
    summary = forms.CharField(label=_("Trích yếu"), max_length=500)
    basis = forms.CharField(
        label=_("Căn cứ, mở đầu"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    signer_capacity = forms.ChoiceField(
        label=_("Quyền hạn ký"), choices=SignerCapacity.choices, required=False
    )
    signing_for = forms.CharField(label=_("Ký thay mặt / thay cho"), max_length=200, required=False)
    signer_title = forms.CharField(label=_("Chức vụ người ký"), max_length=200, required=False)
    signer_name = forms.CharField(label=_("Họ tên người ký"), max_length=120, required=False)
    recipients = forms.CharField(
        label=_("Nơi nhận"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Mỗi nơi nhận một dòng."),
    )
    request = forms.ModelChoiceField(
        label=_("Trả lời công văn"),
        queryset=ReportRequest.objects.none(),
        required=False,
        help_text=_("Hoặc để trống và chọn chương trình, kỳ báo cáo."),
    )
    programmes = forms.ModelMultipleChoiceField(
        label=_("Chương trình"),
        queryset=Programme.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    period = forms.CharField(
        label=_("Kỳ báo cáo"),
        max_length=20,
        required=False,
        help_text=_("Ví dụ 2024, 2024-Q4, 2021-2025; để trống khi trả lời công văn."),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, current_unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        readable = scope.readable_units(user)
        # Communes answer through their own report, made from the letter's: the list offers
        # the units above them (thousands of communes would make the page heavy), the
        # user's own unit and the definition's.
        self.fields["unit"].queryset = readable.filter(
            Q(level__lt=Level.COMMUNE)
            | Q(pk=user.unit_id)
            | Q(pk=current_unit.pk if current_unit else None)
        ).order_by("path")
        self.fields["request"].queryset = ReportRequest.objects.filter(
            pk__in=ReportRequest.objects.filter(
                Q(issuer__in=readable) | Q(recipients__unit__in=readable)
            ).values("pk")
        ).select_related("issuer")
        self.user = user

    def clean_unit(self):
        unit = self.cleaned_data["unit"]
        if not scope.may_define_reports(self.user, unit):
            raise forms.ValidationError(
                _("Bạn không được định nghĩa báo cáo cho %(unit)s."),
                code="forbidden",
                params={"unit": unit.name},
            )
        return unit

    def clean_period(self):
        period = self.cleaned_data["period"].strip()
        if period:
            try:
                return Period.parse(period).id
            except PeriodError as exc:
                raise forms.ValidationError(str(exc), code=exc.code) from exc
        return period

    def recipient_lines(self) -> list[str]:
        text = self.cleaned_data.get("recipients") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class SectionForm(forms.Form):
    key = forms.CharField(
        label=_("Khóa"),
        max_length=60,
        help_text=_("Chữ thường không dấu, số, gạch dưới; giữ nguyên khi sửa để nội dung đi theo."),
    )
    heading = forms.CharField(label=_("Tiêu đề mục"), max_length=300)
    text = forms.CharField(
        label=_("Nội dung"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    source = forms.TypedChoiceField(
        label=_("Nội dung các đơn vị viết ở mục của công văn"),
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args, letter_sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—")] + [
            (s.pk, f"{s.request.number_symbol}: {s.title}") for s in letter_sections
        ]


class AnnexForm(forms.Form):
    title = forms.CharField(label=_("Tên phụ lục"), max_length=300)
    rows = forms.ChoiceField(label=_("Các dòng"), choices=list(ANNEX_ROWS.items()))
    units = forms.CharField(
        label=_("Mã các đơn vị (khi chọn danh sách)"),
        required=False,
        help_text=_("Cách nhau bởi dấu phẩy, theo thứ tự muốn hiện."),
    )
    columns = forms.CharField(
        label=_("Các cột"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Mỗi dòng một chỉ tiêu: MÃ | kế hoạch | phân tổ. Kế hoạch: target (chỉ tiêu giao), "
            "mã chỉ tiêu kế hoạch, hoặc để trống (chỉ số thực hiện). Phân tổ: columns (mỗi "
            "phân tổ một cột), rows (một dòng con), hoặc để trống."
        ),
    )

    def clean_units(self):
        return [u for u in re.split(r"[,\s]+", self.cleaned_data["units"]) if u]

    def clean_columns(self):
        columns = []
        errors = []
        for number, line in enumerate(self.cleaned_data["columns"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) > 3:
                errors.append(
                    forms.ValidationError(
                        _("Dòng %(line)s: nhiều nhất 3 phần (MÃ | kế hoạch | phân tổ)."),
                        code="bad_column",
                        params={"line": number},
                    )
                )
                continue
            parts += [""] * (3 - len(parts))
            if parts[2] not in CATEGORY_LAYOUTS:
                errors.append(
                    forms.ValidationError(
                        _("Dòng %(line)s: phân tổ “%(value)s” phải là columns, rows hoặc trống."),
                        code="bad_categories",
                        params={"line": number, "value": parts[2]},
                    )
                )
                continue
            columns.append({"indicator": parts[0], "plan": parts[1], "categories": parts[2]})
        if errors:
            raise forms.ValidationError(errors)
        return columns

    def clean(self):
        data = super().clean()
        if data.get("rows") == ROWS_UNITS and not data.get("units"):
            self.add_error("units", _("Chọn ít nhất một đơn vị."))
        return data


SectionFormSet = forms.formset_factory(
    SectionForm, extra=1, can_delete=True, can_order=True, max_num=60, validate_max=True
)
AnnexFormSet = forms.formset_factory(
    AnnexForm, extra=1, can_delete=True, can_order=True, max_num=20, validate_max=True
)


def ordered_forms(formset) -> list:
    """The kept rows of a formset in the order asked (empty extra rows and deleted ones
    dropped); a problem of row ``i`` of the spec is on ``ordered_forms(formset)[i]``."""
    rows = []
    for index, form in enumerate(formset.forms):
        extra = index >= formset.initial_form_count()
        if (extra and not form.has_changed()) or not hasattr(form, "cleaned_data"):
            continue
        if form.cleaned_data.get("DELETE"):
            continue
        order = form.cleaned_data.get("ORDER")
        rows.append((order if order is not None else 10_000 + index, index, form))
    return [form for _o, _i, form in sorted(rows, key=lambda r: (r[0], r[1]))]


def _ordered(formset) -> list[dict]:
    return [form.cleaned_data for form in ordered_forms(formset)]


def section_list(formset) -> list[Section]:
    return [
        Section(d["key"].strip(), d["heading"].strip(), (d.get("text") or "").strip(), d["source"])
        for d in _ordered(formset)
    ]


def annex_list(formset) -> list[dict]:
    return [
        {"title": d["title"], "rows": d["rows"], "units": d["units"], "columns": d["columns"]}
        for d in _ordered(formset)
    ]


def letter_sections_for(user, letter_id=None):
    """The letters' sections a definition's section may take the units' texts from: those
    of ``letter_id`` when the definition answers a letter, else of every letter the user
    may read (the most recent first)."""
    readable = scope.readable_units(user)
    letters = ReportRequest.objects.filter(
        Q(issuer__in=readable) | Q(recipients__unit__in=readable)
    )
    if letter_id:
        letters = letters.filter(pk=letter_id)
    return (
        NarrativeSection.objects.filter(request__in=letters.values("pk"))
        .select_related("request")
        .order_by("-request__issued_on", "request_id", "order", "pk")[:300]
    )


def initial_sections(sections: list[Section]) -> list[dict]:
    return [
        {"key": s.key, "heading": s.heading, "text": s.text, "source": s.source, "ORDER": i}
        for i, s in enumerate(sections, start=1)
    ]


def initial_annexes(annexes: list[dict]) -> list[dict]:
    return [
        {
            "title": a.get("title", ""),
            "rows": a.get("rows", ""),
            "units": ", ".join(a.get("units", [])),
            "columns": "\n".join(
                " | ".join(
                    [c.get("indicator", ""), c.get("plan", ""), c.get("categories", "")]
                ).rstrip(" |")
                for c in a.get("columns", [])
            ),
            "ORDER": i,
        }
        for i, a in enumerate(annexes, start=1)
    ]
