"""The notifications inbox: a person's own notifications, read or not; opening one marks it
read and follows its link inside the site only; nobody sees another person's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.core.models import Notification
from tiendo.core.notifications import PER_PAGE, safe_link


@pytest.fixture
def people(tree):
    return {
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }


def note(user, message="Báo cáo theo công văn 15/UBND-NN đã được duyệt.", link="/bao-cao/"):
    return Notification.objects.create(recipient=user, message=message, link=link)


def inbox(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("core:notifications"), params)
    assert response.status_code == 200
    return response.content.decode()


# --- the inbox -----------------------------------------------------------------------------


def test_the_inbox_lists_the_users_own_notifications_newest_first(client, people):
    older = note(people["officer"], "Thông báo cũ")
    newer = note(people["officer"], "Thông báo mới")
    note(people["stranger"], "Thông báo của người khác")
    html = inbox(client, people["officer"])
    assert html.index("Thông báo mới") < html.index("Thông báo cũ")
    assert "Thông báo của người khác" not in html
    assert f'data-notification="{newer.pk}"' in html and f'data-notification="{older.pk}"' in html
    assert "2 thông báo chưa đọc" in html


def test_the_inbox_filters_read_and_unread(client, people):
    unread = note(people["officer"], "Chưa đọc thông báo này")
    read = note(people["officer"], "Đã đọc thông báo này")
    Notification.objects.filter(pk=read.pk).update(read_at="2025-01-01T00:00:00Z")
    only_unread = inbox(client, people["officer"], loc="chua-doc")
    assert f'data-notification="{unread.pk}"' in only_unread
    assert f'data-notification="{read.pk}"' not in only_unread
    only_read = inbox(client, people["officer"], loc="da-doc")
    assert f'data-notification="{read.pk}"' in only_read
    assert f'data-notification="{unread.pk}"' not in only_read
    everything = inbox(client, people["officer"], loc="khac")  # an unknown filter: all
    assert f'data-notification="{read.pk}"' in everything
    assert f'data-notification="{unread.pk}"' in everything


def test_the_inbox_pages_its_notifications(client, people):
    Notification.objects.bulk_create(
        [Notification(recipient=people["officer"], message=f"Tin số {i}") for i in range(35)]
    )
    first = inbox(client, people["officer"])
    assert first.count("data-notification=") == PER_PAGE and "Trang 1/2" in first
    second = inbox(client, people["officer"], page=2)
    assert second.count("data-notification=") == 35 - PER_PAGE and "Trang 2/2" in second


def test_a_bad_page_number_shows_a_page_not_an_error(client, people):
    note(people["officer"])
    for page in ("x9", "-1", "999"):
        assert "data-notification=" in inbox(client, people["officer"], page=page)


def test_the_nav_shows_the_unread_count(client, people):
    note(people["officer"])
    note(people["officer"])
    client.force_login(people["officer"])
    html = client.get(reverse("units:list")).content.decode()
    assert 'data-unread="2"' in html and "Thông báo: 2 chưa đọc" in html


def test_the_nav_shows_no_count_when_everything_is_read(client, people):
    client.force_login(people["officer"])
    html = client.get(reverse("units:list")).content.decode()
    assert 'id="nav-notifications"' in html and "data-unread" not in html


# --- opening one ---------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, people):
    n = note(people["officer"], link="/bao-cao/bao-cao/12/")
    client.force_login(people["officer"])
    response = client.post(reverse("core:notification_open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == "/bao-cao/bao-cao/12/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_opening_a_read_notification_keeps_when_it_was_first_read(client, people):
    n = note(people["officer"])
    client.force_login(people["officer"])
    client.post(reverse("core:notification_open", args=[n.pk]))
    n.refresh_from_db()
    first = n.read_at
    client.post(reverse("core:notification_open", args=[n.pk]))
    n.refresh_from_db()
    assert n.read_at == first


@pytest.mark.parametrize(
    "link",
    [
        "https://example.com/",
        "//example.com/bao-cao/",
        "/\\example.com",
        "\\\\example.com",
        "javascript:alert(1)",
        "http:/example.com",
        "bao-cao/",
        "/bao-cao/\n//example.com",
        "",
    ],
)
def test_an_external_or_odd_link_is_never_followed(client, people, link):
    n = note(people["officer"], link=link)
    client.force_login(people["officer"])
    response = client.post(reverse("core:notification_open", args=[n.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:notifications")
    n.refresh_from_db()
    assert n.read_at is not None


def test_a_relative_link_with_a_query_is_kept():
    assert safe_link("/bao-cao/?loc=1#owed") == "/bao-cao/?loc=1#owed"
    assert safe_link("  /bao-cao/  ") == "/bao-cao/"


def test_someone_elses_notification_is_not_found(client, people):
    n = note(people["officer"])
    client.force_login(people["stranger"])
    assert client.post(reverse("core:notification_open", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_opening_is_a_post_only(client, people):
    n = note(people["officer"])
    client.force_login(people["officer"])
    assert client.get(reverse("core:notification_open", args=[n.pk])).status_code == 405
    n.refresh_from_db()
    assert n.read_at is None


def test_the_inbox_refuses_a_post(client, people):
    client.force_login(people["officer"])
    assert client.post(reverse("core:notifications")).status_code == 405


# --- reading them all ----------------------------------------------------------------------


def test_read_all_marks_only_the_users_own_notifications(client, people):
    mine = [note(people["officer"]) for _ in range(3)]
    theirs = note(people["stranger"])
    client.force_login(people["officer"])
    response = client.post(reverse("core:notifications_read_all"))
    assert response.status_code == 302 and response["Location"] == reverse("core:notifications")
    assert (
        Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).count() == 0
    )
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_is_a_post_only(client, people):
    note(people["officer"])
    client.force_login(people["officer"])
    assert client.get(reverse("core:notifications_read_all")).status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


# --- access: anonymous, another user, leader, allowed ---------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, people):
    n = note(people["officer"])
    login = reverse("login")
    for method, url in (
        ("get", reverse("core:notifications")),
        ("post", reverse("core:notification_open", args=[n.pk])),
        ("get", reverse("core:notification_open", args=[n.pk])),
        ("post", reverse("core:notifications_read_all")),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    n.refresh_from_db()
    assert n.read_at is None


def test_another_user_sees_nothing_of_the_officers_notifications(client, people):
    note(people["officer"], "Xã Một bị trả lại báo cáo")
    assert "Xã Một bị trả lại báo cáo" not in inbox(client, people["stranger"])
    client.post(reverse("core:notifications_read_all"))
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_a_leader_reads_and_opens_their_own_notifications(client, people):
    """Marking one's own notification read writes no figure: a read-only role may do it."""
    n = note(people["leader"], "Công văn mới của tỉnh", link="/bao-cao/")
    assert "Công văn mới của tỉnh" in inbox(client, people["leader"])
    response = client.post(reverse("core:notification_open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == "/bao-cao/"
    assert client.post(reverse("core:notifications_read_all")).status_code == 302


def test_the_officer_is_allowed_everywhere_in_their_inbox(client, people):
    n = note(people["officer"])
    assert f'data-notification="{n.pk}"' in inbox(client, people["officer"])
    assert client.post(reverse("core:notification_open", args=[n.pk])).status_code == 302
    assert client.post(reverse("core:notifications_read_all")).status_code == 302
