"""The figures of a submission: every line of its forms for the unit, as form fields.

Like the data app's entry form, the typed figures become entries through
``tiendo.data.forms.changed_entries`` and are saved through ``tiendo.data.services``; what
differs is where the lines come from (the forms of the request) and that a line's
period follows the request (the period itself, the letter's "as of" date, or period end).
Each field carries the version of the figure it showed, as on the entry form
(``tiendo.data.forms.bind_slots``): a figure changed meanwhile by someone else is a conflict,
never silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tiendo.data.forms import Slot, bind_slots, changed_entries, mark_conflicts
from tiendo.data.models import DataValue
from tiendo.data.services import Entry, versions_of
from tiendo.reporting.models import Form, FormIndicator, Submission


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
        versions = versions_of(
            units=[unit],
            indicators={line.indicator_id for line in lines},
            periods={p.id for p in periods.values()},
        )
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
                slot = Slot(indicator, code, name, value, period=period, line_id=line.pk)
                slot.version = versions.get((indicator.pk, unit.pk, period.id, code), 0)
                blocks[line.form_id].slots.append(slot)
                self.slots.append(slot)
        bind_slots(self.slots, data)

    def entries(self) -> list[Entry]:
        """The values that differ from what is stored; every problem at once."""
        return changed_entries(self.slots, self.submission.unit, lambda slot: slot.period.id)

    def mark_conflicts(self, conflicts) -> None:
        mark_conflicts(self.slots, conflicts, lambda slot: slot.period.id)
