"""A unit types its own text under each section of its answer to a letter; the Word
document of its answer prints it. Who may read and who may write the page."""

import io
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
from tiendo.documents.models import ReportDefinition
from tiendo.documents.narrative import definition_sections
from tiendo.documents.services import ensure_shipped_templates
from tiendo.reporting import services
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    NarrativeSection,
    ReportRequest,
    RequestRecipient,
)


@pytest.fixture
def answer(tree):
    prog = factories.programme("NQ05", "Cải tạo vườn tạp")
    indicator = factories.indicator(prog, "GN", name="Vốn giải ngân", measure_unit="triệu đồng")
    form = Form.objects.create(
        code="BIEU_NQ05", name="Biểu NQ05", programme=prog, period_type="year"
    )
    FormIndicator.objects.create(form=form, indicator=indicator)
    coordinator = factories.user("vpdp.vx", tree.vi_xuyen, Role.COORDINATOR)
    letter = ReportRequest.objects.create(
        number_symbol="30/UBND-NN",
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title="Báo cáo kết quả Nghị quyết 05 năm 2024",
        period="2024",
        deadline=date(2024, 12, 10),
    )
    letter.forms.set([form])
    NarrativeSection.objects.create(request=letter, order=0, title="Thuận lợi, khó khăn")
    NarrativeSection.objects.create(request=letter, order=1, title="Kiến nghị")
    for unit in (tree.c1, tree.c2):
        RequestRecipient.objects.create(request=letter, unit=unit)
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    save_value(Entry(indicator, tree.c1, "2024", D(600)), user=officer)
    services.send_request(letter, coordinator)
    ensure_shipped_templates()
    return {
        "letter": letter,
        "submission": services.open_submission(letter, tree.c1),
        "officer": officer,
        "leader": factories.user("lanhdao.xamot", tree.c1, Role.LEADER),
        "other": factories.user("xa.hai", tree.c2, Role.COMMUNE_OFFICER),
    }


def _url(answer):
    return reverse("documents:answer_texts", args=[answer["submission"].pk])


def _texts(client, answer) -> dict:
    """The page's fields, as a browser posts them back."""
    form = client.get(_url(answer)).context["form"]
    data = {"revision": str(form.initial["revision"])}
    for name in form.fields:
        if name.startswith("text-"):
            data[name] = ""
    return data


def test_an_officer_types_the_units_texts_and_the_word_answer_prints_them(client, answer):
    client.force_login(answer["officer"])
    response = client.get(_url(answer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1. Thuận lợi, khó khăn" in html and "2. Kiến nghị" in html
    assert not ReportDefinition.objects.filter(unit=answer["submission"].unit).exists()  # GET
    data = _texts(client, answer)
    first, second = [name for name in data if name.startswith("text-")]
    data[first] = "Xã có đất tốt, nhân dân đồng thuận."
    data[second] = "Đề nghị huyện hỗ trợ giống."
    response = client.post(_url(answer), data)
    assert response.status_code == 302
    own = ReportDefinition.objects.get(request=answer["letter"], unit=answer["submission"].unit)
    assert [s.text for s in definition_sections(own)] == [data[first], data[second]]
    assert AuditEntry.objects.filter(action="report_definition.texts_updated").count() == 1
    # the page shows them back; the unit's rendered answer has them, under their sections
    assert data[second] in client.get(_url(answer)).content.decode()
    page = reverse("documents:from_submission", args=[answer["submission"].pk])
    assert client.post(page, {"format": "docx"}).status_code == 302
    document = own.documents.get()
    text = "\n".join(p.text for p in Document(io.BytesIO(bytes(document.content))).paragraphs)
    assert text.index("Thuận lợi, khó khăn") < text.index(data[first])
    assert text.index("2. Kiến nghị") < text.index(data[second])


def test_a_page_opened_before_another_save_is_refused(client, answer):
    client.force_login(answer["officer"])
    stale = _texts(client, answer)  # opened while the unit had no report of its own
    fresh = dict(stale)
    name = next(n for n in fresh if n.startswith("text-"))
    fresh[name] = "Bản thứ nhất."
    assert client.post(_url(answer), fresh).status_code == 302
    stale[name] = "Bản cũ ghi đè."
    response = client.post(_url(answer), stale)
    assert response.status_code == 400
    assert "người khác sửa" in response.content.decode()
    own = ReportDefinition.objects.get(request=answer["letter"], unit=answer["submission"].unit)
    assert definition_sections(own)[0].text == "Bản thứ nhất."
    again = _texts(client, answer)
    again[name] = "Bản thứ hai."
    assert client.post(_url(answer), again).status_code == 302
    own.refresh_from_db()
    assert definition_sections(own)[0].text == "Bản thứ hai." and own.revision == 3


def test_anonymous_users_are_sent_to_the_login_page(client, answer):
    response = client.get(_url(answer))
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_another_units_officer_neither_reads_nor_writes(client, answer):
    client.force_login(answer["other"])
    assert client.get(_url(answer)).status_code == 403
    assert client.post(_url(answer), {"revision": "0"}).status_code == 403
    assert not ReportDefinition.objects.filter(unit=answer["submission"].unit).exists()


def test_a_leader_reads_but_does_not_write(client, answer):
    client.force_login(answer["leader"])
    response = client.get(_url(answer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chỉ xem" in html and "disabled" in html and "Lưu thuyết minh" not in html
    data = {"revision": "0", "text-anything": "Không được ghi."}
    assert client.post(_url(answer), data).status_code == 403
    assert not ReportDefinition.objects.filter(unit=answer["submission"].unit).exists()


def test_the_units_pages_link_to_the_texts_page(client, answer):
    client.force_login(answer["officer"])
    submission = answer["submission"]
    for page in (
        reverse("reporting:submission", args=[submission.pk]),
        reverse("documents:from_submission", args=[submission.pk]),
    ):
        assert _url(answer) in client.get(page).content.decode()
