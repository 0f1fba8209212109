"""The entry form of one commune's assessment for one year, and the recognition form.

The form shows each criterion (đạt / chưa đạt / chưa đánh giá) with the indicator values
behind it, the threshold of the commune's region or group beside each value ("cần xác
minh" where nobody could confirm it), the region or group, the level, the evidence and
the note; it carries the assessment's version, so a form opened before someone else's
save is refused by :func:`tiendo.ntm.services.save_assessments` instead of overwriting
that save. Numbers are typed the Vietnamese way and read by
:func:`tiendo.data.services.parse_number`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from tiendo.core.formatting import format_number
from tiendo.data.services import DataEntryError, parse_number
from tiendo.ntm import rules
from tiendo.ntm.models import (
    Assessment,
    Comparison,
    CriteriaSet,
    Criterion,
    CriterionIndicator,
    NtmLevel,
)
from tiendo.ntm.services import AssessmentInput

MET_CHOICES = [("1", _("Đạt")), ("0", _("Chưa đạt")), ("", _("Chưa đánh giá"))]
MET_VALUE = {"1": True, "0": False, "": None}
AUTO_LEVEL = ""


def met_key(met: bool | None) -> str:
    return "" if met is None else ("1" if met else "0")


def threshold_text(indicator: CriterionIndicator, applies_to: str) -> tuple[str, bool]:
    """What the indicator must reach for ``applies_to`` (``≥ 70 %``), and whether the
    threshold is to be confirmed."""
    threshold = rules.threshold_for(indicator, applies_to)
    if threshold is None:
        return "", False
    if threshold.value is not None and indicator.comparison != Comparison.MET:
        text = f"{indicator.get_comparison_display()} {format_number(threshold.value)}"
        if indicator.unit_label:
            text += f" {indicator.unit_label}"
        if threshold.text:
            text += f" ({threshold.text})"
    else:
        text = threshold.text or str(_("Đạt"))
    return text, threshold.to_confirm


@dataclass
class IndicatorLine:
    indicator: CriterionIndicator
    field: forms.BoundField | None
    threshold: str
    to_confirm: bool


@dataclass
class CriterionLine:
    criterion: Criterion
    met: forms.BoundField
    evidence: forms.BoundField
    indicators: list[IndicatorLine]
    group_heading: str = ""


class AssessmentForm(forms.Form):
    """One commune, one set, one year. Field names: ``c<n>`` (criterion n), ``e<n>``
    (its evidence), ``v<code>`` (an indicator's value), ``applies_to``, ``level``,
    ``note``, ``version``."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    applies_to = forms.ChoiceField(label=_("Vùng / nhóm xã"), required=False)
    level = forms.ChoiceField(label=_("Mức đạt"), required=False)
    note = forms.CharField(
        label=_("Ghi chú"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, criteria_set: CriteriaSet, assessment: Assessment | None, *a, **kw):
        self.criteria_set = criteria_set
        self.assessment = assessment
        self.criteria = list(
            criteria_set.criteria.prefetch_related("indicators__thresholds").order_by("number")
        )
        met, values, evidence = {}, {}, {}
        self.derived: dict[int, bool | None] = {}  # criteria that followed their values
        if assessment is not None:
            for r in assessment.results.select_related("criterion"):
                met[r.criterion.number], evidence[r.criterion.number] = r.met, r.evidence
                if r.derived:
                    self.derived[r.criterion.number] = r.met
            for r in assessment.indicator_results.select_related("indicator"):
                values[r.indicator.code] = r.value
        initial = {
            "version": assessment.version if assessment else 0,
            "applies_to": assessment.applies_to if assessment else "",
            "level": AUTO_LEVEL,
            "note": assessment.note if assessment else "",
        }
        for c in self.criteria:
            initial[f"c{c.number}"] = met_key(met.get(c.number))
            initial[f"e{c.number}"] = evidence.get(c.number, "")
            for i in c.indicators.all():
                if i.comparison != Comparison.MET:
                    v = values.get(i.code)
                    initial[f"v{i.code}"] = "" if v is None else format_number(v)
        kw.setdefault("initial", initial)
        super().__init__(*a, **kw)
        classes = criteria_set.classes or {}
        self.fields["applies_to"].choices = [("", _("— chọn —"))] + list(classes.items())
        self.fields["applies_to"].required = bool(classes)
        if not classes:
            self.fields["applies_to"].widget = forms.HiddenInput()
        self.fields["level"].choices = [(AUTO_LEVEL, _("Theo kết quả các tiêu chí"))] + [
            (k, v) for k, v in NtmLevel.choices
        ]
        for c in self.criteria:
            self.fields[f"c{c.number}"] = forms.ChoiceField(
                label=f"{c.number}. {c.name}",
                choices=MET_CHOICES,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[f"e{c.number}"] = forms.CharField(
                label=_("Minh chứng tiêu chí %(n)s") % {"n": c.number},
                required=False,
                max_length=500,
            )
            for i in c.indicators.all():
                if i.comparison == Comparison.MET:
                    continue
                self.fields[f"v{i.code}"] = forms.CharField(
                    label=f"{i.code} {i.name}",
                    required=False,
                    max_length=40,
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
                )

    def clean(self):
        data = super().clean()
        self.values = {}
        for c in self.criteria:
            for i in c.indicators.all():
                name = f"v{i.code}"
                if name not in self.fields:
                    continue
                try:
                    self.values[i.code] = parse_number(
                        self.data.get(self.add_prefix(name), ""), field=f"{i.code} {i.name}"
                    )
                except DataEntryError as exc:
                    self.add_error(name, str(exc))
        return data

    def lines(self) -> list[CriterionLine]:
        """The criteria with their fields and indicators, for the template."""
        applies_to = (
            self.data.get("applies_to")
            if self.is_bound
            else (self.assessment.applies_to if self.assessment else "")
        ) or ""
        out, group = [], None
        for c in self.criteria:
            indicators = []
            for i in c.indicators.all():
                text, to_confirm = threshold_text(i, applies_to)
                name = f"v{i.code}"
                indicators.append(
                    IndicatorLine(i, self[name] if name in self.fields else None, text, to_confirm)
                )
            heading = c.group if c.group and c.group != group else ""
            group = c.group or group
            out.append(
                CriterionLine(c, self[f"c{c.number}"], self[f"e{c.number}"], indicators, heading)
            )
        return out

    def to_input(self, unit, year: int) -> AssessmentInput:
        """The assessment the form asks for (call after ``is_valid()``)."""
        data = self.cleaned_data
        criteria = {}
        for c in self.criteria:
            given = MET_VALUE[data.get(f"c{c.number}") or ""]
            # a criterion that followed its values and is sent back as shown is no claim of
            # the user's: the service derives it again from the values as typed now
            if c.number in self.derived and given == self.derived[c.number]:
                continue
            criteria[c.number] = given
        evidence = {c.number: (data.get(f"e{c.number}") or "").strip() for c in self.criteria}
        return AssessmentInput(
            unit=unit,
            criteria_set=self.criteria_set,
            year=year,
            criteria=criteria,
            values=dict(self.values),
            evidence=evidence,
            applies_to=data.get("applies_to") or "",
            level=data.get("level") or None,
            note=(data.get("note") or "").strip(),
            expected_version=data["version"],
        )


class RecognitionForm(forms.Form):
    decision_number = forms.CharField(label=_("Số quyết định"), max_length=80)
    decision_date = forms.DateField(label=_("Ngày quyết định"))
    issuer = forms.CharField(label=_("Cơ quan ban hành"), max_length=200)


class WithdrawalForm(forms.Form):
    recognition = forms.IntegerField(widget=forms.HiddenInput)
    withdrawn_number = forms.CharField(label=_("Số quyết định thu hồi"), max_length=80)
    withdrawn_on = forms.DateField(label=_("Ngày thu hồi"))
