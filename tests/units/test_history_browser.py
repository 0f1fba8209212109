"""The tree on a date, a unit's lineage and the record page in Chromium, at 390 px (a phone)
and at 1280 px: nothing scrolls sideways, the date is typed the Vietnamese way, and a
rename recorded through the form lands on the unit's history."""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import factories
from tests.reporting.test_browser import chromium  # noqa: F401  (Chromium fixture)
from tiendo.accounts.models import Role
from tiendo.units.models import Unit

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
SHOTS = "/tmp/tiendo-history"
CHAINS = Path(__file__).parent / "fixtures" / "synthetic-chains.csv"


@pytest.fixture(params=[390, 1280], ids=["phone", "desktop"])
def screen(request, chromium):  # noqa: F811
    width = request.param
    context = chromium.new_context(
        viewport={"width": width, "height": 844}, locale="vi-VN", is_mobile=width < 600
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page, width
    context.close()


def login(page, base, user):
    page.goto(f"{base}/dang-nhap/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("nav.mainnav")


def fits(page, width: int, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, name


def test_the_history_pages_fit_the_screen_and_record_a_rename(
    transactional_db, live_server, screen
):
    page, width = screen
    tree = factories.mini_tree()
    call_command("units", "changes", "load", str(CHAINS), stdout=StringIO())
    coordinator = factories.user("vpdp.tuyenquang", tree.tuyen_quang, Role.COORDINATOR)
    base = live_server.url
    login(page, base, coordinator)

    page.goto(f"{base}/don-vi/")
    page.fill("input[name=ngay]", "31/12/2019")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("text=Cây đơn vị tại ngày 31/12/2019")
    page.click("summary:has-text('Huyện Vị Xuyên')")
    page.wait_for_selector("text=Xã Cũ")
    fits(page, width, "tree-2019")

    ward = Unit.objects.get(name="Phường Mới Một")
    page.goto(f"{base}/don-vi/{ward.pk}/lich-su/")
    page.wait_for_selector("h1:has-text('Lịch sử Phường Mới Một')")
    # 2020 merger into Xã Một, 2025 reform (Xã Một → N1, Xã Bốn split → N3), 2027 merger of
    # N3 into N1, 2028 new code, 2029 ward; and the unit itself
    assert page.locator("ol.timeline > li").count() == 7
    fits(page, width, "lineage")

    latest = Unit.objects.get(code="10002", valid_to__isnull=True)  # after the split of 2027
    page.goto(f"{base}/don-vi/{latest.pk}/")
    page.click("a:has-text('Ghi nhận thay đổi')")
    page.wait_for_selector("h1:has-text('Ghi nhận thay đổi')")
    fits(page, width, "record-form")
    page.select_option("select[name=kind]", "rename")
    page.fill("input[name=effective]", "01/01/2030")
    page.fill("input[name=act_number]", "77/NQ-UBTVQH16")
    page.fill("input[name=act_signed_on]", "15/11/2029")
    page.fill("input[name=act_issuer]", "Ủy ban Thường vụ Quốc hội")
    page.fill("input[name=lk0-to_name]", "Xã Hai Mươi")
    page.click("button[name=ghi]")
    page.wait_for_selector("text=Đã ghi nhận đổi tên ngày 01/01/2030 theo 77/NQ-UBTVQH16.")
    assert "/lich-su/" in page.url
    fits(page, width, "recorded")

    page.goto(f"{base}/don-vi/{tree.n1.pk}/ghi-thay-doi/")
    page.click("button[name=ghi]")  # nothing filled in: every field named
    page.wait_for_selector("#loi")
    assert "Hãy nhập “Số, ký hiệu văn bản”." in page.inner_text("#loi")
    fits(page, width, "record-refused")
