"""The data entry form: every stored indicator of a programme for one unit and period.

The fields depend on the programme's indicators and their disaggregations, so this is a
small hand-made form rather than a ``django.forms.Form``; parsing and saving go through
:mod:`tiendo.data.services` like every other way of entering data.

Each field carries, hidden, the version of the figure it showed (``ver-…``). On a post a
field the user left as it was shown is not written, even when the figure changed meanwhile
(the newer figure stays, and is shown again if the form comes back); a field the user
changed is written only if its figure is still at the version shown — the check is the
data service's, under the row lock. See :func:`bind_slots`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tiendo.core.formatting import format_number
from tiendo.core.text import nfc
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.qualifiers import Qualifier, qualified, split_qualifier
from tiendo.data.services import (
    DataEntryError,
    Entry,
    check_entries,
    parse_number,
    parse_qualified,
    versions_of,
)
from tiendo.programmes.models import Disaggregation, Indicator, Programme, ValueRefused
from tiendo.programmes.periods import Period
from tiendo.units.models import Unit


@dataclass
class Slot:
    """One value of a form: an indicator, and a category when it is disaggregated.

    The data entry form's slots share the form's period. A submission's slots (reporting)
    each carry the ``period`` their line asks for, named in the label, and the ``line_id`` of
    that line, which names the fields."""

    indicator: Indicator
    category: str
    category_name: str
    existing: DataValue | None
    value_text: str = ""
    # the word before the figure: stored, chosen beside the box, or typed in it ("khoảng 334")
    qualifier: str = ""
    comment: str = ""
    version: int = 0  # the figure's version now (see tiendo.data.services)
    seen_version: int | None = None  # the version the posted form showed; None: not posted
    touched: bool = True  # the user typed something else than the form showed
    conflict: str = ""  # changed meanwhile by someone else: what happened
    error: str = ""  # why what was typed cannot be saved (the form is refused)
    period: Period | None = None  # a period of its own, not the form's
    line_id: int | None = None  # the submission form line it belongs to

    @property
    def key(self) -> str:
        owner = self.indicator.pk if self.line_id is None else self.line_id
        return f"{owner}-{self.category}"

    @property
    def version_name(self) -> str:
        return f"ver-{self.key}"

    @property
    def value_name(self) -> str:
        return f"v-{self.key}"

    @property
    def qualifier_name(self) -> str:
        return f"q-{self.key}"

    @property
    def figure_text(self) -> str:
        """The box's text with the qualifier's word before it (``khoảng 334``), for a form
        with no qualifier list beside the box and for reading."""
        if not self.qualifier or split_qualifier(self.value_text)[0]:
            return self.value_text
        return qualified(self.value_text, self.qualifier)

    @property
    def comment_name(self) -> str:
        return f"c-{self.key}"

    @property
    def field_id(self) -> str:
        return f"id_{self.value_name}"

    @property
    def error_id(self) -> str:
        return f"err-{self.key}"

    @property
    def label(self) -> str:
        if self.category_name:
            name = _("Chỉ tiêu “%(name)s” (%(category)s)") % {
                "name": self.indicator.name,
                "category": self.category_name,
            }
        else:
            name = _("Chỉ tiêu “%(name)s”") % {"name": self.indicator.name}
        return name if self.period is None else f"{name}, {self.period.label}"


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
    """The programme's indicators that are entered (not computed by a formula, not retired
    from its package)."""
    return list(
        programme.indicators.filter(formula="", retired=False)
        .select_related("component", "disaggregation")
        .prefetch_related("disaggregation__options")
        .order_by("component__order", "component__code", "order", "code")
    )


class ValuesForm:
    def __init__(self, programme: Programme, unit: Unit, period: Period, data=None):
        self.programme, self.unit, self.period = programme, unit, period
        # only the lines the unit's level and kind report: no agency lines for a commune
        self.indicators = [i for i in stored_indicators(programme) if i.reports_at(unit)]
        existing = {
            (v.indicator_id, v.category): v
            for v in DataValue.objects.filter(
                unit=unit, period=period.id, indicator__in=self.indicators
            )
        }
        versions = versions_of(units=[unit], indicators=self.indicators, periods=[period.id])
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
                slot.version = versions.get((indicator.pk, unit.pk, period.id, code), 0)
                slots.append(slot)
            self.slots.extend(slots)
            line = Line(indicator, slots)
            component_id = indicator.component_id
            if last_component.get(key, "none") != component_id:
                line.group = indicator.component.name if indicator.component else ""
                last_component[key] = component_id
            by_disaggregation[key].lines.append(line)
        bind_slots(self.slots, data)

    def attach_warnings(self, violations) -> None:
        """Put each violated rule beside the fields of the indicators it reads."""
        for section in self.sections:
            for line in section.lines:
                line.warnings = [v for v in violations if line.indicator.code in v.codes]

    def entries(self) -> list[Entry]:
        """The values that differ from what is stored, checked as the data service will
        check them; every problem of every field at once (each slot's ``error``), Vietnamese.
        """
        pairs, problems = read_slots(self.slots, self.unit, lambda slot: self.period.id)
        outcomes = check_entries([entry for _slot, entry in pairs])
        for (slot, _entry), outcome in zip(pairs, outcomes, strict=True):
            if isinstance(outcome, DataEntryError):
                slot.error = str(outcome)
                problems.append(slot.error)
        if problems:
            raise DataEntryError("\n".join(problems))
        return [entry for _slot, entry in pairs]

    @property
    def invalid_slots(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.error]

    def mark_conflicts(self, conflicts) -> None:
        mark_conflicts(self.slots, conflicts, lambda slot: self.period.id)

    def category_name(self, indicator: Indicator, code: str) -> str:
        for slot in self.slots:
            if slot.indicator.pk == indicator.pk and slot.category == code:
                return slot.category_name
        return code


QUALIFIER_CHOICES = Qualifier.choices  # the list beside each box of the entry page


def _shown(slot) -> tuple:
    """The value, qualifier and comment stored for ``slot``."""
    if slot.existing is None:
        return None, "", ""
    return slot.existing.value, slot.existing.qualifier, slot.existing.comment


def bind_slots(slots, data) -> None:
    """Fill the slots (their ``existing`` and ``version`` set) from a post, if any.

    What the user saw of a figure is what is stored when the posted version is the current
    one; otherwise the history row of the posted version (0: the field was empty). A field
    left as it was shown is marked untouched and, if its figure changed meanwhile, shows
    the stored figure again, so that a form sent back after a refusal never carries a
    figure the user did not type. Every slot keeps the current version: sent again, the
    typed figure replaces the one the conflict message showed.
    """
    for slot in slots:
        if slot.existing is not None:
            slot.value_text = shown_text(slot.indicator, slot.existing.value)
            slot.qualifier = slot.existing.qualifier
            slot.comment = slot.existing.comment
    if data is None:
        return
    for slot in slots:
        _read_posted(slot, data)
    stale = [s for s in slots if s.seen_version is not None and s.seen_version != s.version]
    seen_changes = DataValueChange.objects.in_bulk(
        [s.seen_version for s in stale if s.seen_version > 0]
    )
    for slot in slots:
        seen_value, seen_qualifier, seen_comment = _seen(slot, seen_changes)
        try:
            typed, slot.qualifier = typed_figure(slot)
        except DataEntryError:
            continue  # touched; changed_entries reports it
        # compared as the form showed it (in the display unit), so a figure shown in tỷ
        # đồng and sent back as it was is never a change
        shown = _UNKNOWN if seen_value is _UNKNOWN else _as_shown(slot.indicator, seen_value)
        slot.touched = (typed, slot.qualifier) != (shown, seen_qualifier) or (
            typed is not None and slot.comment != seen_comment
        )
        if not slot.touched and slot.seen_version != slot.version:
            current_value, slot.qualifier, slot.comment = _shown(slot)
            slot.value_text = shown_text(slot.indicator, current_value)


def shown_text(indicator: Indicator, value) -> str:
    """A stored figure as a field shows it: in the indicator's display unit, exactly."""
    return "" if value is None else format_number(indicator.to_display(value))


def _as_shown(indicator: Indicator, value):
    """The number a field showing the stored ``value`` reads back as."""
    return None if value is None else parse_number(shown_text(indicator, value))


def stored_figure(slot) -> tuple:
    """What the user typed in the slot's field, as stored (converted exactly from the
    display unit), with its qualifier; a :class:`DataEntryError` naming the field when
    it cannot be."""
    value, qualifier = typed_figure(slot)
    try:
        return slot.indicator.entered(value), qualifier
    except ValueRefused as exc:
        raise DataEntryError(
            _("%(field)s: %(problem)s") % {"field": slot.label, "problem": exc}, code=exc.code
        ) from exc


def typed_figure(slot) -> tuple:
    """The slot's typed value and qualifier: a word typed in the box wins over the one
    chosen beside it; no value, no qualifier. Raises DataEntryError."""
    value, typed_qualifier = parse_qualified(slot.value_text, field=slot.label)
    if value is None:
        return None, ""
    return value, typed_qualifier or slot.qualifier


def _read_posted(slot, data) -> None:
    """The slot's typed value and comment, and the version its form showed, from a post."""
    slot.value_text = (data.get(slot.value_name) or "").strip()
    # the list beside the box; a form without it (or a value not in it) says none
    chosen = data.get(slot.qualifier_name) or ""
    slot.qualifier = chosen if chosen in Qualifier.values else ""
    slot.comment = nfc(data.get(slot.comment_name, ""))
    raw = (data.get(slot.version_name) or "").strip()
    if raw:
        # a version is a history id; anything else (tampered) matches no figure
        valid = raw.isascii() and raw.isdigit() and len(raw) <= 18
        slot.seen_version = int(raw) if valid else -1


_UNKNOWN = object()  # a figure the posted version does not name: anything typed is a change


def _seen(slot, seen_changes) -> tuple:
    """The value and comment the posted form showed for ``slot``."""
    if slot.seen_version is None or slot.seen_version == slot.version:
        return _shown(slot)
    if slot.seen_version == 0:
        return None, "", ""
    change = seen_changes.get(slot.seen_version)
    if change and (change.indicator_id, change.category) == (slot.indicator.pk, slot.category):
        return change.new_value, change.new_qualifier, change.new_comment
    return _UNKNOWN, "", ""


def mark_conflicts(slots, conflicts, period_of) -> None:
    """Put each conflict of a refused save beside its field."""
    by_key = {(c.entry.indicator.pk, c.period.id, c.entry.category): c for c in conflicts}
    for slot in slots:
        conflict = by_key.get((slot.indicator.pk, period_of(slot), slot.category))
        if conflict is not None:
            slot.conflict = conflict.describe()


def changed_entries(slots, unit: Unit, period_of) -> list[Entry]:
    """The slots' values that differ from what is stored, as entries for ``unit`` (a slot's
    period id is ``period_of(slot)``); every problem at once, Vietnamese, each also as its
    slot's ``error``. The reporting app's submission form reads its slots through this too."""
    pairs, problems = read_slots(slots, unit, period_of)
    if problems:
        raise DataEntryError("\n".join(problems))
    return [entry for _slot, entry in pairs]


def read_slots(slots, unit: Unit, period_of) -> tuple[list[tuple[Slot, Entry]], list[str]]:
    """Each changed slot with its entry, and the problems of the slots that cannot be read
    (their ``error`` set; every other slot's cleared)."""
    problems, pairs = [], []
    for slot in slots:
        slot.error = ""
        if not slot.touched:
            continue  # as the form showed it: nothing to write, whatever was saved meanwhile
        try:
            value, qualifier = stored_figure(slot)
        except DataEntryError as exc:
            slot.error = str(exc)
            problems.append(slot.error)
            continue
        if value is None and slot.comment and slot.existing is None:
            slot.error = _("%(field)s: có ghi chú nhưng chưa có số liệu.") % {"field": slot.label}
            problems.append(slot.error)
            continue
        old = slot.existing
        if old is None and value is None:
            continue
        if old is not None and (old.value, old.qualifier, old.comment) == (
            value,
            qualifier,
            slot.comment,
        ):
            continue
        entry = Entry(
            slot.indicator,
            unit,
            period_of(slot),
            value,
            category=slot.category,
            comment=slot.comment if value is not None else "",
            expected_version=slot.seen_version,
            qualifier=qualifier,
        )
        pairs.append((slot, entry))
    return pairs, problems
