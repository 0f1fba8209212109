"""Sending a letter, submitting and approving ask first, on a server-rendered step.

A POST without the confirmation shows what would happen and changes nothing; the same
POST with it takes the step.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tiendo.core.models import AuditEntry, Notification
from tiendo.data.models import DataValue
from tiendo.reporting import services
from tiendo.reporting.models import ReportRequest, RequestStatus, Submission, SubmissionState


@pytest.fixture
def letter(cycle):
    req = ReportRequest.objects.create(
        number_symbol="16/UBND-NN",
        issued_on=date(2024, 11, 25),
        issuer=cycle.tree.vi_xuyen,
        title="Báo cáo bổ sung Nghị quyết 05 năm 2024",
        period="2024",
        deadline=date(2024, 12, 20),
    )
    req.forms.add(cycle.form)
    req.recipients.create(unit=cycle.tree.c1)
    return req


def _counts():
    return (
        AuditEntry.objects.count(),
        Notification.objects.count(),
        DataValue.objects.count(),
        Submission.objects.count(),
    )


def test_sending_a_letter_asks_first_and_sends_only_when_confirmed(client, cycle, letter):
    client.force_login(cycle.coordinator)
    url = reverse("reporting:request_send", args=[letter.pk])
    before = _counts()
    response = client.post(url)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-send"' in body
    assert "Xã Một" in body and 'name="confirm" value="send"' in body
    assert 'id="closed-windows"' not in body  # the window is open
    letter.refresh_from_db()
    assert letter.status == RequestStatus.DRAFT and _counts() == before
    response = client.post(url, {"confirm": "send"})
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == RequestStatus.SENT


def test_sending_a_letter_whose_entry_window_has_closed_warns_without_blocking(
    client, cycle, letter
):
    cycle.form.closes_days_after_end = 0
    cycle.form.save(update_fields=["closes_days_after_end"])
    client.force_login(cycle.coordinator)
    page = client.get(reverse("reporting:request", args=[letter.pk])).content.decode()
    assert 'id="closed-windows"' in page  # said on the letter's page already
    url = reverse("reporting:request_send", args=[letter.pk])
    body = client.post(url).content.decode()
    assert 'id="closed-windows"' in body
    assert "biểu “Biểu kết quả Nghị quyết 05” đã hết hạn nhập ngày 31/12/2024" in body
    assert "Vẫn gửi công văn" in body
    client.post(url, {"confirm": "send"})
    letter.refresh_from_db()
    assert letter.status == RequestStatus.SENT


def _submission_form(cycle, households="12", text="Đã hỗ trợ 12 hộ."):
    line = cycle.form.lines.get(indicator=cycle.households)
    return {f"v-{line.pk}-": households, f"section-{cycle.sections[0].pk}": text}


def test_submitting_asks_first_and_keeps_what_was_typed_without_saving_it(client, cycle):
    client.force_login(cycle.commune_officer)
    url = reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c1.pk])
    before = _counts()
    response = client.post(url, {**_submission_form(cycle), "action": "submit"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-submit"' in body
    assert 'value="12"' in body and "Đã hỗ trợ 12 hộ." in body
    assert 'id="confirm-empty"' not in body
    assert _counts() == before
    response = client.post(
        url, {**_submission_form(cycle), "action": "submit", "confirm": "submit"}
    )
    assert response.status_code == 302
    sub = Submission.objects.get(request=cycle.request, unit=cycle.tree.c1)
    assert sub.state == SubmissionState.SUBMITTED
    assert DataValue.objects.get(indicator=cycle.households, unit=cycle.tree.c1).value == 12


def test_an_empty_submission_asks_for_explicit_confirmation(client, cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    client.force_login(cycle.commune_officer)
    url = reverse("reporting:submission", args=[sub.pk])
    empty = {**_submission_form(cycle, households="", text=""), "action": "submit"}
    before = _counts()
    for data in (empty, {**empty, "confirm": "submit"}):
        body = client.post(url, data).content.decode()
        assert 'id="confirm-empty"' in body and 'name="confirm_empty"' in body
        sub.refresh_from_db()
        assert sub.state == SubmissionState.DRAFT and _counts() == before
    response = client.post(url, {**empty, "confirm": "submit", "confirm_empty": "1"})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.state == SubmissionState.SUBMITTED


def test_approving_asks_first_and_approves_only_when_confirmed(client, cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    services.save_draft(sub, cycle.commune_officer, entries=[], texts={cycle.sections[0].pk: "x"})
    services.submit(sub, cycle.commune_officer)
    client.force_login(cycle.district_officer)
    url = reverse("reporting:submission", args=[sub.pk])
    before = _counts()
    body = client.post(url, {"action": "approve"}).content.decode()
    assert 'id="confirm-approve"' in body and 'name="confirm" value="approve"' in body
    sub.refresh_from_db()
    assert sub.state == SubmissionState.SUBMITTED and _counts() == before
    assert client.post(url, {"action": "approve", "confirm": "approve"}).status_code == 302
    sub.refresh_from_db()
    assert sub.state == SubmissionState.APPROVED


def test_the_confirmation_steps_use_no_inline_script(client, cycle, letter):
    client.force_login(cycle.coordinator)
    body = client.post(reverse("reporting:request_send", args=[letter.pk])).content.decode()
    client.force_login(cycle.commune_officer)
    url = reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c1.pk])
    body += client.post(url, {**_submission_form(cycle), "action": "submit"}).content.decode()
    for marker in ("onclick=", "onsubmit=", "javascript:", "confirm("):
        assert marker not in body
