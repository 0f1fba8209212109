"""Templates, rendering and stored documents: the service functions views and commands call."""

from __future__ import annotations

import hashlib
import io

from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext_lazy as _

from tiendo.core.audit import audit
from tiendo.core.errors import TiendoError
from tiendo.core.formatting import format_date
from tiendo.core.uploads import UploadError, default_limits, inspect_zip
from tiendo.data.aggregation import LATEST, Aggregator, with_operands
from tiendo.data.models import DataValue
from tiendo.documents.annex import LEVELS
from tiendo.documents.definitions import (
    DEFAULT_OPTION,
    HEADER_FIELDS,
    ROWS_CHILDREN,
    ROWS_DISTRICTS,
    ROWS_UNITS,
    DefinitionInvalid,
    Problem,
    check_spec,
    definition_annexes,
    normalise_annex,
)
from tiendo.documents.models import (
    DocumentFormat,
    GeneratedDocument,
    ReportDefinition,
    ReportTemplate,
    TemplateKind,
)
from tiendo.documents.narrative import (
    Section,
    ascii_slug,
    definition_sections,
    letter_section_key,
    merge_sections,
    person_label,
)
from tiendo.documents.pdf import PdfError, docx_to_pdf
from tiendo.documents.render import (
    RenderError,
    lower_first,
    prepare,
    render_docx,
    render_xlsx,
)
from tiendo.documents.templates_build import SHIPPED, content_digest
from tiendo.programmes.models import Indicator
from tiendo.programmes.periods import Period
from tiendo.reporting.models import Submission
from tiendo.units.models import Unit, UnitAncestor

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024


class TemplateUploadError(TiendoError, ValueError):
    """An uploaded template refused; the message is Vietnamese, for the user."""

    code = "template.refused"


def ensure_shipped_templates() -> list[ReportTemplate]:
    """Store the shipped templates (unit empty); a new version only when the builder changed."""
    stored = []
    for shipped in SHIPPED:
        data = shipped.build()
        digest = content_digest(data)
        latest = (
            ReportTemplate.objects.filter(kind=shipped.kind, unit__isnull=True)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.digest == digest:
            stored.append(latest)
            continue
        with transaction.atomic():
            ReportTemplate.objects.filter(kind=shipped.kind, unit__isnull=True).update(active=False)
            template = ReportTemplate.objects.create(
                kind=shipped.kind,
                name=shipped.name,
                version=(latest.version + 1) if latest else 1,
                content=data,
                digest=digest,
                note="Mẫu của hệ thống",
            )
        stored.append(template)
    return stored


def template_for(definition: ReportDefinition) -> ReportTemplate:
    """The definition's own uploaded template; else the active template of its kind nearest
    to its unit, else the shipped one."""
    if definition.template_id:
        return definition.template
    unit_ids = [definition.unit.pk, *reversed(definition.unit.ancestor_ids)]
    candidates = {
        t.unit_id: t
        for t in ReportTemplate.objects.filter(
            kind=definition.kind, unit_id__in=unit_ids, active=True
        ).order_by("version")
    }
    for unit_id in unit_ids:
        if unit_id in candidates:
            return candidates[unit_id]
    shipped = (
        ReportTemplate.objects.filter(kind=definition.kind, unit__isnull=True, active=True)
        .order_by("-version")
        .first()
    )
    if shipped is None:
        ensure_shipped_templates()
        shipped = ReportTemplate.objects.filter(
            kind=definition.kind, unit__isnull=True, active=True
        ).latest("version")
    return shipped


def inspect_docx(data: bytes, *, filename: str) -> None:
    """Refuse a .docx that is too large, a zip bomb or carries XML declarations
    (``tiendo.core.uploads``), before python-docx unpacks it."""
    inspect_zip(
        data,
        filename=filename or _("mẫu báo cáo"),
        kind=_("văn bản Word (.docx)"),
        limits=default_limits(max_bytes=MAX_TEMPLATE_BYTES),
        required=("word/document.xml",),
    )


def check_docx(data: bytes, *, filename: str = "") -> None:
    try:
        inspect_docx(data, filename=filename)
    except UploadError as exc:
        raise TemplateUploadError(exc.message, code=exc.code, **exc.params) from exc
    from docxtpl import DocxTemplate  # noqa: PLC0415

    from tiendo.documents.placeholders import template_problems  # noqa: PLC0415
    from tiendo.documents.render import jinja_environment  # noqa: PLC0415

    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.init_docx()
        problems = template_problems(tpl, jinja_environment())
    except Exception as exc:  # a template python-docx or Jinja cannot read
        raise TemplateUploadError(
            _("Mẫu có lỗi ở chỗ đặt biến: %(error)s"), code="template.unreadable", error=exc
        ) from exc
    if problems:
        # each problem is translated already (``placeholders.template_problems``)
        raise TemplateUploadError(" ".join(problems), code="template.bad_placeholders")


def upload_template(
    *, user, unit: Unit, kind: str, data: bytes, name: str, note: str = "", filename: str = ""
):
    """A new version of ``unit``'s template of ``kind``; earlier versions stay, inactive."""
    check_docx(data, filename=filename)
    with transaction.atomic():
        latest = (
            ReportTemplate.objects.select_for_update()
            .filter(kind=kind, unit=unit)
            .aggregate(v=Max("version"))["v"]
        )
        ReportTemplate.objects.filter(kind=kind, unit=unit).update(active=False)
        template = ReportTemplate.objects.create(
            unit=unit,
            kind=kind,
            name=name,
            version=(latest or 0) + 1,
            content=data,
            digest=content_digest(data),
            note=note,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit(
            "report_template.uploaded",
            actor=user,
            unit=unit,
            obj=template,
            name=template.name,
            version=template.version,
        )
    return template


def render_bytes(definition: ReportDefinition, fmt: str):
    """Render without storing: ``(bytes, snapshot, template)``."""
    data = prepare(definition)
    template = None
    if fmt == DocumentFormat.XLSX:
        content = render_xlsx(data)
    else:
        template = template_for(definition)
        content = render_docx(data, bytes(template.content))
        if fmt == DocumentFormat.PDF:
            content = docx_to_pdf(content)
    snapshot = data.snapshot()
    snapshot["template"] = (
        {"id": template.pk, "name": template.name, "version": template.version}
        if template
        else None
    )
    return content, snapshot, template


def generate(definition: ReportDefinition, fmt: str, *, user=None) -> GeneratedDocument:
    """Render and store the document with the data it was built from."""
    if fmt not in DocumentFormat.values:
        raise RenderError(
            _("Định dạng “%(format)s” không hỗ trợ (chỉ .docx, .pdf, .xlsx)."),
            code="render.unsupported_format",
            format=fmt,
        )
    content, snapshot, template = render_bytes(definition, fmt)
    snapshot["sources"] = collect_sources(snapshot["figures"])
    with transaction.atomic():
        document = GeneratedDocument.objects.create(
            definition=definition,
            format=fmt,
            template=template,
            content=content,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            snapshot=snapshot,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit(
            "document.generated",
            actor=user,
            unit=definition.unit,
            obj=document,
            slug=definition.slug,
            format=fmt,
            sha256=document.sha256,
        )
    return document


def collect_sources(figures: list[dict]) -> dict:
    """The stored values every figure was computed from, with who entered them.

    Returns ``{"values": {id: {...}}, "by_figure": {figure key: [value ids]}}``.
    """
    groups, operands, cumulative = _figure_groups(figures)
    values: dict[str, dict] = {}
    by_figure: dict[str, list[int]] = {}
    units = Unit.objects.in_bulk({unit_id for unit_id, _p in groups})
    for (unit_id, period_id), members in groups.items():
        wanted_ids = set().union(*(operands[f["indicator"]] for f in members))
        rows = _source_values(
            units.get(unit_id), unit_id, Period.parse(period_id), wanted_ids, cumulative
        )
        for value in rows:
            if str(value.pk) not in values:
                values[str(value.pk)] = _source_record(value)
        for figure in members:
            wanted = operands[figure["indicator"]]
            by_figure[figure["key"]] = [v.pk for v in rows if v.indicator_id in wanted]
    return {"values": values, "by_figure": by_figure}


def _figure_groups(figures: list[dict]):
    """``(groups, operands, cumulative)``: the figures of known indicators by (unit,
    period), the stored operands (ids) of each indicator, and the operands among them
    whose each unit's latest value counts ("last" aggregation)."""
    indicators = {
        i.code: i
        for i in Indicator.objects.filter(
            code__in={f["indicator"] for f in figures}
        ).select_related("disaggregation")
    }
    # The stored operands of each indicator (a formula reads others), looked up once each.
    operands: dict[str, set[int]] = {}
    cumulative: dict[int, Indicator] = {}
    # One query per (unit, period) instead of one per figure: the figures of a report
    # mostly share the report's unit and a few periods.
    groups: dict[tuple, list[dict]] = {}
    for figure in figures:
        indicator = indicators.get(figure["indicator"])
        if indicator is None:
            continue
        if indicator.code not in operands:
            stored = [i for i in with_operands([indicator]) if not i.formula]
            operands[indicator.code] = {i.pk for i in stored}
            cumulative.update({i.pk: i for i in stored if i.aggregation in LATEST})
        groups.setdefault((figure["unit_id"], figure["period"]), []).append(figure)
    return groups, operands, cumulative


def _source_values(unit, unit_id: int, period: Period, wanted_ids: set[int], cumulative):
    """The stored values of ``wanted_ids`` for the unit and everything below it within
    ``period``; of a "last" indicator, only the values its figure takes. ``unit`` is None
    for a unit that no longer exists (its "last" values are then left out)."""
    below = UnitAncestor.objects.filter(ancestor_id=unit_id).values("unit_id")
    query = Q(
        indicator__in=wanted_ids - set(cumulative),
        unit_id__in=below,
        period_start__gte=period.start,
        period_end__lte=period.end,
    )
    last = [cumulative[pk] for pk in wanted_ids & set(cumulative)]
    if last and unit is not None:
        # the same values, by the same rule, as the figure itself
        ids = Aggregator(last, period).last_value_ids(unit)
        query |= Q(pk__in=[pk for group in ids.values() for pk in group])
    return list(
        DataValue.objects.filter(query)
        .select_related("indicator", "unit", "created_by", "updated_by")
        .order_by("indicator__code", "unit__path", "period", "category")
    )


def _source_record(value) -> dict:
    return {
        "id": value.pk,
        "indicator": value.indicator.code,
        "unit": value.unit.code,
        "unit_name": value.unit.name,
        "period": value.period,
        "category": value.category,
        "value": str(value.value.normalize()),
        "entered_by": person_label(value.created_by),
        "updated_by": person_label(value.updated_by),
        "updated_at": value.updated_at.isoformat(),
        "approved_by": "",
    }


# --- a unit's own report, from its submission ---------------------------------------------------

PLACE_PREFIXES = (
    "Thành phố ",
    "Thị xã ",
    "Thị trấn ",
    "Huyện ",
    "Quận ",
    "Phường ",
    "Xã ",
    "Tỉnh ",
)


def _place(unit: Unit, fallback: str) -> str:
    """The place name of the header: the unit's name without its kind ("Vị Xuyên")."""
    if unit.is_agency:
        return fallback
    for prefix in PLACE_PREFIXES:
        if unit.name.startswith(prefix):
            return unit.name[len(prefix) :]
    return unit.name


def base_definition(submission: Submission) -> ReportDefinition | None:
    """The report defined for the submission's request that a unit's own report follows:
    the one of the nearest unit above (or of the unit itself), else any for the request."""
    candidates = list(
        ReportDefinition.objects.filter(request=submission.request).select_related("unit")
    )
    if not candidates:
        return None
    chain = [submission.unit.pk, *reversed(submission.unit.ancestor_ids)]
    by_unit = {d.unit_id: d for d in candidates}
    for unit_id in chain:
        if unit_id in by_unit:
            return by_unit[unit_id]
    return min(candidates, key=lambda d: d.pk)


def _annex_below(annex: dict, unit: Unit) -> bool:
    """Whether an annex of the letter's report has rows below ``unit`` (a commune's own
    report has no annex of communes)."""
    rows = normalise_annex(annex)["rows"]
    if rows == ROWS_UNITS:
        return False  # a list chosen for the unit above
    if rows == ROWS_CHILDREN:
        return unit.level < LEVELS["commune"]
    level = LEVELS["district"] if rows == ROWS_DISTRICTS else LEVELS["commune"]
    return level > unit.level


def definition_for_submission(submission: Submission) -> ReportDefinition:
    """The report of ``submission``'s unit for its request: the unit's own definition when
    it has one, else a new one made from the request's report (same template kind,
    programmes, period and section placing; the unit's header; annexes only for levels
    below the unit). The unit edits its header like any definition's."""
    request = submission.request
    unit = submission.unit
    existing = ReportDefinition.objects.filter(request=request, unit=unit).first()
    if existing is not None:
        return existing
    base = base_definition(submission)
    if base is None:  # a letter older than default definitions: its default made now
        base = letter_definition(request)
    with transaction.atomic():
        definition = ReportDefinition.objects.create(
            slug=f"{base.slug}-{unit.code}".lower().replace(".", "-")[:80],
            title=base.title,
            kind=base.kind,
            unit=unit,
            period=base.period,
            doc_title=base.doc_title,
            summary=base.summary,
            options=_options_for_unit(base, unit),
            request=request,
            **_unit_header(unit, request, base.place),
        )
        definition.programmes.set(base.programmes.all())
    return definition


def _options_for_unit(base: ReportDefinition, unit: Unit) -> dict:
    """``base``'s options, with only the annexes that have rows below ``unit`` (an agency
    has none)."""
    options = {k: v for k, v in base.options.items() if k != "annexes"}
    annexes = [] if unit.is_agency else definition_annexes(base)
    options["annexes"] = [a for a in annexes if _annex_below(a, unit)]
    return options


def _unit_header(unit: Unit, request, place: str) -> dict:
    """The header of ``unit``'s answer to ``request``: its people's committee signs for an
    administrative unit, its head for an agency."""
    administrative = not unit.is_agency
    issued = format_date(request.issued_on)
    return {
        "parent_agency": "",
        "issuing_agency": (
            f"Ủy ban nhân dân {lower_first(unit.name)}" if administrative else unit.name
        ),
        "number": "",
        "symbol": "BC-UBND" if administrative else "BC",
        "place": _place(unit, place),
        "issued_on": None,
        "basis": (
            f"Thực hiện Công văn số {request.number_symbol} ngày {issued} của "
            f"{request.issuer.name} về {lower_first(request.title)}. {unit.name} báo cáo "
            "kết quả như sau:"
        ),
        "signer_capacity": "TM." if administrative else "",
        "signing_for": "Ủy ban nhân dân" if administrative else "",
        "signer_title": "Chủ tịch" if administrative else "Thủ trưởng đơn vị",
        "signer_name": "",
        "recipients": [f"{request.issuer.name};"],
    }


# --- report definitions from pages and packages ------------------------------------------------


class DefinitionStale(TiendoError):
    """The definition changed since the form was opened: nothing overwritten."""

    code = "definition.stale"
    default_message = _(
        "Báo cáo đã được người khác sửa sau khi bạn mở trang; mở lại trang để xem bản mới rồi "
        "sửa lại."
    )


def unique_slug(base: str, *, exclude_pk: int | None = None) -> str:
    """``base`` made a slug, with ``-2``, ``-3`` … until no other definition has it."""
    root = (ascii_slug(base) or "bao-cao")[:70].strip("-")
    slug, n = root, 1
    taken = ReportDefinition.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug


def _apply_spec(definition: ReportDefinition, spec: dict) -> None:
    for name in HEADER_FIELDS:
        if name in spec:
            value = spec[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(definition, name, value)
    definition.slug = spec["slug"]
    definition.unit = spec["unit"]
    definition.request = spec.get("request")
    definition.period = spec.get("period") or (
        definition.request.period if definition.request else ""
    )
    options = dict(definition.options or {})
    options.pop(DEFAULT_OPTION, None)  # edited: no longer the letter's automatic default
    options["sections"] = [s.as_option() for s in spec.get("sections") or []]
    options["annexes"] = [normalise_annex(a) for a in spec.get("annexes") or []]
    definition.options = options


def _own_template(user, definition: ReportDefinition, upload) -> ReportTemplate:
    """The uploaded .docx stored as a template of this definition only (inactive for the
    unit's other reports)."""
    data, filename = upload
    latest = (
        ReportTemplate.objects.select_for_update()
        .filter(kind=definition.kind, unit=definition.unit)
        .aggregate(v=Max("version"))["v"]
    )
    template = ReportTemplate.objects.create(
        unit=definition.unit,
        kind=definition.kind,
        name=f"Mẫu riêng của báo cáo {definition.slug}"[:200],
        version=(latest or 0) + 1,
        content=data,
        digest=content_digest(data),
        note=(filename or "")[:400],
        active=False,
        uploaded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    audit(
        "report_template.uploaded",
        actor=user,
        unit=definition.unit,
        obj=template,
        message=f"{template.name} v{template.version}",
    )
    return template


def _checked(spec: dict, instance=None) -> None:
    problems = check_spec(spec, instance=instance)
    upload = spec.get("template_upload")
    if upload is not None:
        try:
            check_docx(upload[0], filename=upload[1])
        except TemplateUploadError as exc:
            problems.append(Problem("template_file", exc))
    if problems:
        raise DefinitionInvalid(problems)


def create_definition(*, user, spec: dict) -> ReportDefinition:
    """A new definition from ``spec`` (``definitions.check_spec``), every problem refused
    at once (:class:`DefinitionInvalid`), written in one transaction and audited."""
    _checked(spec)
    with transaction.atomic():
        return _create(user, spec)


def update_definition(
    *, user, definition: ReportDefinition, spec: dict, revision: int | None
) -> ReportDefinition:
    """Write ``spec`` over ``definition`` if nobody changed it since ``revision``
    (:class:`DefinitionStale` otherwise). The units' own definitions for the same letter
    follow the new sections by key, their texts kept (:func:`narrative.merge_sections`)."""
    _checked(spec, instance=definition)
    with transaction.atomic():
        locked = ReportDefinition.objects.select_for_update().get(pk=definition.pk)
        if revision is not None and locked.revision != revision:
            raise DefinitionStale()
        before = {name: str(getattr(locked, name)) for name in HEADER_FIELDS}
        _apply_spec(locked, spec)
        if spec.get("template_upload") is not None:
            locked.template = _own_template(user, locked, spec["template_upload"])
        elif spec.get("shipped_template"):
            locked.template = None
        locked.revision += 1
        locked.save()
        locked.programmes.set(spec.get("programmes") or [])
        changed = [n for n in HEADER_FIELDS if before[n] != str(getattr(locked, n))]
        followed = follow_sections(locked)
        audit(
            "report_definition.updated",
            actor=user,
            unit=locked.unit,
            obj=locked,
            message=locked.slug,
            changed=changed,
            revision=locked.revision,
            followed=followed,
        )
    return locked


def upsert_definition(*, user, spec: dict) -> tuple[ReportDefinition, str]:
    """Create or update the definition of ``spec["slug"]`` (a package loaded again): a
    section the spec gives no text keeps the text it has under the same key. Returns the
    definition and ``"created"``, ``"updated"`` or ``"unchanged"``. ``spec`` is checked
    already (``packages.check_reports``)."""
    with transaction.atomic():
        existing = ReportDefinition.objects.select_for_update().filter(slug=spec["slug"]).first()
        if existing is None:
            return _create(user, spec), "created"
        return existing, _update_from_package(user, existing, spec)


def _create(user, spec: dict) -> ReportDefinition:
    """Write a checked ``spec`` as a new definition, with its own template if uploaded; audited."""
    upload = spec.get("template_upload")
    definition = ReportDefinition(options={})
    _apply_spec(definition, spec)
    definition.save()
    definition.programmes.set(spec.get("programmes") or [])
    if upload is not None:
        definition.template = _own_template(user, definition, upload)
        definition.save(update_fields=["template"])
    audit(
        "report_definition.created",
        actor=user,
        unit=definition.unit,
        obj=definition,
        message=definition.slug,
    )
    return definition


def _stored_state(definition: ReportDefinition) -> tuple:
    """What loading a package again compares: unchanged, nothing is written."""
    return (
        [str(getattr(definition, n)) for n in HEADER_FIELDS],
        definition.unit_id,
        definition.request_id,
        definition.period,
        definition.options,
        definition.template_id,
    )


def _update_from_package(user, existing: ReportDefinition, spec: dict) -> str:
    """``existing`` (locked) takes ``spec``; ``"updated"``, or ``"unchanged"`` with nothing
    written. A section without text in ``spec`` keeps its text under the same key."""
    old = {s.key: s.text for s in definition_sections(existing) if s.text}
    sections = [
        Section(s.key, s.heading, s.text or old.get(s.key, ""), s.source)
        for s in spec.get("sections") or []
    ]
    before = _stored_state(existing)
    before_programmes = set(existing.programmes.values_list("pk", flat=True))
    _apply_spec(existing, {**spec, "sections": sections})
    upload = spec.get("template_upload")
    if upload is None:
        existing.template = None
    elif existing.template is None or existing.template.digest != content_digest(upload[0]):
        existing.template = _own_template(user, existing, upload)
    programmes = {p.pk for p in spec.get("programmes") or []}
    if _stored_state(existing) == before and programmes == before_programmes:
        return "unchanged"
    existing.revision += 1
    existing.save()
    existing.programmes.set(spec.get("programmes") or [])
    follow_sections(existing)
    audit(
        "report_definition.updated",
        actor=user,
        unit=existing.unit,
        obj=existing,
        message=existing.slug,
        revision=existing.revision,
    )
    return "updated"


def follow_sections(base: ReportDefinition) -> int:
    """The definitions the units below made from ``base`` for the same letter take its
    sections (order, headings, letter sections), each keeping its own text under the same
    key. Returns how many changed."""
    if not base.request_id or not base.options.get("sections"):
        return 0
    new = definition_sections(base)
    changed = 0
    derived = (
        ReportDefinition.objects.select_for_update()
        .filter(request_id=base.request_id, unit__path__startswith=base.unit.path)
        .exclude(pk=base.pk)
    )
    for other in derived:
        merged = [s.as_option() for s in merge_sections(new, definition_sections(other))]
        if other.options.get("sections") != merged:
            other.options = {**other.options, "sections": merged}
            other.revision += 1
            other.save(update_fields=["options", "revision", "updated_at"])
            changed += 1
    return changed


def update_section_texts(
    *, user, definition: ReportDefinition, texts: dict[str, str], revision: int | None
) -> ReportDefinition:
    """A unit's own text under each section key of its definition (the rest unchanged)."""
    with transaction.atomic():
        locked = ReportDefinition.objects.select_for_update().get(pk=definition.pk)
        if revision is not None and locked.revision != revision:
            raise DefinitionStale()
        sections = definition_sections(locked)
        unknown = sorted(set(texts) - {s.key for s in sections})
        if unknown:
            raise DefinitionInvalid(
                [
                    Problem(
                        "sections",
                        TiendoError(
                            _("Báo cáo không có mục “%(keys)s”."),
                            code="definition.unknown_section",
                            keys=", ".join(unknown),
                        ),
                    )
                ]
            )
        updated = [
            Section(s.key, s.heading, texts.get(s.key, s.text).strip(), s.source) for s in sections
        ]
        locked.options = {**locked.options, "sections": [s.as_option() for s in updated]}
        locked.revision += 1
        locked.save(update_fields=["options", "revision", "updated_at"])
        audit(
            "report_definition.texts_updated",
            actor=user,
            unit=locked.unit,
            obj=locked,
            message=locked.slug,
            keys=sorted(texts),
        )
    return locked


# The revision a unit's texts page posts when the unit had no report of its own yet.
NO_DEFINITION_YET = 0


def save_answer_texts(
    *, user, submission: Submission, texts: dict[str, str], revision: int | None
) -> ReportDefinition:
    """The texts a unit typed for the sections of its own report answering the letter
    (its definition made first if it has none). ``revision`` is the one the page showed,
    :data:`NO_DEFINITION_YET` when there was no definition then; any other state means
    someone saved meanwhile (:class:`DefinitionStale`), nothing is overwritten."""
    if revision is None:
        raise DefinitionStale()
    with transaction.atomic():
        existing = (
            ReportDefinition.objects.select_for_update()
            .filter(request=submission.request, unit=submission.unit)
            .first()
        )
        if (existing is None) != (revision == NO_DEFINITION_YET):
            raise DefinitionStale()
        definition = existing or definition_for_submission(submission)
        return update_section_texts(
            user=user,
            definition=definition,
            texts=texts,
            revision=definition.revision if existing is None else revision,
        )


def answer_sections(submission: Submission) -> tuple[ReportDefinition | None, list[Section]]:
    """The unit's own report for the letter (``None`` before its first rendering or
    texts) and the sections it has, or will have when made from the letter's report."""
    own = ReportDefinition.objects.filter(request=submission.request, unit=submission.unit).first()
    source = own or base_definition(submission)
    if source is not None:
        return own, definition_sections(source)
    return None, [
        Section(letter_section_key(s.pk), s.title, "", s.pk)
        for s in submission.request.sections.order_by("order", "pk")
    ]


def letter_definition(request) -> ReportDefinition:
    """The letter's report at its issuing unit: the one defined, else a default one made
    now from the shipped sections template (one section per section of the letter, the
    programmes of its forms, its period), so every recipient can render its answer."""
    issuer = request.issuer
    existing = ReportDefinition.objects.filter(request=request, unit=issuer).first()
    if existing is not None:
        return existing
    administrative = not issuer.is_agency
    with transaction.atomic():
        definition = ReportDefinition.objects.create(
            slug=unique_slug(f"cong-van-{request.pk}-{request.number_symbol}"),
            title=f"Báo cáo trả lời Công văn số {request.number_symbol}"[:300],
            kind=TemplateKind.SECTIONS,
            unit=issuer,
            period=request.period,
            issuing_agency=(
                f"Ủy ban nhân dân {lower_first(issuer.name)}" if administrative else issuer.name
            )[:200],
            symbol="BC-UBND" if administrative else "BC",
            place=_place(issuer, issuer.name)[:80],
            summary=(request.title or request.number_symbol)[:500],
            signer_capacity="TM." if administrative else "",
            signing_for="Ủy ban nhân dân" if administrative else "",
            signer_title="Chủ tịch" if administrative else "Thủ trưởng đơn vị",
            signer_name="",
            recipients=[],
            options={DEFAULT_OPTION: True},
            request=request,
        )
        audit(
            "report_definition.created",
            unit=issuer,
            obj=definition,
            message=definition.slug,
            default=True,
        )
    return definition


def give_way_to(definition: ReportDefinition) -> None:
    """A definition being saved for a letter and unit that has only the automatic default
    replaces it (the default has never been edited nor rendered)."""
    if not definition.request_id or definition.options.get(DEFAULT_OPTION):
        return
    ReportDefinition.objects.filter(
        request_id=definition.request_id,
        unit_id=definition.unit_id,
        options__has_key=DEFAULT_OPTION,
        documents__isnull=True,
    ).exclude(pk=definition.pk).delete()


def generate_for_submission(submission: Submission, fmt: str, *, user=None):
    """Render and store the report of a submission's unit (its figures and narrative)."""
    return generate(definition_for_submission(submission), fmt, user=user)


__all__ = [
    "DefinitionInvalid",
    "DefinitionStale",
    "PdfError",
    "RenderError",
    "TemplateUploadError",
    "collect_sources",
    "create_definition",
    "definition_for_submission",
    "ensure_shipped_templates",
    "generate",
    "generate_for_submission",
    "letter_definition",
    "render_bytes",
    "template_for",
    "update_definition",
    "update_section_texts",
    "upload_template",
    "save_answer_texts",
    "answer_sections",
]
