"""The home page per role, after a round of letters: the commune owes a returned report and
an overdue one, the district has one to approve, the coordinator follows its letters, the
leader reads figures and is given no task.

Vị Xuyên sends two letters to Xã Một and Xã Hai: 15/UBND-NN (due in three days) — Xã Một's
answer is returned with a reason, Xã Hai's approved — and 20/UBND-NN (two days overdue) —
Xã Hai has sent it, Xã Một has not started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tiendo.accounts.models import Role, User
from tiendo.analytics import home
from tiendo.core.audit import notify
from tiendo.data.services import Entry, save_value
from tiendo.programmes.periods import Period
from tiendo.reporting import services
from tiendo.reporting.models import (
    Form,
    FormIndicator,
    ReportRequest,
    RequestRecipient,
    Submission,
)

RETURN_REASON = "Số hộ chưa khớp danh sách hộ tham gia."


@dataclass
class Round:
    tree: factories.MiniTree
    due_soon: ReportRequest
    overdue: ReportRequest
    returned: Submission
    approved: Submission
    waiting: Submission
    commune: User
    other_commune: User
    district: User
    coordinator: User
    leader: User


def letter(tree, form, number, deadline, coordinator) -> ReportRequest:
    req = ReportRequest.objects.create(
        number_symbol=number,
        issued_on=date(2024, 11, 20),
        issuer=tree.vi_xuyen,
        title=f"Báo cáo kết quả năm 2024 ({number})",
        period="2024",
        deadline=deadline,
    )
    req.forms.add(form)
    for u in (tree.c1, tree.c2):
        RequestRecipient.objects.create(request=req, unit=u)
    services.send_request(req, coordinator)
    return req


def submitted(req, unit, officer) -> Submission:
    sub = services.open_submission(req, unit)
    return services.submit(sub, officer)


@pytest.fixture
def world(tree) -> Round:
    prog = factories.programme("NQ05", "Nghị quyết 05")
    households = factories.indicator(prog, "HOUSEHOLDS", name="Số hộ tham gia", order=0)
    capital = factories.indicator(
        prog, "CAPITAL", name="Vốn thực hiện", measure_unit="triệu đồng", order=1
    )
    commune = factories.user("xa1", tree.c1, Role.COMMUNE_OFFICER)
    other_commune = factories.user("xa2", tree.c2, Role.COMMUNE_OFFICER)
    district = factories.user(
        "huyen", tree.vi_xuyen, Role.AGENCY_OFFICER, first_name="Trần", last_name="Huyện"
    )
    coordinator = factories.user("bcd", tree.ha_giang, Role.COORDINATOR)
    leader = factories.user("lanhdao", tree.ha_giang, Role.LEADER)
    for year, c1, c2 in (("2023", 10, 8), ("2024", 12, 5)):
        save_value(Entry(households, tree.c1, year, factories.D(c1)), user=commune)
        save_value(Entry(households, tree.c2, year, factories.D(c2)), user=other_commune)
    save_value(Entry(capital, tree.c1, "2024", factories.D(250)), user=commune)
    form = Form.objects.create(
        code="NQ05_XA",
        name="Biểu kết quả Nghị quyết 05",
        programme=prog,
        unit_kinds=["commune"],
        period_type="year",
        opens_days_before_end=400,
        closes_days_after_end=(timezone.localdate() - Period.parse("2024").end).days + 30,
    )
    FormIndicator.objects.create(form=form, indicator=households, order=0)
    today = timezone.localdate()
    due_soon = letter(tree, form, "15/UBND-NN", today + timedelta(days=3), coordinator)
    overdue = letter(tree, form, "20/UBND-NN", today - timedelta(days=2), coordinator)
    returned = services.return_submission(
        submitted(due_soon, tree.c1, commune), district, RETURN_REASON
    )
    approved = services.approve(submitted(due_soon, tree.c2, other_commune), district)
    waiting = submitted(overdue, tree.c2, other_commune)
    return Round(
        tree,
        due_soon,
        overdue,
        returned,
        approved,
        waiting,
        commune,
        other_commune,
        district,
        coordinator,
        leader,
    )


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, name: str) -> str:
    """The text of the home page's section ``id=name`` (empty when the page has none)."""
    start = html.find(f'id="{name}"')
    if start < 0:
        return ""
    return html[start : html.find("</section>", start)]


# --- wording of deadlines --------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "text", "overdue"),
    [
        (3, "còn 3 ngày", False),
        (1, "còn 1 ngày", False),
        (0, "hạn là hôm nay", False),
        (-2, "quá hạn 2 ngày", True),
    ],
)
def test_a_deadline_is_worded_in_days_left_or_overdue(days, text, overdue):
    today = date(2025, 3, 10)
    note = home.deadline_note(today + timedelta(days=days), today)
    assert note.text == text
    assert note.overdue is overdue


# --- the commune officer -----------------------------------------------------------------


def test_the_commune_officer_sees_the_returned_report_with_its_reason_and_who_returned_it(
    client, world
):
    owed = section(page(client, world.commune), "owed")
    assert "15/UBND-NN" in owed and "còn 3 ngày" in owed
    assert RETURN_REASON in owed
    assert "Trần Huyện" in owed and "Huyện Vị Xuyên" in owed
    assert reverse("reporting:submission", args=[world.returned.pk]) in owed


def test_the_commune_officer_sees_the_overdue_letter_it_has_not_started(client, world):
    owed = section(page(client, world.commune), "owed")
    assert "20/UBND-NN" in owed and "quá hạn 2 ngày" in owed
    assert reverse("reporting:answer", args=[world.overdue.pk, world.tree.c1.pk]) in owed
    # the overdue one first: the nearest deadline leads
    assert owed.index("20/UBND-NN") < owed.index("15/UBND-NN")


def test_a_commune_that_answered_everything_owes_nothing(client, world):
    html = page(client, world.other_commune)
    owed = section(html, "owed")
    assert "15/UBND-NN" not in owed and "20/UBND-NN" not in owed
    assert "Đơn vị không còn báo cáo nào phải gửi." in owed
    assert section(html, "pending") == ""  # a commune approves no one
    assert section(html, "letters") == ""  # nor sends letters


def test_a_waived_letter_is_not_owed(client, world):
    services.waive(world.overdue, world.tree.c1, world.district, "Xã sáp nhập.")
    owed = section(page(client, world.commune), "owed")
    assert "20/UBND-NN" not in owed and "15/UBND-NN" in owed


def test_the_commune_officer_sees_its_unread_notifications_with_their_count(client, world):
    html = page(client, world.commune)
    notes = section(html, "notifications")
    # two letters and a return, none read
    assert '<span class="badge warn">3</span>' in notes
    assert "bị trả lại" in notes and RETURN_REASON in notes
    assert 'data-unread="3"' in html  # the nav's badge


def test_the_commune_officer_sees_the_key_figures_of_its_programme_with_the_trend(client, world):
    figures = section(page(client, world.commune), "key-figures")
    assert "Nghị quyết 05" in figures and "năm 2024" in figures
    assert "12 hộ" in figures
    assert "▲ tăng 2 hộ so với năm 2023" in figures
    assert 'data-direction="up"' in figures
    assert "250 triệu đồng" in figures
    assert "chưa có số liệu năm 2023 để so sánh" in figures  # capital began in 2024


# --- the district officer, who approves ----------------------------------------------------


def test_the_district_officer_sees_what_waits_for_its_approval(client, world):
    pending = section(page(client, world.district), "pending")
    assert "Xã Hai" in pending and "20/UBND-NN" in pending
    assert reverse("reporting:submission", args=[world.waiting.pk]) in pending
    # returned and approved answers wait for no one
    assert reverse("reporting:submission", args=[world.returned.pk]) not in pending
    assert reverse("reporting:submission", args=[world.approved.pk]) not in pending


def test_approvals_waiting_are_listed_oldest_first(world):
    later = submitted(world.overdue, world.tree.c1, world.commune)
    waiting = home.awaiting_my_approval(world.district)
    assert waiting.count == 2
    assert [s.pk for s in waiting.submissions] == [world.waiting.pk, later.pk]


# --- the coordinator, who sent the letters -------------------------------------------------


def test_the_coordinator_follows_its_letters_answered_x_of_y(client, world):
    letters = section(page(client, world.coordinator), "letters")
    assert reverse("reporting:request", args=[world.due_soon.pk]) in letters
    assert reverse("reporting:request", args=[world.overdue.pk]) in letters
    assert "Đã gửi 1/2 đơn vị (50%)" in letters
    assert "đã duyệt 1" in letters and "đã duyệt 0" in letters
    assert "quá hạn 2 ngày" in letters


def test_a_waived_unit_leaves_the_count_of_expected_answers(world):
    services.waive(world.overdue, world.tree.c1, world.district, "Xã sáp nhập.")
    progress = {p.request.pk: p for p in home.letters_in_progress(world.coordinator, date.today())}
    overdue = progress[world.overdue.pk]
    assert (overdue.answered, overdue.expected, overdue.percent) == (1, 1, "100%")


def test_a_closed_letter_is_no_longer_in_progress(world):
    ReportRequest.objects.filter(pk=world.due_soon.pk).update(status="closed")
    progress = home.letters_in_progress(world.coordinator, date.today())
    assert [p.request.pk for p in progress] == [world.overdue.pk]


def test_another_province_coordinator_sees_none_of_these_letters(world):
    stranger = factories.user("bcd.quangtri", world.tree.other_province, Role.COORDINATOR)
    assert home.letters_in_progress(stranger, date.today()) == []
    assert home.awaiting_my_approval(stranger).count == 0


def test_the_successor_provinces_coordinator_follows_no_letter_of_the_older_tree(world):
    """Tuyên Quang reads what Hà Giang's units did, but does not send their letters."""
    successor = factories.user("bcd.tuyenquang", world.tree.tuyen_quang, Role.COORDINATOR)
    assert home.letters_in_progress(successor, date.today()) == []


# --- the leader -------------------------------------------------------------------------


def test_the_leader_sees_figures_and_no_data_entry_task(client, world):
    html = page(client, world.leader)
    for name in ("owed", "pending", "letters"):
        assert section(html, name) == ""
    figures = section(html, "key-figures")
    # Hà Giang: 18 households in 2023, 17 in 2024
    assert "17 hộ" in figures and "▼ giảm 1 hộ so với năm 2023" in figures
    assert 'data-direction="down"' in figures
    assert "Lập báo cáo" not in html and reverse("data:entry") not in section(html, "key-figures")
    # the figures come before anything else for a leader
    assert html.index('id="key-figures"') < html.index('id="notifications"')


# --- cost ----------------------------------------------------------------------------------


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("home")).status_code == 200
    return len(captured.captured_queries)


def more_of_everything(world, n: int = 6) -> None:
    """More letters, answers, notifications and figures than the page shows."""
    form = Form.objects.get(code="NQ05_XA")
    today = timezone.localdate()
    for i in range(n):
        req = letter(
            world.tree, form, f"{30 + i}/UBND-NN", today + timedelta(days=i), world.coordinator
        )
        submitted(req, world.tree.c2, world.other_commune)
    for user in (world.commune, world.district, world.coordinator, world.leader):
        for i in range(n):
            notify([user], "Thông báo thử %(i)s", params={"i": i}, link="/bao-cao/")


@pytest.mark.parametrize("persona", ["commune", "district", "coordinator", "leader"])
def test_the_home_page_costs_a_fixed_number_of_queries(
    client, world, persona, django_assert_max_num_queries
):
    client.force_login(getattr(world, persona))
    count_queries(client)  # what the first request of a session fills is not counted
    before = count_queries(client)
    more_of_everything(world)
    with django_assert_max_num_queries(before):
        client.get(reverse("home"))
    with django_assert_max_num_queries(40):
        client.get(reverse("home"))


# --- access --------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_user_of_another_province_sees_nothing_of_these_units(client, world):
    stranger = factories.user("bcd.quangtri", world.tree.other_province, Role.COORDINATOR)
    html = page(client, stranger)
    for text in ("15/UBND-NN", "20/UBND-NN", "Xã Một", "Xã Hai", RETURN_REASON):
        assert text not in html
