"""At 390 px — a phone — no page scrolls sideways (tables scroll inside their own box) and
the data entry form stays usable: its fields are as wide as the screen allows, typed into,
saved, and a refusal marks the field."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from tests import factories
from tests.reporting.test_browser import chromium  # noqa: F401  (Chromium fixture)
from tiendo.data.models import DataValue
from tiendo.programmes.models import CategoryOption, Disaggregation, Programme

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
WIDTH = 390
SHOTS = "/tmp/tiendo-narrow"


@pytest.fixture
def phone(chromium):  # noqa: F811
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 844}, locale="vi-VN", is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, base, user):
    page.goto(f"{base}/dang-nhap/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "matkhau-thu")
    page.click("form[action$='/dang-nhap/'] button[type=submit]")
    page.wait_for_selector("nav.mainnav")


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_no_page_scrolls_sideways_and_the_entry_form_works_at_390_px(
    transactional_db, live_server, phone
):
    world = factories.access_world(factories.mini_tree())
    by_source = Disaggregation.objects.create(code="NGUON", name="Nguồn vốn")
    for order, name in enumerate(["Trung ương", "Tỉnh", "Huyện", "Xã", "Dân góp"]):
        CategoryOption.objects.create(
            disaggregation=by_source, code=f"N{order}", name=name, order=order
        )
    factories.indicator(
        Programme.objects.get(code="P1"),
        "VON",
        name="Vốn huy động thực hiện chương trình",
        measure_unit="triệu đồng",
        disaggregation=by_source,
    )
    base, page = live_server.url, phone
    login(page, base, world.people["officer"])
    entry = f"{base}/nhap-so-lieu/?programme=P1&unit={world.tree.c1.pk}&period=2024"
    page.goto(entry)
    shot(page, "entry")
    assert page_width(page) <= WIDTH
    field = page.locator("table.stack input.value").first
    box = field.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH  # reachable without scrolling
    assert box["width"] >= 150  # wide enough to type a figure into

    field.fill("1,234.5")
    page.click("form.entry button[type=submit]")
    page.wait_for_selector("#loi")
    shot(page, "entry-refused")
    assert page.locator("input.value[aria-invalid=true]").count() == 1
    # the table of categories is wider than the phone: it scrolls inside its own box
    box = page.locator("table.by-category").locator("xpath=..")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    box.evaluate("e => e.scrollLeft = e.scrollWidth")
    page.locator("table.by-category input.value").last.fill("12,5")
    assert "không rõ" in page.inner_text(".field-error")
    assert page_width(page) <= WIDTH

    page.locator("table.stack input.value").first.fill("1.234")
    page.click("form.entry button[type=submit]")
    page.wait_for_selector("text=Đã lưu 2 số liệu.")
    values = DataValue.objects.filter(unit=world.tree.c1, period="2024")
    assert {v.indicator.code: v.value for v in values} == {"HH": 1234, "VON": Decimal("12.5")}
    assert page_width(page) <= WIDTH

    for name, path in [
        ("home", "/"),
        ("programme", f"/chuong-trinh/P1/?unit={world.tree.c1.pk}"),
        ("inbox", "/bao-cao/"),
        ("validation", f"/nhap-so-lieu/kiem-tra/?unit={world.tree.c1.pk}&period=2024"),
    ]:
        page.goto(base + path)
        shot(page, name)
        assert page_width(page) <= WIDTH, name
