"""Django's admin site at /quan-tri-he-thong/: system administrators only; the audit log and
value history are read-only there."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.core.audit import audit
from tiendo.core.models import AuditEntry
from tiendo.data.models import DataValueChange
from tiendo.data.services import Entry, save_value


def _as(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def entry(people):
    return audit("test.entry", actor=people["admin"], message="ghi thử")


def test_anonymous_is_sent_to_the_sites_one_login_page(db):
    response = Client().get(reverse("admin:index"), follow=True)
    first, last = response.redirect_chain[0][0], response.redirect_chain[-1][0]
    assert first.startswith(reverse("admin:login"))
    assert last.startswith(reverse("login")) and "quan-tri-he-thong" in last


@pytest.mark.parametrize("persona", ["coordinator", "leader", "officer", "stranger"])
def test_no_one_but_a_system_administrator_enters(people, persona):
    user = people[persona]
    user.is_staff = True  # staff status alone does not let a coordinator in
    user.save()
    client = _as(user)
    assert client.get(reverse("admin:index"), follow=True).status_code == 403
    assert client.get(reverse("admin:accounts_user_changelist"), follow=True).status_code == 403


def test_the_administrator_role_needs_staff_status_too(people):
    admin = people["admin"]
    admin.is_staff = False
    admin.save()
    assert _as(admin).get(reverse("admin:index"), follow=True).status_code == 403


def test_a_staff_administrator_and_a_superuser_enter(tree, people):
    assert _as(people["admin"]).get(reverse("admin:index")).status_code == 200
    root = factories.user("root", None, Role.LEADER, is_superuser=True)
    assert _as(root).get(reverse("admin:index")).status_code == 200


def test_the_audit_log_is_read_only(people, entry):
    client = _as(people["admin"])
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    change = reverse("admin:core_auditentry_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"action": "falsified"}).status_code == 403
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    delete = reverse("admin:core_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "test.entry"
    root = factories.user("root", None, Role.LEADER, is_superuser=True, is_staff=True)
    assert _as(root).post(change, {"action": "falsified"}).status_code == 403


def test_value_history_is_read_only(tree, people):
    prog = factories.programme()
    households = factories.indicator(prog, "HH")
    save_value(Entry(households, tree.n1, "2025", factories.D(12)), user=people["admin"])
    change = DataValueChange.objects.get()
    client = _as(people["admin"])
    url = reverse("admin:data_datavaluechange_change", args=[change.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"new_value": "99"}).status_code == 403
    assert client.get(reverse("admin:data_datavaluechange_add")).status_code == 403
    change.refresh_from_db()
    assert change.new_value == 12


def test_a_save_in_the_admin_is_audited(tree, people):
    client = _as(people["admin"])
    unit = tree.n1
    url = reverse("admin:units_unit_change", args=[unit.pk])
    response = client.post(
        url,
        {
            "code": unit.code,
            "name": "Xã Mới Một (đổi tên)",
            "kind": unit.kind,
            "level": unit.level,
            "parent": unit.parent_id,
            "valid_from": "01/07/2025",
            "valid_to": "",
            "source": unit.source,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    unit.refresh_from_db()
    assert unit.name == "Xã Mới Một (đổi tên)" and unit.valid_from == factories.NEW_START
    entry = AuditEntry.objects.get(action="admin.changed")
    assert entry.actor == people["admin"] and "Tên" in str(entry.data["changes"])


def test_a_password_set_in_the_admin_is_audited(people):
    officer = people["officer"]
    url = reverse("admin:auth_user_password_change", args=[officer.pk])
    response = _as(people["admin"]).post(
        url,
        {
            "password1": "Mat-khau-moi-2026",
            "password2": "Mat-khau-moi-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("Mat-khau-moi-2026")
    entry = AuditEntry.objects.get(action="admin.changed", object_id=str(officer.pk))
    assert entry.actor == people["admin"]
