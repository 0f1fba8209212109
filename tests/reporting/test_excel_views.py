import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from tests.reporting.excel_helpers import approve, make_form, open_book, personas, save_book
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue, DataValueChange
from tiendo.reporting.excel import XLSX_CONTENT_TYPE
from tiendo.reporting.models import ReportRequest, RequestRecipient, RequestStatus

SHEET = "Năm 2024"


@pytest.fixture
def form(tree):
    return make_form(tree)


@pytest.fixture
def people(tree):
    return personas(tree)


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def download_url(form, unit, period="2024"):
    return (
        reverse("reporting:excel_download", args=[form.code]) + f"?unit={unit.pk}&period={period}"
    )


def upload_url(form, unit):
    return reverse("reporting:excel_upload", args=[form.code]) + f"?unit={unit.pk}"


def filled(client, form, unit, **cells):
    wb = open_book(client.get(download_url(form, unit)).content)
    for ref, value in cells.items():
        wb[SHEET][ref] = value
    return SimpleUploadedFile("bieu-vixuyen.xlsx", save_book(wb).read(), XLSX_CONTENT_TYPE)


def post_file(client, form, unit, upload):
    return client.post(upload_url(form, unit), {"unit": unit.pk, "file": upload})


# --- access --------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, form, tree):
    for url in (download_url(form, tree.vi_xuyen), upload_url(form, tree.vi_xuyen)):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_user_of_another_unit_may_neither_download_nor_upload(client, form, tree, people):
    client.force_login(people["other"])
    assert client.get(download_url(form, tree.vi_xuyen)).status_code == 403
    assert client.get(upload_url(form, tree.vi_xuyen)).status_code == 403
    upload = SimpleUploadedFile("x.xlsx", b"x", XLSX_CONTENT_TYPE)
    assert post_file(client, form, tree.vi_xuyen, upload).status_code == 403


def test_a_leader_downloads_but_may_not_upload(client, form, tree, people):
    client.force_login(people["leader"])
    response = client.get(download_url(form, tree.vi_xuyen))
    assert response.status_code == 200 and response["Content-Type"] == XLSX_CONTENT_TYPE
    assert client.get(upload_url(form, tree.vi_xuyen)).status_code == 403
    upload = filled(client, form, tree.vi_xuyen, D7=3)
    assert post_file(client, form, tree.vi_xuyen, upload).status_code == 403
    assert DataValue.objects.count() == 0


def test_the_district_officer_downloads_the_prepared_file(client, form, tree, people):
    client.force_login(people["district"])
    response = client.get(download_url(form, tree.vi_xuyen))
    assert response.status_code == 200
    assert 'filename="NQ05-XA_028_2024.xlsx"' in response["Content-Disposition"]
    ws = open_book(response.content)[SHEET]
    assert ws["C7"].value == "00001"


def test_without_a_period_the_page_offers_the_choice(client, form, tree, people):
    client.force_login(people["district"])
    url = reverse("reporting:excel_download", args=[form.code])
    html = client.get(url).content.decode()
    assert "Tải biểu mẫu Excel" in html
    assert f'<option value="{tree.vi_xuyen.pk}" selected>' in html
    # the period picker in words, several periods allowed (a sheet each); no text box
    assert '<select name="period"' in html and "multiple" in html
    assert '<option value="2024">Năm 2024</option>' in html
    assert 'type="text" name="period"' not in html
    assert "Tải lên biểu mẫu đã điền" in html


def test_the_periods_asked_for_stay_picked_and_give_a_sheet_each(client, form, tree, people):
    client.force_login(people["district"])
    url = reverse("reporting:excel_download", args=[form.code])
    response = client.get(url, {"unit": tree.vi_xuyen.pk, "period": ["2023", "2024"]})
    assert response.status_code == 200
    assert open_book(response.content).sheetnames == ["Năm 2023", SHEET, "_meta"]
    response = client.get(url, {"unit": tree.vi_xuyen.pk, "period": ["2024", "2024Q2"]})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<option value="2024" selected>Năm 2024</option>' in html


def test_a_wrong_period_is_explained(client, form, tree, people):
    client.force_login(people["district"])
    response = client.get(download_url(form, tree.vi_xuyen, period="2024Q2"))
    assert response.status_code == 400
    assert "không phải loại kỳ của biểu" in response.content.decode()


# --- check, confirm ------------------------------------------------------------------------


def test_a_file_with_errors_shows_the_table_and_writes_nothing(client, form, tree, people):
    client.force_login(people["district"])
    upload = filled(client, form, tree.vi_xuyen, D7=-1, E7="abc", G8="=G7*2", D8=4)
    response = post_file(client, form, tree.vi_xuyen, upload)
    html = response.content.decode()
    assert response.status_code == 200
    assert "có 3 lỗi" in html and "Chưa có số liệu nào được ghi" in html
    rows = re.findall(
        r"<tr><td class=\"nowrap\">Năm 2024</td><td class=\"num\">(\d+)</td><td>(\w+)</td>",
        html,
    )
    assert rows == [("7", "D"), ("7", "E"), ("8", "G")]
    assert "Xác nhận ghi số liệu" not in html
    assert DataValue.objects.count() == 0 and DataValueChange.objects.count() == 0
    assert list((client.session.get("excel_uploads") or {}).keys()) == []


def test_a_clean_file_is_summarised_then_written_on_confirm(client, form, tree, people):
    client.force_login(people["district"])
    upload = filled(client, form, tree.vi_xuyen, D7=12, E7="66.992", G8=2.6)
    html = post_file(client, form, tree.vi_xuyen, upload).content.decode()
    assert "Sẽ ghi 3 số liệu mới và sửa 0 số liệu" in html
    assert "66.992" in html and "2,6" in html and "<td>năm 2024</td>" in html
    assert DataValue.objects.count() == 0  # not yet
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert client.session["excel_uploads"][token]["name"] == "bieu-vixuyen.xlsx"
    response = client.post(
        upload_url(form, tree.vi_xuyen),
        {"unit": tree.vi_xuyen.pk, "token": token, "action": "confirm"},
    )
    assert response.status_code == 302
    assert DataValue.objects.count() == 3
    assert set(DataValueChange.objects.values_list("source", flat=True)) == {"excel"}
    page = client.get(response["Location"]).content.decode()
    assert "Đã ghi số liệu từ tệp bieu-vixuyen.xlsx: 3 số liệu mới, 0 số liệu sửa." in page
    # the stored file is gone; confirming again does nothing
    again = client.post(
        upload_url(form, tree.vi_xuyen),
        {"unit": tree.vi_xuyen.pk, "token": token, "action": "confirm"},
    )
    assert "Tệp đã hết hạn" in again.content.decode()
    assert DataValueChange.objects.count() == 3


def test_another_user_cannot_confirm_someone_elses_file(client, form, tree, people):
    client.force_login(people["district"])
    html = post_file(client, form, tree.vi_xuyen, filled(client, form, tree.vi_xuyen, D7=1))
    token = re.search(r'name="token" value="([^"]+)"', html.content.decode()).group(1)
    client.logout()
    colleague = factories.user("huyen.vixuyen2", tree.vi_xuyen, Role.AGENCY_OFFICER)
    client.force_login(colleague)
    response = client.post(
        upload_url(form, tree.vi_xuyen),
        {"unit": tree.vi_xuyen.pk, "token": token, "action": "confirm"},
    )
    assert "Tệp đã hết hạn" in response.content.decode()
    assert DataValue.objects.count() == 0


def test_cancelling_removes_the_stored_file(client, form, tree, people, tmp_path):
    client.force_login(people["district"])
    html = post_file(client, form, tree.vi_xuyen, filled(client, form, tree.vi_xuyen, D7=1))
    token = re.search(r'name="token" value="([^"]+)"', html.content.decode()).group(1)
    assert (tmp_path / "uploads" / f"{token}.xlsx").exists()
    client.post(
        upload_url(form, tree.vi_xuyen),
        {"unit": tree.vi_xuyen.pk, "token": token, "action": "cancel"},
    )
    assert not (tmp_path / "uploads" / f"{token}.xlsx").exists()
    assert DataValue.objects.count() == 0


def test_a_file_that_is_not_xlsx_is_refused_by_name(client, form, tree, people):
    client.force_login(people["district"])
    upload = SimpleUploadedFile("bieu.xls", b"\xd0\xcf\x11\xe0", "application/vnd.ms-excel")
    html = post_file(client, form, tree.vi_xuyen, upload).content.decode()
    assert "không phải dạng .xlsx" in html


def test_a_link_from_a_request_downloads_its_period(client, form, tree, people):
    report_request = approve(form, tree, tree.c3).request
    url = reverse("reporting:excel_download", args=[form.code])
    client.force_login(people["district"])
    response = client.get(url, {"unit": tree.vi_xuyen.pk, "request": report_request.pk})
    assert response.status_code == 403  # a letter to others is not Vị Xuyên's to read
    RequestRecipient.objects.create(request=report_request, unit=tree.vi_xuyen)
    response = client.get(url, {"unit": tree.vi_xuyen.pk, "request": report_request.pk})
    assert response.status_code == 403  # addressed to it, but still the issuer's draft
    ReportRequest.objects.filter(pk=report_request.pk).update(status=RequestStatus.SENT)
    response = client.get(url, {"unit": tree.vi_xuyen.pk, "request": report_request.pk})
    assert response.status_code == 200
    assert open_book(response.content).sheetnames == [SHEET, "_meta"]
    report_request.forms.clear()
    response = client.get(url, {"unit": tree.vi_xuyen.pk, "request": report_request.pk})
    assert response.status_code == 404
