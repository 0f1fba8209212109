"""The README's "Bắt đầu cho một tỉnh mới", walked in a real browser (Chromium).

A province the demo data does not use (Bắc Kạn, 06, in the tree of before the 2025 reform,
when districts approved their communes) starts from an empty installation with the
invented programme of docs/example-package.yaml. Only what the README does by command is
done by command: the unit tree, the package and the first coordinator. Everything else
goes through the pages, as the people would: the coordinator logs in with the one-time
password (and must change it), creates a district officer and a commune officer on the
account pages, writes a letter with the recipient tree and its preview, and sends it; the
commune officer logs in (changing the password first), downloads the Excel form, fills it
(openpyxl), uploads it, confirms and submits; the district officer approves; the
coordinator renders the letter's report in Word, and the .docx holds the commune's figure.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from docx import Document
from openpyxl import load_workbook

from tests.reporting.test_browser import chromium  # noqa: F401  (the Chromium fixture)
from tiendo.data.models import DataValue
from tiendo.reporting.models import Form, Submission, SubmissionState
from tiendo.units.models import Unit

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "example-package.yaml"
SHOTS = "/tmp/tiendo-new-province"
PROVINCE, DISTRICT, COMMUNE = "06", "061", "01909"  # Tỉnh Bắc Kạn, Huyện Ba Bể, Xã Nam Mẫu
AREA = "12,5"  # the hectares the commune types into Excel (12.5), as pages and Word print them
NARROW = 390


def _command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class Walk:
    """One person's browser (a context of their own), with the checks every page gets: no
    console error nor Content Security Policy violation, and a screenshot at desktop width
    and at 390 px (whose sideways overflow is recorded in ``overflow``)."""

    def __init__(self, browser, base: str, who: str, overflow: dict):
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(20000)
        self.base, self.who, self.overflow = base, who, overflow
        self.problems: list[str] = []
        self.page.on(
            "console", lambda m: self.problems.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on(
            "response",
            lambda r: (
                self.problems.append(f"{r.status} {r.url}")
                if r.status >= 500 or r.status in (403, 404)
                else None
            ),
        )

    def go(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def shot(self, name: str) -> None:
        os.makedirs(SHOTS, exist_ok=True)
        page = self.page
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
        Path(f"{SHOTS}/{name}.txt").write_text(page.inner_text("body"), encoding="utf-8")
        page.set_viewport_size({"width": NARROW, "height": 844})
        page.screenshot(path=f"{SHOTS}/{name}-390.png", full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > NARROW:
            self.overflow[name] = wide
        page.set_viewport_size({"width": 1280, "height": 900})

    def log_in(self, username: str, password: str, new_password: str | None = None) -> None:
        """The login page, the password typed; a one-time password is changed at once."""
        page = self.page
        self.go("/dang-nhap/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("form[action$='/dang-nhap/'] button[type=submit]")
        page.wait_for_selector("nav.mainnav")
        if new_password is None:
            return
        # someone else chose the password: every page leads to the change form first
        assert "/tai-khoan/doi-mat-khau/" in page.url, page.url
        self.shot(f"{self.who}-0-doi-mat-khau")
        page.fill("input[name=old_password]", password)
        page.fill("input[name=new_password1]", new_password)
        page.fill("input[name=new_password2]", new_password)
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/doi-mat-khau/" not in url)

    def create_account(self, username: str, name: str, unit_code: str, role: str) -> str:
        """The account page's form; the one-time password read from the page that shows it."""
        page = self.page
        self.go("/tai-khoan/them/")
        page.fill("input[name=username]", username)
        page.fill("input[name=full_name]", name)
        page.fill("input[name=unit_code]", unit_code)
        page.select_option("select[name=role]", role)
        page.click("main form button[type=submit]")
        page.wait_for_selector(".one-time-password")
        return page.inner_text(".one-time-password").strip()

    def close(self) -> list[str]:
        self.context.close()
        return [
            p
            for p in self.problems
            if "Content Security Policy" in p or "Refused" in p or not p.startswith("Failed")
        ]


def _fill_workbook(data: bytes, unit_code: str, figures: dict[str, object]) -> bytes:
    """The downloaded form filled as a commune officer would: on the unit's row, under the
    columns headed by the indicators' names."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    row = next(
        cell.row
        for line in sheet.iter_rows()
        for cell in line
        if isinstance(cell.value, str) and cell.value.strip() == unit_code
    )
    filled = set()
    for line in sheet.iter_rows(max_row=row - 1):
        for cell in line:
            for name, value in figures.items():
                if isinstance(cell.value, str) and cell.value.strip().startswith(name):
                    sheet.cell(row=row, column=cell.column, value=value)
                    filled.add(name)
    assert filled == set(figures), (filled, [[c.value for c in r] for r in sheet.iter_rows()])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_new_province_from_an_empty_installation_to_its_report(
    transactional_db,
    live_server,
    chromium,  # noqa: F811
    settings,
    tmp_path,
):
    settings.VAR_DIR = tmp_path
    base = live_server.url
    # --- by command, as the README says: the tree, the package, the first coordinator ---
    _command("units", "load")
    added = _command(
        "users",
        "add",
        "vpdp.backan",
        "--unit",
        PROVINCE,
        "--role",
        "coordinator",
        "--name",
        "Hoàng Thị Điều Phối",
    )
    assert "Tạo mới" in _command("metadata", "load", "--as", "vpdp.backan", str(EXAMPLE))
    first_password = re.search(r"Mật khẩu dùng một lần: (\S+)", added).group(1)
    district = Unit.objects.get(code=DISTRICT)
    commune = Unit.objects.get(code=COMMUNE)
    overflow: dict[str, int] = {}
    problems: dict[str, list[str]] = {}

    # --- the coordinator: accounts, then the letter ---
    office = Walk(chromium, base, "1-vpdp", overflow)
    office.log_in("vpdp.backan", first_password, "Dong-rieng-Bac-Kan-2024")
    district_password = office.create_account(
        "huyen.babe", "Nông Văn Huyện", DISTRICT, "agency_officer"
    )
    office.shot("1-vpdp-1-tai-khoan-huyen")
    commune_password = office.create_account("xa.nammau", "Ma Thị Xã", COMMUNE, "commune_officer")
    office.go("/tai-khoan/")
    assert "huyen.babe" in office.page.inner_text("main")
    assert "xa.nammau" in office.page.inner_text("main")
    office.shot("1-vpdp-2-danh-sach-tai-khoan")

    page = office.page
    office.go("/bao-cao/cong-van/tao/")
    page.fill("input[name=issued_on]", "2024-11-25")  # before the 2025 reform: districts
    page.click("button:has-text('Cập nhật theo đơn vị gửi và ngày ban hành')")
    page.wait_for_selector(f"input[name=recipients][value='{district.pk}']")
    assert "Select an option" not in page.inner_text("main")  # no English empty choice
    page.fill("input[name=number_symbol]", "45/VPĐP-NTM")
    page.fill("input[name=title]", "Báo cáo kết quả trồng dong riềng năm 2024")
    page.select_option("select[name=period]", "2024")  # a list in words
    page.fill("input[name=deadline]", "2024-12-15")
    page.check(f"input[name=forms][value='{Form.objects.get(code='BK_DR_XA').pk}']")
    page.check(f"input[name=recipients][value='{district.pk}']")  # Ba Bể and its communes
    assert page.locator(f"input[name=recipients][value='{commune.pk}']").is_checked()
    page.click("button[value=preview]")
    page.wait_for_selector("#preview")
    headline = page.inner_text("#preview .preview-headline")
    assert "1 huyện" in headline and "xã" in headline, headline
    office.shot("1-vpdp-3-cong-van-xem-truoc")
    page.click("#preview button[value=save]")
    page.wait_for_selector("h1:has-text('45/VPĐP-NTM')")
    page.click("button:has-text('Gửi công văn')")
    page.click("button:has-text('Xác nhận gửi công văn'), button:has-text('Vẫn gửi công văn')")
    page.wait_for_selector("button:has-text('Nhắc đơn vị chưa gửi')")
    letter_url = page.url
    office.shot("1-vpdp-4-cong-van-da-gui")

    # --- the commune: the Excel form downloaded, filled, uploaded; the report submitted ---
    town = Walk(chromium, base, "2-xa", overflow)
    town.log_in("xa.nammau", commune_password, "Nam-Mau-Ba-Be-2024")
    page = town.page
    town.go("/bao-cao/")
    town.shot("2-xa-1-hop-thu")
    page.click("#owed a:has-text('Lập báo cáo')")
    page.wait_for_selector("#unsaved")
    with page.expect_download() as download:
        page.click("a:has-text('Tải biểu mẫu Excel')")
    filled = _fill_workbook(
        Path(download.value.path()).read_bytes(),
        COMMUNE,
        {
            "Diện tích trồng dong riềng": 12.5,  # a number, as Excel keeps what is typed
            "Số hộ trồng dong riềng": 9,
            "Sản lượng củ dong riềng": 810,
        },
    )
    page.click("a:has-text('Tải lên tệp Excel đã điền')")
    page.set_input_files(
        "input[name=file]",
        files=[
            {"name": "bieu-nam-mau.xlsx", "mimeType": "application/vnd.ms-excel", "buffer": filled}
        ],
    )
    page.click("button:has-text('Kiểm tra tệp')")
    page.wait_for_selector("h2:has-text('Kiểm tra xong: không có lỗi')")
    town.shot("2-xa-2-kiem-tra-tep")
    page.click("button[value=confirm]")
    page.wait_for_selector("#back-to-report")
    town.shot("2-xa-3-da-ghi")
    page.click("#back-to-report")
    assert page.input_value("input[data-indicator=BK_DR_AREA]") == AREA
    page.fill(
        "textarea >> nth=0", "Các thôn ven hồ Ba Bể mở rộng vùng trồng, bán củ cho hợp tác xã."
    )
    page.click("button[value=submit]")
    page.wait_for_selector("#confirm-submit")
    page.click("#confirm-submit button[value=submit]")
    page.wait_for_selector("#waiting-approval")
    assert "Huyện Ba Bể" in page.inner_text("#waiting-approval")
    town.shot("2-xa-4-da-gui")

    # --- the district approves ---
    ba_be = Walk(chromium, base, "3-huyen", overflow)
    ba_be.log_in("huyen.babe", district_password, "Huyen-Ba-Be-duyet-2024")
    page = ba_be.page
    ba_be.go("/bao-cao/")
    page.click("#pending a:has-text('Nam Mẫu')")
    page.click("#approval button[value=approve]")
    page.wait_for_selector("#confirm-approve")
    ba_be.shot("3-huyen-1-xac-nhan-duyet")
    page.click("#confirm-approve button[value=approve]")
    page.wait_for_selector("#locked")
    ba_be.shot("3-huyen-2-da-duyet")
    submission = Submission.objects.get(unit=commune)
    assert submission.state == SubmissionState.APPROVED

    # --- the province renders the letter's report in Word ---
    page = office.page
    page.goto(letter_url)
    assert page.get_attribute(f"tr[data-unit='{COMMUNE}']", "data-status") == "approved"
    office.shot("1-vpdp-5-tinh-hinh-bao-cao")
    office.go("/van-ban-bao-cao/")
    office.shot("1-vpdp-6-bao-cao")
    page.click("main a:has-text('45/VPĐP-NTM')")
    page.wait_for_selector("form[action$='/xuat/']")
    office.shot("1-vpdp-7-bao-cao-cong-van")
    # the letter's default report has its sections; a table of figures is added on its page
    page.click("a:has-text('Sửa báo cáo định nghĩa')")
    annex = "[name^=annexes-0-]"
    page.fill(f"input{annex}[name$=-title]", "Kết quả trồng dong riềng theo huyện, thành phố")
    page.select_option(f"select{annex}[name$=-rows]", "children")
    # columns are picked from lists (the default annex has the letter's indicators already)
    indicators = page.locator("select[name=annexes-0-columns-indicator]")
    plans = page.locator("select[name=annexes-0-columns-plan]")
    indicators.nth(0).select_option("BK_DR_AREA")
    plans.nth(0).select_option("target")
    indicators.nth(1).select_option("BK_DR_OUTPUT")
    plans.nth(1).select_option("")
    office.shot("1-vpdp-8-sua-bao-cao")
    page.click("button:has-text('Lưu báo cáo định nghĩa')")
    page.wait_for_selector("form[action$='/xuat/']")
    page.click("form[action$='/xuat/'] button[value=docx]")
    page.wait_for_selector("a[href$='/tai-ve/']")
    office.shot("1-vpdp-9-van-ban")
    with page.expect_download() as download:
        page.click("a[href$='/tai-ve/']")
    download.value.save_as(f"{SHOTS}/bao-cao.docx")
    document = Document(f"{SHOTS}/bao-cao.docx")
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "hồ Ba Bể mở rộng vùng trồng" in paragraphs  # the approved commune's text
    rows = [[c.text.strip() for c in r.cells] for t in document.tables for r in t.rows]
    ba_be_row = next(r for r in rows if any("Ba Bể" in c for c in r))
    assert AREA in ba_be_row and "810" in ba_be_row, rows  # the commune's figures, rolled up
    assert "120" in ba_be_row, ba_be_row  # the district's plan from the package

    assert DataValue.objects.filter(unit=commune, indicator__code="BK_DR_AREA").exists()

    # --- next: the programme's table and the validation page answer for the new province ---
    office.go("/chuong-trinh/")
    office.shot("1-vpdp-10-chuong-trinh")
    page.click("main a:has-text('dong riềng')")
    page.wait_for_selector("main table")
    assert AREA in page.inner_text("main")  # the province's figure, from the commune's Excel
    office.shot("1-vpdp-11-bang-chuong-trinh")
    office.go("/nhap-so-lieu/kiem-tra/")
    office.shot("1-vpdp-12-kiem-tra")
    for who in (office, town, ba_be):
        problems[who.who] = who.close()
    assert not any(problems.values()), problems
    print("sideways overflow at 390 px:", overflow)
