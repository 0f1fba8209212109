"""The data entry form: every stored indicator of a programme for one unit and period.

The fields depend on the programme's indicators and their disaggregations, so this is a
small hand-made form rather than a ``django.forms.Form``; parsing and saving go through
:mod:`tiendo.data.services` like every other way of entering data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.data.models import DataValue
from tiendo.data.services import DataEntryError, Entry, parse_number
from tiendo.programmes.models import Disaggregation, Indicator, Programme
from tiendo.programmes.periods import Period
from tiendo.units.models import Unit


@dataclass
class Slot:
    """One value of the form: an indicator, and a category when it is disaggregated."""

    indicator: Indicator
    category: str
    category_name: str
    existing: DataValue | None
    value_text: str = ""
    comment: str = ""

    @property
    def key(self) -> str:
        return f"{self.indicator.pk}-{self.category}"

    @property
    def value_name(self) -> str:
        return f"v-{self.key}"

    @property
    def comment_name(self) -> str:
        return f"c-{self.key}"

    @property
    def label(self) -> str:
        if self.category_name:
            return _("Chỉ tiêu “%(name)s” (%(category)s)") % {
                "name": self.indicator.name,
                "category": self.category_name,
            }
        return _("Chỉ tiêu “%(name)s”") % {"name": self.indicator.name}


@dataclass
class Line:
    indicator: Indicator
    slots: list[Slot]
    group: str = ""  # the component's name on the first line of a component
    warnings: list = field(default_factory=list)  # validation rules the saved values break


@dataclass
class Section:
    disaggregation: Disaggregation | None
    options: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def stored_indicators(programme: Programme) -> list[Indicator]:
    """The programme's indicators that are entered (not computed by a formula)."""
    return list(
        programme.indicators.filter(formula="")
        .select_related("component", "disaggregation")
        .prefetch_related("disaggregation__options")
        .order_by("component__order", "component__code", "order", "code")
    )


class ValuesForm:
    def __init__(self, programme: Programme, unit: Unit, period: Period, data=None):
        self.programme, self.unit, self.period = programme, unit, period
        self.indicators = stored_indicators(programme)
        existing = {
            (v.indicator_id, v.category): v
            for v in DataValue.objects.filter(
                unit=unit, period=period.id, indicator__in=self.indicators
            )
        }
        self.sections: list[Section] = []
        by_disaggregation: dict[int | None, Section] = {}
        last_component: dict[int | None, int | None] = {}
        self.slots: list[Slot] = []
        for indicator in self.indicators:
            key = indicator.disaggregation_id
            if key not in by_disaggregation:
                section = Section(indicator.disaggregation)
                if indicator.disaggregation_id:
                    section.options = [o.name for o in indicator.disaggregation.options.all()]
                by_disaggregation[key] = section
                self.sections.append(section)
            if indicator.disaggregation_id:
                categories = [(o.code, o.name) for o in indicator.disaggregation.options.all()]
            else:
                categories = [("", "")]
            slots = []
            for code, name in categories:
                value = existing.get((indicator.pk, code))
                slot = Slot(indicator, code, name, value)
                if value is not None:
                    slot.value_text = format_number(value.value)
                    slot.comment = value.comment
                if data is not None:
                    slot.value_text = (data.get(slot.value_name) or "").strip()
                    slot.comment = nfc(data.get(slot.comment_name, ""))
                slots.append(slot)
            self.slots.extend(slots)
            line = Line(indicator, slots)
            component_id = indicator.component_id
            if last_component.get(key, "none") != component_id:
                line.group = indicator.component.name if indicator.component else ""
                last_component[key] = component_id
            by_disaggregation[key].lines.append(line)

    def attach_warnings(self, violations) -> None:
        """Put each violated rule beside the fields of the indicators it reads."""
        for section in self.sections:
            for line in section.lines:
                line.warnings = [v for v in violations if line.indicator.code in v.codes]

    def entries(self) -> list[Entry]:
        """The values that differ from what is stored; every problem at once, Vietnamese."""
        return changed_entries(self.slots, self.unit, lambda slot: self.period.id)

    def category_name(self, indicator: Indicator, code: str) -> str:
        for slot in self.slots:
            if slot.indicator.pk == indicator.pk and slot.category == code:
                return slot.category_name
        return code


def changed_entries(slots, unit: Unit, period_of) -> list[Entry]:
    """The slots' values that differ from what is stored, as entries for ``unit`` (a slot's
    period id is ``period_of(slot)``); every problem at once, Vietnamese. The reporting
    app's submission form reads its slots through this too."""
    problems, entries = [], []
    for slot in slots:
        try:
            value = parse_number(slot.value_text, field=slot.label)
        except DataEntryError as exc:
            problems.append(str(exc))
            continue
        if value is None and slot.comment and slot.existing is None:
            problems.append(
                _("%(field)s: có ghi chú nhưng chưa có số liệu.") % {"field": slot.label}
            )
            continue
        old = slot.existing
        if old is None and value is None:
            continue
        unchanged = old is not None and old.value == value and old.comment == slot.comment
        if unchanged:
            continue
        entries.append(
            Entry(
                slot.indicator,
                unit,
                period_of(slot),
                value,
                category=slot.category,
                comment=slot.comment if value is not None else "",
            )
        )
    if problems:
        raise DataEntryError("\n".join(problems))
    return entries
