"""Report definitions without code: the create and edit pages (formsets, version check,
every problem at once), who may use them, uploaded templates, the letter's default report
and narrative sections matched by key."""

import io
import zipfile
from datetime import date

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse
from docx import Document

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.data.services import Entry, save_value
from tiendo.documents.models import ReportDefinition, ReportTemplate, TemplateKind
from tiendo.documents.narrative import definition_sections
from tiendo.documents.services import (
    DEFAULT_OPTION,
    ensure_shipped_templates,
    generate,
    generate_for_submission,
    update_section_texts,
)
from tiendo.documents.templates_build import SHIPPED
from tiendo.programmes.models import Indicator
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    NarrativeSection,
    ReportRequest,
    Submission,
    SubmissionSection,
)


@pytest.fixture
def world(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    disbursed = factories.indicator(
        prog, "GN", name="Vốn giải ngân", measure_unit="triệu đồng", decimals=0
    )
    plan = factories.indicator(prog, "KH", name="Kế hoạch vốn", measure_unit="triệu đồng")
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    save_value(Entry(disbursed, tree.c1, "2024", D(600)), user=officer)
    save_value(Entry(plan, tree.c1, "2024", D(1000)), user=officer)
    ensure_shipped_templates()
    return {
        "prog": prog,
        "coordinator": factories.user("vpdp.vx", tree.vi_xuyen, Role.COORDINATOR),
        "other": factories.user("vpdp.bq", tree.bac_quang, Role.COORDINATOR),
        "leader": factories.user("lanhdao.vx", tree.vi_xuyen, Role.LEADER),
        "officer": officer,
    }


def _post_data(tree, world, **overrides):
    data = {
        "title": "Báo cáo Nghị quyết 05 năm 2024",
        "slug": "",
        "unit": str(tree.vi_xuyen.pk),
        "kind": TemplateKind.SECTIONS,
        "parent_agency": "",
        "issuing_agency": "Ủy ban nhân dân huyện Vị Xuyên",
        "number": "12",
        "symbol": "BC-UBND",
        "place": "Vị Xuyên",
        "issued_on": "15/12/2024",
        "doc_title": "BÁO CÁO",
        "summary": "Kết quả thực hiện Nghị quyết 05 năm 2024",
        "basis": "",
        "signer_capacity": "KT.",
        "signing_for": "Chủ tịch",
        "signer_title": "Phó Chủ tịch",
        "signer_name": "Nguyễn Văn Hai",
        "recipients": "UBND tỉnh;\nLưu: VT.",
        "request": "",
        "programmes": [str(world["prog"].pk)],
        "period": "2024",
        "revision": "",
        "sections-TOTAL_FORMS": "3",
        "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "60",
        "sections-0-key": "ket_qua",
        "sections-0-heading": "Kết quả thực hiện",
        "sections-0-text": "Huyện đã giải ngân phần lớn vốn.",
        "sections-0-ORDER": "2",
        "sections-1-key": "thuan_loi",
        "sections-1-heading": "Thuận lợi, khó khăn",
        "sections-1-text": "Thời tiết thuận lợi.",
        "sections-1-ORDER": "1",
        "annexes-TOTAL_FORMS": "2",
        "annexes-INITIAL_FORMS": "0",
        "annexes-MIN_NUM_FORMS": "0",
        "annexes-MAX_NUM_FORMS": "20",
        "annexes-0-title": "Giải ngân theo xã",
        "annexes-0-rows": "communes",
        "annexes-0-units": "",
        "annexes-0-columns-indicator": ["GN", ""],
        "annexes-0-columns-plan": ["KH", ""],
        "annexes-0-columns-categories": ["", ""],
    }
    data.update(overrides)
    return data


def _docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(bytes(content)))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


NEW = reverse("documents:definition_new")


def test_a_coordinator_creates_a_definition_with_sections_and_annexes(client, tree, world):
    client.force_login(world["coordinator"])
    response = client.post(NEW, _post_data(tree, world))
    assert response.status_code == 302, response.content.decode()
    definition = ReportDefinition.objects.get(title="Báo cáo Nghị quyết 05 năm 2024")
    assert response["Location"] == reverse("documents:report", args=[definition.slug])
    assert definition.signer_capacity == "KT." and definition.issued_on == date(2024, 12, 15)
    assert definition.recipients == ["UBND tỉnh;", "Lưu: VT."]
    assert [s.key for s in definition_sections(definition)] == ["thuan_loi", "ket_qua"]
    annex = definition.options["annexes"][0]
    assert annex["rows"] == "communes"
    assert annex["columns"] == [{"indicator": "GN", "plan": "KH", "categories": ""}]
    assert AuditEntry.objects.filter(action="report_definition.created").count() == 1
    text = _docx_text(generate(definition, "docx").content)
    assert text.index("1. Thuận lợi, khó khăn") < text.index("2. Kết quả thực hiện")
    assert "Thời tiết thuận lợi." in text
    assert "KT. CHỦ TỊCH" in text and "PHÓ CHỦ TỊCH" in text
    assert "Xã Một\nHuyện Vị Xuyên\n1.000\n600\n60%" in text  # the annex: 600 of 1.000


def test_every_invalid_field_is_reported_at_once_and_nothing_is_saved(client, tree, world):
    client.force_login(world["coordinator"])
    data = _post_data(
        tree,
        world,
        title="",
        period="2024-Q9",
        **{
            "sections-0-key": "Kết quả",
            "sections-1-key": "ket_qua",
            "annexes-0-columns-categories": ["cot", ""],
        },
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"title", "period"}
    assert response.context["annexes"].forms[0].errors["columns"]
    assert not ReportDefinition.objects.filter(unit=tree.vi_xuyen).exists()


def test_problems_found_by_the_service_go_under_their_rows(client, tree, world):
    client.force_login(world["coordinator"])
    data = _post_data(
        tree,
        world,
        **{
            "sections-1-key": "ket_qua",
            "annexes-0-columns-indicator": ["KHONG_CO", ""],
            "annexes-0-columns-plan": ["target", ""],
        },
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    sections = response.context["sections"]
    # thuan_loi (row 1) comes first: the second "ket_qua" is row 0, after it
    assert "đã dùng cho một mục khác" in str(sections.forms[0].errors["heading"])
    assert "KHONG_CO" in str(response.context["annexes"].forms[0].errors["columns"])
    assert not ReportDefinition.objects.filter(unit=tree.vi_xuyen).exists()


def _edit_data(client, definition):
    """The edit page's own initial data, as a browser would post it back."""
    response = client.get(reverse("documents:definition_edit", args=[definition.slug]))
    assert response.status_code == 200
    page = response.context
    data = {}
    for form in (page["form"],):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if name == "programmes":
                data[name] = [str(p.pk) for p in value or []]
            elif name in ("unit", "request"):
                data[name] = str(value.pk) if value else ""
            elif name == "issued_on":
                data[name] = value.strftime("%d/%m/%Y") if value else ""
            elif name in ("template_file", "shipped_template"):
                continue
            else:
                data[name] = "" if value is None else str(value)
    for prefix in ("sections", "annexes"):
        formset = page[prefix]
        management = formset.management_form
        for name in management.fields:
            data[f"{prefix}-{name}"] = str(management.initial.get(name, ""))
        for index, form in enumerate(formset.forms[: formset.initial_form_count()]):
            for name in form.fields:
                if name == "DELETE":
                    continue
                value = form.initial.get(name, "")
                if name == "columns":  # one select of each kind a column (forms.py)
                    for part in ("indicator", "plan", "categories"):
                        data[f"{prefix}-{index}-columns-{part}"] = [c[part] for c in value]
                    continue
                data[f"{prefix}-{index}-{name}"] = "" if value is None else str(value)
        # the blank rows to add one, as a browser posts them: a select posts its first choice
        for form in formset.forms[formset.initial_form_count() :]:
            blank = {"rows": "children", "source": ""}
            for name in form.fields:
                if name == "columns":
                    for part in ("indicator", "plan", "categories"):
                        data[f"{form.prefix}-columns-{part}"] = ["", "", ""]
                elif name != "DELETE":
                    data[f"{form.prefix}-{name}"] = blank.get(name, "")
    return data


def test_editing_keeps_what_the_form_did_not_change_and_raises_the_revision(client, tree, world):
    client.force_login(world["coordinator"])
    client.post(NEW, _post_data(tree, world))
    definition = ReportDefinition.objects.get(unit=tree.vi_xuyen, request__isnull=True)
    data = _edit_data(client, definition)
    data["signer_name"] = "Trần Thị Ba"
    data["sections-0-ORDER"], data["sections-1-ORDER"] = "2", "1"  # swap
    response = client.post(reverse("documents:definition_edit", args=[definition.slug]), data)
    assert response.status_code == 302, response.content.decode()
    definition.refresh_from_db()
    assert definition.signer_name == "Trần Thị Ba" and definition.revision == 2
    sections = definition_sections(definition)
    assert [(s.key, s.text) for s in sections] == [
        ("ket_qua", "Huyện đã giải ngân phần lớn vốn."),
        ("thuan_loi", "Thời tiết thuận lợi."),
    ]
    assert definition.options["annexes"][0]["columns"][0]["plan"] == "KH"
    assert AuditEntry.objects.filter(action="report_definition.updated").exists()


def test_an_edit_from_an_older_revision_is_refused(client, tree, world):
    client.force_login(world["coordinator"])
    client.post(NEW, _post_data(tree, world))
    definition = ReportDefinition.objects.get(unit=tree.vi_xuyen, request__isnull=True)
    first = _edit_data(client, definition)
    second = dict(first, signer_name="Người Thứ Hai")
    url = reverse("documents:definition_edit", args=[definition.slug])
    assert client.post(url, second).status_code == 302
    response = client.post(url, dict(first, signer_name="Người Thứ Nhất"))
    assert response.status_code == 400
    assert "người khác sửa" in response.content.decode()
    definition.refresh_from_db()
    assert definition.signer_name == "Người Thứ Hai"
    without = dict(_edit_data(client, definition), signer_name="Không Rõ Bản", revision="")
    assert client.post(url, without).status_code == 400
    definition.refresh_from_db()
    assert definition.signer_name == "Người Thứ Hai" and definition.revision == 2


# --- access ---------------------------------------------------------------------------------


@pytest.fixture
def stored_definition(client, tree, world):
    client.force_login(world["coordinator"])
    client.post(NEW, _post_data(tree, world))
    client.logout()
    return ReportDefinition.objects.get(unit=tree.vi_xuyen, request__isnull=True)


def test_anonymous_users_are_sent_to_the_login_page(client, stored_definition):
    for url in (NEW, reverse("documents:definition_edit", args=[stored_definition.slug])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_another_units_coordinator_cannot_edit_or_define_for_the_unit(
    client, tree, world, stored_definition
):
    client.force_login(world["other"])
    url = reverse("documents:definition_edit", args=[stored_definition.slug])
    assert client.get(url).status_code == 403
    response = client.post(NEW, _post_data(tree, world))  # for Vị Xuyên: not theirs
    assert response.status_code == 400
    assert response.context["form"].errors["unit"]
    assert ReportDefinition.objects.count() == 1


@pytest.mark.parametrize("who", ["leader", "officer"])
def test_a_leader_or_an_officer_reads_but_does_not_define(
    client, tree, world, stored_definition, who
):
    client.force_login(world[who])
    url = reverse("documents:definition_edit", args=[stored_definition.slug])
    if who == "leader":
        assert (
            client.get(reverse("documents:report", args=[stored_definition.slug])).status_code
            == 200
        )
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403
    assert client.get(NEW).status_code == 403


def test_the_allowed_coordinator_opens_both_pages(client, world, stored_definition):
    client.force_login(world["coordinator"])
    assert client.get(NEW).status_code == 200
    url = reverse("documents:definition_edit", args=[stored_definition.slug])
    assert client.get(url).status_code == 200
    detail = client.get(reverse("documents:report", args=[stored_definition.slug]))
    assert url in detail.content.decode()


# --- uploaded templates ---------------------------------------------------------------------


def _shipped_sections() -> bytes:
    return next(s for s in SHIPPED if s.kind == TemplateKind.SECTIONS).build()


def _with_upload(client, tree, world, content: bytes, name="mau.docx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world["coordinator"])
    data = _post_data(tree, world)
    data["template_file"] = SimpleUploadedFile(name, content)
    return client.post(NEW, data)


def test_an_uploaded_template_is_kept_for_this_definition_only(client, tree, world):
    response = _with_upload(client, tree, world, _shipped_sections())
    assert response.status_code == 302, response.content.decode()
    definition = ReportDefinition.objects.get(unit=tree.vi_xuyen, request__isnull=True)
    assert definition.template is not None and not definition.template.active
    assert generate(definition, "docx").template == definition.template


def test_a_file_that_is_not_word_is_refused_on_its_field(client, tree, world):
    response = _with_upload(client, tree, world, b"not a zip at all", name="mau.pdf")
    assert response.status_code == 400
    assert response.context["form"].errors["template_file"]
    assert not ReportDefinition.objects.exists()
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()


def test_a_template_larger_than_the_site_accepts_is_refused(client, tree, world, settings):
    settings.UPLOAD_MAX_BYTES = 50_000
    response = _with_upload(client, tree, world, b"x" * 120_000)
    assert response.status_code == 400
    assert "lớn hơn" in str(response.context["form"].errors["template_file"])
    assert not ReportDefinition.objects.exists()


def test_a_hostile_docx_is_refused(client, tree, world):
    from tests.hostile import XXE, replace_members

    data = _shipped_sections()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode().split("?>", 1)[1]
    hostile = replace_members(
        data, {"word/document.xml": (XXE + body.replace("Trên đây", "&xxe;", 1)).encode()}
    )
    response = _with_upload(client, tree, world, hostile)
    assert response.status_code == 400
    assert "DOCTYPE" in str(response.context["form"].errors["template_file"])
    assert not ReportDefinition.objects.exists()


def test_a_template_reaching_python_internals_is_refused(client, tree, world):
    doc = Document(io.BytesIO(_shipped_sections()))
    doc.add_paragraph("{{ header.__class__ }}")
    out = io.BytesIO()
    doc.save(out)
    response = _with_upload(client, tree, world, out.getvalue())
    assert response.status_code == 400
    assert response.context["form"].errors["template_file"]


# --- a letter's default report, and sections matched by key --------------------------------


@pytest.fixture
def letter(tree, world):
    form = Form.objects.create(code="BIEU_NQ05", name="Biểu NQ05", programme=world["prog"])
    FormIndicator.objects.create(form=form, indicator=Indicator.objects.get(code="GN"))
    request = ReportRequest.objects.create(
        number_symbol="30/UBND-NN",
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title="Báo cáo kết quả Nghị quyết 05 năm 2024",
        period="2024",
        deadline=date(2024, 12, 10),
    )
    request.forms.set([form])
    first = NarrativeSection.objects.create(request=request, order=0, title="Thuận lợi")
    second = NarrativeSection.objects.create(request=request, order=1, title="Kết quả")
    submission = Submission.objects.create(request=request, unit=tree.c1)
    SubmissionSection.objects.create(submission=submission, section=first, text="Đất tốt.")
    SubmissionSection.objects.create(submission=submission, section=second, text="Xong 60%.")
    return {"request": request, "sections": [first, second], "submission": submission}


def test_a_new_letter_gets_a_default_report_and_a_commune_renders_its_answer(tree, letter):
    default = ReportDefinition.objects.get(request=letter["request"], unit=tree.vi_xuyen)
    assert default.kind == TemplateKind.SECTIONS and default.options.get(DEFAULT_OPTION)
    document = generate_for_submission(letter["submission"], "docx")
    assert document.definition.unit == tree.c1
    text = _docx_text(document.content)
    assert "Thuận lợi" in text and "Đất tốt." in text
    assert text.index("Đất tốt.") < text.index("Xong 60%.")
    assert document.snapshot["programmes"] == ["NQ05"]


def test_an_older_letter_without_a_report_gets_its_default_when_answered(tree, letter):
    ReportDefinition.objects.filter(request=letter["request"]).delete()
    document = generate_for_submission(letter["submission"], "docx")
    assert "Xong 60%." in _docx_text(document.content)
    assert ReportDefinition.objects.filter(request=letter["request"], unit=tree.vi_xuyen).exists()


def test_a_definition_made_for_the_letter_replaces_the_untouched_default(tree, letter, world):
    definition = ReportDefinition.objects.create(
        slug="vx-2024",
        title="Báo cáo huyện",
        kind=TemplateKind.PROGRAMME_RESULTS,
        unit=tree.vi_xuyen,
        period="2024",
        issuing_agency="UBND huyện Vị Xuyên",
        symbol="BC-UBND",
        place="Vị Xuyên",
        summary="Kết quả",
        signer_name="A",
        request=letter["request"],
    )
    assert list(ReportDefinition.objects.filter(request=letter["request"])) == [definition]


def test_section_texts_stay_with_their_key_when_the_sections_are_reordered(
    client, tree, world, letter
):
    default = ReportDefinition.objects.get(request=letter["request"], unit=tree.vi_xuyen)
    client.force_login(world["coordinator"])
    url = reverse("documents:definition_edit", args=[default.slug])
    data = _edit_data(client, default)
    keys = [data["sections-0-key"], data["sections-1-key"]]
    assert keys == [f"muc_{s.pk}" for s in letter["sections"]]
    data["signer_name"] = "Nguyễn Văn Hai"
    assert client.post(url, data).status_code == 302
    # the commune's own report, with its own text under the first section
    own = generate_for_submission(letter["submission"], "docx").definition
    own = update_section_texts(
        user=world["officer"],
        definition=own,
        texts={keys[0]: "Ý kiến riêng của xã."},
        revision=None,
    )
    # the district swaps the two sections and renames the first
    default.refresh_from_db()
    data = _edit_data(client, default)
    data["sections-0-ORDER"], data["sections-1-ORDER"] = "2", "1"
    data["sections-0-heading"] = "Thuận lợi và khó khăn"
    assert client.post(url, data).status_code == 302
    own.refresh_from_db()
    sections = definition_sections(own)
    assert [s.key for s in sections] == [keys[1], keys[0]]
    assert sections[1].heading == "Thuận lợi và khó khăn"
    assert sections[1].text == "Ý kiến riêng của xã." and sections[0].text == ""
    text = _docx_text(generate(own, "docx").content)
    # each unit text under its own section: the letter's section, not its position
    assert text.index("Xong 60%.") < text.index("Thuận lợi và khó khăn")
    assert text.index("Thuận lợi và khó khăn") < text.index("Ý kiến riêng của xã.")
    assert text.index("Ý kiến riêng của xã.") < text.index("Đất tốt.")


def test_a_section_cannot_take_the_texts_of_another_letters_section(tree, world, letter):
    from tiendo.documents.definitions import DefinitionInvalid
    from tiendo.documents.narrative import Section
    from tiendo.documents.services import create_definition

    other = ReportRequest.objects.create(
        number_symbol="31/UBND-NN",
        issued_on=date(2024, 11, 21),
        issuer=tree.vi_xuyen,
        title="Công văn khác",
        period="2024",
        deadline=date(2024, 12, 10),
    )
    foreign = NarrativeSection.objects.create(request=other, order=0, title="Khác")
    spec = {
        "slug": "vx-tra-loi",
        "title": "Trả lời",
        "kind": TemplateKind.SECTIONS,
        "unit": tree.bac_quang,  # neither the issuer's unit nor a recipient
        "issuing_agency": "UBND huyện",
        "symbol": "BC",
        "place": "Vị Xuyên",
        "summary": "Trả lời công văn",
        "request": letter["request"],
        "sections": [Section("a", "A", "", foreign.pk)],
        "annexes": [],
    }
    with pytest.raises(DefinitionInvalid) as caught:
        create_definition(user=world["coordinator"], spec=spec)
    assert sorted(caught.value.codes) == [
        "definition.request_not_for_unit",
        "definition.unknown_letter_section",
    ]
    assert not ReportDefinition.objects.filter(slug="vx-tra-loi").exists()


def test_a_second_report_of_a_unit_for_the_same_letter_is_refused(client, tree, world, letter):
    default = ReportDefinition.objects.get(request=letter["request"], unit=tree.vi_xuyen)
    generate(default, "docx")  # rendered: no longer an untouched default that gives way
    client.force_login(world["coordinator"])
    data = _post_data(tree, world, request=str(letter["request"].pk))
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert "đã có báo cáo" in str(response.context["form"].errors["request"])
    assert ReportDefinition.objects.filter(request=letter["request"]).count() == 1


# --- annex columns picked from lists; slug and section keys made by the system -------------


def test_annex_columns_are_picked_from_lists_not_typed(client, tree, world):
    client.force_login(world["coordinator"])
    html = client.get(NEW).content.decode()
    assert 'name="annexes-0-columns-indicator"' in html
    assert '<option value="GN">GN — Vốn giải ngân (triệu đồng)</option>' in html
    assert 'name="annexes-0-columns-plan"' in html and '<option value="target">' in html
    assert 'name="annexes-0-columns-categories"' in html
    assert 'textarea name="annexes-0-columns"' not in html
    # two columns, the blank rows of the page skipped
    data = _post_data(
        tree,
        world,
        **{
            "annexes-0-columns-indicator": ["GN", "", "KH"],
            "annexes-0-columns-plan": ["target", "", ""],
            "annexes-0-columns-categories": ["", "", ""],
        },
    )
    assert client.post(NEW, data).status_code == 302
    definition = ReportDefinition.objects.get(unit=tree.vi_xuyen)
    assert definition.options["annexes"][0]["columns"] == [
        {"indicator": "GN", "plan": "target", "categories": ""},
        {"indicator": "KH", "plan": "", "categories": ""},
    ]
    # the stored columns come back picked on the edit page
    edit = client.get(reverse("documents:definition_edit", args=[definition.slug]))
    html = edit.content.decode()
    assert '<option value="GN" selected>' in html and '<option value="target" selected>' in html


def test_a_plan_without_an_indicator_and_a_stored_unknown_indicator_are_refused_by_row(
    client, tree, world
):
    client.force_login(world["coordinator"])
    data = _post_data(
        tree,
        world,
        **{"annexes-0-columns-indicator": ["", ""], "annexes-0-columns-plan": ["KH", ""]},
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert "Cột 1: chọn chỉ tiêu." in str(response.context["annexes"].forms[0].errors["columns"])
    # a package stored a column of an indicator the report's programmes do not have: the
    # edit page shows it picked, and saving names the annex and the column
    client.post(NEW, _post_data(tree, world))
    definition = ReportDefinition.objects.get(unit=tree.vi_xuyen)
    annex = definition.options["annexes"][0]
    annex["columns"].append({"indicator": "MA_CU", "plan": "", "categories": ""})
    definition.save()
    url = reverse("documents:definition_edit", args=[definition.slug])
    assert '<option value="MA_CU" selected>' in client.get(url).content.decode()
    response = client.post(url, _edit_data(client, definition))
    assert response.status_code == 400
    errors = str(response.context["annexes"].forms[0].errors["columns"])
    assert "Phụ lục 1, cột 2" in errors and "MA_CU" in errors


def test_the_slug_and_the_section_keys_are_made_from_the_titles_and_kept(client, tree, world):
    client.force_login(world["coordinator"])
    html = client.get(NEW).content.decode()
    assert 'name="slug"' not in html
    assert 'type="hidden" name="sections-0-key"' in html
    assert '<select name="period"' in html and '<option value="2024">Năm 2024</option>' in html
    data = _post_data(
        tree,
        world,
        **{
            "sections-0-key": "",
            "sections-0-heading": "Kết quả đạt được",
            "sections-1-key": "",
            "sections-1-heading": "Kết quả đạt được",
            "sections-2-heading": "2. Đề xuất",
        },
    )
    assert client.post(NEW, data).status_code == 302
    definition = ReportDefinition.objects.get(unit=tree.vi_xuyen)
    assert definition.slug == "bao-cao-nghi-quyet-05-nam-2024"
    keys = [s.key for s in definition_sections(definition)]
    assert keys == ["ket_qua_dat_duoc", "ket_qua_dat_duoc_2", "muc_2_de_xuat"]
    # a second report of the same title gets its own address
    data["unit"] = str(tree.vi_xuyen.pk)
    client.post(NEW, dict(data, period="2023"))
    assert ReportDefinition.objects.filter(slug="bao-cao-nghi-quyet-05-nam-2024-2").exists()
    # an edit renames a section, changes the title and posts another key: nothing moves
    url = reverse("documents:definition_edit", args=[definition.slug])
    page = client.get(url).content.decode()
    assert "ket_qua_dat_duoc_2" in page.split('id="technical-keys"')[1]
    edit = _edit_data(client, definition)
    edit["title"] = "Báo cáo khác"
    edit["sections-0-heading"] = "Kết quả năm 2024"
    edit["sections-0-key"] = "khoa_khac"
    assert client.post(url, edit).status_code == 302
    definition.refresh_from_db()
    assert definition.slug == "bao-cao-nghi-quyet-05-nam-2024"
    sections = definition_sections(definition)
    assert [s.key for s in sections] == keys and sections[0].heading == "Kết quả năm 2024"


# --- the letter's default report: figures at once, and its words ---------------------------


def test_the_default_report_of_a_new_letter_shows_its_forms_figures_by_unit(client, tree, letter):
    from tiendo.documents.definitions import definition_annexes

    default = ReportDefinition.objects.get(request=letter["request"], unit=tree.vi_xuyen)
    [annex] = definition_annexes(default)
    assert annex["rows"] == "children"
    assert [c["indicator"] for c in annex["columns"]] == ["GN"]
    text = _docx_text(generate(default, "docx").content)
    assert "Số liệu các biểu theo đơn vị trực thuộc" in text
    assert "Xã Một\n600" in text and "Xã Hai\n\n" in text  # rows below the district
    # the commune's own report has no rows below it: no annex
    own = generate_for_submission(letter["submission"], "docx").definition
    assert own.options["annexes"] == []
    # once edited, the report keeps what its page saved
    default.options = {**default.options, "annexes": []}
    default.save()
    assert definition_annexes(default) == []


@pytest.mark.parametrize(
    "summary",
    [
        "Báo cáo kết quả Nghị quyết 05 năm 2024",
        "BÁO CÁO kết quả Nghị quyết 05 năm 2024",
        "Kết quả Nghị quyết 05 năm 2024",
        "V/v báo cáo kết quả Nghị quyết 05 năm 2024",
        "Về việc báo cáo kết quả Nghị quyết 05 năm 2024",
    ],
)
def test_the_word_report_is_never_said_twice(tree, letter, summary):
    default = ReportDefinition.objects.get(request=letter["request"], unit=tree.vi_xuyen)
    default.summary = summary
    default.save()
    text = _docx_text(generate(default, "docx").content)
    assert "Trên đây là báo cáo kết quả Nghị quyết 05 năm 2024./." in text
    assert "báo cáo báo cáo" not in text.lower()
    assert "BÁO CÁO\nKết quả Nghị quyết 05 năm 2024" in text or summary.startswith("V")
