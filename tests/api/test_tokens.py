"""Personal access tokens: what is stored, when they stop working, the page that makes them."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.testing import TestClient

from tests import factories
from tests.api.conftest import bearer
from tiendo.accounts.models import Role
from tiendo.api import errors, tokens
from tiendo.api.auth import BearerToken
from tiendo.api.models import Token

ROOT = Path(__file__).resolve().parents[2]

UNITS = "/api/v1/units/"
AUTH_REQUIRED_EN = "Log in or send an access token (Authorization: Bearer …)."


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)


def test_only_the_sha256_of_the_token_is_stored(officer):
    issued = tokens.issue(officer, "Bộ")
    row = Token.objects.get()
    assert issued.secret.startswith("tdo_") and len(issued.secret) == 4 + 43
    assert row.digest == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in {getattr(row, f.attname) for f in Token._meta.concrete_fields}
    assert issued.secret.startswith(row.hint) and len(row.hint) == 10
    assert tokens.issue(officer, "Bộ").secret != issued.secret


def test_a_live_token_authenticates_and_records_its_use(officer):
    issued = tokens.issue(officer, "Bộ")
    response = bearer(issued.secret).get(UNITS)
    assert response.status_code == 200
    assert Token.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"revoked_at": timezone.now()}, "token.revoked"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "token.expired"),
    ],
)
def test_a_revoked_or_expired_token_is_a_401(officer, change, code):
    issued = tokens.issue(officer, "Bộ", expires_at=timezone.now() + timedelta(days=1))
    Token.objects.update(**change)
    response = bearer(issued.secret).get(UNITS)
    assert response.status_code == 401
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "header",
    ["Bearer tdo_nope", "Bearer ", "Basic eDp5", "Bearer " + "tdo_" + "x" * 500, "Token abc"],
)
def test_a_bad_authorization_header_is_a_401_even_with_a_session(officer, header):
    client = Client(headers={"Authorization": header})
    client.force_login(officer)
    response = client.get(UNITS)
    assert response.status_code == 401
    assert response.json()["code"] == "token.invalid"
    assert (
        response.json()["message"] == "Mã truy cập không hợp lệ."
        or "Authorization" in (response.json()["message"])
    )


def test_a_token_of_a_deactivated_user_is_refused(officer):
    issued = tokens.issue(officer, "Bộ")
    officer.is_active = False
    officer.save()
    assert bearer(issued.secret).get(UNITS).status_code == 401


def test_anonymous_is_a_401_with_the_error_body_in_vietnamese_or_english(db):
    response = Client().get(UNITS)
    assert response.status_code == 401
    assert response.json() == {
        "code": "auth.required",
        "message": "Cần đăng nhập hoặc gửi mã truy cập (Authorization: Bearer …).",
    }
    answer = Client(headers={"Accept-Language": "en-GB,en;q=0.9"}).get(UNITS)
    assert answer.json() == {"code": "auth.required", "message": AUTH_REQUIRED_EN}
    assert answer["Content-Language"] == "en"


def test_the_site_session_reads_too(officer):
    client = Client()
    client.force_login(officer)
    assert client.get(UNITS).status_code == 200


def _write_api():
    """An API with one write, guarded as /api/v1/ is (the read-only rule holds for any
    method but GET, HEAD and OPTIONS before the operation runs)."""
    api = NinjaAPI(auth=[BearerToken()], urls_namespace="write_test")
    errors.install(api)

    @api.post("/write")
    def write(request):
        return {"user": request.auth.username}

    return TestClient(api)


def test_a_read_only_token_is_refused_on_a_write_and_a_writing_one_is_not(officer):
    client = _write_api()
    reader = tokens.issue(officer, "đọc", read_only=True).secret
    writer = tokens.issue(officer, "ghi", read_only=False).secret
    refused = client.post("/write", headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "token.read_only"
    allowed = client.post("/write", headers={"Authorization": f"Bearer {writer}"})
    assert allowed.status_code == 200 and allowed.json() == {"user": "xa.mot"}


# --- the page ---


def test_the_page_needs_a_login(db):
    response = Client().get(reverse("api:tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_creates_a_token_and_shows_its_secret_once(officer):
    client = Client()
    client.force_login(officer)
    response = client.post(
        reverse("api:tokens"), {"name": "Hệ thống của Bộ", "lifetime": "30", "read_only": "on"}
    )
    assert response.status_code == 200
    token = Token.objects.get()
    page = response.content.decode()
    secret = page.split('class="one-time-password">')[1].split("<")[0]
    assert tokens.digest(secret) == token.digest
    assert response["Cache-Control"] == "no-store"
    assert token.read_only and token.name == "Hệ thống của Bộ"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    again = client.get(reverse("api:tokens")).content.decode()
    assert secret not in again and token.hint in again


def test_a_bad_form_creates_nothing(officer):
    client = Client()
    client.force_login(officer)
    response = client.post(reverse("api:tokens"), {"name": "", "lifetime": "9999"})
    assert response.status_code == 200
    assert not Token.objects.exists()


def test_a_leader_token_is_read_only_whatever_is_posted(tree):
    leader = factories.user("lanhdao", tree.ha_giang, Role.LEADER)
    client = Client()
    client.force_login(leader)
    client.post(reverse("api:tokens"), {"name": "Tổng hợp", "lifetime": "90"})
    assert Token.objects.get().read_only


def test_one_revokes_one_own_tokens_only(officer, tree):
    other = factories.user("xa.khac", tree.other_commune)
    mine = tokens.issue(officer, "của tôi").token
    theirs = tokens.issue(other, "của người khác").token
    client = Client()
    client.force_login(officer)
    assert client.get(reverse("api:token_revoke", args=[mine.pk])).status_code == 405
    client.post(reverse("api:token_revoke", args=[theirs.pk]))
    client.post(reverse("api:token_revoke", args=[mine.pk]))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_revoking_needs_the_csrf_token(officer):
    mine = tokens.issue(officer, "của tôi").token
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    assert client.post(reverse("api:token_revoke", args=[mine.pk])).status_code == 403
    mine.refresh_from_db()
    assert mine.revoked_at is None
