"""What a report definition says, checked the same way whether it comes from the pages or
from the ``reports:`` section of a metadata package.

A *spec* is a plain dict (see :data:`HEADER_FIELDS` and :func:`check_spec`): the header of
the official document, the letter it answers or the programmes and period it covers, its
narrative sections (each with a stable key) and its annex tables. :func:`check_spec`
returns every problem at once, each with the field (or row) it concerns; the service
functions in ``services.py`` write a spec only when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError
from tiendo.documents.models import ReportDefinition, SignerCapacity, TemplateKind
from tiendo.documents.narrative import KEY, Section
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period, PeriodError
from tiendo.reporting.models import FormIndicator
from tiendo.units.models import Unit

# In ``options`` of a letter's automatic default definition, until someone edits it.
DEFAULT_OPTION = "default_for_letter"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# The header of the official document, as stored on the definition.
HEADER_FIELDS = (
    "title",
    "kind",
    "parent_agency",
    "issuing_agency",
    "number",
    "symbol",
    "place",
    "issued_on",
    "doc_title",
    "summary",
    "basis",
    "signer_capacity",
    "signing_for",
    "signer_title",
    "signer_name",
    "recipients",
)
REQUIRED = ("title", "issuing_agency", "symbol", "place", "summary")

# Which units an annex has as rows.
ROWS_CHILDREN, ROWS_DISTRICTS, ROWS_COMMUNES, ROWS_UNITS = (
    "children",
    "districts",
    "communes",
    "units",
)
ANNEX_ROWS = {
    ROWS_CHILDREN: _("Các đơn vị trực thuộc"),
    ROWS_DISTRICTS: _("Các huyện bên dưới"),
    ROWS_COMMUNES: _("Các xã bên dưới"),
    ROWS_UNITS: _("Danh sách đơn vị chọn"),
}
# How a column of a disaggregated indicator shows its categories.
CATEGORY_LAYOUTS = {
    "": _("Chỉ số tổng"),
    "columns": _("Mỗi phân tổ một cột"),
    "rows": _("Mỗi phân tổ một dòng con"),
}
MAX_SECTIONS = 60
MAX_ANNEXES = 20
MAX_COLUMNS = 40


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of a spec: ``field`` is a name (``symbol``), or a row
    (``sections[2].key``, ``annexes[0].columns[1].indicator``)."""

    field: str
    error: TiendoError

    def __str__(self) -> str:
        return f"{self.field}: {self.error}"


class DefinitionInvalid(TiendoError, ValueError):
    """A definition refused, with every problem found (``problems``); nothing is written."""

    code = "definition.invalid"
    default_message = _("Báo cáo định nghĩa có lỗi, chưa lưu gì.")

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__()

    @property
    def codes(self) -> list[str]:
        return [p.error.code for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def _problem(problems, field, message, code, **params) -> None:
    problems.append(Problem(field, TiendoError(message, code=code, **params)))


# The header fields that take one of a list of values: (field, allowed, default, message, code).
_CHOICE_FIELDS = (
    (
        "kind",
        TemplateKind.values,
        None,
        _("Loại báo cáo “%(value)s” không có."),
        "definition.bad_kind",
    ),
    (
        "signer_capacity",
        SignerCapacity.values,
        "",
        _("Quyền hạn ký “%(value)s” không hợp lệ (TM., KT., Q., TL. hoặc để trống)."),
        "definition.bad_capacity",
    ),
)


def check_spec(
    spec: dict,
    *,
    instance: ReportDefinition | None = None,
    programme_codes: set[str] | None = None,
    indicator_codes: set[str] | None = None,
) -> list[Problem]:
    """Every problem of ``spec`` (empty: it may be written). ``instance``: the definition
    being edited (its own slug is not a clash). A package, whose programme may not be
    written yet, gives the codes of its programmes and indicators instead."""
    problems: list[Problem] = []
    _check_slug(problems, spec.get("slug", ""), instance)
    _check_header(problems, spec)
    unit: Unit | None = spec.get("unit")
    if unit is None:
        _problem(problems, "unit", _("Chọn đơn vị ban hành."), "definition.missing")
    request = spec.get("request")
    programmes = list(spec.get("programmes") or [])
    period = spec.get("period", "")
    if request is not None:
        _check_letter(problems, spec, unit, request, instance)
    else:
        has_programmes = bool(programmes) if programme_codes is None else bool(programme_codes)
        _check_own_scope(problems, has_programmes, period)
    if period:
        try:
            Period.parse(period)
        except PeriodError as exc:
            problems.append(Problem("period", exc))
    recipients = spec.get("recipients") or []
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        _problem(
            problems, "recipients", _("Nơi nhận là danh sách dòng chữ."), "definition.bad_list"
        )
    problems += check_sections(spec.get("sections") or [])
    if indicator_codes is None:
        indicator_codes = _indicator_codes(request, programmes)
    problems += check_annexes(spec.get("annexes") or [], unit, indicator_codes)
    return problems


def _others(queryset, instance: ReportDefinition | None):
    """``queryset`` without the definition being edited."""
    return queryset.exclude(pk=instance.pk if instance else None)


def _check_slug(problems, slug: str, instance: ReportDefinition | None) -> None:
    if not slug or not SLUG.fullmatch(slug) or len(slug) > 80:
        _problem(
            problems,
            "slug",
            _("Mã báo cáo “%(value)s” chỉ gồm chữ thường không dấu, số và dấu gạch ngang."),
            "definition.bad_slug",
            value=slug,
        )
    elif _others(ReportDefinition.objects.filter(slug=slug), instance).exists():
        _problem(
            problems,
            "slug",
            _("Đã có báo cáo mã “%(value)s”."),
            "definition.slug_taken",
            value=slug,
        )


def _check_header(problems, spec: dict) -> None:
    """The required header fields given, each field of a list of values one of them."""
    for name in REQUIRED:
        if not str(spec.get(name) or "").strip():
            _problem(problems, name, _("Trường này bắt buộc."), "definition.missing")
    for name, allowed, default, message, code in _CHOICE_FIELDS:
        value = spec.get(name, default)
        if value not in allowed:
            _problem(problems, name, message, code, value=value)


def _check_letter(problems, spec: dict, unit: Unit | None, request, instance) -> None:
    """A report answering a letter: the unit received it (or is within its issuer), has no
    other report for it, and places sections only under the letter's own sections."""
    if unit is not None:
        _check_letter_unit(problems, unit, request, instance)
    letter_sections = set(request.sections.values_list("pk", flat=True))
    for index, section in enumerate(spec.get("sections") or []):
        if section.source and section.source not in letter_sections:
            _problem(
                problems,
                f"sections[{index}].source",
                _("Mục %(number)s: công văn %(letter)s không có mục này."),
                "definition.unknown_letter_section",
                number=index + 1,
                letter=request.number_symbol,
            )


def _check_letter_unit(problems, unit: Unit, request, instance) -> None:
    within = unit.is_within(request.issuer) or unit == request.issuer
    if not within and not request.recipients.filter(unit=unit).exists():
        _problem(
            problems,
            "request",
            _("Đơn vị %(unit)s không nhận công văn %(letter)s và không thuộc đơn vị gửi công văn."),
            "definition.request_not_for_unit",
            unit=unit.name,
            letter=request.number_symbol,
        )
    taken = (
        _others(ReportDefinition.objects.filter(request=request, unit=unit), instance)
        .exclude(options__has_key=DEFAULT_OPTION, documents__isnull=True)
        .first()
    )
    if taken is not None:
        _problem(
            problems,
            "request",
            _("%(unit)s đã có báo cáo “%(title)s” trả lời công văn %(letter)s."),
            "definition.letter_answered",
            unit=unit.name,
            title=taken.title,
            letter=request.number_symbol,
        )


def _check_own_scope(problems, has_programmes: bool, period: str) -> None:
    """A report answering no letter names its programmes and period."""
    if not has_programmes:
        _problem(
            problems,
            "programmes",
            _("Chọn công văn được trả lời, hoặc các chương trình và kỳ báo cáo."),
            "definition.no_scope",
        )
    if not period:
        _problem(
            problems,
            "period",
            _("Nhập kỳ báo cáo (ví dụ 2024) khi báo cáo không trả lời công văn nào."),
            "definition.no_period",
        )


def _indicator_codes(request, programmes) -> set[str]:
    if programmes:
        return set(
            Indicator.objects.filter(programme__in=programmes).values_list("code", flat=True)
        )
    if request is not None:
        return set(
            Indicator.objects.filter(programme__forms__requests=request).values_list(
                "code", flat=True
            )
        )
    return set()


def check_sections(sections: list[Section]) -> list[Problem]:
    problems: list[Problem] = []
    if len(sections) > MAX_SECTIONS:
        _problem(
            problems,
            "sections",
            _("Nhiều quá %(limit)s mục."),
            "definition.too_many_sections",
            limit=MAX_SECTIONS,
        )
    seen = set()
    for index, section in enumerate(sections):
        where = f"sections[{index}]"
        if not KEY.fullmatch(section.key or "") or len(section.key) > 60:
            _problem(
                problems,
                f"{where}.key",
                _(
                    "Mục %(number)s: khóa “%(value)s” chỉ gồm chữ thường không dấu, số và dấu "
                    "gạch dưới, bắt đầu bằng chữ."
                ),
                "definition.bad_section_key",
                number=index + 1,
                value=section.key,
            )
        elif section.key in seen:
            _problem(
                problems,
                f"{where}.key",
                _("Mục %(number)s: khóa “%(value)s” đã dùng cho một mục khác."),
                "definition.duplicate_section_key",
                number=index + 1,
                value=section.key,
            )
        seen.add(section.key)
        if not section.heading.strip():
            _problem(
                problems,
                f"{where}.heading",
                _("Mục %(number)s: nhập tiêu đề."),
                "definition.missing",
                number=index + 1,
            )
    return problems


def check_annexes(annexes: list[dict], unit: Unit | None, codes: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if len(annexes) > MAX_ANNEXES:
        _problem(
            problems,
            "annexes",
            _("Nhiều quá %(limit)s phụ lục."),
            "definition.too_many_annexes",
            limit=MAX_ANNEXES,
        )
    for index, annex in enumerate(annexes):
        where = f"annexes[{index}]"
        number = index + 1
        if not str(annex.get("title") or "").strip():
            _problem(
                problems,
                f"{where}.title",
                _("Phụ lục %(number)s: nhập tên phụ lục."),
                "definition.missing",
                number=number,
            )
        _check_annex_rows(problems, where, number, annex, unit)
        columns = annex.get("columns") or []
        _check_column_count(problems, where, number, columns)
        for col_index, column in enumerate(columns):
            _check_column(
                problems, f"{where}.columns[{col_index}]", number, col_index + 1, column, codes
            )
    return problems


def _check_annex_rows(problems, where: str, number: int, annex: dict, unit: Unit | None) -> None:
    """The annex's rows are one of :data:`ANNEX_ROWS`; a list of units chosen is not empty
    and holds units of the issuing unit only."""
    rows = annex.get("rows", "")
    if rows not in ANNEX_ROWS:
        _problem(
            problems,
            f"{where}.rows",
            _("Phụ lục %(number)s: dòng “%(value)s” không hợp lệ; chọn: %(allowed)s."),
            "definition.bad_rows",
            number=number,
            value=rows,
            allowed=", ".join(ANNEX_ROWS),
        )
    if rows != ROWS_UNITS:
        return
    chosen = annex.get("units") or []
    if not chosen:
        _problem(
            problems,
            f"{where}.units",
            _("Phụ lục %(number)s: chọn ít nhất một đơn vị."),
            "definition.no_units",
            number=number,
        )
    found = {u.code: u for u in Unit.objects.filter(code__in=chosen)}
    for code in chosen:
        found_unit = found.get(code)
        if found_unit is None or (
            unit is not None and not found_unit.is_within(unit) and found_unit != unit
        ):
            _problem(
                problems,
                f"{where}.units",
                _(
                    "Phụ lục %(number)s: đơn vị “%(value)s” không có hoặc không thuộc "
                    "đơn vị ban hành."
                ),
                "definition.unit_outside",
                number=number,
                value=code,
            )


def _check_column_count(problems, where: str, number: int, columns: list) -> None:
    if not columns:
        _problem(
            problems,
            f"{where}.columns",
            _("Phụ lục %(number)s: cần ít nhất một cột chỉ tiêu."),
            "definition.no_columns",
            number=number,
        )
    if len(columns) > MAX_COLUMNS:
        _problem(
            problems,
            f"{where}.columns",
            _("Phụ lục %(number)s: nhiều quá %(limit)s cột."),
            "definition.too_many_columns",
            number=number,
            limit=MAX_COLUMNS,
        )


def _check_column(
    problems, where: str, number: int, column_number: int, column: dict, codes: set[str]
) -> None:
    """One annex column: an indicator of the report's programmes (and its plan, when given:
    ``target`` or another such indicator), a known way to show categories."""
    for key in ("indicator", "plan"):
        code = column.get(key) or ""
        if key == "indicator" and not code:
            _problem(
                problems,
                f"{where}.indicator",
                _("Phụ lục %(number)s, cột %(column)s: chọn chỉ tiêu."),
                "definition.missing",
                number=number,
                column=column_number,
            )
        elif code and code != "target" and code not in codes:
            _problem(
                problems,
                f"{where}.{key}",
                _(
                    "Phụ lục %(number)s, cột %(column)s: chỉ tiêu “%(value)s” không "
                    "thuộc các chương trình của báo cáo."
                ),
                "definition.unknown_indicator",
                number=number,
                column=column_number,
                value=code,
            )
    layout = column.get("categories", "") or ""
    if layout not in CATEGORY_LAYOUTS:
        _problem(
            problems,
            f"{where}.categories",
            _(
                "Phụ lục %(number)s, cột %(column)s: cách hiện phân tổ “%(value)s” "
                "không hợp lệ; chọn: columns, rows hoặc để trống."
            ),
            "definition.bad_categories",
            number=number,
            column=column_number,
            value=layout,
        )


def spec_of(definition: ReportDefinition) -> dict:
    """The spec of a stored definition (what its edit form starts from)."""
    from tiendo.documents.narrative import definition_sections  # noqa: PLC0415

    spec = {name: getattr(definition, name) for name in HEADER_FIELDS}
    spec.update(
        slug=definition.slug,
        unit=definition.unit,
        request=definition.request,
        programmes=list(definition.programmes.all()),
        period=definition.period,
        sections=definition_sections(definition),
        annexes=[normalise_annex(a) for a in definition_annexes(definition)],
    )
    return spec


def definition_annexes(definition: ReportDefinition) -> list[dict]:
    """The definition's annex tables (``options["annexes"]``). A letter's default report,
    until someone edits it, has one made from the letter (:func:`letter_annexes`), so
    that its first rendering shows figures."""
    stored = definition.options.get("annexes")
    if stored is not None or not definition.options.get(DEFAULT_OPTION):
        return list(stored or [])
    if definition.request_id is None:
        return []
    return letter_annexes(definition.request)


def letter_annexes(request) -> list[dict]:
    """The annex of a letter's default report: a column for each indicator the letter's
    forms ask for (in the forms' order; actual values), a row for each unit directly
    below the issuer — the districts of a province, the communes of a district, then its
    agencies — which is how the issuer reads its recipients' answers side by side."""
    lines = (
        FormIndicator.objects.filter(form__requests=request)
        .order_by("form__code", "order", "pk")
        .values_list("indicator__code", flat=True)
    )
    codes = list(dict.fromkeys(lines))[:MAX_COLUMNS]
    if not codes:
        return []
    return [
        {
            "title": "Số liệu các biểu theo đơn vị trực thuộc",  # the document's words
            "rows": ROWS_CHILDREN,
            "units": [],
            "columns": [{"indicator": c, "plan": "", "categories": ""} for c in codes],
        }
    ]


def normalise_annex(annex: dict) -> dict:
    """An annex in today's shape: ``rows`` instead of the older ``level``."""
    annex = dict(annex)
    if "rows" not in annex:
        annex["rows"] = {"district": ROWS_DISTRICTS, "commune": ROWS_COMMUNES}.get(
            annex.pop("level", "commune"), ROWS_COMMUNES
        )
    annex.setdefault("units", [])
    annex["columns"] = [
        {
            "indicator": c.get("indicator", ""),
            "plan": c.get("plan", "") or "",
            "categories": c.get("categories", "") or "",
        }
        for c in annex.get("columns", [])
    ]
    return annex
