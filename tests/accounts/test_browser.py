"""The admin site and the account pages in a real browser, under the Content Security
Policy: the admin's own scripts run (the related-object lookup)
and Chromium reports no violation; a new account's first login ends on the password change."""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.reporting.test_browser import chromium, web  # noqa: F401  (Chromium fixtures)
from tiendo.accounts.models import Role, User

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


def _watch(page):
    problems = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and "favicon" not in r.url
            else None
        ),
    )
    return problems


def _login(page, url, username, password="matkhau-thu"):
    page.goto(f"{url}/dang-nhap/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action$='/dang-nhap/'] button[type=submit]")


def test_the_admin_site_works_under_the_policy(transactional_db, live_server, web):  # noqa: F811
    tree = factories.mini_tree()
    User.objects.create_user(
        username="quantri", password="matkhau-thu", role=Role.ADMIN, is_staff=True
    )
    factories.user("xa.moimot", tree.n1)
    problems = _watch(web)
    _login(web, live_server.url, "quantri")
    web.wait_for_selector("nav.mainnav")
    web.goto(f"{live_server.url}/quan-tri-he-thong/accounts/user/")
    web.wait_for_selector("#result_list")
    web.click("#result_list a:has-text('xa.moimot')")
    web.wait_for_selector("#id_unit")
    # RelatedObjectLookups.js opens the unit lookup in a popup: the admin's scripts run
    with web.expect_popup() as popup:
        web.click("a#lookup_id_unit")
    popup.value.wait_for_selector("#result_list")
    assert "Xã Mới Một" in popup.value.inner_text("#result_list")
    web.goto(f"{live_server.url}/quan-tri-he-thong/core/auditentry/")
    web.wait_for_selector("#changelist")
    assert not problems, problems


def test_a_coordinator_creates_an_account_that_must_change_its_password(
    transactional_db,
    live_server,
    web,  # noqa: F811
    settings,
):
    settings.SMTP_HOST = ""
    tree = factories.mini_tree()
    factories.user("bcd.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)
    problems = _watch(web)
    _login(web, live_server.url, "bcd.tuyenquang")
    web.click("nav.mainnav a:has-text('Tài khoản')")
    web.click("a:has-text('Thêm tài khoản')")
    web.fill("input[name=username]", "xa.moihai")
    web.fill("input[name=full_name]", "Trần Thị Hai")
    web.fill("input[name=unit_code]", "10002")
    web.select_option("select[name=role]", "commune_officer")
    web.click("form.card button[type=submit]")
    password = web.inner_text(".one-time-password").strip()
    web.click("form[action$='/dang-xuat/'] button[type=submit]")
    _login(web, live_server.url, "xa.moihai", password)
    web.wait_for_selector("input[name=new_password1]")
    assert web.url.endswith("/tai-khoan/doi-mat-khau/")
    web.fill("input[name=old_password]", password)
    web.fill("input[name=new_password1]", "Mat-khau-rieng-2026")
    web.fill("input[name=new_password2]", "Mat-khau-rieng-2026")
    web.click("form.card button[type=submit]")
    web.wait_for_selector("nav.mainnav")
    assert web.url == f"{live_server.url}/"
    assert not problems, problems
