"""The form a coordinator fills to write a letter asking units for a report."""

from __future__ import annotations

from datetime import date, datetime

from django import forms as djforms
from django.db.models import Q
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiendo.accounts import scope
from tiendo.core.formatting import format_date
from tiendo.core.text import nfc
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.periods import PeriodType
from tiendo.programmes.widgets import PeriodChoiceField, PeriodPicker
from tiendo.reporting import recipients as picker
from tiendo.reporting.models import Form
from tiendo.reporting.services import Letter
from tiendo.units.models import Unit, UnitKind

DEFAULT_SECTIONS = [
    "Thuận lợi, khó khăn",
    "Kết quả đạt được",
    "Hạn chế, nguyên nhân",
    "Nhiệm vụ, giải pháp",
    "Kiến nghị, đề xuất",
]

LETTER_PERIOD_TYPES = (PeriodType.YEAR, PeriodType.HALF, PeriodType.QUARTER, PeriodType.PHASE)


# Dates are typed and shown as people write them (15/12/2024); ISO is still read, for the
# links and scripts that post it.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


def date_input(**attrs) -> djforms.DateInput:
    return djforms.DateInput(
        format="%d/%m/%Y",
        attrs={
            "placeholder": gettext_lazy("ngày/tháng/năm"),
            "inputmode": "numeric",
            "size": 10,
            **attrs,
        },
    )


def parse_date(text: str | None) -> date | None:
    """``text`` read in one of :data:`DATE_INPUT_FORMATS`; ``None`` if it is none."""
    for fmt in DATE_INPUT_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def _date(label, *, required: bool = True) -> djforms.DateField:
    return djforms.DateField(
        label=label,
        required=required,
        input_formats=DATE_INPUT_FORMATS,
        widget=date_input(),
        help_text=gettext_lazy("Dạng 15/12/2024."),
    )


def _text(label, *, rows: int, initial: str = "") -> djforms.CharField:
    """An optional text of several lines."""
    return djforms.CharField(
        label=label,
        required=False,
        initial=initial,
        widget=djforms.Textarea(attrs={"rows": rows}),
    )


class UnitPicks(djforms.Field):
    """The ticked boxes of the recipient tree: a list of unit primary keys."""

    widget = djforms.MultipleHiddenInput

    def to_python(self, value):
        out = []
        for item in value or []:
            try:
                out.append(int(item))
            except (TypeError, ValueError):
                raise djforms.ValidationError(
                    _("Đơn vị nhận không hợp lệ: %(v)s") % {"v": item},
                    code="reporting.recipient_unknown",
                ) from None
        return out


class RequestForm(djforms.Form):
    number_symbol = djforms.CharField(label=gettext_lazy("Số, ký hiệu"), max_length=80)
    issued_on = _date(gettext_lazy("Ngày ban hành"))
    issuer = djforms.ModelChoiceField(
        queryset=Unit.objects.none(), label=gettext_lazy("Đơn vị gửi")
    )
    title = djforms.CharField(label=gettext_lazy("Trích yếu"), max_length=400)
    summary = _text(gettext_lazy("Nội dung yêu cầu"), rows=3)
    # picked from a list in words; a month (rare in a letter) is accepted when posted
    period = PeriodChoiceField(
        label=gettext_lazy("Kỳ báo cáo"),
        period_types=[*LETTER_PERIOD_TYPES, PeriodType.MONTH],
        widget=PeriodPicker(period_types=LETTER_PERIOD_TYPES),
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
    recipients = UnitPicks(label=gettext_lazy("Đơn vị nhận"), required=False)
    groups = djforms.MultipleChoiceField(
        label=gettext_lazy("Chọn nhanh"),
        choices=[(g.key, g.label) for g in picker.GROUPS],
        required=False,
        widget=djforms.CheckboxSelectMultiple,
    )
    recipients_exact = djforms.BooleanField(required=False, widget=djforms.HiddenInput)
    q = djforms.CharField(label=gettext_lazy("Tìm đơn vị"), required=False, max_length=100)
    confirm = djforms.CharField(required=False, widget=djforms.HiddenInput, max_length=40)

    # the fields the template lays out itself (the picker), not in the plain grid
    PICKER_FIELDS = ("recipients", "groups", "recipients_exact", "q", "confirm")

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
        # the forms of the programmes the user deals with: never another province's
        self.fields["forms"].queryset = Form.objects.filter(
            programme__in=programmes_seen_by(user)
        ).order_by("programme__code", "code")
        self._issuers = {u.pk: u for u in issuers}
        home = self._issuers.get(user.unit_id)
        if home is not None and not self.is_bound:
            self.initial.setdefault("issuer", home.pk)

    # -- the picker, also on a page that is not (yet) valid -------------------------------

    def picker_issuer(self) -> Unit | None:
        """The issuer the tree is drawn for: the one chosen, else the user's own unit."""
        raw = self.data.get("issuer") if self.is_bound else self.initial.get("issuer")
        try:
            chosen = self._issuers.get(int(raw))
        except (TypeError, ValueError):
            chosen = None
        if chosen is None:
            chosen = self._issuers.get(self.user.unit_id) or next(
                iter(sorted(self._issuers.values(), key=lambda u: u.path)), None
            )
        return chosen

    def picker_date(self) -> date:
        """The letter's date, for which units are valid (today until one is typed)."""
        raw = self.data.get("issued_on") if self.is_bound else None
        try:
            return self.fields["issued_on"].to_python(raw) or timezone.localdate()
        except djforms.ValidationError:
            return timezone.localdate()

    def candidates(self, issuer: Unit | None = None, on: date | None = None) -> list[Unit]:
        issuer = issuer or self.picker_issuer()
        if issuer is None:
            return []
        on = on or self.picker_date()
        return list(scope.letter_recipient_units(self.user, issuer, on).order_by("path"))

    def picker(self) -> dict:
        """What the template needs to draw the tree."""
        issuer = self.picker_issuer()
        on = self.picker_date()
        if issuer is None:
            return {"root": None}
        root = scope.letter_scope_root(issuer)
        units = self.candidates(issuer, on)
        if self.is_bound:
            picked = set(self.data.getlist("recipients"))
            checked = {u.pk for u in units if str(u.pk) in picked}
            groups = set(self.data.getlist("groups"))
            query = (self.data.get("q") or "").strip()
        else:
            checked, groups, query = set(), set(), ""
        return {
            "root": root,
            "root_valid": any(u.pk == root.pk for u in units),
            "root_checked": root.pk in checked,
            "nodes": picker.build_tree(root, units, checked=checked, query=query),
            "groups": [
                {"key": g.key, "label": g.label, "count": n, "kinds": kinds, "on": g.key in groups}
                for g, n, kinds in picker.group_counts([u for u in units if u.pk != root.pk])
            ],
            "on": on,
            "query": query,
            "matches": picker.matches(units, query) if query else [],
        }

    def without_errors(self) -> None:
        """Show what was posted without validating it (a search in the tree, or a redraw
        for another issuer or date, is no submission)."""
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:  # mark every invalid field, not only the first
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    # -- cleaning --------------------------------------------------------------------------

    def clean(self):
        data = super().clean()
        issuer, issued = data.get("issuer"), data.get("issued_on")
        data["rule"] = None
        data["recipients_units"] = []
        if issuer is not None and issued is not None:
            self._clean_recipients(data, issuer, issued)
        deadline = data.get("deadline")
        if issued and deadline and deadline < issued:
            self.add_error(
                "deadline",
                djforms.ValidationError(
                    _("Hạn gửi báo cáo trước ngày ban hành công văn."),
                    code="reporting.deadline_before_issue",
                ),
            )
        period = data.get("period")
        wrong = [f.name for f in data.get("forms") or [] if period and f.period_type != period.type]
        if wrong:
            self.add_error(
                "forms",
                djforms.ValidationError(
                    _("Biểu không dùng cho loại kỳ này: %(f)s") % {"f": ", ".join(wrong)},
                    code="reporting.form_period_mismatch",
                ),
            )
        data["section_titles"] = [
            nfc(line) for line in (data.get("sections") or "").splitlines() if nfc(line)
        ]
        return data

    def _clean_recipients(self, data, issuer: Unit, issued: date) -> None:
        picked = set(data.get("recipients") or [])
        candidates = self.candidates(issuer, issued)
        allowed = {u.pk for u in candidates}
        outside = picked - allowed
        if outside:
            names = [
                u.name
                if u.is_valid_on(issued)
                else _("%(u)s (không còn hiệu lực ngày %(d)s)")
                % {"u": u.name, "d": format_date(issued)}
                for u in Unit.objects.filter(pk__in=outside).order_by("path")
            ]
            unknown = len(outside) - len(names)
            if unknown:
                names.append(_("%(n)d đơn vị không tồn tại") % {"n": unknown})
            self.add_error(
                "recipients",
                djforms.ValidationError(
                    _("Không gửi được tới đơn vị ngoài phạm vi của %(issuer)s: %(units)s")
                    % {"issuer": issuer.name, "units": "; ".join(names)},
                    code="reporting.recipient_out_of_scope",
                ),
            )
            return
        root = scope.letter_scope_root(issuer)
        units = picker.expand(
            root,
            candidates,
            picked,
            data.get("groups") or [],
            exact=bool(data.get("recipients_exact")),
        )
        if not units:
            self.add_error(
                "recipients",
                djforms.ValidationError(
                    _("Xin chọn ít nhất một đơn vị nhận."), code="reporting.no_recipients"
                ),
            )
        data["recipients_units"] = units

    def preview(self) -> picker.Preview:
        return picker.preview(self.cleaned_data["recipients_units"])

    def confirmed(self) -> bool:
        """The posted confirmation is of the recipient list the form now holds."""
        return bool(self.cleaned_data.get("confirm")) and (
            self.cleaned_data["confirm"] == self.preview().digest
        )

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
            recipients=d["recipients_units"],
            rule=None,
        )
