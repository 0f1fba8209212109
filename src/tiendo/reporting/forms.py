"""The form a coordinator fills to write a letter asking units for a report."""

from __future__ import annotations

from django import forms as djforms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiendo.accounts import scope
from tiendo.core.text import nfc
from tiendo.programmes.periods import Period, PeriodError
from tiendo.reporting.models import Form
from tiendo.reporting.services import Letter
from tiendo.units.models import Unit, UnitKind
from tiendo.units.services import UnitNotFound, resolve_unit

DEFAULT_SECTIONS = [
    "Thuận lợi, khó khăn",
    "Kết quả đạt được",
    "Hạn chế, nguyên nhân",
    "Nhiệm vụ, giải pháp",
    "Kiến nghị, đề xuất",
]


def _date(label, *, required: bool = True) -> djforms.DateField:
    return djforms.DateField(
        label=label, required=required, widget=djforms.DateInput(attrs={"type": "date"})
    )


def _text(label, *, rows: int, initial: str = "") -> djforms.CharField:
    """An optional text of several lines."""
    return djforms.CharField(
        label=label,
        required=False,
        initial=initial,
        widget=djforms.Textarea(attrs={"rows": rows}),
    )


class RequestForm(djforms.Form):
    number_symbol = djforms.CharField(label=gettext_lazy("Số, ký hiệu"), max_length=80)
    issued_on = _date(gettext_lazy("Ngày ban hành"))
    issuer = djforms.ModelChoiceField(
        queryset=Unit.objects.none(), label=gettext_lazy("Đơn vị gửi")
    )
    title = djforms.CharField(label=gettext_lazy("Trích yếu"), max_length=400)
    summary = _text(gettext_lazy("Nội dung yêu cầu"), rows=3)
    period = djforms.CharField(
        label=gettext_lazy("Kỳ báo cáo"),
        max_length=20,
        help_text=gettext_lazy("2020, 2020S1, 2020Q3, 2021-2025"),
    )
    data_as_of = _date(gettext_lazy("Số liệu tính đến ngày"), required=False)
    deadline = _date(gettext_lazy("Hạn gửi báo cáo"))
    forms = djforms.ModelMultipleChoiceField(
        queryset=Form.objects.order_by("programme__code", "code"),
        label=gettext_lazy("Biểu mẫu"),
        required=False,
        widget=djforms.CheckboxSelectMultiple,
    )
    sections = _text(
        gettext_lazy("Các mục nội dung báo cáo (mỗi dòng một mục)"),
        rows=6,
        initial="\n".join(DEFAULT_SECTIONS),
    )
    recipient_codes = _text(gettext_lazy("Đơn vị nhận (mã đơn vị, cách nhau bởi dấu phẩy)"), rows=2)
    rule_kind = djforms.ChoiceField(
        label=gettext_lazy("Hoặc: mọi đơn vị loại"),
        choices=[("", "—")] + list(UnitKind.choices),
        required=False,
    )
    rule_under = djforms.CharField(
        label=gettext_lazy("trực thuộc đơn vị (mã)"), required=False, max_length=40
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        issuers = [
            u
            for u in scope.readable_units(user).filter(
                Q(pk=user.unit_id) | Q(kind=UnitKind.AGENCY)
            )[:300]
            if scope.may_issue(user, u)
        ]
        self.fields["issuer"].queryset = Unit.objects.filter(pk__in=[u.pk for u in issuers])

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"]).id
        except PeriodError as exc:
            raise djforms.ValidationError(str(exc)) from exc

    def _unit(self, code, field, on):
        try:
            unit = resolve_unit(code, on)
        except UnitNotFound as exc:
            self.add_error(field, str(exc))
            return None
        if not scope.can_read(self.user, unit):
            self.add_error(field, _("Đơn vị %(code)s nằm ngoài phạm vi của bạn.") % {"code": code})
            return None
        return unit

    def clean(self):
        data = super().clean()
        period = data.get("period")
        on = Period.parse(period).end if period else None
        codes = [
            c.strip() for c in (data.get("recipient_codes") or "").replace(";", ",").split(",")
        ]
        data["recipients"] = [
            u for u in (self._unit(c, "recipient_codes", on) for c in codes if c) if u
        ]
        kind, under = data.get("rule_kind"), (data.get("rule_under") or "").strip()
        data["rule"] = None
        if kind or under:
            if not (kind and under):
                self.add_error("rule_under", _("Chọn cả loại đơn vị và đơn vị trực thuộc."))
            else:
                unit = self._unit(under, "rule_under", on)
                data["rule"] = (kind, unit) if unit else None
        if not data["recipients"] and not data["rule"] and not self.errors:
            self.add_error("recipient_codes", _("Xin chọn đơn vị nhận hoặc một quy tắc chọn."))
        issued, deadline = data.get("issued_on"), data.get("deadline")
        if issued and deadline and deadline < issued:
            self.add_error("deadline", _("Hạn gửi báo cáo trước ngày ban hành công văn."))
        wrong = [
            f.name
            for f in data.get("forms") or []
            if period and f.period_type != Period.parse(period).type
        ]
        if wrong:
            self.add_error(
                "forms", _("Biểu không dùng cho loại kỳ này: %(f)s") % {"f": ", ".join(wrong)}
            )
        data["section_titles"] = [
            nfc(line) for line in (data.get("sections") or "").splitlines() if nfc(line)
        ]
        return data

    def letter(self) -> Letter:
        """The cleaned data as the letter :func:`~tiendo.reporting.services.create_request`
        writes."""
        d = self.cleaned_data
        return Letter(
            number_symbol=d["number_symbol"],
            issued_on=d["issued_on"],
            issuer=d["issuer"],
            title=d["title"],
            summary=d["summary"],
            period=d["period"],
            data_as_of=d["data_as_of"],
            deadline=d["deadline"],
            forms=list(d["forms"]),
            section_titles=d["section_titles"],
            recipients=d["recipients"],
            rule=d["rule"],
        )
