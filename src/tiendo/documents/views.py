"""Report pages: definitions, rendering, stored documents, traceability, templates.

Access (decided here, tested in tests/documents/test_views.py): reading a report, its stored
documents and their traceability needs read access to the report's unit; rendering stores a
new document, so it needs write access (a leader reads and downloads, but does not render);
uploading a template is for coordinators and administrators of the user's own unit
(``scope.may_manage_templates``). Shipped templates can be
downloaded by every signed-in user.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tiendo.accounts import scope
from tiendo.core.audit import audit
from tiendo.core.formatting import format_number
from tiendo.core.uploads import UploadError, uploaded_file
from tiendo.documents.definitions import (
    HEADER_FIELDS,
    DefinitionInvalid,
    definition_annexes,
    spec_of,
)
from tiendo.documents.forms import (
    AnnexFormSet,
    AnswerTextsForm,
    DefinitionForm,
    SectionFormSet,
    annex_list,
    initial_annexes,
    initial_sections,
    letter_sections_for,
    ordered_forms,
    section_list,
)
from tiendo.documents.models import (
    DocumentFormat,
    GeneratedDocument,
    ReportDefinition,
    ReportTemplate,
    TemplateKind,
)
from tiendo.documents.narrative import definition_sections
from tiendo.documents.pdf import PdfError
from tiendo.documents.render import RenderError
from tiendo.documents.services import (
    NO_DEFINITION_YET,
    DefinitionStale,
    TemplateUploadError,
    answer_sections,
    base_definition,
    create_definition,
    generate,
    generate_for_submission,
    save_answer_texts,
    unique_slug,
    update_definition,
    upload_template,
)
from tiendo.documents.variables import documented_variables
from tiendo.programmes.access import programmes_seen_by
from tiendo.programmes.models import Indicator
from tiendo.reporting.models import Submission


def _readable_definitions(user):
    units = scope.readable_units(user)
    return ReportDefinition.objects.filter(unit__in=units).select_related("unit").order_by("slug")


def _definition(user, slug: str, *, write: bool = False) -> ReportDefinition:
    definition = get_object_or_404(
        ReportDefinition.objects.select_related("unit", "request"), slug=slug
    )
    scope.check_unit(user, definition.unit, write=write)
    return definition


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def report_list(request):
    definitions = list(_readable_definitions(request.user))
    return render(
        request,
        "documents/report_list.html",
        {"definitions": definitions, "can_define": _may_define_somewhere(request.user)},
    )


# --- creating and editing a definition ---------------------------------------------------------

# the header fields a form shows as they are (the recipients are edited one a line)
HEADER_INITIAL = tuple(name for name in HEADER_FIELDS if name != "recipients")


def _may_define_somewhere(user) -> bool:
    return scope.is_manager(user) and (scope.is_admin(user) or user.unit_id is not None)


def _initial(definition: ReportDefinition) -> dict:
    spec = spec_of(definition)
    initial = {name: spec[name] for name in HEADER_INITIAL}
    initial.update(
        unit=definition.unit,
        request=definition.request,
        programmes=spec["programmes"],
        period="" if definition.request_id else definition.period,
        recipients="\n".join(definition.recipients),
        revision=definition.revision,
    )
    return initial


def _definition_page(request, *, definition: ReportDefinition | None):
    user = request.user
    if request.method == "POST":
        letter_id = request.POST.get("request", "")
        letter_id = int(letter_id) if letter_id.isdigit() else None
    else:
        letter_id = definition.request_id if definition else None
    letter_sections = list(letter_sections_for(user, letter_id))
    section_kwargs = {"form_kwargs": {"letter_sections": letter_sections}}
    annex_kwargs = {"form_kwargs": {"indicators": _offered_indicators(request.user)}}
    if definition is None:
        initial = {"unit": user.unit, "kind": "sections"}
        sections_initial, annexes_initial = [], []
    else:
        initial = _initial(definition)
        spec = spec_of(definition)
        sections_initial = initial_sections(spec["sections"])
        annexes_initial = initial_annexes(spec["annexes"])
    if request.method == "POST":
        form = DefinitionForm(
            request.POST, request.FILES, user=user, current_unit=definition and definition.unit
        )
        # the stored sections as initial: a section shown keeps its key (forms.section_list)
        sections = SectionFormSet(
            request.POST, initial=sections_initial, prefix="sections", **section_kwargs
        )
        annexes = AnnexFormSet(request.POST, prefix="annexes", **annex_kwargs)
        saved = _save_definition(request, form, sections, annexes, definition)
        if saved is not None:
            return redirect("documents:report", slug=saved.slug)
    else:
        form = DefinitionForm(
            initial=initial, user=user, current_unit=definition and definition.unit
        )
        sections = SectionFormSet(initial=sections_initial, prefix="sections", **section_kwargs)
        annexes = AnnexFormSet(initial=annexes_initial, prefix="annexes", **annex_kwargs)
    return render(
        request,
        "documents/definition_form.html",
        {"form": form, "sections": sections, "annexes": annexes, "definition": definition},
        status=400 if request.method == "POST" else 200,
    )


def _offered_indicators(user) -> list[Indicator]:
    """The indicators an annex column is picked from, by programme: those of the
    programmes the user deals with (the check then keeps those of the report's
    programmes)."""
    return list(
        Indicator.objects.filter(programme__in=programmes_seen_by(user))
        .select_related("programme")
        .order_by("programme__code", "order", "code")[:1000]
    )


# A problem of the spec goes under the form field it concerns; sections[2].key under row 3.
_ROW = re.compile(r"^(sections|annexes)\[(\d+)\]\.(\w+)")


def _save_definition(request, form, sections, annexes, definition):
    """The definition written, or ``None`` with every problem on the page."""
    valid = [form.is_valid(), sections.is_valid(), annexes.is_valid()]
    upload_error = ""
    try:
        upload = uploaded_file(request, "template_file")
    except UploadError as exc:
        upload, upload_error = None, str(exc)
    if upload_error:
        form.add_error("template_file", upload_error)
    if not all(valid) or upload_error:
        return None
    data = form.cleaned_data
    if definition is not None and data["revision"] is None:
        form.add_error(None, str(DefinitionStale()))  # a post without the revision it edits
        return None
    section_items, annex_items = section_list(sections), annex_list(annexes)
    spec = {name: data[name] for name in HEADER_INITIAL}
    spec["signer_capacity"] = data["signer_capacity"] or ""
    spec.update(
        # made once from the title, then kept: it is the report's address
        slug=definition.slug if definition is not None else unique_slug(data["title"]),
        unit=data["unit"],
        recipients=form.recipient_lines(),
        request=data["request"],
        programmes=list(data["programmes"]),
        period=data["period"],
        sections=section_items,
        annexes=annex_items,
        shipped_template=data["shipped_template"],
        template_upload=(upload.read(), upload.name) if upload is not None else None,
    )
    try:
        if definition is None:
            return create_definition(user=request.user, spec=spec)
        return update_definition(
            user=request.user, definition=definition, spec=spec, revision=data["revision"]
        )
    except DefinitionStale as exc:
        form.add_error(None, str(exc))
    except DefinitionInvalid as exc:
        for problem in exc.problems:
            match = _ROW.match(problem.field)
            formset = {"sections": sections, "annexes": annexes}.get(
                match.group(1) if match else ""
            )
            if match and formset is not None:
                kept = ordered_forms(formset)
                index = int(match.group(2))
                target = kept[index] if index < len(kept) else None
                field = {"key": "heading"}.get(match.group(3), match.group(3))  # key: hidden
                if target is not None and field in target.fields:
                    target.add_error(field, str(problem.error))
                else:
                    form.add_error(None, str(problem.error))
            elif problem.field in form.fields:
                form.add_error(problem.field, str(problem.error))
            else:
                form.add_error(None, str(problem.error))
    return None


@login_required
def definition_new(request):
    if not _may_define_somewhere(request.user):
        raise PermissionDenied(
            _("Chỉ văn phòng điều phối hoặc quản trị hệ thống định nghĩa báo cáo.")
        )
    return _definition_page(request, definition=None)


@login_required
def definition_edit(request, slug):
    definition = _definition(request.user, slug)
    if not scope.may_define_reports(request.user, definition.unit):
        raise PermissionDenied(
            _("Chỉ văn phòng điều phối hoặc quản trị hệ thống của đơn vị ban hành sửa báo cáo.")
        )
    return _definition_page(request, definition=definition)


@login_required
def report_detail(request, slug):
    definition = _definition(request.user, slug)
    documents = definition.documents.select_related("created_by").defer("content")[:50]
    return render(
        request,
        "documents/report_detail.html",
        {
            "definition": definition,
            "documents": documents,
            "formats": DocumentFormat.choices,
            "can_render": scope.can_write(request.user, definition.unit),
            "can_define": scope.may_define_reports(request.user, definition.unit),
            "sections": definition_sections(definition),
            "annexes": definition_annexes(definition),
            "letter_readable": definition.request_id is not None
            and scope.can_read_request(request.user, definition.request),
        },
    )


@login_required
@require_POST
def report_render(request, slug):
    definition = _definition(request.user, slug, write=True)
    return _generate_posted(
        request,
        lambda fmt: generate(definition, fmt, user=request.user),
        back=redirect("documents:report", slug=slug),
    )


def _generate_posted(request, generate_in, *, back):
    """Make the document in the posted format and show it; else ``back``, with the reason."""
    fmt = request.POST.get("format", "")
    if fmt not in DocumentFormat.values:
        messages.error(request, _("Định dạng không hợp lệ: chọn Word, PDF hoặc Excel."))
        return back
    try:
        document = generate_in(fmt)
    except (RenderError, PdfError) as exc:
        messages.error(request, str(exc))
        return back
    messages.success(
        request,
        _("Đã tạo văn bản %(name)s (%(size)s byte).")
        % {"name": document.filename, "size": format_number(document.size)},
    )
    return redirect("documents:document", pk=document.pk)


@login_required
def submission_report(request, pk):
    """A unit's own report for a request, from its submission: its figures and narrative.

    Reading needs read access to the submission's unit; rendering stores a document (and,
    the first time, the unit's report definition), so it needs write access."""
    submission = get_object_or_404(
        Submission.objects.select_related("unit", "request__issuer"), pk=pk
    )
    scope.check_unit(request.user, submission.unit, write=request.method == "POST")
    if request.method == "POST":
        return _generate_posted(
            request,
            lambda fmt: generate_for_submission(submission, fmt, user=request.user),
            back=redirect("documents:from_submission", pk=pk),
        )
    definition = (
        submission.request.report_definitions.filter(unit=submission.unit)
        .select_related("unit")
        .first()
    )
    documents = (
        definition.documents.select_related("created_by").defer("content")[:50]
        if definition
        else []
    )
    return render(
        request,
        "documents/submission_report.html",
        {
            "submission": submission,
            "definition": definition,
            "base": base_definition(submission) if definition is None else None,
            "documents": documents,
            "formats": DocumentFormat.choices,
            "can_render": scope.can_write(request.user, submission.unit),
        },
    )


@login_required
def answer_texts(request, pk):
    """The texts a unit types under the sections of its own report answering a letter.

    Reading needs read access to the submission's unit (a leader reads); saving is for
    the unit's own officers (``scope.may_edit``), as its submission is."""
    submission = get_object_or_404(
        Submission.objects.select_related("unit", "request__issuer"), pk=pk
    )
    scope.check_unit(request.user, submission.unit)
    may_edit = scope.may_edit(request.user, submission)
    if request.method == "POST" and not may_edit:
        raise PermissionDenied(_("Chỉ cán bộ của đơn vị được viết thuyết minh của đơn vị."))
    own, sections = answer_sections(submission)
    revision = own.revision if own else NO_DEFINITION_YET
    if request.method == "POST":
        form = AnswerTextsForm(request.POST, sections=sections)
        if form.is_valid():
            try:
                save_answer_texts(
                    user=request.user,
                    submission=submission,
                    texts=form.texts(),
                    revision=form.cleaned_data["revision"],
                )
            except (DefinitionStale, DefinitionInvalid) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Đã lưu thuyết minh của đơn vị."))
                return redirect("documents:from_submission", pk=pk)
    else:
        form = AnswerTextsForm(initial={"revision": revision}, sections=sections)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "documents/answer_texts.html",
        {"submission": submission, "form": form, "may_edit": may_edit, "definition": own},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def document_list(request):
    units = scope.readable_units(request.user)
    documents = (
        GeneratedDocument.objects.filter(definition__unit__in=units)
        .select_related("definition", "created_by")
        .defer("content", "snapshot")[:200]
    )
    return render(request, "documents/document_list.html", {"documents": documents})


def _document(user, pk, *, content: bool = True) -> GeneratedDocument:
    documents = GeneratedDocument.objects.select_related(
        "definition__unit", "created_by", "template"
    )
    if not content:  # the file itself is read only to download it
        documents = documents.defer("content", "template__content")
    document = get_object_or_404(documents, pk=pk)
    scope.check_unit(user, document.definition.unit)
    return document


@login_required
def document_detail(request, pk):
    """Traceability: each figure with the stored values it came from and who entered them."""
    document = _document(request.user, pk, content=False)
    snapshot = document.snapshot
    sources = snapshot.get("sources", {})
    values = sources.get("values", {})
    figures = []
    for figure in snapshot.get("figures", []):
        ids = sources.get("by_figure", {}).get(figure["key"], [])
        rows = [values[str(i)] for i in ids if str(i) in values]
        figures.append({**figure, "sources": rows[:200], "source_count": len(rows)})
    return render(
        request,
        "documents/document_detail.html",
        {
            "document": document,
            "snapshot": snapshot,
            "figures": figures,
            "narrative": _narrative_record(snapshot.get("narrative")),
            "request_record": snapshot.get("request"),
            "annexes": snapshot.get("annexes", []),
        },
    )


def _narrative_record(record) -> dict:
    """The snapshot's narrative; documents stored before submissions fed the narrative kept
    a plain list of parts."""
    if isinstance(record, list):
        return {"parts": record, "from_data": [], "unplaced": [], "submissions": []}
    return record or {"parts": [], "from_data": [], "unplaced": [], "submissions": []}


@login_required
def document_download(request, pk):
    document = _document(request.user, pk)
    audit(
        "document.downloaded",
        actor=request.user,
        unit=document.definition.unit,
        obj=document,
        filename=document.filename,
    )
    return _download(document.content, document.filename, document.content_type)


def _readable_templates(user):
    units = scope.readable_units(user)
    return ReportTemplate.objects.filter(unit__isnull=True) | ReportTemplate.objects.filter(
        unit__in=units
    )


@login_required
def template_list(request):
    user = request.user
    can_upload = user.unit_id is not None and scope.may_manage_templates(user, user.unit)
    if request.method == "POST":
        if not can_upload:
            raise PermissionDenied(_("Bạn không có quyền tải mẫu báo cáo lên."))
        errors = []
        upload_error = ""
        try:
            upload = uploaded_file(request, "file")
        except UploadError as exc:
            upload, upload_error = None, str(exc)
        kind = request.POST.get("kind", "")
        name = (request.POST.get("name") or "").strip()
        if kind not in TemplateKind.values:
            errors.append(_("Chọn loại báo cáo."))
        if not name:
            errors.append(_("Nhập tên mẫu."))
        if upload_error:
            errors.append(upload_error)
        elif upload is None:
            errors.append(_("Chọn tệp .docx."))
        if not errors:
            try:
                template = upload_template(
                    user=user,
                    unit=user.unit,
                    kind=kind,
                    data=upload.read(),
                    name=name,
                    note=(request.POST.get("note") or "").strip(),
                    filename=upload.name,
                )
            except TemplateUploadError as exc:
                errors.append(str(exc))
            else:
                messages.success(
                    request,
                    _("Đã lưu mẫu “%(name)s”, phiên bản %(version)s.")
                    % {"name": template.name, "version": template.version},
                )
                return redirect("documents:templates")
        for error in errors:
            messages.error(request, error)
    templates = (
        _readable_templates(user)
        .select_related("unit", "uploaded_by")
        .defer("content")
        .order_by("kind", "unit__code", "-version")
    )
    return render(
        request,
        "documents/template_list.html",
        {"templates": templates, "kinds": TemplateKind.choices, "can_upload": can_upload},
    )


@login_required
def template_download(request, pk):
    template = get_object_or_404(ReportTemplate.objects.select_related("unit"), pk=pk)
    if template.unit_id is not None:
        scope.check_unit(request.user, template.unit)
    audit(
        "template.downloaded",
        actor=request.user,
        unit=template.unit,
        obj=template,
        filename=template.filename,
    )
    return _download(
        template.content,
        template.filename,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


@login_required
def variables(request):
    definitions = list(_readable_definitions(request.user))
    slug = request.GET.get("report", "")
    definition = next((d for d in definitions if d.slug == slug), None)
    if definition is None and slug:
        definition = _definition(request.user, slug)  # 404 or 403, never someone else's data
    if definition is None and definitions:
        definition = definitions[0]
    groups, error = documented_variables(definition)
    return render(
        request,
        "documents/variables.html",
        {"definitions": definitions, "definition": definition, "groups": groups, "error": error},
    )
