"""The account services: who may create, change, lock and reset which account."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.core import mail
from django.urls import reverse

from tiendo.accounts import scope
from tiendo.accounts.models import Role, User
from tiendo.accounts.services import (
    AccountError,
    create_account,
    reset_password,
    set_active,
    update_account,
)
from tiendo.core.models import AuditEntry


def _refused(code, call, *args, **kwargs):
    with pytest.raises(AccountError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def test_a_coordinator_creates_an_account_in_a_commune_below_with_a_one_time_password(tree, people):
    issued = create_account(
        people["coordinator"],
        username="xa.moihai",
        unit=tree.n2,
        role=Role.COMMUNE_OFFICER,
        full_name="Trần Thị Hai",
        email="hai@example.vn",
        position="Công chức địa chính",
    )
    account = User.objects.get(username="xa.moihai")
    assert account.unit == tree.n2 and account.role == Role.COMMUNE_OFFICER
    assert account.get_full_name() == "Trần Thị Hai"
    assert account.position == "Công chức địa chính"
    assert issued.password and account.check_password(issued.password)
    assert account.must_change_password
    entry = AuditEntry.objects.get(action="account.created")
    assert entry.actor == people["coordinator"] and entry.unit == tree.n2
    assert entry.data["role"] == Role.COMMUNE_OFFICER and entry.data["password"] == "one_time"
    assert issued.password not in str(entry.data)


def test_a_coordinator_never_gives_the_administrator_role(tree, people):
    _refused(
        "account.role_above_own",
        create_account,
        people["coordinator"],
        username="tuquantri",
        unit=tree.n1,
        role=Role.ADMIN,
    )
    assert not User.objects.filter(username="tuquantri").exists()


def test_a_coordinator_never_creates_an_account_outside_its_subtree(tree, people):
    for unit in (tree.other_commune, tree.ha_giang, tree.nation):
        _refused(
            "account.unit_out_of_scope",
            create_account,
            people["coordinator"],
            username="ngoai",
            unit=unit,
            role=Role.COMMUNE_OFFICER,
        )
    _refused(
        "account.unit_required",
        create_account,
        people["coordinator"],
        username="ngoai",
        unit=None,
        role=Role.COMMUNE_OFFICER,
    )


def test_a_leader_and_an_officer_create_no_account(tree, people):
    for persona in ("leader", "officer"):
        _refused(
            "account.not_manager",
            create_account,
            people[persona],
            username="moi",
            unit=tree.n1,
            role=Role.LEADER,
        )


def test_usernames_are_unique_without_regard_to_case_and_must_be_valid(tree, people):
    _refused(
        "account.username_taken",
        create_account,
        people["coordinator"],
        username="XA.MOIMOT",
        unit=tree.n1,
        role=Role.COMMUNE_OFFICER,
    )
    _refused(
        "account.username_invalid",
        create_account,
        people["coordinator"],
        username="có dấu cách",
        unit=tree.n1,
        role=Role.COMMUNE_OFFICER,
    )
    _refused(
        "account.bad_email",
        create_account,
        people["coordinator"],
        username="hop.le",
        email="khong-phai-email",
        unit=tree.n1,
        role=Role.COMMUNE_OFFICER,
    )


def test_the_administrator_creates_an_administrator_without_a_unit(people):
    issued = create_account(people["admin"], username="quantri2", unit=None, role=Role.ADMIN)
    assert issued.account.role == Role.ADMIN and issued.account.unit is None


def test_an_edit_changes_role_unit_name_and_is_audited_with_old_and_new(tree, people):
    officer = people["officer"]
    changes = update_account(
        people["coordinator"],
        officer.pk,
        version=officer.version,
        full_name="Lê Văn Một",
        email="mot@example.vn",
        unit=tree.n2,
        role=Role.AGENCY_OFFICER,
        position="Phó chủ tịch",
    )
    officer.refresh_from_db()
    assert officer.unit == tree.n2 and officer.role == Role.AGENCY_OFFICER
    assert officer.version == 1
    assert changes["unit"] == ("10001", "10002")
    entry = AuditEntry.objects.get(action="account.changed")
    assert entry.data["changes"]["role"] == [Role.COMMUNE_OFFICER, Role.AGENCY_OFFICER]
    assert entry.data["changes"]["first_name"] == ["", "Lê Văn Một"]


def test_an_edit_prepared_before_someone_elses_save_is_refused(tree, people):
    officer = people["officer"]
    prepared = officer.version
    update_account(
        people["admin"],
        officer.pk,
        version=prepared,
        full_name="Tên mới",
        email="",
        unit=tree.n1,
        role=Role.COMMUNE_OFFICER,
    )
    _refused(
        "account.stale",
        update_account,
        people["coordinator"],
        officer.pk,
        version=prepared,
        full_name="Tên cũ của người sửa sau",
        email="",
        unit=tree.n1,
        role=Role.COMMUNE_OFFICER,
    )
    officer.refresh_from_db()
    assert officer.first_name == "Tên mới"


def test_a_coordinator_does_not_edit_an_administrator_nor_another_provinces_account(tree, people):
    people["admin"].unit = tree.tuyen_quang
    people["admin"].save()
    for target in ("admin", "stranger"):
        account = people[target]
        _refused(
            "account.out_of_scope",
            update_account,
            people["coordinator"],
            account.pk,
            version=account.version,
            full_name="X",
            email="",
            unit=account.unit,
            role=account.role,
        )
        _refused("account.out_of_scope", set_active, people["coordinator"], account.pk, False)
        _refused("account.out_of_scope", reset_password, people["coordinator"], account.pk)


def test_a_coordinator_does_not_move_itself_to_another_unit_nor_promote_itself(tree, people):
    me = people["coordinator"]
    _refused(
        "account.own_unit",
        update_account,
        me,
        me.pk,
        version=me.version,
        full_name="",
        email="",
        unit=tree.n1,
        role=Role.COORDINATOR,
    )
    _refused(
        "account.own_role",
        update_account,
        me,
        me.pk,
        version=me.version,
        full_name="",
        email="",
        unit=tree.tuyen_quang,
        role=Role.ADMIN,
    )
    # its own name it may change
    update_account(
        me,
        me.pk,
        version=me.version,
        full_name="Văn phòng điều phối tỉnh",
        email="",
        unit=tree.tuyen_quang,
        role=Role.COORDINATOR,
    )


def test_a_coordinator_does_not_move_an_account_out_of_its_subtree(tree, people):
    officer = people["officer"]
    _refused(
        "account.unit_out_of_scope",
        update_account,
        people["coordinator"],
        officer.pk,
        version=officer.version,
        full_name="",
        email="",
        unit=tree.other_commune,
        role=Role.COMMUNE_OFFICER,
    )


def test_deactivating_keeps_the_account_and_ends_its_logins(tree, people, client):
    officer = people["officer"]
    client.force_login(officer)
    assert client.get(reverse("home")).status_code == 200
    set_active(people["coordinator"], officer.pk, False)
    officer.refresh_from_db()
    assert not officer.is_active
    assert client.get(reverse("home")).status_code == 302  # the open session ended
    assert ModelBackend().authenticate(None, username="xa.moimot", password="matkhau-thu") is None
    assert AuditEntry.objects.filter(action="account.deactivated", object_id=str(officer.pk))
    set_active(people["coordinator"], officer.pk, True)
    assert ModelBackend().authenticate(None, username="xa.moimot", password="matkhau-thu")
    _refused(
        "account.own_active", set_active, people["coordinator"], people["coordinator"].pk, False
    )


def test_a_reset_without_mail_gives_a_one_time_password_that_must_be_changed(people, settings):
    settings.SMTP_HOST = ""
    officer = people["officer"]
    officer.email = "mot@example.vn"
    officer.save()
    issued = reset_password(people["coordinator"], officer.pk, site_url="http://testserver/")
    officer.refresh_from_db()
    assert issued.password and officer.check_password(issued.password)
    assert not officer.check_password("matkhau-thu")
    assert officer.must_change_password and not mail.outbox
    entry = AuditEntry.objects.get(action="account.password_reset")
    assert entry.data["password"] == "one_time"


def test_a_reset_with_mail_configured_sends_the_reset_link_and_shows_no_password(
    people, settings, client, django_capture_on_commit_callbacks
):
    settings.SMTP_HOST = "smtp.example.vn"
    officer = people["officer"]
    officer.email = "mot@example.vn"
    officer.save()
    with django_capture_on_commit_callbacks(execute=True):
        issued = reset_password(people["coordinator"], officer.pk, site_url="http://testserver/")
    assert issued.password is None and issued.emailed_to == "mot@example.vn"
    officer.refresh_from_db()
    assert not officer.has_usable_password() and not officer.must_change_password
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mot@example.vn"]
    link = next(w for w in mail.outbox[0].body.split() if w.startswith("http://testserver/"))
    # the link opens the page that sets the password
    response = client.get(link, follow=True)
    assert response.status_code == 200 and response.context["validlink"]
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Mat-khau-moi-2026", "new_password2": "Mat-khau-moi-2026"},
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("Mat-khau-moi-2026")


def test_scope_lists_only_the_accounts_a_manager_manages(people):
    assert set(scope.manageable_accounts(people["coordinator"])) == {
        people["coordinator"],
        people["officer"],
        people["leader"],
    }
    assert set(scope.manageable_accounts(people["admin"])) == set(User.objects.all())
    assert not scope.manageable_accounts(people["leader"]).exists()
