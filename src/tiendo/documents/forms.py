"""The forms of the report definition pages: the header, one formset of narrative
sections (ordered, added and removed), one of annex tables. They turn the post into a spec
(``definitions.check_spec``); the service checks it and reports every problem at once."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.core.text import nfc
from tiendo.documents.definitions import ANNEX_ROWS, CATEGORY_LAYOUTS, ROWS_UNITS
from tiendo.documents.models import SignerCapacity, TemplateKind
from tiendo.documents.narrative import Section, section_key
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Programme
from tiendo.programmes.periods import PeriodType
from tiendo.programmes.widgets import PeriodChoiceField, PeriodPicker
from tiendo.reporting.models import NarrativeSection, ReportRequest
from tiendo.units.models import Level, Unit

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
# The periods the definition page lists (a report is rarely monthly or "as of" a day).
OFFERED_PERIOD_TYPES = (PeriodType.YEAR, PeriodType.HALF, PeriodType.QUARTER, PeriodType.PHASE)


class DefinitionForm(forms.Form):
    title = forms.CharField(label=_("Tên báo cáo"), max_length=300)
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
    period = PeriodChoiceField(
        label=_("Kỳ báo cáo"),
        required=False,
        period_types=list(PeriodType),  # a stored report of any period stays editable
        widget=PeriodPicker(period_types=OFFERED_PERIOD_TYPES),
        help_text=_("Để trống khi trả lời công văn: kỳ của công văn."),
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
        # the programmes the user deals with: never another province's own programme
        self.fields["programmes"].queryset = programmes_seen_by(user).order_by("code")
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

    def clean_period(self) -> str:
        period = self.cleaned_data["period"]
        return period.id if period is not None else ""

    def recipient_lines(self) -> list[str]:
        text = self.cleaned_data.get("recipients") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class SectionForm(forms.Form):
    # Made from the heading when the section is created (narrative.section_key), then
    # posted back unchanged: the units' texts follow it, not the heading.
    key = forms.CharField(max_length=60, required=False, widget=forms.HiddenInput)
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


PLAN_ACTUAL, PLAN_TARGET = "", "target"
# What a column shows beside the indicator's actual value (``plan`` of a stored column).
COLUMN_KINDS = (
    (PLAN_ACTUAL, _("Thực hiện")),
    (PLAN_TARGET, _("Kế hoạch giao, thực hiện, % đạt")),
)
EXTRA_COLUMNS = 3


def _rows(columns) -> list[dict]:
    """The columns with an indicator or a plan chosen (the blank rows of the page dropped)."""
    return [c for c in columns or [] if c.get("indicator") or c.get("plan")]


class AnnexColumnsWidget(forms.Widget):
    """One row a column: the indicator, what it shows (actual; target, actual and %; or
    the plan given by another indicator's values) and how its categories show, each
    picked from a list; a few blank rows to add columns. Posted as lists
    ``<name>-indicator``, ``<name>-plan``, ``<name>-categories``; the value is the
    stored shape, ``[{"indicator", "plan", "categories"}]``."""

    template_name = "documents/_annex_columns.html"
    PARTS = ("indicator", "plan", "categories")

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.indicator_groups: list = []

    def value_from_datadict(self, data, files, name):
        lists = [
            data.getlist(f"{name}-{part}") if hasattr(data, "getlist") else []
            for part in self.PARTS
        ]
        count = max(map(len, lists))
        return [
            {
                part: (values[i] if i < len(values) else "").strip()
                for part, values in zip(self.PARTS, lists, strict=True)
            }
            for i in range(count)
        ]

    def value_omitted_from_data(self, data, files, name):
        return not any(f"{name}-{part}" in data for part in self.PARTS)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = _rows(value) if isinstance(value, list) else []
        known = {code for _g, options in self.indicator_groups for code, _n in options}
        missing = sorted(
            {c.get(k, "") for c in rows for k in ("indicator", "plan")} - known - {"", "target"}
        )
        groups = list(self.indicator_groups)
        if missing:  # stored, but no longer offered: shown, so the check can name it
            groups.append((_("Không thuộc các chương trình"), [(c, c) for c in missing]))
        blank = {"indicator": "", "plan": "", "categories": ""}
        context["widget"].update(
            rows=[{**blank, **c} for c in rows] + [blank] * EXTRA_COLUMNS,
            indicator_groups=groups,
            kinds=COLUMN_KINDS,
            layouts=list(CATEGORY_LAYOUTS.items()),
        )
        return context


class AnnexColumnsField(forms.Field):
    """The columns of an annex, checked row by row: an indicator chosen, a category layout
    of the list."""

    widget = AnnexColumnsWidget

    def set_indicators(self, indicators) -> None:
        groups: dict[str, list] = {}
        for indicator in indicators:
            programme = indicator.programme.short_name or indicator.programme.name
            label = f"{indicator.code} — {indicator.name} ({indicator.measure_unit})"
            groups.setdefault(programme, []).append((indicator.code, label))
        self.widget.indicator_groups = list(groups.items())

    def has_changed(self, initial, data) -> bool:
        return _rows(initial) != _rows(data)

    def to_python(self, value) -> list[dict]:
        return _rows(value) if isinstance(value, list) else []

    def validate(self, value) -> None:
        if not value:
            raise forms.ValidationError(
                _("Chọn ít nhất một chỉ tiêu cho các cột."), code="no_columns"
            )
        # Whether the indicators belong to the report's programmes is the spec's check
        # (definitions.check_annexes), which names the annex and the column.
        errors = []
        for number, column in enumerate(value, start=1):
            errors += _column_errors(number, column)
        if errors:
            raise forms.ValidationError(errors)


def _column_errors(number: int, column: dict) -> list:
    errors = []
    if not column["indicator"]:
        errors.append(
            forms.ValidationError(
                _("Cột %(column)s: chọn chỉ tiêu."), code="missing", params={"column": number}
            )
        )
    if column["categories"] not in CATEGORY_LAYOUTS:
        errors.append(
            forms.ValidationError(
                _("Cột %(column)s: cách hiện phân tổ “%(value)s” không có trong danh sách."),
                code="bad_categories",
                params={"column": number, "value": column["categories"]},
            )
        )
    return errors


class AnnexForm(forms.Form):
    title = forms.CharField(label=_("Tên phụ lục"), max_length=300)
    rows = forms.ChoiceField(label=_("Các dòng"), choices=list(ANNEX_ROWS.items()))
    units = forms.CharField(
        label=_("Mã các đơn vị (khi chọn danh sách)"),
        required=False,
        help_text=_("Cách nhau bởi dấu phẩy, theo thứ tự muốn hiện."),
    )
    columns = AnnexColumnsField(label=_("Các cột"))

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].set_indicators(indicators)

    def clean_units(self):
        return [u for u in re.split(r"[,\s]+", self.cleaned_data["units"]) if u]

    def has_changed(self) -> bool:
        """A blank row of the page adds an annex once it has a title, units or columns:
        its selects (the rows, a column's kind) post their first choice untouched."""
        return any(name in self.changed_data for name in ("title", "units", "columns"))

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
    """The sections posted, in order. A row the page showed keeps its stored key (the
    formset's ``initial``), whatever was posted; a new row gets one from its heading."""
    rows = []
    shown = set(map(id, formset.initial_forms))
    for form in ordered_forms(formset):
        stored = (form.initial or {}).get("key") or "" if id(form) in shown else ""
        rows.append((stored or form.cleaned_data["key"].strip(), form.cleaned_data))
    taken = {key for key, _d in rows if key}
    return [
        Section(
            key or section_key(d["heading"], taken),
            d["heading"].strip(),
            (d.get("text") or "").strip(),
            d["source"],
        )
        for key, d in rows
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
            "columns": list(a.get("columns", [])),
            "ORDER": i,
        }
        for i, a in enumerate(annexes, start=1)
    ]


MAX_SECTION_TEXT = 20_000


class AnswerTextsForm(forms.Form):
    """A unit's own text under each section of its report, one box a section."""

    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, sections: list[Section], **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = sections
        for number, section in enumerate(sections, start=1):
            self.fields[f"text-{section.key}"] = forms.CharField(
                label=f"{number}. {section.heading}",
                required=False,
                max_length=MAX_SECTION_TEXT,
                initial=section.text,
                widget=forms.Textarea(attrs={"rows": 6}),
            )

    def texts(self) -> dict[str, str]:
        return {
            s.key: nfc(self.cleaned_data.get(f"text-{s.key}") or "").strip() for s in self.sections
        }
