"""Every reporting page: anonymous, another unit, read-only, allowed — and the steps."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry
from tiendo.reporting import services
from tiendo.reporting.models import ReportRequest, Submission, SubmissionState
from tiendo.reporting.recipients import digest


@pytest.fixture
def submitted(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    services.save_draft(
        sub, cycle.commune_officer, entries=[], texts={cycle.sections[0].pk: "Kết quả tốt."}
    )
    services.submit(sub, cycle.commune_officer)
    return sub


def _login(client, user):
    client.force_login(user)
    return client


def pages(cycle, sub):
    req = cycle.request.pk
    return [
        reverse("reporting:inbox"),
        reverse("reporting:requests"),
        reverse("reporting:request", args=[req]),
        reverse("reporting:request_export", args=[req]),
        reverse("reporting:submission", args=[sub.pk]),
    ]


def test_anonymous_is_sent_to_login(client, cycle, submitted):
    for url in [
        *pages(cycle, submitted),
        reverse("reporting:request_create"),
        reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c2.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/dang-nhap/" in response["Location"], url
    for url in [
        reverse("reporting:request_send", args=[cycle.request.pk]),
        reverse("reporting:request_remind", args=[cycle.request.pk]),
        reverse("reporting:submission", args=[submitted.pk]),
    ]:
        response = client.post(url, {"action": "approve"})
        assert response.status_code == 302 and "/dang-nhap/" in response["Location"], url
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


def test_a_user_of_another_unit_sees_nothing(client, cycle, submitted):
    _login(client, cycle.other_commune_officer)
    req = cycle.request.pk
    for url in [
        reverse("reporting:request", args=[req]),
        reverse("reporting:request_export", args=[req]),
        reverse("reporting:submission", args=[submitted.pk]),
        reverse("reporting:answer", args=[req, cycle.tree.c2.pk]),
        reverse("reporting:request_create"),
    ]:
        assert client.get(url).status_code == 403, url
    response = client.get(reverse("reporting:requests"))
    assert "15/UBND-NN" not in response.content.decode()
    response = client.get(reverse("reporting:inbox"))
    assert "15/UBND-NN" not in response.content.decode()
    assert (
        client.post(
            reverse("reporting:submission", args=[submitted.pk]), {"action": "approve"}
        ).status_code
        == 403
    )
    assert client.post(reverse("reporting:request_remind", args=[req])).status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


def test_a_leader_reads_but_cannot_write(client, cycle, submitted):
    _login(client, cycle.commune_leader)
    response = client.get(reverse("reporting:submission", args=[submitted.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kết quả tốt." in body and 'name="action" value="submit"' not in body
    assert 'value="approve"' not in body
    inbox = client.get(reverse("reporting:inbox")).content.decode()
    assert "15/UBND-NN" in inbox and "Lập báo cáo" not in inbox
    response = client.post(reverse("reporting:submission", args=[submitted.pk]), {"action": "save"})
    assert response.status_code == 403
    assert (
        client.get(
            reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c1.pk])
        ).status_code
        == 302
    )
    # a leader has no unit of its own to write: creating a submission is refused
    leader2 = factories.user("lanhdao.xa2", cycle.tree.c2, Role.LEADER)
    _login(client, leader2)
    assert (
        client.get(
            reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c2.pk])
        ).status_code
        == 403
    )
    assert not Submission.objects.filter(unit=cycle.tree.c2).exists()


def test_the_commune_officer_fills_and_submits_through_the_page(client, cycle):
    _login(client, cycle.commune_officer)
    inbox = client.get(reverse("reporting:inbox")).content.decode()
    assert "Yêu cầu báo cáo cần thực hiện" in inbox and "15/UBND-NN" in inbox
    answer = reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c1.pk])
    page = client.get(answer).content.decode()
    assert "Số hộ tham gia" in page and "Vốn vay" in page
    assert not Submission.objects.filter(unit=cycle.tree.c1).exists()  # a GET writes nothing
    form = {f"section-{cycle.sections[0].pk}": "Đã hỗ trợ 12 hộ.", "action": "save"}
    line_h = cycle.form.lines.get(indicator=cycle.households)
    line_c = cycle.form.lines.get(indicator=cycle.capital)
    form[f"v-{line_h.pk}-"] = "12"
    form[f"v-{line_c.pk}-LOAN"] = "1.234,5"
    form[f"v-{line_c.pk}-OWN"] = "abc"
    response = client.post(answer, form)
    body = response.content.decode()
    assert response.status_code == 200 and "“abc” không phải là số" in body
    assert "Vốn tự có" in body
    assert not Submission.objects.filter(unit=cycle.tree.c1).exists()  # nothing half-saved
    form[f"v-{line_c.pk}-OWN"] = ""
    form["action"] = "submit"
    response = client.post(answer, form)
    assert response.status_code == 200 and 'id="confirm-submit"' in response.content.decode()
    assert not Submission.objects.filter(unit=cycle.tree.c1).exists()
    response = client.post(answer, {**form, "confirm": "submit"})
    sub = Submission.objects.get(unit=cycle.tree.c1)
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:submission", args=[sub.pk])
    sub.refresh_from_db()
    assert sub.state == SubmissionState.SUBMITTED
    page = client.get(reverse("reporting:submission", args=[sub.pk])).content.decode()
    assert "1.234,5" in page and "submission.submitted" in page


def test_the_district_returns_and_approves_through_the_page(client, cycle, submitted):
    _login(client, cycle.district_officer)
    inbox = client.get(reverse("reporting:inbox")).content.decode()
    assert "Báo cáo của đơn vị cấp dưới chờ duyệt" in inbox and "Xã Một" in inbox
    url = reverse("reporting:submission", args=[submitted.pk])
    response = client.post(url, {"action": "return", "reason": ""})
    assert "Xin ghi lý do trả lại" in response.content.decode()
    client.post(url, {"action": "return", "reason": "Thiếu số hộ"})
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.RETURNED
    _login(client, cycle.commune_officer)
    assert "Thiếu số hộ" in client.get(url).content.decode()
    client.post(url, {"action": "submit", "confirm": "submit", "confirm_empty": "1"})
    _login(client, cycle.district_officer)
    client.post(url, {"action": "approve", "confirm": "approve"})
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.APPROVED
    _login(client, cycle.commune_officer)
    body = client.get(url).content.decode()
    assert "số liệu đã khóa" in body and 'value="save"' not in body


def test_request_page_counts_and_exports(client, cycle, submitted):
    _login(client, cycle.coordinator)
    response = client.get(reverse("reporting:request", args=[cycle.request.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-unit="00001" data-status="late"' in body  # deadline 10/12/2024 has passed
    assert 'data-unit="00002" data-status="missing"' in body
    response = client.get(reverse("reporting:request_export", args=[cycle.request.pk]))
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=6, values_only=True))
    by_code = {r[1]: r for r in rows}
    assert by_code["00001"][3] == "Đã gửi quá hạn"
    assert by_code["00001"][4].date() > date(2024, 12, 10)
    assert isinstance(by_code["00001"][7], int) and by_code["00001"][7] > 0
    assert by_code["00002"][3] == "Chưa gửi" and by_code["00002"][4] is None
    assert sheet["D3"].value.date() == date(2024, 12, 10)


def test_reminder_button_and_waiver(client, cycle, submitted):
    _login(client, cycle.district_officer)
    # the district is the issuer's unit but only coordinators send reminders
    assert (
        client.post(reverse("reporting:request_remind", args=[cycle.request.pk])).status_code == 403
    )
    response = client.post(
        reverse("reporting:request_waive", args=[cycle.request.pk, cycle.tree.c2.pk]),
        {"reason": "Xã không có hộ tham gia"},
    )
    assert response.status_code == 302
    _login(client, cycle.coordinator)
    response = client.post(
        reverse("reporting:request_remind", args=[cycle.request.pk]), follow=True
    )
    assert "Đã nhắc 1 đơn vị" in response.content.decode()


def test_a_coordinator_creates_and_sends_a_request(client, cycle):
    _login(client, cycle.coordinator)
    url = reverse("reporting:request_create")
    assert client.get(url).status_code == 200
    data = {
        "number_symbol": "20/BCĐ-NTM",
        "issued_on": "2024-11-25",
        "issuer": cycle.tree.ha_giang.pk,
        "title": "Báo cáo kết quả năm 2024",
        "period": "2024",
        "deadline": "2024-11-20",
        "forms": [cycle.form.pk],
        "sections": "Kết quả đạt được\nKiến nghị, đề xuất",
        "groups": ["district"],
    }
    response = client.post(url, data)
    assert "Hạn gửi báo cáo trước ngày ban hành" in response.content.decode()
    data["deadline"] = "2024-12-15"
    response = client.post(url, data)  # the preview first: nothing written yet
    assert response.context["preview"].count == 2
    assert not ReportRequest.objects.filter(number_symbol="20/BCĐ-NTM").exists()
    data.update(action="save", confirm=response.context["preview"].digest)
    response = client.post(url, data)
    req = ReportRequest.objects.get(number_symbol="20/BCĐ-NTM")
    assert response.status_code == 302
    assert [s.title for s in req.sections.all()] == ["Kết quả đạt được", "Kiến nghị, đề xuất"]
    client.post(reverse("reporting:request_send", args=[req.pk]), {"confirm": "send"})
    req.refresh_from_db()
    assert req.status == "sent"
    assert sorted(r.unit.code for r in req.recipients.all()) == ["028", "032"]
    # a commune officer may not write letters
    _login(client, cycle.commune_officer)
    assert client.get(url).status_code == 403


def test_creating_a_letter_is_audited_and_a_number_is_taken_once(client, cycle):
    _login(client, cycle.coordinator)
    url = reverse("reporting:request_create")
    data = {
        "number_symbol": "21/BCĐ-NTM",
        "issued_on": "2024-11-25",
        "issuer": cycle.tree.ha_giang.pk,
        "title": "Báo cáo kết quả năm 2024",
        "period": "2024",
        "deadline": "2024-12-15",
        "forms": [cycle.form.pk],
        "recipients": [cycle.tree.vi_xuyen.pk],
        "recipients_exact": "1",
        "action": "save",
        "confirm": digest([cycle.tree.vi_xuyen]),
    }
    assert client.post(url, data).status_code == 302
    req = ReportRequest.objects.get(number_symbol="21/BCĐ-NTM")
    entry = AuditEntry.objects.get(action="request.created")
    assert (entry.actor, entry.unit, entry.object_id) == (
        cycle.coordinator,
        cycle.tree.ha_giang,
        str(req.pk),
    )
    response = client.post(url, data)
    assert "Công văn số này của đơn vị đã có." in response.content.decode()
    assert ReportRequest.objects.filter(number_symbol="21/BCĐ-NTM").count() == 1
    assert AuditEntry.objects.filter(action="request.created").count() == 1


def test_reopening_from_the_submission_page_reads_the_date_and_the_form(client, cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    _login(client, cycle.coordinator)
    url = reverse("reporting:submission", args=[sub.pk])
    post = {"action": "reopen", "form": cycle.form.pk, "reason": "Xã mới có cán bộ"}
    body = client.post(url, {**post, "until": "31/13/2099"}).content.decode()
    assert "Ngày mở đến không hợp lệ" in body
    assert client.post(url, {**post, "form": "x", "until": "2099-12-31"}).status_code == 404
    assert not AuditEntry.objects.filter(action="entry_window.reopened").exists()
    assert client.post(url, {**post, "until": "2099-12-31"}).status_code == 302
    assert AuditEntry.objects.filter(action="entry_window.reopened").count() == 1
    # typed as people write it
    assert client.post(url, {**post, "until": "30/06/2099"}).status_code == 302
    assert AuditEntry.objects.filter(action="entry_window.reopened").count() == 2


def test_the_approver_does_not_answer_in_the_unit_s_name(client, cycle, submitted):
    services.return_submission(submitted, cycle.district_officer, "Thiếu số hộ")
    _login(client, cycle.district_officer)
    url = reverse("reporting:submission", args=[submitted.pk])
    body = client.get(url).content.decode()
    assert 'value="submit"' not in body and "chờ đơn vị sửa và gửi lại" in body
    assert client.post(url, {"action": "submit"}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.RETURNED


def test_the_submission_page_links_the_excel_form_for_the_unit_and_request(client, cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    page = (
        _login(client, cycle.commune_officer)
        .get(reverse("reporting:submission", args=[sub.pk]))
        .content.decode()
    )
    download = reverse("reporting:excel_download", args=[cycle.form.code])
    assert f"{download}?unit={cycle.tree.c1.pk}&amp;request={cycle.request.pk}" in page
    assert reverse("reporting:excel_upload", args=[cycle.form.code]) in page
    response = client.get(f"{download}?unit={cycle.tree.c1.pk}&request={cycle.request.pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert load_workbook(BytesIO(response.content)).sheetnames


def test_the_request_list_counts_every_request_in_the_same_queries(
    client, cycle, submitted, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _login(client, cycle.coordinator)
    with CaptureQueriesContext(connection) as one:
        response = client.get(reverse("reporting:requests"))
    assert response.status_code == 200
    for n in range(5):
        extra = ReportRequest.objects.create(
            number_symbol=f"{20 + n}/UBND-NN",
            issued_on=date(2024, 11, 21),
            issuer=cycle.tree.vi_xuyen,
            title="Báo cáo bổ sung",
            period="2024",
            deadline=date(2024, 12, 10),
        )
        extra.recipients.create(unit=cycle.tree.c1)
    with django_assert_num_queries(len(one)):
        response = client.get(reverse("reporting:requests"))
    page = response.content.decode()
    assert "15/UBND-NN" in page and "24/UBND-NN" in page


def test_the_request_page_takes_the_same_queries_for_more_recipients(
    client, cycle, submitted, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _login(client, cycle.district_officer)
    url = reverse("reporting:request", args=[cycle.request.pk])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for unit in (cycle.tree.c3, cycle.tree.c4):  # owing: the page asks who may waive them
        cycle.request.recipients.create(unit=unit)
    with django_assert_num_queries(len(few)):
        page = client.get(url).content.decode()
    assert "Xã Ba" in page and "Xã Bốn" in page
