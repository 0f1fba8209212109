"""The Content Security Policy in a real browser: htmx still swaps the drill-down in, the
close link still works, and Chromium reports no violation on the way."""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.reporting.test_browser import chromium, web  # noqa: F401  (Chromium fixtures)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


def test_the_drill_down_opens_and_closes_under_the_policy(transactional_db, live_server, web):  # noqa: F811
    world = factories.access_world(factories.mini_tree())
    page = web
    problems = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    missing = []
    page.on(
        "response",
        lambda r: missing.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("input[name=username]", world.people["leader"].username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("nav.mainnav")
    page.goto(f"{live_server.url}/chuong-trinh/P1/?unit={world.tree.c1.pk}")
    page.click("td.num a[hx-get]")  # htmx fetches the drill-down into #drill
    page.wait_for_selector("#drill .card h3")
    assert "Số hộ tham gia" in page.inner_text("#drill .card h3")
    assert "/phan-ra/" not in page.url or "#drill" not in page.url  # swapped, not navigated
    page.click("#drill a[data-close]")  # tiendo.js, not an inline onclick
    page.wait_for_selector("#drill .card", state="detached")
    csp = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not csp, csp
    assert not missing, missing
    others = [p for p in problems if not p.startswith("Failed to load resource")]
    assert not others, others
