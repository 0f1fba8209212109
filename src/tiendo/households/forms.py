"""The register's forms: they read what was typed; :mod:`tiendo.households.services` checks
it and writes. Each form carries the ``version`` it was prepared from, so a form opened
before someone else's save is refused instead of overwriting that save.

Numbers are typed the Vietnamese way (``1,5`` ha, ``1.234`` triệu đồng); dates as
ngày/tháng/năm. A refusal of the service is put beside the field it names
(:func:`show_refusal`).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_number
from tiendo.data.services import DataEntryError, parse_number
from tiendo.households.models import PovertyLevel, Sex
from tiendo.households.services import RecordInvalid, RegisterError
from tiendo.programmes.models import Component, Programme
from tiendo.units.models import Level, Unit

DAY_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
SEX_CHOICES = [("", "—"), *Sex.choices]


def show_refusal(form: forms.Form, error: RegisterError) -> None:
    """Put a refusal of the service beside its field (or above the form)."""
    if isinstance(error, RecordInvalid):
        for field, messages in error.problems.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, str(error))


def _day(label, *, required=True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DAY_FORMATS,
        help_text=_("ngày/tháng/năm"),
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "31/12/2024"}),
    )


class NumberField(forms.CharField):
    """A number typed the Vietnamese way, read by :func:`tiendo.data.services.parse_number`
    (``1.234,5``; ``1234.5`` from a spreadsheet); the service checks its range."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "40"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return format_number(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_number(value, field=str(self.label))
        except DataEntryError as error:
            raise forms.ValidationError(str(error)) from error


def _money(label, *, required=True) -> NumberField:
    return NumberField(label=label, required=required)


class Versioned(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def data_for_service(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class HouseholdForm(Versioned):
    code = forms.CharField(label=_("Mã hộ"), max_length=40, help_text=_("Chữ không dấu, chữ số"))
    head_name = forms.CharField(label=_("Họ và tên chủ hộ"), max_length=200)
    head_birth_year = forms.IntegerField(label=_("Năm sinh chủ hộ"), min_value=1900, max_value=2100)
    head_sex = forms.ChoiceField(label=_("Giới tính chủ hộ"), choices=Sex.choices)
    head_id = forms.CharField(
        label=_("Số căn cước chủ hộ"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    village = forms.CharField(label=_("Thôn, bản, tổ dân phố"), max_length=200, required=False)
    ethnicity = forms.CharField(label=_("Dân tộc"), max_length=60, required=False)
    phone = forms.CharField(label=_("Số điện thoại"), max_length=20, required=False)
    note = forms.CharField(
        label=_("Ghi chú"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["head_id"].help_text = _(
                "Để trống để giữ số đã lưu; số đã lưu không hiện lại trên trang."
            )
        else:
            self.fields["head_id"].help_text = _("12 chữ số; để trống nếu chưa có")

    def data_for_service(self) -> dict:
        data = super().data_for_service()
        if self.editing and not data.get("head_id"):
            data.pop("head_id")
        return data


class RemoveForm(Versioned):
    reason = forms.CharField(
        label=_("Lý do xóa khỏi danh sách"),
        max_length=300,
        help_text=_("Ví dụ: chuyển khẩu đi nơi khác, nhập trùng. Hồ sơ và lịch sử vẫn được giữ."),
    )


class MemberForm(Versioned):
    name = forms.CharField(label=_("Họ và tên"), max_length=200)
    birth_year = forms.IntegerField(
        label=_("Năm sinh"), min_value=1900, max_value=2100, required=False
    )
    sex = forms.ChoiceField(label=_("Giới tính"), choices=SEX_CHOICES, required=False)
    relation = forms.CharField(label=_("Quan hệ với chủ hộ"), max_length=60, required=False)
    id_number = forms.CharField(
        label=_("Số căn cước"),
        max_length=40,
        required=False,
        help_text=_("12 chữ số; để trống để giữ số đã lưu"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def data_for_service(self) -> dict:
        data = super().data_for_service()
        if not data.get("id_number"):
            data.pop("id_number")
        return data


class PovertyForm(Versioned):
    year = forms.IntegerField(label=_("Năm rà soát"), min_value=2000, max_value=2100)
    level = forms.ChoiceField(
        label=_("Phân loại"),
        choices=[("", _("(bỏ phân loại của năm)")), *PovertyLevel.choices],
        required=False,
    )


class _ProgrammeFields(Versioned):
    programme = forms.ModelChoiceField(label=_("Chương trình"), queryset=Programme.objects.none())
    component = forms.ModelChoiceField(
        label=_("Nội dung"), queryset=Component.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.order_by("code")
        components = Component.objects.select_related("programme").order_by(
            "programme__code", "order", "code"
        )
        self.fields["component"].queryset = components
        self.fields["component"].label_from_instance = lambda c: f"{c.programme.code}: {c.name}"


class EnrolmentForm(_ProgrammeFields):
    enrolled_on = _day(_("Ngày tham gia"))
    benefiting = forms.BooleanField(label=_("Được thụ hưởng chính sách"), required=False)
    decision_number = forms.CharField(label=_("Số quyết định"), max_length=80, required=False)
    decision_date = _day(_("Ngày quyết định"), required=False)
    ended_on = _day(_("Ngày kết thúc"), required=False)


class LoanForm(_ProgrammeFields):
    contract_number = forms.CharField(
        label=_("Số hợp đồng, khế ước"), max_length=60, required=False
    )
    amount = _money(_("Số tiền vay (triệu đồng)"))
    disbursed_on = _day(_("Ngày giải ngân"))
    term_months = forms.IntegerField(label=_("Thời hạn (tháng)"), min_value=1, max_value=600)
    purpose = forms.CharField(label=_("Mục đích vay"), max_length=300, required=False)
    interest_rate = _money(_("Lãi suất (%/năm)"), required=False)
    interest_support = _money(_("Hỗ trợ lãi suất (triệu đồng)"), required=False)
    lender = forms.CharField(
        label=_("Nơi cho vay"),
        max_length=200,
        required=False,
        initial=_("Ngân hàng Chính sách xã hội"),
    )


class PlotForm(_ProgrammeFields):
    land_unit = forms.CharField(
        label=_("Mã xã nơi có đất"),
        max_length=20,
        help_text=_("Mã đơn vị hành chính của xã (5 chữ số); mặc định là xã nơi cư trú"),
    )
    area_ha = _money(_("Diện tích (ha)"))
    crop = forms.CharField(label=_("Cây trồng, vật nuôi"), max_length=120)
    is_garden = forms.BooleanField(label=_("Là vườn hộ"), required=False)
    year_renovated = forms.IntegerField(
        label=_("Năm cải tạo"), min_value=2000, max_value=2100, required=False
    )
    income_before = _money(_("Thu nhập trước (triệu đồng/năm)"), required=False)
    income_after = _money(_("Thu nhập sau (triệu đồng/năm)"), required=False)
    net_income_after = _money(_("Thu nhập sau trừ chi phí (triệu đồng/năm)"), required=False)
    jobs = forms.IntegerField(
        label=_("Lao động có việc làm ổn định"), min_value=0, max_value=10000, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].required = False

    def clean_land_unit(self):
        code = self.cleaned_data["land_unit"].strip()
        if not code.isascii():
            raise forms.ValidationError(_("Mã xã chỉ gồm chữ số."))
        unit = Unit.objects.filter(code=code, level=Level.COMMUNE).order_by("-valid_from").first()
        if unit is None:
            raise forms.ValidationError(
                _("Không có xã mã “%(code)s” trong danh mục đơn vị.") % {"code": code[:20]}
            )
        return unit


class RepaymentForm(Versioned):
    paid_on = _day(_("Ngày trả"))
    principal = _money(_("Tiền gốc (triệu đồng)"))
    interest = _money(_("Tiền lãi (triệu đồng)"), required=False)


class ListFilter(forms.Form):
    """The household list's search and filters (GET); a bad value is ignored, not a 500."""

    q = forms.CharField(
        label=_("Tìm theo tên, mã hộ hoặc 3 số cuối căn cước"), max_length=100, required=False
    )
    thon = forms.ChoiceField(label=_("Thôn, bản"), required=False)
    nam = forms.IntegerField(label=_("Năm rà soát"), min_value=2000, max_value=2100, required=False)
    ngheo = forms.ChoiceField(
        label=_("Phân loại"), choices=[("", _("Tất cả")), *PovertyLevel.choices], required=False
    )
    chuong_trinh = forms.ChoiceField(label=_("Tham gia chương trình"), required=False)
    da_xoa = forms.ChoiceField(
        label=_("Trạng thái"),
        choices=[
            ("", _("Đang trong danh sách")),
            ("1", _("Đã xóa khỏi danh sách")),
            ("tat-ca", _("Tất cả")),
        ],
        required=False,
    )

    def __init__(self, *args, villages=(), programmes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["thon"].choices = [("", _("Tất cả")), *((v, v) for v in villages)]
        self.fields["chuong_trinh"].choices = [
            ("", _("Tất cả")),
            *((p.code, f"{p.code} — {p.short_name or p.name}") for p in programmes),
        ]

    def values(self) -> dict:
        """The filters in force: those that are valid, others dropped."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in ("", None)}
