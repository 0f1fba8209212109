"""The NTM pages in a real browser (Debian's Chromium): the matrix and the scorecard
render with their text and colours, the district filter works, and at a phone's width
no page scrolls sideways (the tables scroll in their own box). Screenshots go to
/tmp/tiendo-ntm-pages."""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.ntm.page_helpers import ntm_world
from tests.reporting.test_browser import chromium  # noqa: F401  (Chromium fixture)
from tiendo.accounts.models import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
SHOTS = "/tmp/tiendo-ntm-pages"
PHONE = 390


def _page(browser, width, height, **kw):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN", **kw)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


@pytest.fixture
def desktop(chromium):  # noqa: F811
    context, page = _page(chromium, 1280, 900)
    yield page
    context.close()


@pytest.fixture
def phone(chromium):  # noqa: F811
    context, page = _page(chromium, PHONE, 844, is_mobile=True)
    yield page
    context.close()


def login(page, base, user):
    page.goto(f"{base}/dang-nhap/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("nav.mainnav")


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def names(page) -> list[str]:
    return page.locator("table.ntm-matrix td.unit > a").all_inner_texts()


def test_the_matrix_renders_filters_by_district_and_leads_to_the_scorecard(
    transactional_db,
    live_server,
    desktop,
):
    tree = factories.mini_tree()
    ntm_world(tree, illustrative=True)
    user = factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)
    base, page = live_server.url, desktop
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    login(page, base, user)
    page.click("nav.mainnav >> text=Nông thôn mới")
    page.wait_for_selector("table.ntm-matrix")
    shot(page, "matrix")
    assert names(page) == ["Xã Một", "Xã Hai", "Xã Ba", "Xã Bốn"]
    assert "Số liệu minh họa" in page.inner_text(".ntm-illustrative")
    met = page.locator("td.ntm-met").first
    assert met.inner_text() == "Đạt"
    # the colour is there (from the stylesheet, under the CSP) beside the text
    assert met.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(227, 243, 232)"
    unmet = page.locator("td.ntm-unmet").first
    assert unmet.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(251, 229, 229)"

    page.select_option("select[name=district]", label="Huyện Bắc Quang")
    page.click("form.ntm-filters button[type=submit]")
    page.wait_for_url("**district=*")
    shot(page, "matrix-district")
    assert names(page) == ["Xã Ba", "Xã Bốn"]
    page.click(".ntm-bands >> text=Chưa đánh giá")
    page.wait_for_url("**band=none*")
    assert names(page) == ["Xã Bốn"]

    page.click("table.ntm-matrix >> text=Xã Bốn")
    page.wait_for_selector("table.ntm-scorecard")
    assert page.locator("h1").inner_text() == "Kết quả tiêu chí nông thôn mới — Xã Bốn"
    page.goto(f"{base}/nong-thon-moi/don-vi/{tree.c1.pk}/")
    page.wait_for_selector("table.ntm-scorecard")
    shot(page, "scorecard")
    row = page.locator("table.ntm-scorecard tr", has_text="2. Thu nhập")
    assert row.locator("td").all_inner_texts()[2:4] == ["Chưa đạt", "Đạt"]
    page.goto(f"{base}/nong-thon-moi/tien-do/?unit={tree.ha_giang.pk}")
    page.wait_for_selector("table.ntm-progress")
    shot(page, "progress")
    csp = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not csp, csp


def test_at_a_phones_width_no_ntm_page_scrolls_sideways(transactional_db, live_server, phone):
    tree = factories.mini_tree()
    ntm_world(tree, illustrative=True)
    user = factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)
    base, page = live_server.url, phone
    login(page, base, user)
    for name, path in [
        ("phone-matrix", f"/nong-thon-moi/bang-tieu-chi/?unit={tree.ha_giang.pk}&year=2024"),
        ("phone-scorecard", f"/nong-thon-moi/don-vi/{tree.c1.pk}/"),
        ("phone-progress", f"/nong-thon-moi/tien-do/?unit={tree.ha_giang.pk}"),
    ]:
        page.goto(base + path)
        page.wait_for_selector("main table")
        shot(page, name)
        assert page_width(page) <= PHONE, name
    # the wide table scrolls inside its box, the commune's name first
    page.goto(f"{base}/nong-thon-moi/tien-do/?unit={tree.ha_giang.pk}")
    box = page.locator("table.ntm-progress").locator("xpath=..")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    # the filters are reachable without scrolling sideways
    page.goto(f"{base}/nong-thon-moi/bang-tieu-chi/?unit={tree.ha_giang.pk}&year=2024")
    for selector in ("select[name=unit]", "select[name=band]", "form.ntm-filters button"):
        found = page.locator(selector).bounding_box()
        assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE, selector
