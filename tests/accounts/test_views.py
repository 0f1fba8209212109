"""The account pages, with each persona: anonymous, another province's coordinator, the
read-only leader, a commune officer, the coordinator on its own subtree, the administrator."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role, User
from tiendo.core.models import AuditEntry


def _as(persona):
    client = Client()
    client.force_login(persona)
    return client


def _edit_post(account, **overrides):
    data = {
        "full_name": account.first_name,
        "email": account.email,
        "position": account.position,
        "unit_code": account.unit.code if account.unit else "",
        "role": account.role,
        "version": account.version,
    }
    data.update(overrides)
    return data


def test_anonymous_is_sent_to_the_login_page(people):
    officer = people["officer"]
    client = Client()
    for url in (
        reverse("accounts:list"),
        reverse("accounts:create"),
        reverse("accounts:import"),
        reverse("accounts:edit", args=[officer.pk]),
        reverse("accounts:password_change"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("accounts:active", args=[officer.pk]), {"active": "0"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.is_active


@pytest.mark.parametrize("persona", ["leader", "officer"])
def test_the_leader_and_a_commune_officer_get_no_account_page(people, persona):
    client = _as(people[persona])
    target = people["officer"] if persona == "leader" else people["leader"]
    for url in (
        reverse("accounts:list"),
        reverse("accounts:create"),
        reverse("accounts:import"),
        reverse("accounts:edit", args=[target.pk]),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("accounts:active", args=[target.pk]), {"active": "0"})
    assert response.status_code == 403
    response = client.post(
        reverse("accounts:create"), {"username": "x", "unit_code": "10001", "role": "leader"}
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()
    target.refresh_from_db()
    assert target.is_active
    # and the navigation does not offer the pages
    assert f'href="{reverse("accounts:list")}"' not in client.get(reverse("home")).content.decode()


def test_another_provinces_coordinator_sees_and_touches_none_of_tuyen_quangs_accounts(people):
    client = _as(people["stranger"])
    listing = client.get(reverse("accounts:list")).content.decode()
    assert "xa.moimot" not in listing and "bcd.quangtri" in listing
    officer = people["officer"]
    assert client.get(reverse("accounts:edit", args=[officer.pk])).status_code == 403
    response = client.post(reverse("accounts:edit", args=[officer.pk]), _edit_post(officer))
    assert response.status_code == 403
    assert client.post(reverse("accounts:reset_password", args=[officer.pk])).status_code == 403
    response = client.post(
        reverse("accounts:create"),
        {"username": "xa.la", "unit_code": "10001", "role": "commune_officer"},
    )
    assert response.status_code == 200
    assert "nằm ngoài phạm vi" in response.content.decode()
    assert not User.objects.filter(username="xa.la").exists()


def test_the_coordinator_lists_searches_and_pages_its_accounts(tree, people):
    for n in range(55):
        factories.user(f"xa.n2.{n:02d}", tree.n2, Role.COMMUNE_OFFICER)
    client = _as(people["coordinator"])
    first = client.get(reverse("accounts:list"))
    assert first.status_code == 200
    assert first.context["total"] == 58 and len(first.context["page"].object_list) == 50
    second = client.get(reverse("accounts:list"), {"page": 2})
    assert len(second.context["page"].object_list) == 8
    found = client.get(reverse("accounts:list"), {"q": "moimot"})
    assert [a.username for a in found.context["page"].object_list] == ["xa.moimot"]
    assert "bcd.quangtri" not in first.content.decode()
    # the navigation offers the account pages to a manager
    assert f'href="{reverse("accounts:list")}"' in client.get(reverse("home")).content.decode()


def test_the_coordinator_creates_an_account_and_sees_its_password_once(tree, people):
    client = _as(people["coordinator"])
    form = client.get(reverse("accounts:create"))
    assert "Quản trị hệ thống" not in [
        label for _, label in form.context["form"].fields["role"].choices
    ]
    response = client.post(
        reverse("accounts:create"),
        {
            "username": "xa.moiba",
            "full_name": "Hoàng Văn Ba",
            "email": "",
            "position": "",
            "unit_code": "10003",
            "role": "commune_officer",
        },
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = response.context["issued"].password
    assert password in response.content.decode()
    account = User.objects.get(username="xa.moiba")
    assert account.unit == tree.n3 and account.check_password(password)
    # the new account logs in and is sent to change its password before anything else
    client = _as(account)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(
        "accounts:password_change"
    )
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "Mat-khau-rieng-2026",
            "new_password2": "Mat-khau-rieng-2026",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert not account.must_change_password and account.check_password("Mat-khau-rieng-2026")
    assert client.get(reverse("home")).status_code == 200  # still logged in
    assert AuditEntry.objects.filter(action="account.password_changed", actor=account).exists()


def test_a_posted_admin_role_or_a_unit_outside_is_refused_by_the_form(people):
    client = _as(people["coordinator"])
    response = client.post(
        reverse("accounts:create"), {"username": "a", "unit_code": "10001", "role": "admin"}
    )
    assert response.status_code == 200 and response.context["form"].errors["role"]
    response = client.post(
        reverse("accounts:create"), {"username": "a", "unit_code": "99999", "role": "leader"}
    )
    assert response.context["form"].errors["unit_code"]
    assert not User.objects.filter(username="a").exists()


def test_the_coordinator_edits_an_account_and_a_stale_form_is_refused(tree, people):
    client = _as(people["coordinator"])
    officer = people["officer"]
    page = client.get(reverse("accounts:edit", args=[officer.pk]))
    assert page.status_code == 200
    stale = _edit_post(officer, full_name="Người sửa sau")
    response = client.post(
        reverse("accounts:edit", args=[officer.pk]),
        _edit_post(officer, full_name="Nguyễn Thị Một", unit_code="10002", role="agency_officer"),
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert (officer.first_name, officer.unit, officer.role) == (
        "Nguyễn Thị Một",
        tree.n2,
        Role.AGENCY_OFFICER,
    )
    response = client.post(reverse("accounts:edit", args=[officer.pk]), stale)
    assert response.status_code == 200
    assert "người khác sửa" in response.content.decode()
    officer.refresh_from_db()
    assert officer.first_name == "Nguyễn Thị Một"


def test_the_coordinator_cannot_edit_itself_into_another_unit(people):
    me = people["coordinator"]
    client = _as(me)
    response = client.post(
        reverse("accounts:edit", args=[me.pk]), _edit_post(me, unit_code="10001")
    )
    assert response.status_code == 200 and response.context["form"].errors["unit_code"]
    me.refresh_from_db()
    assert me.unit.code == "08"


def test_the_coordinator_cannot_open_an_administrators_account(tree, people):
    admin = people["admin"]
    admin.unit = tree.tuyen_quang
    admin.save()
    client = _as(people["coordinator"])
    assert client.get(reverse("accounts:edit", args=[admin.pk])).status_code == 403
    assert "quantri" not in client.get(reverse("accounts:list")).content.decode()


def test_the_coordinator_locks_unlocks_and_resets_a_password(people, settings):
    settings.SMTP_HOST = ""
    client = _as(people["coordinator"])
    officer = people["officer"]
    response = client.post(reverse("accounts:active", args=[officer.pk]), {"active": "0"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active
    client.post(reverse("accounts:active", args=[officer.pk]), {"active": "1"})
    officer.refresh_from_db()
    assert officer.is_active
    assert client.get(reverse("accounts:reset_password", args=[officer.pk])).status_code == 405
    response = client.post(reverse("accounts:reset_password", args=[officer.pk]))
    assert response.status_code == 200
    password = response.context["issued"].password
    officer.refresh_from_db()
    assert officer.check_password(password) and officer.must_change_password


def test_the_administrator_manages_every_account_and_gives_any_role(tree, people):
    client = _as(people["admin"])
    listing = client.get(reverse("accounts:list"))
    names = {a.username for a in listing.context["page"].object_list}
    assert {"bcd.quangtri", "xa.moimot", "quantri"} <= names
    stranger = people["stranger"]
    response = client.post(
        reverse("accounts:edit", args=[stranger.pk]), _edit_post(stranger, role="admin")
    )
    assert response.status_code == 302
    stranger.refresh_from_db()
    assert stranger.role == Role.ADMIN


def test_a_reset_link_of_nonsense_says_it_cannot_be_used(db):
    response = Client().get(reverse("accounts:reset_confirm", args=["MQ", "set-password"]))
    assert response.status_code == 200 and not response.context["validlink"]


def test_with_mail_configured_a_new_account_gets_a_link_and_the_page_shows_no_password(
    people, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    settings.SMTP_HOST = "smtp.example.vn"
    client = _as(people["coordinator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:create"),
            {
                "username": "xa.moihai",
                "email": "hai@example.vn",
                "unit_code": "10002",
                "role": "commune_officer",
            },
        )
    assert response.status_code == 200
    assert response.context["issued"].password is None
    assert "hai@example.vn" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["hai@example.vn"]]
    assert "/tai-khoan/dat-mat-khau/" in mail.outbox[0].body
    assert not User.objects.get(username="xa.moihai").has_usable_password()
