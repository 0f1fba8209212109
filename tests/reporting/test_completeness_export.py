"""The completeness download: one table, written as Excel or CSV by the shared exporter."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tiendo.reporting import services
from tiendo.reporting.completeness import CompletenessExport


@pytest.fixture
def submitted(cycle):
    sub = services.open_submission(cycle.request, cycle.tree.c1)
    services.submit(sub, cycle.commune_officer)
    return sub


def test_the_csv_download_has_the_rows_of_the_excel_one(client, cycle, submitted):
    client.force_login(cycle.coordinator)
    url = reverse("reporting:request_export", args=[cycle.request.pk])
    response = client.get(url, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('.csv"')
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[4].split(";")[:4] == ["STT", "Mã đơn vị", "Đơn vị", "Tình trạng"]
    by_code = {line.split(";")[1]: line.split(";") for line in lines[5:] if line}
    assert by_code["00001"][3] == "Đã gửi quá hạn" and by_code["00001"][4].count("/") == 2
    assert by_code["00002"][3] == "Chưa gửi" and by_code["00002"][4] == ""
    sheet = load_workbook(BytesIO(client.get(url).content)).active
    assert [r[1] for r in sheet.iter_rows(min_row=6, values_only=True)] == list(by_code)


def test_the_export_repeats_its_header_on_every_page_and_freezes_it(cycle):
    sheet = load_workbook(BytesIO(CompletenessExport(cycle.request).render("xlsx"))).active
    assert sheet.print_title_rows == "$5:$5" and sheet.freeze_panes == "A6"
    assert sheet.page_setup.orientation == "landscape"


def test_a_unit_name_that_looks_like_a_formula_stays_text(cycle):
    cycle.tree.c2.name = '=HYPERLINK("http://example.com","Xã")'
    cycle.tree.c2.save(update_fields=["name"])
    sheet = load_workbook(BytesIO(CompletenessExport(cycle.request).render("xlsx"))).active
    cell = next(r[2] for r in sheet.iter_rows(min_row=6) if r[1].value == "00002")
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    csv = CompletenessExport(cycle.request).render("csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv


def test_the_letter_page_offers_the_download_in_both_formats(client, cycle):
    client.force_login(cycle.coordinator)
    page = client.get(reverse("reporting:request", args=[cycle.request.pk])).content
    url = reverse("reporting:request_export", args=[cycle.request.pk])
    assert f'href="{url}"'.encode() in page and f'href="{url}?format=csv"'.encode() in page
