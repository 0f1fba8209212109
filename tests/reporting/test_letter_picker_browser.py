"""The recipient tree of the letter form in a real browser: ticking a district ticks its
communes, unticking one shows the district partly chosen, the quick choice ticks the city
at district level, the search filters as one types (accents aside), the preview counts
what is ticked — and Chromium reports no Content Security Policy violation."""

from __future__ import annotations

import os

import pytest

from tests import factories
from tests.reporting.test_browser import chromium, shot, web  # noqa: F401  (Chromium fixtures)
from tiendo.accounts.models import Role
from tiendo.units.models import Level, UnitKind

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


def _box(page, unit):
    return page.locator(f"input[name=recipients][value='{unit.pk}']")


def test_ticking_a_district_ticks_its_communes(transactional_db, live_server, web):  # noqa: F811
    tree = factories.mini_tree()
    city = factories.unit(
        "024",
        "Thành phố Hà Giang",
        UnitKind.PROVINCIAL_CITY,
        Level.DISTRICT,
        tree.ha_giang,
        valid_to=factories.OLD_END,
    )
    coordinator = factories.user("bcd.hg", tree.ha_giang, Role.COORDINATOR)
    page = web
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("input[name=username]", coordinator.username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("nav.mainnav")
    page.goto(f"{live_server.url}/bao-cao/cong-van/tao/")
    # the tree of a letter dated before the 2025 merger
    page.fill("input[name=issued_on]", "2024-11-25")
    page.click("button:has-text('Cập nhật theo đơn vị gửi và ngày ban hành')")
    page.wait_for_selector(f"input[name=recipients][value='{tree.vi_xuyen.pk}']")

    _box(page, tree.vi_xuyen).check()
    assert _box(page, tree.c1).is_checked() and _box(page, tree.c2).is_checked()
    assert not _box(page, tree.c3).is_checked() and not _box(page, city).is_checked()
    assert "Đã chọn 3 đơn vị" in page.inner_text("[data-picker-count]")
    _box(page, tree.c2).uncheck()
    assert _box(page, tree.vi_xuyen).evaluate("b => b.indeterminate")
    assert _box(page, tree.vi_xuyen).is_checked()  # the district itself stays chosen

    page.check("input[data-picker-group=district]")
    assert _box(page, city).is_checked() and _box(page, tree.bac_quang).is_checked()
    assert not _box(page, tree.agency).is_checked()

    # the script filters as one types: its page needs no search button
    assert not page.locator("[data-picker-search-button]").is_visible()
    page.fill("input[data-picker-search]", "ha giang")
    assert page.locator(f"#unit-{city.pk}").is_visible()
    assert not page.locator(f"#unit-{tree.c1.pk}").is_visible()
    shot(page, "letter-picker-search")
    page.fill("input[data-picker-search]", "")
    assert page.locator(f"#unit-{tree.c1.pk}").is_visible()

    page.fill("input[name=number_symbol]", "40/BCĐ-NTM")
    page.fill("input[name=title]", "Báo cáo kết quả năm 2024")
    page.select_option("select[name=period]", "2024")
    page.fill("input[name=deadline]", "2024-12-15")
    page.click("button[value=preview]")
    page.wait_for_selector("#preview")
    # Vị Xuyên, Xã Một (Xã Hai unticked), Bắc Quang, the city — the script's ticks exactly
    headline = page.inner_text("#preview .preview-headline")
    assert "Gửi đến 4 đơn vị: 2 huyện, 1 thành phố thuộc tỉnh, 1 xã" in headline, headline
    shot(page, "letter-picker-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("document.documentElement.scrollWidth")
    shot(page, "letter-picker-390")
    assert wide <= 390, wide  # the form, its tree and the preview fit a phone
    page.click("#preview button[value=save]")
    page.wait_for_selector("h1:has-text('40/BCĐ-NTM')")
    csp = [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not csp, csp
