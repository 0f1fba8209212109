"""Forms for keeping the unit list: agencies attached to a unit, allocation shares of splits.

The rules themselves live in :mod:`tiendo.units.services`; a form only reads the fields
and shows each broken rule beside the field it concerns.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from tiendo.units.models import Unit
from tiendo.units.services import UnitRefused, agency_problems


def show_refusal(form: forms.Form, error: UnitRefused) -> None:
    """Put a refusal of the unit rules beside its field (or above the form)."""
    form.add_error(error.argument if error.argument in form.fields else None, str(error))


class AgencyForm(forms.Form):
    code = forms.CharField(label=_("Mã cơ quan"), max_length=32, help_text=_("Ví dụ: 45.LMHTX"))
    name = forms.CharField(label=_("Tên cơ quan, tổ chức"), max_length=200)
    valid_from = forms.DateField(label=_("Hiệu lực từ ngày"), required=False)
    valid_to = forms.DateField(label=_("Hiệu lực đến ngày"), required=False)

    def __init__(self, *args, parent: Unit, **kwargs):
        self.parent = parent
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        for problem in agency_problems(
            self.parent,
            agency_code=data.get("code"),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
        ):
            show_refusal(self, problem)
        return data


class SharesForm(forms.Form):
    """One share per successor of a split unit, in per cent."""

    def __init__(self, *args, links, **kwargs):
        super().__init__(*args, **kwargs)
        self.links = list(links)
        for link in self.links:
            self.fields[f"share_{link.pk}"] = forms.DecimalField(
                label=link.successor.name,
                min_value=Decimal(0),
                max_value=Decimal(100),
                max_digits=9,
                decimal_places=4,
                localize=True,
                initial=None if link.share is None else link.share * 100,
                help_text=_("phần trăm"),
            )

    def shares(self) -> dict[int, Decimal]:
        """Each link's share as a fraction of one."""
        return {link.pk: self.cleaned_data[f"share_{link.pk}"] / 100 for link in self.links}


# --- recording a reorganisation (issue 10) --------------------------------------------------

LINK_ROWS = 3  # rows shown at first; "Thêm dòng" asks for more, up to MAX_LINK_ROWS
MAX_LINK_ROWS = 30
DETAIL_FIELDS = ("from_name", "to_kind", "to_parent", "note")  # folded away until needed
DAY_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


def _name_the_field(form: forms.Form) -> None:
    """Messages that say which field is wrong, in Vietnamese: the page may show them in a
    list above the form, away from the field."""
    for field in form.fields.values():
        label = field.label
        field.error_messages["required"] = _("Hãy nhập “%(field)s”.") % {"field": label}
        if isinstance(field, forms.DateField):
            field.error_messages["invalid"] = _(
                "“%(field)s” không phải là ngày hợp lệ; hãy nhập theo dạng ngày/tháng/năm, ví dụ "
                "01/01/2020."
            ) % {"field": label}
        if isinstance(field, forms.DecimalField):
            field.error_messages["invalid"] = _(
                "“%(field)s” phải là một số, ví dụ 40 (phần trăm)."
            ) % {"field": label}


class ChangeForm(forms.Form):
    """The event: its kind, its date, its legal basis."""

    kind = forms.ChoiceField(label=_("Hình thức sắp xếp"))
    effective = forms.DateField(
        label=_("Ngày hiệu lực"), input_formats=DAY_FORMATS, help_text=_("ngày/tháng/năm")
    )
    act_number = forms.CharField(
        label=_("Số, ký hiệu văn bản"), max_length=200, help_text=_("Ví dụ: 832/NQ-UBTVQH14")
    )
    act_signed_on = forms.DateField(
        label=_("Ngày ban hành văn bản"), input_formats=DAY_FORMATS, help_text=_("ngày/tháng/năm")
    )
    act_issuer = forms.CharField(
        label=_("Cơ quan ban hành"), max_length=200, help_text=_("Ví dụ: Ủy ban Thường vụ Quốc hội")
    )
    act_title = forms.CharField(label=_("Trích yếu văn bản"), max_length=500, required=False)
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)
    version = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        _name_the_field(self)
        self.fields["version"].error_messages["required"] = _(
            "Trang đã cũ; hãy tải lại trang trước khi ghi."
        )


class LinkForm(forms.Form):
    """One predecessor → successor link of the event; an empty row is ignored."""

    from_code = forms.CharField(label=_("Mã đơn vị cũ"), max_length=32, required=False)
    from_name = forms.CharField(
        label=_("Tên đơn vị cũ (khi ghi một thay đổi đã qua)"), max_length=200, required=False
    )
    to_code = forms.CharField(label=_("Mã đơn vị mới"), max_length=32, required=False)
    to_name = forms.CharField(label=_("Tên đơn vị mới"), max_length=200, required=False)
    to_kind = forms.ChoiceField(label=_("Loại đơn vị mới"), required=False)
    to_parent = forms.CharField(label=_("Mã đơn vị cấp trên mới"), max_length=32, required=False)
    share = forms.DecimalField(
        label=_("Tỷ lệ (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=9,
        decimal_places=4,
        localize=True,
        required=False,
    )
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)

    def __init__(self, *args, unit_kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_kind"].choices = [("", "—"), *unit_kinds]
        _name_the_field(self)

    def main_fields(self):
        return [self[name] for name in self.fields if name not in DETAIL_FIELDS]

    def detail_fields(self):
        return [self[name] for name in DETAIL_FIELDS]

    @property
    def details_open(self) -> bool:
        """Unfold the details of a row that has one filled in or wrong."""
        return any(self[name].value() or self[name].errors for name in DETAIL_FIELDS)

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) not in (None, "") for name in self.fields)


def link_row_count(raw) -> int:
    """How many rows of links the page shows (``?dong=``, kept in the form when posted)."""
    try:
        return max(LINK_ROWS, min(MAX_LINK_ROWS, int(raw)))
    except (TypeError, ValueError):
        return LINK_ROWS


def link_forms(
    data=None, *, unit_kinds, first_code: str = "", count=LINK_ROWS, shown=None
) -> list[LinkForm]:
    """The rows of links, the first one starting from the page's unit; ``shown``: posted
    values to show again, unchecked (the page grew by a few rows)."""

    def initial(number):
        if shown is not None:
            return {name: shown.get(f"lk{number}-{name}", "") for name in LinkForm.base_fields}
        return {"from_code": first_code} if number == 0 else None

    return [
        LinkForm(data, prefix=f"lk{number}", unit_kinds=unit_kinds, initial=initial(number))
        for number in range(count)
    ]
