"""The figures of a submission: every line of its forms for the unit, as form fields.

Like the data app's entry form, the typed figures become entries through
``tiendo.data.forms.changed_entries`` and are saved through ``tiendo.data.services``; what
differs is where the lines come from (the forms of the request) and that a line's
period follows the request (the period itself, the letter's "as of" date, or period end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.data.forms import changed_entries
from tiendo.data.models import DataValue
from tiendo.data.services import Entry
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period
from tiendo.reporting.models import Form, FormIndicator, Submission


@dataclass
class Slot:
    line: FormIndicator
    indicator: Indicator
    period: Period
    category: str
    category_name: str
    existing: DataValue | None
    value_text: str = ""
    comment: str = ""

    @property
    def key(self) -> str:
        return f"{self.line.pk}-{self.category}"

    @property
    def value_name(self) -> str:
        return f"v-{self.key}"

    @property
    def comment_name(self) -> str:
        return f"c-{self.key}"

    @property
    def label(self) -> str:
        name = _("Chỉ tiêu “%(name)s”") % {"name": self.indicator.name}
        if self.category_name:
            name += f" ({self.category_name})"
        return f"{name}, {self.period.label}"


@dataclass
class FormBlock:
    form: Form
    slots: list[Slot] = field(default_factory=list)


class SubmissionValues:
    def __init__(self, submission: Submission, forms: list[Form], data=None):
        self.submission = submission
        request, unit = submission.request, submission.unit
        lines = list(
            FormIndicator.objects.filter(form__in=forms)
            .select_related("form", "indicator__disaggregation")
            .prefetch_related("indicator__disaggregation__options")
            .order_by("form__code", "order", "pk")
        )
        periods = {line.pk: request.period_for(line.period_rule) for line in lines}
        existing = {
            (v.indicator_id, v.period, v.category): v
            for v in DataValue.objects.filter(
                unit=unit,
                indicator__in={line.indicator_id for line in lines},
                period__in={p.id for p in periods.values()},
            )
        }
        blocks = {f.pk: FormBlock(f) for f in forms}
        self.blocks = [blocks[f.pk] for f in forms]
        self.slots: list[Slot] = []
        seen = set()
        for line in lines:
            indicator, period = line.indicator, periods[line.pk]
            if indicator.disaggregation_id:
                options = [(o.code, o.name) for o in indicator.disaggregation.options.all()]
                if line.categories:
                    options = [o for o in options if o[0] in line.categories]
            else:
                options = [("", "")]
            for code, name in options:
                if (indicator.pk, period.id, code) in seen:
                    continue  # the same figure asked twice by two forms: one field
                seen.add((indicator.pk, period.id, code))
                value = existing.get((indicator.pk, period.id, code))
                slot = Slot(line, indicator, period, code, name, value)
                if value is not None:
                    slot.value_text = format_number(value.value)
                    slot.comment = value.comment
                if data is not None:
                    slot.value_text = (data.get(slot.value_name) or "").strip()
                    slot.comment = nfc(data.get(slot.comment_name, ""))
                blocks[line.form_id].slots.append(slot)
                self.slots.append(slot)

    def entries(self) -> list[Entry]:
        """The values that differ from what is stored; every problem at once."""
        return changed_entries(self.slots, self.submission.unit, lambda slot: slot.period.id)
