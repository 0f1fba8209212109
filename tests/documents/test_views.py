"""Access to every report page: anonymous, another unit, read-only leader, allowed."""

import io
import zipfile
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from tests import factories
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.data.services import Entry, save_value
from tiendo.documents.models import (
    GeneratedDocument,
    ReportTemplate,
    TemplateKind,
)
from tiendo.documents.services import ensure_shipped_templates, generate
from tiendo.reporting.models import (
    NarrativeSection,
    ReportRequest,
    Submission,
    SubmissionSection,
)


@pytest.fixture
def report(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    prog.short_name = "Nghị quyết 05"
    prog.save(update_fields=["short_name"])
    disbursed = factories.indicator(
        prog, "GN", name="Vốn giải ngân", measure_unit="triệu đồng", decimals=0
    )
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER, first_name="Cán bộ Một")
    save_value(Entry(disbursed, tree.c1, "2024", D(66992)), user=officer)
    ensure_shipped_templates()
    request = ReportRequest.objects.create(
        number_symbol="12/UBND-NN",
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title="Báo cáo kết quả Nghị quyết 05 năm 2024",
        period="2024",
        deadline=date(2024, 12, 10),
    )
    section = NarrativeSection.objects.create(request=request, order=0, title="Lãnh đạo")
    submission = Submission.objects.create(request=request, unit=tree.c1)
    SubmissionSection.objects.create(
        submission=submission, section=section, text="Xã đã triển khai kịp thời."
    )
    definition = factories.commune_report(
        tree,
        request,
        summary="Kết quả thực hiện Nghị quyết 05 năm 2024",
        options={"narrative_sections": {"1": "leadership"}},
    )
    definition.programmes.set([prog])
    return definition


@pytest.fixture
def people(tree, report):
    return {
        "allowed": report.unit.users.get(username="xa.mot"),
        "other": factories.user("xa.hai", tree.c2, Role.COMMUNE_OFFICER),
        "leader": factories.user("lanhdao", tree.ha_giang, Role.LEADER),
    }


@pytest.fixture
def stored(report):
    return generate(report, "docx")


def pages(report, stored):
    return [
        reverse("documents:reports"),
        reverse("documents:report", args=[report.slug]),
        reverse("documents:documents"),
        reverse("documents:document", args=[stored.pk]),
        reverse("documents:download", args=[stored.pk]),
        reverse("documents:templates"),
        reverse("documents:variables"),
    ]


def test_anonymous_users_are_sent_to_the_login_page(client, report, stored):
    for url in pages(report, stored) + [reverse("documents:render", args=[report.slug])]:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


def test_the_allowed_officer_sees_every_page(client, report, stored, people):
    client.force_login(people["allowed"])
    for url in pages(report, stored):
        assert client.get(url).status_code == 200, url


def test_a_commune_officer_cannot_see_or_render_another_communes_report(
    client, report, stored, people
):
    client.force_login(people["other"])
    assert client.get(reverse("documents:report", args=[report.slug])).status_code == 403
    assert client.get(reverse("documents:document", args=[stored.pk])).status_code == 403
    assert client.get(reverse("documents:download", args=[stored.pk])).status_code == 403
    response = client.post(reverse("documents:render", args=[report.slug]), {"format": "docx"})
    assert response.status_code == 403
    assert GeneratedDocument.objects.count() == 1
    assert report.slug not in client.get(reverse("documents:reports")).content.decode()
    assert stored.filename not in client.get(reverse("documents:documents")).content.decode()
    variables = client.get(reverse("documents:variables"), {"report": report.slug})
    assert variables.status_code == 403


def test_a_leader_reads_and_downloads_but_does_not_render_or_upload(client, report, stored, people):
    client.force_login(people["leader"])
    assert client.get(reverse("documents:report", args=[report.slug])).status_code == 200
    download = client.get(reverse("documents:download", args=[stored.pk]))
    assert download.status_code == 200 and download.content == bytes(stored.content)
    response = client.post(reverse("documents:render", args=[report.slug]), {"format": "docx"})
    assert response.status_code == 403
    upload = SimpleUploadedFile("mau.docx", bytes(stored.content))
    response = client.post(
        reverse("documents:templates"),
        {"kind": TemplateKind.PROGRAMME_RESULTS, "name": "x", "file": upload},
    )
    assert response.status_code == 403
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()


def test_rendering_stores_the_document_and_the_download_is_unchanged(client, report, people):
    client.force_login(people["allowed"])
    response = client.post(reverse("documents:render", args=[report.slug]), {"format": "docx"})
    document = GeneratedDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:document", args=[document.pk])
    assert document.created_by == people["allowed"]
    assert AuditEntry.objects.filter(action="document.generated").count() == 1
    download = client.get(reverse("documents:download", args=[document.pk]))
    assert download.content == bytes(document.content)
    assert download["Content-Disposition"] == f'attachment; filename="{document.filename}"'
    text = "\n".join(p.text for p in Document(io.BytesIO(download.content)).paragraphs)
    assert "Vốn giải ngân: 66.992 triệu đồng." in text
    # the unit's own narrative, from its submission, not attributed to itself
    assert "Xã đã triển khai kịp thời." in text and "Xã Một: Xã đã" not in text
    header = Document(io.BytesIO(download.content)).tables[0].rows[0].cells[0].text
    assert "Số: 05/BC-UBND" in header


def test_the_traceability_page_names_the_values_and_who_entered_them(
    client, report, stored, people
):
    client.force_login(people["allowed"])
    html = client.get(reverse("documents:document", args=[stored.pk])).content.decode()
    assert "66.992" in html and "Vốn giải ngân" in html and "Xã Một" in html
    assert "Cán bộ Một (xa.mot)" in html
    assert "Người duyệt" in html and "12/UBND-NN" in html


def test_the_traceability_page_does_not_read_the_file(client, report, stored, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(people["allowed"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("documents:document", args=[stored.pk]))
    assert response.status_code == 200
    assert not [q for q in queries if '"content"' in q["sql"]]
    download = client.get(reverse("documents:download", args=[stored.pk]))
    assert b"".join(download) == bytes(stored.content)


def test_a_bad_format_is_refused_with_a_message(client, report, people):
    client.force_login(people["allowed"])
    response = client.post(
        reverse("documents:render", args=[report.slug]), {"format": "odt"}, follow=True
    )
    assert "Định dạng không hợp lệ" in response.content.decode()
    assert not GeneratedDocument.objects.exists()


def test_a_coordinator_uploads_a_new_template_version_for_their_unit(client, tree, report, people):
    client.force_login(factories.user("vpdp.mot", report.unit, Role.COORDINATOR))
    shipped = ReportTemplate.objects.get(kind=TemplateKind.PROGRAMME_RESULTS, unit__isnull=True)
    for expected_version in (1, 2):
        upload = SimpleUploadedFile("mau.docx", bytes(shipped.content))
        response = client.post(
            reverse("documents:templates"),
            {"kind": TemplateKind.PROGRAMME_RESULTS, "name": "Mẫu của xã", "file": upload},
        )
        assert response.status_code == 302
        latest = ReportTemplate.objects.filter(unit=report.unit).latest("version")
        assert latest.version == expected_version and latest.active
    assert ReportTemplate.objects.filter(unit=report.unit, active=True).count() == 1
    download = client.get(reverse("documents:template_download", args=[latest.pk]))
    assert download.content == bytes(shipped.content)
    # another commune's officer cannot download it
    client.force_login(people["other"])
    assert client.get(reverse("documents:template_download", args=[latest.pk])).status_code == 403
    assert client.get(reverse("documents:template_download", args=[shipped.pk])).status_code == 200


def test_a_file_that_is_not_word_is_refused(client, report, people):
    client.force_login(factories.user("vpdp.mot", report.unit, Role.COORDINATOR))
    upload = SimpleUploadedFile("mau.docx", b"not a zip")
    response = client.post(
        reverse("documents:templates"),
        {"kind": TemplateKind.PROGRAMME_RESULTS, "name": "x", "file": upload},
        follow=True,
    )
    assert "không phải văn bản Word" in response.content.decode()
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()


def test_the_variable_page_gives_examples_from_the_report(client, report, people):
    client.force_login(people["allowed"])
    html = client.get(reverse("documents:variables"), {"report": report.slug}).content.decode()
    assert "f.GN" in html and "66.992 triệu đồng" in html
    assert "header.place_date" in html and "Xã Một, ngày" in html
    assert "f.CODE.change(1)" in html


def test_shipped_templates_are_stored_once_per_builder_version(db):
    first = ensure_shipped_templates()
    again = ensure_shipped_templates()
    assert [t.pk for t in first] == [t.pk for t in again]
    assert ReportTemplate.objects.filter(unit__isnull=True).count() == len(TemplateKind.values)


# --- uploaded templates are code the server runs ------------------------------------------

PAYLOADS = {
    "{{ lipsum.__globals__['os'].popen('id').read() }}": "biến “lipsum” không có",
    "{{ ''.__class__.__mro__ }}": "thuộc tính “__mro__” bắt đầu bằng “_”",
    "{{ settings.SECRET_KEY }}": "biến “settings” không có",
    "{{ header.title|attr('__class__') }}": "thuộc tính “__class__” bắt đầu bằng “_”",
    "{% for r in header.recipients %}{{ r.__class__ }}{% endfor %}": "“__class__”",
    "{{ cycler.__init__.__globals__.os }}": "biến “cycler” không có",
}


def _template_with(text: str) -> bytes:
    doc = Document()
    doc.add_paragraph("{{ header.title }}")
    doc.add_paragraph("Kết quả: {{ f.GN }}")
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _upload(client, data: bytes, name="mau.docx"):
    return client.post(
        reverse("documents:templates"),
        {
            "kind": TemplateKind.PROGRAMME_RESULTS,
            "name": "Mẫu",
            "file": SimpleUploadedFile(name, data),
        },
        follow=True,
    )


@pytest.mark.parametrize("role", [Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER, Role.LEADER])
def test_only_coordinators_and_administrators_upload_templates(client, tree, report, role):
    client.force_login(factories.user("nguoi.dung", tree.vi_xuyen, role))
    shipped = ReportTemplate.objects.get(kind=TemplateKind.PROGRAMME_RESULTS, unit__isnull=True)
    assert _upload(client, bytes(shipped.content)).status_code == 403
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()
    for allowed, unit in ((Role.COORDINATOR, tree.vi_xuyen), (Role.ADMIN, tree.ha_giang)):
        client.force_login(factories.user(f"u.{allowed}", unit, allowed))
        response = _upload(client, bytes(shipped.content))
        assert "Đã lưu mẫu" in response.content.decode()
    assert ReportTemplate.objects.filter(unit__isnull=False).count() == 2


@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_a_placeholder_reaching_python_internals_is_refused_at_upload(
    client, tree, report, payload
):
    client.force_login(factories.user("vpdp.vixuyen", tree.vi_xuyen, Role.COORDINATOR))
    html = _upload(client, _template_with(payload)).content.decode()
    assert "Đoạn 3: " in html and PAYLOADS[payload] in html
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()


def test_the_message_names_the_placeholder_and_its_paragraph():
    from tiendo.documents.services import TemplateUploadError, check_docx

    with pytest.raises(TemplateUploadError) as caught:
        check_docx(_template_with("{{ lipsum.__globals__['os'].popen('id').read() }}"))
    assert caught.value.code == "template.bad_placeholders"
    assert str(caught.value).startswith(
        "Đoạn 3: biến “lipsum” không có trong danh sách biến của mẫu báo cáo "
        "({{ lipsum.__globals__['os'].popen('id').read() }})."
    )


@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_a_template_stored_before_the_check_is_refused_at_render(client, tree, report, payload):
    ReportTemplate.objects.create(
        unit=tree.vi_xuyen,
        kind=report.kind,
        name="Mẫu cũ",
        version=1,
        content=_template_with(payload),
        digest="x",
    )
    client.force_login(factories.user("vpdp.mot", report.unit, Role.COORDINATOR))
    response = client.post(
        reverse("documents:render", args=[report.slug]), {"format": "docx"}, follow=True
    )
    html = response.content.decode()
    assert "Mẫu báo cáo không dùng được" in html and PAYLOADS[payload] in html
    assert "uid=" not in html
    assert not GeneratedDocument.objects.exists()


def test_the_sandbox_refuses_python_internals_even_without_the_check():
    from jinja2.exceptions import SecurityError, UndefinedError

    from tiendo.documents.render import jinja_environment

    env = jinja_environment()
    for source in (
        "{{ ''.__class__.__mro__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ x.__init__.__globals__ }}",
        "{{ ''.format.__self__ }}",
    ):
        with pytest.raises((SecurityError, UndefinedError)):
            env.from_string(source).render(x=object())
    assert env.from_string("{{ 1234.5|vn_number(1) }} {{ 'a'|upper }}").render() == "1.234,5 A"


def test_the_shipped_templates_pass_the_check():
    from tiendo.documents.services import check_docx
    from tiendo.documents.templates_build import SHIPPED

    for shipped in SHIPPED:
        check_docx(shipped.build())


# --- hostile .docx files --------------------------------------------------------------------


def test_a_docx_that_unpacks_to_a_gibibyte_is_refused_within_the_memory_limit():
    from tests.hostile import MB, replace_members, run_limited, zeros
    from tiendo.documents.services import TemplateUploadError, check_docx

    # styles.xml: a part python-docx reads whole when it opens the file
    bomb = replace_members(_template_with("Kết quả"), {"word/styles.xml": zeros(1024 * MB)})
    assert len(bomb) < 2 * MB

    def upload():
        try:
            check_docx(bomb, filename="mau.docx")
        except TemplateUploadError as exc:
            return str(exc)
        return "accepted"

    report = run_limited(upload)
    assert report == {
        "outcome": "done",
        "value": "Tệp quá lớn khi giải nén: “mau.docx” giải nén ra 1.024,5 MB, quá 50 MB; "
        "biểu mẫu hay mẫu báo cáo không thể lớn như vậy.",
    }


def test_a_stored_docx_bomb_is_refused_at_render_within_the_memory_limit(tree, report):
    from tests.hostile import MB, replace_members, run_limited, zeros
    from tiendo.documents.render import RenderError
    from tiendo.documents.services import render_bytes

    # styles.xml: a part python-docx reads whole when it opens the file
    bomb = replace_members(_template_with("Kết quả"), {"word/styles.xml": zeros(1024 * MB)})
    ReportTemplate.objects.create(
        unit=tree.vi_xuyen, kind=report.kind, name="Mẫu cũ", version=1, content=bomb, digest="x"
    )

    def render():
        try:
            render_bytes(report, "docx")
        except RenderError as exc:
            return str(exc)
        return "rendered"

    report_ = run_limited(render)
    assert report_["outcome"] == "done" and report_["value"].startswith("Tệp quá lớn khi giải nén")


def test_an_external_entity_in_a_docx_is_refused_naming_the_part(client, tree, report):
    from tests.hostile import XXE, replace_members

    data = _template_with("{{ header.title }}")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode().split("?>", 1)[1]
    hostile = replace_members(
        data, {"word/document.xml": (XXE + body.replace("Kết quả", "&xxe;", 1)).encode()}
    )
    client.force_login(factories.user("vpdp.vixuyen", tree.vi_xuyen, Role.COORDINATOR))
    html = _upload(client, hostile).content.decode()
    assert "Phần “word/document.xml” của tệp “mau.docx” có khai báo DOCTYPE/ENTITY" in html
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()


def test_a_file_larger_than_the_site_accepts_is_dropped_while_it_arrives(
    client, tree, report, settings
):
    settings.UPLOAD_MAX_BYTES = 100_000
    client.force_login(factories.user("vpdp.vixuyen", tree.vi_xuyen, Role.COORDINATOR))
    html = _upload(client, b"x" * 300_000, name="to.docx").content.decode()
    assert "Tệp “to.docx” lớn hơn 0,1 MB." in html
    assert not ReportTemplate.objects.filter(unit__isnull=False).exists()
