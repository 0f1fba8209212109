"""The forms of the register's pages: they parse and check what was typed; the services
(:mod:`tiendo.cooperatives.services`) check scope and version and save.

Codes (tax code, unit code, household code, decision number) are ASCII once digits typed on
another keyboard are folded (:func:`tiendo.core.numbers.to_ascii`); texts are capped so a
pasted novel gets a message, not a database error."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from tiendo.accounts import scope
from tiendo.cooperatives.models import (
    OBSTACLES,
    STAR_BANDS,
    Cooperative,
    CooperativeKind,
    CooperativeStatus,
    OcopGroup,
    OcopProduct,
    Sector,
    Support,
    SupportKind,
    normalise_tax_code,
    validate_tax_code,
)
from tiendo.core.numbers import to_ascii
from tiendo.households.models import Household
from tiendo.programmes.models import Programme
from tiendo.units.models import Unit

DAY_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]
NOTE_LIMIT = 4000
COOPERATIVE_CHOICES_LIMIT = 500


class DecimalVnField(forms.DecimalField):
    """A number as Vietnamese write it: ``1.234,5`` or ``1234,5`` (and ``1234.5``)."""

    def to_python(self, value):
        if isinstance(value, str):
            text = to_ascii(value.strip()).replace(" ", "")
            if "," in text:
                text = text.replace(".", "").replace(",", ".")
            value = text
        return super().to_python(value)


def _day(label, **kw) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DAY_FORMATS,
        help_text=_("ngày/tháng/năm"),
        error_messages={
            "invalid": _("Ngày không hợp lệ; hãy nhập theo dạng ngày/tháng/năm, ví dụ 01/01/2020.")
        },
        **kw,
    )


def _ascii_code(value: str, label) -> str:
    code = to_ascii((value or "").strip())
    if not code.isascii():
        raise forms.ValidationError(
            _("“%(field)s” chỉ gồm chữ cái không dấu, chữ số và dấu gạch.") % {"field": label}
        )
    return code


class UnitCodeField(forms.CharField):
    """A unit typed by its code; the view gives the units the user may write."""

    def __init__(self, **kw):
        super().__init__(
            label=_("Mã đơn vị"),
            max_length=40,
            help_text=_("mã xã (hoặc mã đơn vị quản lý hợp tác xã), ví dụ 00001"),
            widget=forms.TextInput(attrs={"list": "unit-codes", "autocomplete": "off"}),
            **kw,
        )


class RegisterForm(forms.ModelForm):
    """What both record forms share: the unit by code, the version read, capped texts."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    unit_code = UnitCodeField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["unit_code"].initial = self.instance.unit.code
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["class"] = "full-width"
        if "note" in self.fields:
            self.fields["note"].max_length = NOTE_LIMIT
            self.fields["note"].widget.attrs["maxlength"] = NOTE_LIMIT
            self.fields["note"].validators.append(MaxLengthValidator(NOTE_LIMIT))
        for field in self.fields.values():
            if field.required and not isinstance(field, forms.BooleanField):
                field.error_messages["required"] = _("Hãy nhập “%(field)s”.") % {
                    "field": field.label
                }

    def clean_unit_code(self):
        code = _ascii_code(self.cleaned_data["unit_code"], _("Mã đơn vị"))
        units = list(scope.readable_units(self.user).filter(code=code).order_by("-valid_from")[:5])
        writable = [u for u in units if scope.can_write(self.user, u)]
        if not units:
            raise forms.ValidationError(
                _("Không có đơn vị mã “%(code)s” trong phạm vi của bạn.") % {"code": code[:40]}
            )
        if not writable:
            raise forms.ValidationError(
                _("Bạn không có quyền ghi số liệu của đơn vị “%(name)s”.") % {"name": units[0].name}
            )
        self.instance.unit = writable[0]
        return code

    def register_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        data["unit"] = self.instance.unit
        return data


class CooperativeForm(RegisterForm):
    class Meta:
        model = Cooperative
        fields = [
            "kind",
            "name",
            "tax_code",
            "founded_on",
            "members",
            "sector",
            "value_chain",
            "status",
            "no_collateral",
            "no_office",
            "not_compliant",
            "other_obstacle",
            "obstacle_note",
            "note",
        ]

    field_order = ["kind", "name", "tax_code", "unit_code"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["founded_on"] = _day(_("Ngày thành lập"))
        if self.instance.pk:
            self.fields["founded_on"].initial = self.instance.founded_on
        self.fields["tax_code"].help_text = _("10 chữ số, hoặc 13 chữ số dạng 0101234567-001")
        self.fields["tax_code"].max_length = 20
        self.fields["tax_code"].validators = []
        self.fields["note"].widget.attrs["rows"] = 3
        self.order_fields(self.field_order)

    def clean_tax_code(self):
        code = normalise_tax_code(self.cleaned_data.get("tax_code", ""))
        validate_tax_code(code)
        if code:
            taken = Cooperative.objects.filter(tax_code=code).exclude(pk=self.instance.pk)
            if taken.exists():
                raise forms.ValidationError(
                    _("Mã số thuế %(code)s đã có trong sổ hợp tác xã.") % {"code": code}
                )
        return code

    def clean(self):
        data = super().clean()
        if data.get("obstacle_note") and not data.get("other_obstacle"):
            data["other_obstacle"] = True
        return data


class SupportForm(forms.ModelForm):
    amount = DecimalVnField(
        label=_("Giá trị (triệu đồng)"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=3,
        error_messages={
            "invalid": _("“Giá trị (triệu đồng)” phải là một số, ví dụ 500 hoặc 12,5.")
        },
    )

    class Meta:
        model = Support
        fields = ["given_on", "giver", "kind", "amount", "decision", "purpose"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["given_on"] = _day(_("Ngày hỗ trợ"))
        self.fields["kind"].choices = SupportKind.choices
        self.order_fields(self.Meta.fields)

    def register_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class OcopForm(RegisterForm):
    cooperative = forms.ModelChoiceField(
        label=_("Hợp tác xã, tổ hợp tác"), queryset=Cooperative.objects.none(), required=False
    )
    household_code = forms.CharField(
        label=_("Mã hộ sản xuất"),
        max_length=40,
        required=False,
        help_text=_("mã hộ trong sổ hộ của xã nơi có sản phẩm"),
    )
    programme = forms.ModelChoiceField(
        label=_("Thuộc chương trình, nghị quyết"),
        queryset=Programme.objects.order_by("code"),
        required=False,
    )
    score = DecimalVnField(
        label=_("Điểm đánh giá"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        error_messages={"invalid": _("“Điểm đánh giá” phải là một số từ 0 đến 100, ví dụ 72,5.")},
    )

    class Meta:
        model = OcopProduct
        fields = [
            "name",
            "group",
            "stars",
            "score",
            "cooperative",
            "enterprise",
            "programme",
            "decision_number",
            "decision_date",
            "issuer",
            "note",
        ]

    field_order = ["name", "unit_code", "group", "stars", "score", "cooperative", "enterprise"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision_date"] = _day(_("Ngày quyết định công nhận"))
        self.fields["stars"] = forms.TypedChoiceField(
            label=_("Số sao"),
            coerce=int,
            choices=[("", "—")] + [(n, f"{n} ★") for n in STAR_BANDS],
        )
        self.fields["stars"].error_messages["required"] = _("Hãy nhập “%(field)s”.") % {
            "field": _("Số sao")
        }
        self.fields["decision_date"].error_messages["required"] = _("Hãy nhập “%(field)s”.") % {
            "field": _("Ngày quyết định công nhận")
        }
        self.fields["cooperative"].queryset = (
            Cooperative.objects.in_paths(scope.readable_paths(self.user))
            .select_related("unit")
            .order_by("name")
        )
        self.fields["enterprise"].help_text = _(
            "hoặc tên doanh nghiệp, hoặc mã hộ: đúng một chủ thể"
        )
        self.fields["note"].widget.attrs["rows"] = 3
        product = self.instance
        if product.pk:
            for name in ("decision_date", "stars"):
                self.fields[name].initial = getattr(product, name)
            if product.household_id:
                self.fields["household_code"].initial = product.household.code
        self.order_fields(self.field_order)

    def clean_decision_number(self):
        # the number keeps its Vietnamese symbol (123/QĐ-UBND); only its digits are folded
        return to_ascii(self.cleaned_data["decision_number"].strip())

    def clean_household_code(self):
        return _ascii_code(self.cleaned_data.get("household_code", ""), _("Mã hộ sản xuất"))

    def clean(self):
        data = super().clean()
        code = data.get("household_code")
        self.household = None
        if code and self.instance.unit_id:
            self.household = (
                Household.objects.active().filter(unit=self.instance.unit, code=code).first()
            )
            if self.household is None:
                self.add_error(
                    "household_code",
                    _("Không có hộ mã “%(code)s” trong sổ hộ của %(unit)s.")
                    % {"code": code, "unit": self.instance.unit.name},
                )
            elif not scope.may_edit_records(self.user, self.instance.unit):
                self.add_error(
                    "household_code",
                    _("Bạn không có quyền ghi hồ sơ hộ của đơn vị này."),
                )
        producers = [bool(data.get("cooperative")), bool(data.get("enterprise")), bool(code)]
        if sum(producers) != 1:
            raise forms.ValidationError(
                _(
                    "Chủ thể sản xuất phải là đúng một trong: hợp tác xã, doanh nghiệp hoặc hộ "
                    "sản xuất."
                )
            )
        return data

    def _post_clean(self):
        self.instance.household = getattr(self, "household", None)
        super()._post_clean()

    def register_data(self) -> dict:
        data = super().register_data()
        data["household"] = getattr(self, "household", None)
        return data


class CooperativeFilter(forms.Form):
    q = forms.CharField(label=_("Tìm theo tên hoặc mã số thuế"), required=False, max_length=100)
    loai = forms.ChoiceField(
        label=_("Loại hình"), required=False, choices=[("", _("Tất cả"))] + CooperativeKind.choices
    )
    linh_vuc = forms.ChoiceField(
        label=_("Lĩnh vực"), required=False, choices=[("", _("Tất cả"))] + Sector.choices
    )
    tinh_trang = forms.ChoiceField(
        label=_("Tình trạng"),
        required=False,
        choices=[("", _("Tất cả"))] + CooperativeStatus.choices,
    )
    vuong_mac = forms.ChoiceField(
        label=_("Không vay được vốn do"),
        required=False,
        choices=[("", _("Tất cả")), ("any", _("Có vướng mắc bất kỳ"))] + list(OBSTACLES.items()),
    )


class OcopFilter(forms.Form):
    q = forms.CharField(label=_("Tìm theo tên sản phẩm"), required=False, max_length=100)
    sao = forms.TypedChoiceField(
        label=_("Số sao"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Tất cả")), (3, _("Từ 3 sao")), (4, _("Từ 4 sao")), (5, _("5 sao"))],
    )
    nhom = forms.ChoiceField(
        label=_("Nhóm sản phẩm"), required=False, choices=[("", _("Tất cả"))] + OcopGroup.choices
    )
    ngay = forms.DateField(
        label=_("Còn hiệu lực ngày"),
        required=False,
        input_formats=DAY_FORMATS,
        help_text=_("ngày/tháng/năm"),
        error_messages={
            "invalid": _("Ngày không hợp lệ; hãy nhập theo dạng ngày/tháng/năm, ví dụ 31/12/2022.")
        },
    )


def unit_choices(user) -> list[Unit]:
    """Units the user may write, for the unit code field's suggestions."""
    units = scope.readable_units(user).order_by("path")
    if not scope.is_admin(user) and user.unit_id:
        units = units.filter(path__startswith=user.unit.path)
    return list(units.only("code", "name")[:COOPERATIVE_CHOICES_LIMIT])
