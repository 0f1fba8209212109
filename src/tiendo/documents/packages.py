"""The ``reports:`` section of a metadata package: report definitions written in YAML.

reports:
  - slug: ntm-tinh-2024                 # stable: loading again updates this definition
    title: Báo cáo kết quả xây dựng nông thôn mới năm 2024
    kind: sections                      # the shipped template (sections, programme_results, …)
    template: mau/bao-cao-ntm.docx      # or an own .docx, relative to this package file
    unit: "45"                          # the issuing unit
    issuing_agency: Ủy ban nhân dân tỉnh Quảng Trị
    parent_agency: ""
    number: ""
    symbol: BC-UBND
    place: Quảng Trị
    issued_on: 2024-12-15
    summary: Kết quả thực hiện Chương trình năm 2024
    basis: ""
    signer: {capacity: TM., signing_for: Ủy ban nhân dân, title: Chủ tịch, name: Võ Văn Hưng}
    recipients: [Bộ Nông nghiệp và PTNT;, Lưu VT.]
    letter: {number_symbol: 12/UBND-NN, issued_on: 2024-11-20, issuer: "45"}   # or:
    programmes: [NTM]                   # default: the package's programme (also with a letter)
    period: "2024"
    sections:
      - {key: thuan_loi, heading: "Thuận lợi, khó khăn", letter_section: "Thuận lợi"}
      - {key: ket_qua, heading: Kết quả thực hiện, text: "…"}
    annexes:
      - title: Kết quả theo huyện
        rows: children                  # children | districts | communes | units
        units: []                       # with rows: units, the codes in order
        columns:
          - {indicator: NTM_COMMUNES, plan: target}        # plan: target | CODE | (none)
          - {indicator: NTM_CAPITAL, categories: columns}  # categories: columns | rows

Every key is checked (an unknown one refused, code ``package.unknown_key``); the template
path must stay inside the package's folder. Sections are matched by key: a reload keeps the
text a section already has when the package gives none, wherever the section moved.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from tiendo.documents.definitions import check_spec
from tiendo.documents.models import SignerCapacity, TemplateKind
from tiendo.documents.narrative import Section

REPORT_KEYS = {
    "slug",
    "title",
    "kind",
    "template",
    "unit",
    "issuing_agency",
    "parent_agency",
    "number",
    "symbol",
    "place",
    "issued_on",
    "doc_title",
    "summary",
    "basis",
    "signer",
    "recipients",
    "letter",
    "programmes",
    "period",
    "sections",
    "annexes",
}
SIGNER_KEYS = {"capacity", "signing_for", "title", "name"}
LETTER_KEYS = {"number_symbol", "issued_on", "issuer"}
SECTION_KEYS = {"key", "heading", "text", "letter_section"}
ANNEX_KEYS = {"title", "rows", "units", "columns", "only_with_data"}
COLUMN_KEYS = {"indicator", "plan", "categories"}
TEXT_FIELDS = {
    "title": 300,
    "issuing_agency": 200,
    "parent_agency": 200,
    "number": 20,
    "symbol": 40,
    "place": 80,
    "doc_title": 80,
    "summary": 500,
    "basis": None,
}
# (spec field, key under ``signer:``, longest)
SIGNER_FIELDS = (
    ("signing_for", "signing_for", 200),
    ("signer_title", "title", 200),
    ("signer_name", "name", 120),
)
# The key path of a spec field that the package spells otherwise.
KEY_PATHS = {
    "signer_capacity": "signer.capacity",
    "request": "letter",
    **{name: f"signer.{key}" for name, key, _limit in SIGNER_FIELDS},
}


def _key_path(field: str) -> str:
    """``signer_capacity`` → ``signer.capacity``, ``sections[1].source`` →
    ``sections[1].letter_section``: where a problem of the spec is in the package."""
    if field.endswith(".source"):
        return field.removesuffix(".source") + ".letter_section"
    return KEY_PATHS.get(field, field)


def _keys(c, data: dict, allowed: set, path: str) -> None:
    for key in data:
        if key not in allowed:
            c.error(
                f"{path}.{key}",
                _("khóa không được hỗ trợ; các khóa hợp lệ: %(allowed)s."),
                code="package.unknown_key",
                allowed=", ".join(sorted(allowed)),
            )


def _mapping(c, data, path: str) -> dict:
    if data is None:
        return {}
    return c.mapping(data, path)


def _list(c, data, path: str) -> list:
    if data is None:
        return []
    if not isinstance(data, list):
        c.error(path, _("phải là một danh sách."), code="package.not_list")
        return []
    return data


def template_path(c, source: str, value, path: str) -> Path | None:
    """The template file, relative to the package file and inside its folder."""
    from tiendo.documents.services import MAX_TEMPLATE_BYTES  # noqa: PLC0415

    if not isinstance(value, str) or not value.strip():
        c.error(path, _("phải là đường dẫn tệp .docx."), code="package.not_text", value=value)
        return None
    folder = Path(source).resolve().parent
    relative = Path(value)
    if relative.is_absolute() or ".." in relative.parts:
        c.error(
            path,
            _("đường dẫn “%(value)s” phải nằm trong thư mục của gói (không dùng “..” hay /)."),
            code="package.template_outside",
            value=value,
        )
        return None
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder):  # a symbolic link out of the folder
        c.error(
            path,
            _("đường dẫn “%(value)s” phải nằm trong thư mục của gói (không dùng “..” hay /)."),
            code="package.template_outside",
            value=value,
        )
        return None
    if not target.is_file():
        c.error(
            path,
            _("không có tệp “%(value)s”."),
            code="package.template_missing",
            value=value,
        )
        return None
    if target.stat().st_size > MAX_TEMPLATE_BYTES:
        c.error(
            path,
            _("tệp “%(value)s” lớn quá %(limit)s MB."),
            code="upload.too_large",
            value=value,
            limit=MAX_TEMPLATE_BYTES // (1024 * 1024),
        )
        return None
    return target


def check_reports(items, c, plan) -> list[dict]:
    package_programme = (plan.get("programme") or {}).get("code", "")
    declared = {i["code"] for i in plan.get("indicators") or []}
    checked, seen = [], set()
    for path, item in items:
        _keys(c, item, REPORT_KEYS, path)
        slug = c.text(item, "slug", path, required=False)
        c.once(seen, slug, f"{path}.slug", _("báo cáo “%(value)s” khai hai lần."))
        spec = {"slug": slug, **_header(c, item, path)}
        request = _letter(c, item, path)
        codes = [str(p) for p in _list(c, item.get("programmes"), f"{path}.programmes")]
        if not codes and package_programme:
            codes = [package_programme]
        indicator_codes = _indicator_codes(c, path, codes, package_programme, declared)
        spec["request"] = request
        spec["period"] = c.period(item, "period", path) if item.get("period") else ""
        spec["sections"] = _sections(c, item, path, request)
        spec["annexes"] = _annexes(c, item, path)
        template = _template(c, item, path)
        _check_spec(
            c,
            path,
            spec,
            programme_codes=set(codes) if request is None else None,
            indicator_codes=indicator_codes if codes or request is None else None,
        )
        checked.append({"spec": spec, "programmes": codes, "template": template})
    return checked


def _header(c, item: dict, path: str) -> dict:
    """The spec's header: the YAML shape checked here, the rules of each field by
    :func:`~tiendo.documents.definitions.check_spec`."""
    spec: dict = {}
    for name, limit in TEXT_FIELDS.items():
        spec[name] = c.text(item, name, path, required=False, max_length=limit)
    if not spec["doc_title"]:
        spec["doc_title"] = "BÁO CÁO"
    spec["kind"] = c.choice(item, "kind", path, TemplateKind, TemplateKind.SECTIONS.value)
    spec["issued_on"] = c.day(item, "issued_on", path, required=False)
    spec["unit"] = c.unit(item, "unit", path)
    where = f"{path}.signer"
    signer = _mapping(c, item.get("signer"), where)
    _keys(c, signer, SIGNER_KEYS, where)
    spec["signer_capacity"] = c.choice(signer, "capacity", where, SignerCapacity, "")
    for name, key, limit in SIGNER_FIELDS:
        spec[name] = c.text(signer, key, where, required=False, max_length=limit)
    spec["recipients"] = [str(r) for r in _list(c, item.get("recipients"), f"{path}.recipients")]
    return spec


def _letter(c, item: dict, path: str):
    """The letter the report answers (``letter:``), ``None`` when it answers none or the
    letter is not found (noted)."""
    from tiendo.reporting.models import ReportRequest  # noqa: PLC0415

    if item.get("letter") is None:
        return None
    where = f"{path}.letter"
    letter = _mapping(c, item.get("letter"), where)
    _keys(c, letter, LETTER_KEYS, where)
    number = c.text(letter, "number_symbol", where, max_length=80)
    issued = c.day(letter, "issued_on", where, required=False)
    issuer = c.unit(letter, "issuer", where, required=False)
    if not number:
        return None
    letters = ReportRequest.objects.filter(number_symbol=number)
    if issued:
        letters = letters.filter(issued_on=issued)
    if issuer:
        letters = letters.filter(issuer=issuer)
    found = list(letters[:2])
    if len(found) != 1:
        c.error(
            where,
            _("không có đúng một công văn số “%(value)s” (có %(count)s)."),
            code="package.unknown_letter",
            value=number,
            count=len(found),
        )
        return None
    return found[0]


def _indicator_codes(c, path: str, codes: list[str], package_programme: str, declared: set):
    """The indicators of the report's programmes: those stored, and the package's own
    (declared in it, perhaps not written yet). A programme not found is noted."""
    from tiendo.programmes.models import Indicator, Programme  # noqa: PLC0415

    others = [code for code in codes if code != package_programme]
    existing = {p.code: p for p in Programme.objects.filter(code__in=others)}
    for code in others:
        if code not in existing:
            c.error(
                f"{path}.programmes",
                _("không có chương trình “%(value)s”."),
                code="package.unknown_programme",
                value=code,
            )
    found = set(
        Indicator.objects.filter(programme__in=existing.values()).values_list("code", flat=True)
    )
    if package_programme in codes:
        found |= declared | set(
            Indicator.objects.filter(programme__code=package_programme).values_list(
                "code", flat=True
            )
        )
    return found


def _template(c, item: dict, path: str) -> tuple[bytes, str] | None:
    """The report's own template (``template:``) as ``(content, filename)``, checked."""
    from tiendo.documents.services import TemplateUploadError, check_docx  # noqa: PLC0415

    if item.get("template") is None:
        return None
    target = template_path(c, c.source, item["template"], f"{path}.template")
    if target is None:
        return None
    data = target.read_bytes()
    try:
        check_docx(data, filename=target.name)
    except TemplateUploadError as exc:
        c.error(f"{path}.template", "%(reason)s", code=exc.code, reason=exc)
        return None
    return (data, target.name)


def _check_spec(c, path: str, spec: dict, **known) -> None:
    """The rules a definition's page applies (:func:`check_spec`), each problem noted under
    the package's key path. The definition of the same slug is this one, loaded again."""
    from tiendo.documents.models import ReportDefinition  # noqa: PLC0415

    slug = spec["slug"]
    instance = ReportDefinition.objects.filter(slug=slug).first() if slug else None
    for problem in check_spec(spec, instance=instance, **known):
        c.error(
            f"{path}.{_key_path(problem.field)}",
            "%(reason)s",
            code=problem.error.code,
            reason=problem.error,
        )


def _sections(c, item, path, request) -> list[Section]:
    sections = []
    titles = {}
    if request is not None:
        titles = {s.title.strip(): s.pk for s in request.sections.all()}
    for index, raw in enumerate(_list(c, item.get("sections"), f"{path}.sections")):
        where = f"{path}.sections[{index}]"
        raw = _mapping(c, raw, where)
        _keys(c, raw, SECTION_KEYS, where)
        source = None
        title = c.text(raw, "letter_section", where, required=False, max_length=300)
        if title:
            if request is None:
                c.error(
                    f"{where}.letter_section",
                    _("chỉ dùng khi báo cáo trả lời một công văn (khóa letter)."),
                    code="package.no_letter",
                )
            elif title.strip() not in titles:
                c.error(
                    f"{where}.letter_section",
                    _("công văn không có mục “%(value)s”; các mục: %(allowed)s."),
                    code="package.unknown_letter_section",
                    value=title,
                    allowed="; ".join(titles),
                )
            else:
                source = titles[title.strip()]
        sections.append(
            Section(
                c.text(raw, "key", where, required=False),
                c.text(raw, "heading", where, required=False, max_length=300),
                c.text(raw, "text", where, required=False),
                source,
            )
        )
    return sections


def _annexes(c, item, path) -> list[dict]:
    annexes = []
    for index, raw in enumerate(_list(c, item.get("annexes"), f"{path}.annexes")):
        where = f"{path}.annexes[{index}]"
        raw = _mapping(c, raw, where)
        _keys(c, raw, ANNEX_KEYS, where)
        columns = []
        for col_index, col in enumerate(_list(c, raw.get("columns"), f"{where}.columns")):
            col_where = f"{where}.columns[{col_index}]"
            col = _mapping(c, col, col_where)
            _keys(c, col, COLUMN_KEYS, col_where)
            columns.append(
                {
                    "indicator": c.reference(col, "indicator", col_where, required=False),
                    "plan": c.reference(col, "plan", col_where, required=False),
                    "categories": c.text(col, "categories", col_where, required=False),
                }
            )
        annexes.append(
            {
                "title": c.text(raw, "title", where, required=False, max_length=300),
                "rows": c.text(raw, "rows", where, required=False) or "communes",
                "units": [str(u) for u in _list(c, raw.get("units"), f"{where}.units")],
                "columns": columns,
                "only_with_data": bool(raw.get("only_with_data", False)),
            }
        )
    return annexes


def apply_reports(checked, saved, report) -> None:
    from tiendo.documents.services import upsert_definition  # noqa: PLC0415
    from tiendo.programmes.models import Programme  # noqa: PLC0415

    programme = saved.get("programme")
    for entry in checked:
        codes = entry["programmes"]
        programmes = [
            programme
            if programme is not None and code == programme.code
            else Programme.objects.get(code=code)
            for code in codes
        ]
        spec = {**entry["spec"], "programmes": programmes}
        spec["template_upload"] = entry["template"]
        _definition, status = upsert_definition(user=None, spec=spec)
        report.count(status, "báo cáo")
