"""Logins that can't be guessed at, an audit trail of who came in and what they took away,
and pages that run no script but our own files."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.test_access import ROUTES
from tiendo.accounts.models import Role
from tiendo.core.models import AuditEntry

PASSWORD = "matkhau-thu"  # tests.factories.user


@pytest.fixture
def people(tree):
    return {
        "mot": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "hai": factories.user("xa.hai", tree.c2, Role.COMMUNE_OFFICER),
    }


def attempt(client, username, password, address):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_even_with_the_right_password(client, people):
    for _ in range(5):
        assert attempt(client, "xa.mot", "doan-mo", "10.0.0.1").status_code in (200, 429)
    response = attempt(client, "xa.mot", PASSWORD, "10.0.0.1")
    assert response.status_code == 429
    page = response.content.decode()
    assert "tạm thời bị khóa đăng nhập" in page
    assert "Xin thử lại sau 15 phút" in page
    assert not logged_in(client)


def test_four_wrong_passwords_do_not_lock_the_account(client, people):
    for _ in range(4):
        assert attempt(client, "xa.mot", "doan-mo", "10.0.0.1").status_code == 200
    assert attempt(client, "xa.mot", PASSWORD, "10.0.0.1").status_code == 302
    assert logged_in(client)


def test_a_locked_account_stays_locked_from_another_address(people):
    for _ in range(5):
        attempt(Client(), "xa.mot", "doan-mo", "10.0.0.1")
    elsewhere = Client()
    assert attempt(elsewhere, "xa.mot", PASSWORD, "10.0.0.9").status_code == 429
    assert not logged_in(elsewhere)


def test_an_address_guessing_many_accounts_is_locked_for_every_account(people):
    guesser = Client()
    for name in ("a", "b", "c", "d", "e"):
        attempt(guesser, f"khong.co.{name}", "doan-mo", "10.0.0.66")
    assert attempt(guesser, "xa.hai", PASSWORD, "10.0.0.66").status_code == 429
    assert not logged_in(guesser)


def test_another_account_from_another_address_is_not_affected(people):
    for _ in range(5):
        attempt(Client(), "xa.mot", "doan-mo", "10.0.0.1")
    other = Client()
    assert attempt(other, "xa.hai", PASSWORD, "10.0.0.2").status_code == 302
    assert logged_in(other)


def test_behind_a_proxy_the_address_is_read_from_x_forwarded_for(settings, people):
    settings.PROXY_COUNT = 1
    for _ in range(5):
        Client().post(
            reverse("login"),
            {"username": f"khong.co.{_}", "password": "doan-mo"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    # the proxy's own address is not what was locked: another client behind it logs in
    other = Client()
    response = other.post(
        reverse("login"),
        {"username": "xa.hai", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert response.status_code == 302
    # a client cannot unlock itself by sending an address of its own choosing on the left
    spoofed = Client().post(
        reverse("login"),
        {"username": "xa.mot", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7",
    )
    assert spoofed.status_code == 429


def test_logins_failed_logins_and_logouts_are_audited(client, people):
    attempt(client, "xa.mot", "doan-mo", "10.0.0.1")
    attempt(client, "xa.mot", PASSWORD, "10.0.0.1")
    client.post(reverse("logout"), REMOTE_ADDR="10.0.0.1")
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [e.action for e in entries] == ["auth.login_failed", "auth.login", "auth.logout"]
    failed, login, logout = entries
    assert failed.actor is None
    assert failed.data == {"username": "xa.mot", "ip": "10.0.0.1"}
    assert "doan-mo" not in str(failed.data) + failed.message
    assert login.actor == people["mot"] and login.unit == people["mot"].unit
    assert login.data == {"ip": "10.0.0.1"}
    assert logout.actor == people["mot"]


def test_a_lockout_is_audited(client, people):
    for _ in range(5):
        attempt(client, "xa.mot", "doan-mo", "10.0.0.1")
    locked = AuditEntry.objects.filter(action="auth.locked_out")
    assert locked.count() >= 1
    assert locked.first().data["username"] == "xa.mot"


DOWNLOADS = {
    "documents:download": "document.downloaded",
    "documents:template_download": "template.downloaded",
    "reporting:excel_download": "excel_form.downloaded",
    "reporting:request_export": "completeness.downloaded",
}


def test_every_file_download_is_audited(tree):
    world = factories.access_world(tree)
    for name, action in DOWNLOADS.items():
        route = ROUTES[name]
        client = Client()
        person = world.people[route.allowed]
        client.force_login(person)
        response = client.get(route.url(world))
        assert response.status_code == 200, name
        assert "attachment" in response["Content-Disposition"], name
        entry = AuditEntry.objects.filter(action=action).get()
        assert entry.actor == person, name
        assert entry.unit is not None, name
        assert entry.object_id, name


@pytest.mark.parametrize(
    "password",
    [
        "Kt-2024",  # shorter than 10
        "123456789012",  # digits only
        "password123",  # a common password
        "xa.mot.123",  # too close to the username
    ],
)
def test_weak_passwords_are_refused(people, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=people["mot"])


def test_a_long_uncommon_password_is_accepted(people):
    validate_password("vuon-cam-Kim-Thach-2024", user=people["mot"])


# --- Content Security Policy -------------------------------------------------------------

# a script element without src= that would run; a JSON data block (type="application/json",
# the API documentation page's settings) is data the browser never executes, as CSP says
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\ssrc=)(?![^>]*\stype=[\"']?application/json)[^>]*>", re.I
)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def test_every_response_carries_the_content_security_policy(client, people):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_no_page_has_inline_script_handlers_or_styles(tree):
    """Every route, as the persona allowed to see it and as the read-only leader: the HTML
    runs nothing but our static files, so the policy holds without 'unsafe-inline'."""
    world = factories.access_world(tree)
    pages = 0
    problems = []
    for name, route in ROUTES.items():
        for persona in {route.allowed, "leader"}:
            client = Client()
            client.force_login(world.people[persona])
            response = client.get(route.url(world), follow=route.allowed_get == 302)
            if "Content-Security-Policy" not in response:
                problems.append(f"{name}: no Content-Security-Policy header")
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            pages += 1
            html = response.content.decode()
            for label, pattern in (
                ("inline <script>", INLINE_SCRIPT),
                ("on*= handler", HANDLER),
                ("style= attribute", STYLE_ATTRIBUTE),
                ("javascript: URL", JAVASCRIPT_URL),
            ):
                for match in pattern.finditer(html):
                    problems.append(f"{name} as {persona}: {label} {match.group(0)[:80]}")
    anonymous = Client().get(reverse("login")).content.decode()
    assert not INLINE_SCRIPT.search(anonymous) and not STYLE_ATTRIBUTE.search(anonymous)
    assert pages >= 25
    assert not problems, "\n".join(problems)


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(client, people):
    client.force_login(people["mot"])
    html = client.get(reverse("home")).content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html
