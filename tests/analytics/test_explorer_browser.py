"""The explorer on a phone (390 px): the coordinator builds a table of two indicators over
the districts and reads its figures; the wide table scrolls inside its box, not the page."""

from __future__ import annotations

import os

import pytest

from tests.analytics.test_explorer import world  # noqa: F401  (indicators and figures)
from tests.reporting.test_browser import chromium  # noqa: F401  (Chromium fixture)
from tiendo.units.models import Level

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
WIDTH = 390
SHOTS = "/tmp/tiendo-explorer"


@pytest.fixture
def phone(chromium):  # noqa: F811
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 844}, locale="vi-VN", is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_the_coordinator_builds_a_table_at_390_px(
    transactional_db,
    live_server,
    phone,
    world,  # noqa: F811
):
    base, page, tree = live_server.url, phone, world["tree"]
    page.goto(f"{base}/dang-nhap/")
    page.fill("input[name=username]", world["coordinator"].username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("nav.mainnav")
    page.click("nav.mainnav a:has-text('Phân tích')")
    page.wait_for_selector("#explorer-form")

    page.select_option("select[name=chi_tieu]", ["HH", "STOCK"])
    page.select_option("select[name=don_vi]", str(tree.ha_giang.pk))
    page.select_option("select[name=cap]", str(Level.DISTRICT.value))
    page.fill("input[name=ky_tu]", "2021")
    page.fill("input[name=ky_den]", "2023")
    page.click("#explorer-form button[type=submit]")
    page.wait_for_selector("#explorer-table")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/explorer.png", full_page=True)

    rows = page.locator("#explorer-table tbody tr")
    texts = [" | ".join(rows.nth(i).inner_text().split("\t")) for i in range(rows.count())]
    assert any("Huyện Vị Xuyên" in t and "Số hộ tham gia (hộ)" in t and "15" in t for t in texts)
    total = [t for t in texts if t.startswith("Tổng (Tỉnh Hà Giang)") and "Số hộ lũy kế" in t]
    assert total and total[0].split(" | ")[-4:] == ["100", "150", "170", "170"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    scroller = page.locator("#explorer-table .table-scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls, inside
    assert "chi_tieu=HH&chi_tieu=STOCK" in page.input_value("#explorer-share")
