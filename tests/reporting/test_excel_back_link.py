"""After an Excel upload, the page leads back to the report it was opened from."""

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.reporting.excel_helpers import make_form, open_book, personas, save_book
from tiendo.data.models import DataValue
from tiendo.reporting.excel import XLSX_CONTENT_TYPE
from tiendo.reporting.models import ReportRequest, RequestRecipient, RequestStatus


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def letter(tree):
    form = make_form(tree)
    req = ReportRequest.objects.create(
        number_symbol="12/VPĐP-NTM",
        issued_on=date(2024, 11, 1),
        issuer=tree.ha_giang,
        title="Báo cáo kết quả năm 2024",
        period="2024",
        deadline=date(2024, 12, 15),
        status=RequestStatus.SENT,
    )
    req.forms.add(form)
    RequestRecipient.objects.create(request=req, unit=tree.vi_xuyen)
    return req


def test_the_upload_page_links_back_to_the_report_before_and_after_the_upload(client, letter, tree):
    form = letter.forms.get()
    client.force_login(personas(tree)["district"])
    back = reverse("reporting:answer", args=[letter.pk, tree.vi_xuyen.pk])
    query = f"?unit={tree.vi_xuyen.pk}&request={letter.pk}"
    page = reverse("reporting:excel_upload", args=[form.code]) + query
    html = client.get(page).content.decode()
    assert f'id="back-to-report" href="{back}"' in html
    assert "Về báo cáo theo công văn 12/VPĐP-NTM" in html

    download = reverse("reporting:excel_download", args=[form.code]) + query
    wb = open_book(client.get(download).content)
    wb["Năm 2024"]["D7"] = 12
    upload = SimpleUploadedFile("bieu.xlsx", save_book(wb).read(), XLSX_CONTENT_TYPE)
    checked = client.post(page, {"unit": tree.vi_xuyen.pk, "file": upload}).content.decode()
    assert f'id="back-to-report" href="{back}"' in checked
    token = re.search(r'name="token" value="([^"]+)"', checked).group(1)
    done = client.post(page, {"unit": tree.vi_xuyen.pk, "token": token, "action": "confirm"})
    assert done.status_code == 302 and f"request={letter.pk}" in done["Location"]
    assert DataValue.objects.count() == 1
    after = client.get(done["Location"]).content.decode()
    assert "Đã ghi số liệu từ tệp bieu.xlsx" in after
    assert f'id="back-to-report" href="{back}"' in after


def test_without_a_letter_the_page_leads_to_the_reports_to_do(client, tree):
    form = make_form(tree)
    client.force_login(personas(tree)["district"])
    url = reverse("reporting:excel_upload", args=[form.code]) + f"?unit={tree.vi_xuyen.pk}"
    html = client.get(url).content.decode()
    assert f'id="back-to-report" href="{reverse("reporting:inbox")}"' in html
