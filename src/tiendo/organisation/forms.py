"""Forms for keeping the unit list: agencies attached to a unit, allocation shares of splits."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.units.models import Level, Unit, UnitKind

AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class AgencyForm(forms.Form):
    code = forms.CharField(label=_("Mã cơ quan"), max_length=32, help_text=_("Ví dụ: 45.LMHTX"))
    name = forms.CharField(label=_("Tên cơ quan, tổ chức"), max_length=200)
    valid_from = forms.DateField(label=_("Hiệu lực từ ngày"), required=False)
    valid_to = forms.DateField(label=_("Hiệu lực đến ngày"), required=False)

    def __init__(self, *args, parent: Unit, **kwargs):
        self.parent = parent
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not AGENCY_CODE.match(code):
            raise forms.ValidationError(
                _("Mã chỉ gồm chữ, số, dấu chấm, gạch ngang hoặc gạch dưới.")
            )
        if Unit.objects.filter(kind=UnitKind.AGENCY, code=code).exists():
            raise forms.ValidationError(_("Đã có cơ quan mang mã “%(code)s”.") % {"code": code})
        return code

    def clean_name(self) -> str:
        return nfc(self.cleaned_data["name"])

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and start > end:
            self.add_error("valid_to", _("Ngày hết hiệu lực phải sau ngày có hiệu lực."))
        parent = self.parent
        if end is None and parent.valid_to is not None:
            data["valid_to"] = parent.valid_to  # an agency does not outlive its unit
        elif end and parent.valid_to and end > parent.valid_to:
            self.add_error(
                "valid_to",
                _("Cơ quan không thể còn hiệu lực sau khi %(unit)s hết hiệu lực.")
                % {"unit": parent.name},
            )
        if start and parent.valid_from and start < parent.valid_from:
            self.add_error(
                "valid_from",
                _("Cơ quan không thể có hiệu lực trước %(unit)s.") % {"unit": parent.name},
            )
        return data

    def level(self) -> int:
        return min(self.parent.level + 1, Level.COMMUNE)


class SharesForm(forms.Form):
    """One share per successor of a split unit; together they must make the whole."""

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

    def clean(self):
        data = super().clean()
        values = [data.get(f"share_{link.pk}") for link in self.links]
        if all(v is not None for v in values) and sum(values) != 100:
            raise forms.ValidationError(
                _("Tổng tỷ lệ phân bổ phải bằng 100%%, hiện là %(total)s%%.")
                % {"total": format_number(sum(values))}
            )
        return data

    def shares(self) -> dict[int, Decimal]:
        return {link.pk: self.cleaned_data[f"share_{link.pk}"] / 100 for link in self.links}
