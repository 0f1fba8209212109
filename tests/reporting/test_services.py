from decimal import Decimal

import pytest

from tests.reporting.refusals import refused
from tiendo.accounts import scope
from tiendo.core.models import AuditEntry, Notification
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import DataEntryError, Entry, check_entries, save_value, save_values
from tiendo.reporting import queries, services
from tiendo.reporting.models import Submission, SubmissionState


def _fill(cycle, submission, households="12", loan="150,5"):
    entries = [
        Entry(cycle.households, submission.unit, "2024", Decimal(households)),
        Entry(cycle.capital, submission.unit, "2024", Decimal(loan.replace(",", ".")), "LOAN"),
    ]
    texts = {cycle.sections[0].pk: "Đã hỗ trợ 12 hộ cải tạo vườn tạp."}
    return services.save_draft(submission, cycle.commune_officer, entries=entries, texts=texts)


def _actions(submission):
    return list(
        AuditEntry.objects.filter(object_type="reporting.submission", object_id=str(submission.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_the_whole_cycle_keeps_history_audits_and_notifies(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    assert sub.state == SubmissionState.DRAFT
    assert _fill(cycle, sub) == {"values": 2, "sections": 1}
    services.submit(sub, cycle.commune_officer)
    assert sub.state == SubmissionState.SUBMITTED and sub.first_submitted_at is not None
    assert Notification.objects.filter(recipient=cycle.district_officer).exists()

    services.return_submission(sub, cycle.district_officer, "Số hộ chưa khớp danh sách")
    sub.refresh_from_db()
    assert sub.state == SubmissionState.RETURNED
    assert sub.return_reason == "Số hộ chưa khớp danh sách"
    note = Notification.objects.filter(recipient=cycle.commune_officer).first()
    assert "Số hộ chưa khớp danh sách" in note.message

    _fill(cycle, sub, households="11")
    services.submit(sub, cycle.commune_officer)
    services.approve(sub, cycle.district_officer)
    sub.refresh_from_db()
    assert sub.state == SubmissionState.APPROVED and sub.approved_by == cycle.district_officer
    assert _actions(sub) == [
        "submission.saved",
        "submission.submitted",
        "submission.returned",
        "submission.saved",
        "submission.resubmitted",
        "submission.approved",
    ]
    # the correction went through the data service: both figures are in the history
    history = DataValueChange.objects.filter(indicator=cycle.households, unit=cycle.tree.c1)
    assert sorted(h.new_value for h in history) == [11, 12]


def test_approved_values_are_locked_until_unapproved(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    _fill(cycle, sub)
    services.submit(sub, cycle.commune_officer)
    services.approve(sub, cycle.district_officer)
    with pytest.raises(DataEntryError, match="đã được duyệt"):
        save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(99)))
    with refused("reporting.approved_locked"):
        _fill(cycle, sub, households="99")
    # the same figure again (an idempotent reload) is not a change and passes
    save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(12)))
    # another period or another unit is not locked
    save_value(Entry(cycle.households, cycle.tree.c1, "2023", Decimal(5)))
    save_value(Entry(cycle.households, cycle.tree.c2, "2024", Decimal(5)))
    assert (
        DataValue.objects.get(indicator=cycle.households, unit=cycle.tree.c1, period="2024").value
        == 12
    )

    with refused("reporting.reason_missing"):
        services.unapprove(sub, cycle.district_officer, "  ")
    services.unapprove(sub, cycle.district_officer, "Cần bổ sung vốn tự có")
    sub.refresh_from_db()
    assert sub.state == SubmissionState.RETURNED
    save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(13)))
    assert "submission.unapproved" in _actions(sub)


def test_the_lock_is_checked_for_a_whole_batch_at_once(cycle, django_assert_num_queries):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    _fill(cycle, sub)
    services.submit(sub, cycle.commune_officer)
    services.approve(sub, cycle.district_officer)
    tree = cycle.tree
    entries = [
        Entry(cycle.households, tree.c1, "2024", Decimal(12)),  # approved, unchanged
        Entry(cycle.capital, tree.c1, "2024", Decimal(7), "OWN"),  # approved, changed
        Entry(cycle.households, tree.c1, "2023", Decimal(5)),  # another period
        Entry(cycle.households, tree.c2, "2024", Decimal(5)),  # another unit
    ]
    # the capital's categories, then the lock's approved submissions, their form lines and
    # the stored figures, then the entry windows' letters, then the household register's
    # bindings (figures computed from it are refused): one query each, however many entries
    with django_assert_num_queries(6):
        outcomes = check_entries(entries)
    refused = [i for i, o in enumerate(outcomes) if isinstance(o, DataEntryError)]
    assert refused == [1] and "15/UBND-NN" in str(outcomes[1])
    with pytest.raises(DataEntryError, match="Vốn thực hiện.*đã được duyệt") as exc:
        save_values(entries)
    assert len(str(exc.value).splitlines()) == 1
    assert not DataValue.objects.filter(period="2023").exists()  # nothing half-saved
    save_values([e for i, e in enumerate(entries) if i != 1])
    assert DataValue.objects.get(indicator=cycle.households, unit=tree.c2).value == 5


def test_only_the_unit_above_approves_or_returns(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    _fill(cycle, sub)
    services.submit(sub, cycle.commune_officer)
    assert sub.approver_units() == [cycle.tree.vi_xuyen]
    for user in (cycle.commune_officer, cycle.other_commune_officer, cycle.commune_leader):
        with refused("reporting.approve_refused"):
            services.approve(sub, user)
    with refused("reporting.reason_missing"):
        services.return_submission(sub, cycle.district_officer, "")
    with refused("reporting.awaiting_approval"):
        _fill(cycle, sub)
    sub.refresh_from_db()
    assert sub.state == SubmissionState.SUBMITTED


def test_states_are_checked(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    with refused("reporting.approve_not_submitted"):
        services.approve(sub, cycle.district_officer)
    with refused("reporting.unapprove_not_approved"):
        services.unapprove(sub, cycle.district_officer, "x")
    with refused("reporting.edit_refused"):
        services.save_draft(sub, cycle.commune_leader, entries=[], texts={})
    with refused("reporting.not_a_recipient", unit="Xã Ba"):
        services.open_submission(cycle.request, cycle.tree.c3)


def test_a_consolidating_unit_waits_for_units_below_or_their_waiver(cycle):
    district = services.open_submission(cycle.request, cycle.tree.vi_xuyen)
    with refused("reporting.units_below_outstanding", units="Xã Một, Xã Hai"):
        services.submit(district, cycle.district_officer)
    c1 = services.open_submission(cycle.request, cycle.tree.c1)
    _fill(cycle, c1)
    services.submit(c1, cycle.commune_officer)
    services.approve(c1, cycle.district_officer)
    with refused("reporting.reason_missing"):
        services.waive(cycle.request, cycle.tree.c2, cycle.district_officer, "")
    with refused("reporting.waive_refused"):
        services.waive(cycle.request, cycle.tree.c2, cycle.commune_officer, "Không có hộ tham gia")
    services.waive(cycle.request, cycle.tree.c2, cycle.district_officer, "Không có hộ tham gia")
    services.submit(district, cycle.district_officer)
    assert district.state == SubmissionState.SUBMITTED
    # the district approves its communes, the province approves the district
    assert not scope.may_approve(cycle.district_officer, district)
    assert scope.may_approve(cycle.coordinator, district)
    # a commune cannot be un-approved under a consolidated report that includes it
    with refused("reporting.consolidated_above", unit="Huyện Vị Xuyên"):
        services.unapprove(c1, cycle.district_officer, "Sai số liệu")


def test_a_closed_entry_window_refuses_figures_until_reopened(cycle):
    cycle.form.closes_days_after_end = 0
    cycle.form.save(update_fields=["closes_days_after_end"])
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    with refused("reporting.window_closed", forms="hết hạn nhập ngày 31/12/2024"):
        _fill(cycle, sub)
    with refused("reporting.reopen_refused"):
        services.reopen_window(
            cycle.form, cycle.tree.c1, "2024", sub.created_at.date(), "x", cycle.commune_officer
        )
    from django.utils import timezone

    services.reopen_window(
        cycle.form,
        cycle.tree.c1,
        "2024",
        timezone.localdate(),
        "Xã mới có cán bộ",
        cycle.coordinator,
    )
    _fill(cycle, sub)
    assert AuditEntry.objects.filter(action="entry_window.reopened").exists()


def test_reminders_go_to_units_that_have_not_submitted(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    _fill(cycle, sub)
    services.submit(sub, cycle.commune_officer)
    owing = queries.not_submitted(cycle.request)
    assert [u.code for u in owing] == ["00002", "028"]
    before = Notification.objects.filter(recipient=cycle.commune_officer).count()
    assert services.send_reminders(cycle.request, cycle.coordinator) == 2
    assert Notification.objects.filter(
        recipient=cycle.district_officer, message__startswith="Nhắc"
    ).exists()
    assert Notification.objects.filter(recipient=cycle.commune_officer).count() == before


def test_reminders_send_email_when_smtp_is_configured(
    cycle, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SMTP_HOST = "smtp.example.test"
    cycle.district_officer.email = "huyen@example.test"
    cycle.district_officer.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(cycle.request, cycle.coordinator)
    assert [m.to for m in mailoutbox] == [["huyen@example.test"]]
    assert "15/UBND-NN" in mailoutbox[0].subject


def test_sections_and_collected_narrative(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    _fill(cycle, sub)
    assert sub.sections == [
        ("Kết quả đạt được", "Đã hỗ trợ 12 hộ cải tạo vườn tạp."),
        ("Hạn chế, nguyên nhân", ""),
        ("Kiến nghị, đề xuất", ""),
    ]
    assert queries.collect_narrative(cycle.request, cycle.tree.vi_xuyen) == []
    services.submit(sub, cycle.commune_officer)
    services.approve(sub, cycle.district_officer)
    collected = queries.collect_narrative(cycle.request, cycle.tree.vi_xuyen)
    assert [(u.code, s[0]) for u, s in collected] == [
        ("00001", ("Kết quả đạt được", "Đã hỗ trợ 12 hộ cải tạo vườn tạp."))
    ]


def test_send_expands_rules_into_recipients(cycle):
    from datetime import date

    from tiendo.reporting.models import RecipientRule, ReportRequest

    req = ReportRequest.objects.create(
        number_symbol="16/UBND-NN",
        issued_on=date(2024, 11, 21),
        issuer=cycle.tree.ha_giang,
        title="Báo cáo",
        period="2024",
        deadline=date(2024, 12, 15),
    )
    RecipientRule.objects.create(request=req, unit_kind="commune", under=cycle.tree.ha_giang)
    assert services.send_request(req, cycle.coordinator) == 4
    assert Submission.objects.filter(request=req).count() == 0
    with refused("reporting.already_sent"):
        services.send_request(req, cycle.coordinator)


def test_a_high_importance_rule_violation_stops_the_submission(cycle):
    from tiendo.data.models import ValidationRule

    ValidationRule.objects.create(
        programme=cycle.programme,
        code="OWN_WITHIN_LOAN",
        name="Vốn tự có không vượt vốn vay",
        expression="CAPITAL[OWN] <= CAPITAL[LOAN]",
        importance="high",
        message="Vốn tự có ({left}) vượt vốn vay ({right}).",
    )
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    entries = [
        Entry(cycle.capital, sub.unit, "2024", Decimal(10), "LOAN"),
        Entry(cycle.capital, sub.unit, "2024", Decimal(50), "OWN"),
    ]
    services.save_draft(sub, cycle.commune_officer, entries=entries, texts={})
    with refused("reporting.rules_violated", violations="Vốn tự có (50) vượt vốn vay (10)"):
        services.submit(sub, cycle.commune_officer)
    sub.refresh_from_db()
    assert sub.state == SubmissionState.DRAFT
    services.save_draft(
        sub,
        cycle.commune_officer,
        entries=[Entry(cycle.capital, sub.unit, "2024", Decimal(5), "OWN")],
        texts={},
    )
    services.submit(sub, cycle.commune_officer)


def test_completeness_takes_three_queries_whatever_the_number_of_recipients(
    cycle, django_assert_num_queries
):
    from tiendo.reporting.completeness import completeness, summary

    sub = services.open_submission(cycle.request, cycle.tree.c1)
    services.submit(sub, cycle.commune_officer)
    services.waive(cycle.request, cycle.tree.c2, cycle.district_officer, "Không có hộ")
    with django_assert_num_queries(3):
        rows = completeness(cycle.request)
    assert [(r.unit.code, r.status) for r in rows] == [
        ("00001", "late"),
        ("00002", "waived"),
        ("028", "missing"),
    ]
    assert summary(rows)["owing"] == 1
