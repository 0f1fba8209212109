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
