"""Workflow steps that race, and what a step leaves when it does not commit.

Each racing test runs two steps in two threads, each with its own database connection.
Both threads load the submission *before* either step starts, as two officers who opened
the page at the same time: a step that trusted the state it was handed would let both
through. The step re-reads the row locked inside its transaction, so the second one sees
the first one's work and is refused with the domain error.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.reporting.refusals import refused
from tiendo.core.models import AuditEntry, Notification
from tiendo.data.models import DataValue
from tiendo.reporting import services
from tiendo.reporting.models import Submission, SubmissionState
from tiendo.reporting.services import ReportingError

WRITES = ("INSERT", "UPDATE", "DELETE")


def _race(*steps):
    """Run ``steps`` (each ``(load, act)``) at once, one thread and connection each.

    ``load`` runs first in every thread; only when all have loaded do the ``act`` calls
    start. Returns each step's outcome: "ok" or the ReportingError's code.

    On PostgreSQL the second step waits on the row lock. The in-memory SQLite database of
    the tests shares one cache between connections, which answers "table is locked" at
    once where a database file (as deployed, with ``transaction_mode=IMMEDIATE`` and a
    busy timeout) waits for the writer: a step refused that way waits for the others to
    finish, as the busy timeout would, and runs again — with the object it loaded before.
    """
    loaded = threading.Barrier(len(steps))
    done = [threading.Event() for _ in steps]

    def run(i, load, act):
        try:
            obj = load()
            loaded.wait(timeout=30)
            for attempt in range(2):
                try:
                    act(obj)
                except ReportingError as exc:
                    return exc.code
                except OperationalError as exc:
                    if connection.vendor != "sqlite" or "locked" not in str(exc) or attempt:
                        raise
                    for j, event in enumerate(done):
                        if j != i:
                            event.wait(timeout=30)
                    continue
                return "ok"
        finally:
            connection.close()
            done[i].set()

    with ThreadPoolExecutor(len(steps)) as pool:
        futures = [pool.submit(run, i, load, act) for i, (load, act) in enumerate(steps)]
        return [f.result(timeout=60) for f in futures]


def _load(sub):
    return lambda: Submission.objects.select_related("unit", "request").get(pk=sub.pk)


def _actions(sub) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="reporting.submission", object_id=str(sub.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


@pytest.fixture
def submitted(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    services.save_draft(
        sub, cycle.commune_officer, entries=[], texts={cycle.sections[0].pk: "Kết quả tốt."}
    )
    services.submit(sub, cycle.commune_officer)
    return sub


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_approve_once_and_the_other_is_told(cycle, submitted):
    other_approver = type(cycle.district_officer).objects.create(
        username="huyen2", unit=cycle.tree.vi_xuyen, role=cycle.district_officer.role
    )
    outcomes = _race(
        (_load(submitted), lambda s: services.approve(s, cycle.district_officer)),
        (_load(submitted), lambda s: services.approve(s, other_approver)),
    )
    assert sorted(outcomes) == ["ok", "reporting.approve_not_submitted"]
    assert _actions(submitted).count("submission.approved") == 1
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.APPROVED
    assert submitted.approved_by in (cycle.district_officer, other_approver)
    # the commune is told once that its report was approved
    assert (
        Notification.objects.filter(
            recipient=cycle.commune_officer, message__contains="đã được duyệt"
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_a_return_racing_an_approval_leaves_one_of_them(cycle, submitted):
    outcomes = _race(
        (_load(submitted), lambda s: services.approve(s, cycle.district_officer)),
        (
            _load(submitted),
            lambda s: services.return_submission(s, cycle.district_officer, "Thiếu số hộ"),
        ),
    )
    assert outcomes.count("ok") == 1
    loser = next(o for o in outcomes if o != "ok")
    assert loser in ("reporting.approve_not_submitted", "reporting.return_not_submitted")
    steps = [a for a in _actions(submitted) if a in ("submission.approved", "submission.returned")]
    assert len(steps) == 1
    submitted.refresh_from_db()
    expected = SubmissionState.APPROVED if outcomes[0] == "ok" else SubmissionState.RETURNED
    assert submitted.state == expected and steps == [f"submission.{expected}"]


@pytest.mark.django_db(transaction=True)
def test_a_return_racing_a_resubmission_never_returns_a_report_twice(cycle, submitted):
    services.return_submission(submitted, cycle.district_officer, "Thiếu số hộ")
    before = len(_actions(submitted))

    def stale():  # the approver's page was loaded while the report was still sent
        sub = Submission.objects.select_related("unit", "request").get(pk=submitted.pk)
        sub.state = SubmissionState.SUBMITTED
        return sub

    outcomes = _race(
        (_load(submitted), lambda s: services.submit(s, cycle.commune_officer)),
        (stale, lambda s: services.return_submission(s, cycle.district_officer, "Lại")),
    )
    assert outcomes[0] == "ok"  # the unit's resubmission always goes through
    after = _actions(submitted)[before:]
    submitted.refresh_from_db()
    if outcomes[1] == "ok":  # the return came second and returned the resubmitted report
        assert after == ["submission.resubmitted", "submission.returned"]
        assert submitted.state == SubmissionState.RETURNED
    else:  # the return came first, saw the report already returned, and was refused
        assert outcomes[1] == "reporting.return_not_submitted"
        assert after == ["submission.resubmitted"]
        assert submitted.state == SubmissionState.SUBMITTED


def test_a_step_on_a_stale_page_checks_the_state_stored_now(cycle, submitted):
    stale = Submission.objects.get(pk=submitted.pk)  # loaded while the report was sent
    services.return_submission(submitted, cycle.district_officer, "Thiếu số hộ")
    with refused("reporting.return_not_submitted"):
        services.return_submission(stale, cycle.district_officer, "Lại")
    with refused("reporting.approve_not_submitted"):
        services.approve(Submission.objects.get(pk=submitted.pk), cycle.district_officer)
    assert _actions(submitted).count("submission.returned") == 1
    assert stale.state == SubmissionState.RETURNED  # the step re-read the row


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_submit_submits_once(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    services.save_draft(
        sub, cycle.commune_officer, entries=[], texts={cycle.sections[0].pk: "Kết quả tốt."}
    )
    outcomes = _race(
        (_load(sub), lambda s: services.submit(s, cycle.commune_officer)),
        (_load(sub), lambda s: services.submit(s, cycle.commune_officer)),
    )
    assert sorted(outcomes) == ["ok", "reporting.awaiting_approval"]
    assert _actions(sub).count("submission.submitted") == 1
    assert (
        Notification.objects.filter(
            recipient=cycle.district_officer, message__contains="đã gửi báo cáo"
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_sending_the_same_letter_send_it_once(cycle):
    letter = type(cycle.request).objects.create(
        number_symbol="16/UBND-NN",
        issued_on=cycle.request.issued_on,
        issuer=cycle.tree.vi_xuyen,
        title="Báo cáo bổ sung",
        period="2024",
        deadline=cycle.request.deadline,
    )
    letter.forms.add(cycle.form)
    letter.recipients.create(unit=cycle.tree.c1)
    load = lambda: type(letter).objects.get(pk=letter.pk)  # noqa: E731
    outcomes = _race(
        (load, lambda r: services.send_request(r, cycle.coordinator)),
        (load, lambda r: services.send_request(r, cycle.coordinator)),
    )
    assert sorted(outcomes) == ["ok", "reporting.already_sent"]
    assert AuditEntry.objects.filter(action="request.sent", object_id=str(letter.pk)).count() == 1


def test_a_step_that_rolls_back_notifies_no_one(
    cycle, submitted, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SMTP_HOST = "smtp.example.test"
    cycle.commune_officer.email = "xa1@example.test"
    cycle.commune_officer.save(update_fields=["email"])
    before = Notification.objects.count()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.approve(submitted, cycle.district_officer)
        raise RuntimeError("the request failed after the step")
    assert callbacks == [] and mailoutbox == []
    assert Notification.objects.count() == before
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


def test_mails_go_one_per_recipient_once_the_step_commits(
    cycle, submitted, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SMTP_HOST = "smtp.example.test"
    cycle.commune_officer.email = "xa1@example.test"
    cycle.commune_officer.save(update_fields=["email"])
    cycle.commune_leader.email = "lanhdao.xa1@example.test"
    cycle.commune_leader.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.approve(submitted, cycle.district_officer)
    assert mailoutbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert sorted(m.to for m in mailoutbox) == [["lanhdao.xa1@example.test"], ["xa1@example.test"]]
    assert all("15/UBND-NN" in m.body for m in mailoutbox)


def test_opening_a_request_s_answer_page_writes_nothing(client, cycle):
    client.force_login(cycle.commune_officer)
    url = reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c1.pk])
    counts = (Submission.objects.count(), AuditEntry.objects.count(), DataValue.objects.count())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert 'id="unsaved"' in response.content.decode()
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith(WRITES)]
    assert writes == []
    assert counts == (
        Submission.objects.count(),
        AuditEntry.objects.count(),
        DataValue.objects.count(),
    )
    # the first POST creates it
    response = client.post(url, {"action": "save", f"section-{cycle.sections[0].pk}": "Bắt đầu"})
    sub = Submission.objects.get(request=cycle.request, unit=cycle.tree.c1)
    assert response["Location"] == reverse("reporting:submission", args=[sub.pk])
    assert client.get(url)["Location"] == reverse("reporting:submission", args=[sub.pk])


def test_no_reporting_page_writes_on_get(client, cycle, submitted):
    commune_two = type(cycle.commune_officer).objects.create(
        username="xa2", unit=cycle.tree.c2, role=cycle.commune_officer.role
    )
    pages = [
        reverse("reporting:inbox"),
        reverse("reporting:requests"),
        reverse("reporting:request", args=[cycle.request.pk]),
        reverse("reporting:request_export", args=[cycle.request.pk]),
        reverse("reporting:submission", args=[submitted.pk]),
        reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c2.pk]),
    ]
    for user in (commune_two, cycle.commune_officer, cycle.district_officer, cycle.coordinator):
        client.force_login(user)
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code in (200, 302, 403), url
            # A download is recorded in the audit log (who exported what, Decree 13/2023):
            # the one write a GET may make.
            writes = [
                q["sql"]
                for q in queries.captured_queries
                if q["sql"].lstrip().startswith(WRITES) and "core_auditentry" not in q["sql"]
            ]
            assert writes == [], (user.username, url, writes)
