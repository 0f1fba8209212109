"""The home page on a phone (390 px): the commune officer sees the letter it owes, opens a
notification from the home page and lands where it points, the notification read."""

from __future__ import annotations

import os

import pytest

from tests.analytics.test_home_tasks import world  # noqa: F401  (the round of letters)
from tests.reporting.test_browser import chromium  # noqa: F401  (Chromium fixture)
from tiendo.core.models import Notification

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
WIDTH = 390
SHOTS = "/tmp/tiendo-home"


@pytest.fixture
def phone(chromium):  # noqa: F811
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 844}, locale="vi-VN", is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_the_officer_sees_the_owed_letter_and_opens_a_notification_at_390_px(
    transactional_db,
    live_server,
    phone,
    world,  # noqa: F811
):
    base, page = live_server.url, phone
    page.goto(f"{base}/dang-nhap/")
    page.fill("input[name=username]", world.commune.username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("#owed")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/home.png", full_page=True)

    owed = page.locator("#owed")
    assert "15/UBND-NN" in owed.inner_text() and "quá hạn 2 ngày" in owed.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    button = owed.locator("a.button").first
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH  # reachable without scrolling
    assert page.locator("#nav-notifications .nav-count").inner_text() == "3"

    returned = Notification.objects.get(recipient=world.commune, message__contains="trả lại")
    page.click(f"#notifications li[data-notification='{returned.pk}'] button")
    page.wait_for_url(f"**{returned.link}")
    page.wait_for_selector("#return-reason")
    returned.refresh_from_db()
    assert returned.read_at is not None
    assert page.locator("#nav-notifications .nav-count").inner_text() == "2"
