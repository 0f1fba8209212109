"""The whole cycle in a real browser (Debian's Chromium through Playwright).

A commune officer fills the form and submits (confirming on the page that asks); the
district officer returns it with a reason; the commune corrects a figure and resubmits;
the district approves (confirming too); the commune's form is then read-only and a direct
save through the data service is refused.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from tiendo.data.models import DataValue
from tiendo.data.services import DataEntryError, Entry, save_value
from tiendo.reporting.models import Submission, SubmissionState

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = "/tmp/tiendo-reporting"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/dang-nhap/?next=/bao-cao/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("h1:has-text('Yêu cầu báo cáo cần thực hiện')")


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_fill_submit_return_correct_resubmit_approve_lock(
    transactional_db, live_server, cycle, web
):
    base, page = live_server.url, web
    households = "input[data-indicator=HOUSEHOLDS]"

    # 1. the commune officer opens the request, fills the form and the narrative, submits
    login(page, base, cycle.commune_officer)
    assert page.locator("#owed").inner_text().count("15/UBND-NN") == 1
    page.click("#owed a:has-text('Lập báo cáo')")
    page.fill(households, "12")
    page.fill("input[data-indicator=CAPITAL] >> nth=0", "1.250,5")
    page.fill("textarea[aria-label='Kết quả đạt được']", "Đã hỗ trợ 12 hộ cải tạo vườn tạp.")
    shot(page, "1-commune-fills")
    page.click("button[value=submit]")
    page.wait_for_selector("#confirm-submit")
    assert page.input_value(households) == "12"  # what was typed is still on the page
    assert not Submission.objects.filter(unit=cycle.tree.c1).exists()  # nothing saved yet
    shot(page, "1b-commune-confirms")
    page.click("#confirm-submit button[value=submit]")
    page.wait_for_selector("#waiting-approval")
    assert "Xã Một" in page.inner_text("h1")
    assert page.locator("[data-state=submitted]").count() == 1
    shot(page, "2-commune-submitted")

    # 2. the district officer returns it with a reason
    login(page, base, cycle.district_officer)
    page.click("#pending a:has-text('Xã Một')")
    page.fill("#approval textarea[name=reason]", "Số hộ chưa khớp danh sách hộ tham gia.")
    page.click("#approval button[value=return]")
    page.wait_for_selector("#return-reason")
    shot(page, "3-district-returned")

    # 3. the commune officer sees the reason, corrects a figure, resubmits
    login(page, base, cycle.commune_officer)
    page.click("#owed a:has-text('Mở báo cáo')")
    assert "Số hộ chưa khớp danh sách hộ tham gia." in page.inner_text("#return-reason")
    assert page.input_value(households) == "12"
    page.fill(households, "11")
    page.click("button[value=submit]")
    page.click("#confirm-submit button[value=submit]")
    page.wait_for_selector("#waiting-approval")

    # 4. the district officer approves
    login(page, base, cycle.district_officer)
    page.click("#pending a:has-text('Xã Một')")
    assert page.locator("#history tr[data-action='submission.resubmitted']").count() == 1
    page.click("#approval button[value=approve]")
    page.wait_for_selector("#confirm-approve")
    page.click("#confirm-approve button[value=approve]")
    page.wait_for_selector("#locked")
    shot(page, "4-district-approved")

    # 5. the commune's form is read-only, and the data service refuses a direct save
    login(page, base, cycle.commune_officer)
    page.click("#done a:has-text('15/UBND-NN')")
    page.wait_for_selector("#locked")
    assert page.locator(households).count() == 0
    assert page.locator("button[value=submit]").count() == 0
    assert page.inner_text("td.readonly-value[data-indicator=HOUSEHOLDS]") == "11"
    shot(page, "5-commune-locked")

    # 6. the coordinator's completeness table shows the commune approved
    login(page, base, cycle.coordinator)
    page.goto(f"{base}/bao-cao/cong-van/{cycle.request.pk}/")
    assert page.get_attribute("tr[data-unit='00001']", "data-status") == "approved"
    assert page.get_attribute("tr[data-unit='00002']", "data-status") == "missing"
    shot(page, "6-coordinator-completeness")

    sub = Submission.objects.get(request=cycle.request, unit=cycle.tree.c1)
    assert sub.state == SubmissionState.APPROVED
    value = DataValue.objects.get(indicator=cycle.households, unit=cycle.tree.c1, period="2024")
    assert value.value == 11
    with pytest.raises(DataEntryError, match="đã được duyệt"):
        save_value(Entry(cycle.households, cycle.tree.c1, "2024", Decimal(15)))
