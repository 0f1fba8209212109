"""A figure changed by someone else since the submission page was opened or the Excel file
was downloaded is a conflict, never silently overwritten (see tiendo.data.services)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import D, form_inputs
from tests.reporting.excel_helpers import make_form, open_book, personas, save_book
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue, DataValueChange
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Indicator
from tiendo.reporting import services
from tiendo.reporting.excel import build_workbook, check_workbook, import_workbook

SHEET = "Năm 2024"


# --- the submission form -------------------------------------------------------------------


@pytest.fixture
def colleague(cycle):
    return factories.user(
        "xa1.ketoan", cycle.tree.c1, Role.COMMUNE_OFFICER, first_name="Trần Văn", last_name="Hùng"
    )


def _opened(client, cycle, sub) -> dict[str, str]:
    client.force_login(cycle.commune_officer)
    page = client.get(reverse("reporting:submission", args=[sub.pk])).content.decode()
    return {**form_inputs(page), "action": "save"}


def _names(cycle):
    households = cycle.form.lines.get(indicator=cycle.households).pk
    capital = cycle.form.lines.get(indicator=cycle.capital).pk
    return f"v-{households}-", f"v-{capital}-LOAN", f"v-{capital}-OWN"


def _stored(indicator, unit, category=""):
    row = DataValue.objects.filter(indicator=indicator, unit=unit, category=category).first()
    return row.value if row else None


def test_a_stale_submission_form_keeps_a_newer_figure_and_refuses_a_changed_one(
    client, cycle, colleague
):
    c1 = cycle.tree.c1
    sub = services.open_submission(cycle.request, c1)
    save_value(Entry(cycle.households, c1, "2024", D(12)), user=cycle.commune_officer)
    households, loan, own = _names(cycle)
    form = _opened(client, cycle, sub)
    assert form[households] == "12"
    save_value(Entry(cycle.households, c1, "2024", D(13)), user=colleague)

    form[households] = "14"  # typed over a figure that changed meanwhile
    form[loan] = "100"
    response = client.post(reverse("reporting:submission", args=[sub.pk]), form)
    page = response.content.decode()
    assert response.status_code == 200
    line = next(li for li in page.split("<li>") if "Số hộ tham gia" in li)
    assert "Trần Văn Hùng" in line and "thành 13" in line and "lúc đó: 12" in line
    assert "14" in line and "Không lưu số liệu nào" in page
    assert _stored(cycle.households, c1) == 13 and _stored(cycle.capital, c1, "LOAN") is None
    again = form_inputs(page)
    assert again[households] == "14" and again[loan] == "100"

    # the officer left the households alone this time: the loan is saved, 13 stays
    form = _opened(client, cycle, sub)
    save_value(Entry(cycle.households, c1, "2024", D(15)), user=colleague)
    form[loan] = "100"
    response = client.post(reverse("reporting:submission", args=[sub.pk]), form)
    assert response.status_code == 302
    assert _stored(cycle.households, c1) == 15 and _stored(cycle.capital, c1, "LOAN") == 100
    changes = DataValueChange.objects.filter(indicator=cycle.households).order_by("pk")
    assert [c.changed_by for c in changes] == [cycle.commune_officer, colleague, colleague]


def test_a_submission_figure_sent_again_after_a_conflict_is_saved(client, cycle, colleague):
    c1 = cycle.tree.c1
    sub = services.open_submission(cycle.request, c1)
    households, loan, _own = _names(cycle)
    form = _opened(client, cycle, sub)
    save_value(Entry(cycle.households, c1, "2024", D(13)), user=colleague)  # empty when opened
    form[households], form[loan] = "14", "100"
    page = client.post(reverse("reporting:submission", args=[sub.pk]), form).content.decode()
    assert "Không lưu số liệu nào" in page and "(trống)" in page
    again = {**form_inputs(page), "action": "save"}
    response = client.post(reverse("reporting:submission", args=[sub.pk]), again)
    assert response.status_code == 302
    assert _stored(cycle.households, c1) == 14 and _stored(cycle.capital, c1, "LOAN") == 100


# --- Excel ---------------------------------------------------------------------------------


@pytest.fixture
def form(tree):
    return make_form(tree)


@pytest.fixture
def people(tree):
    people = personas(tree)
    people["colleague"] = factories.user(
        "xa.mot.2", tree.c1, Role.COMMUNE_OFFICER, first_name="Trần Văn", last_name="Hùng"
    )
    return people


def ind(code):
    return Indicator.objects.get(code=code)


def _download(form, tree, user):
    return open_book(build_workbook(form, tree.vi_xuyen, ["2024"], user=user))


def test_a_figure_changed_since_the_download_is_a_conflict_and_nothing_is_written(
    form, tree, people
):
    user = people["district"]
    save_value(Entry(ind("DT"), tree.c1, "2024", D(5)), user=user)
    wb = _download(form, tree, user)
    save_value(Entry(ind("DT"), tree.c1, "2024", D("7.5")), user=people["colleague"])
    save_value(Entry(ind("HO"), tree.c1, "2024", D(4)), user=people["colleague"])
    wb[SHEET]["G7"] = 6  # DT of Xã Một, 5 when downloaded
    wb[SHEET]["D7"] = 3  # HO of Xã Một, empty when downloaded
    wb[SHEET]["D8"] = 9  # HO of Xã Hai: no conflict, but the file is written whole or not
    result = import_workbook(save_book(wb), user=user, form=form)
    assert not result.written
    errors = {p.cell: p.message for p in result.errors}
    assert set(errors) == {"G7", "D7"}
    assert all(p.sheet == SHEET and p.row == 7 for p in result.errors)
    assert "Trần Văn Hùng đã sửa thành 7,5" in errors["G7"] and "lúc đó: 5" in errors["G7"]
    assert "giá trị bạn nhập: 6" in errors["G7"] and "khi tệp được tải về" in errors["G7"]
    assert "thành 4" in errors["D7"] and "lúc đó: (trống)" in errors["D7"]
    assert _stored(ind("DT"), tree.c1) == D("7.5") and _stored(ind("HO"), tree.c1) == 4
    assert _stored(ind("HO"), tree.c2) is None
    assert not DataValueChange.objects.filter(source="excel").exists()


def test_a_cell_left_as_downloaded_keeps_the_newer_figure_and_the_rest_is_written(
    form, tree, people
):
    user = people["district"]
    save_value(Entry(ind("DT"), tree.c1, "2024", D(5)), user=user)
    wb = _download(form, tree, user)
    save_value(Entry(ind("DT"), tree.c1, "2024", D(7)), user=people["colleague"])
    wb[SHEET]["D8"] = 9
    result = import_workbook(save_book(wb), user=user, form=form)
    assert result.written, result.errors
    notice = next(p for p in result.notices if p.cell == "G7")
    assert "giữ số mới" in notice.message and "Trần Văn Hùng" in notice.message
    assert _stored(ind("DT"), tree.c1) == 7 and _stored(ind("HO"), tree.c2) == 9


def test_a_figure_deleted_since_the_download_is_a_conflict(form, tree, people):
    user = people["district"]
    save_value(Entry(ind("DT"), tree.c1, "2024", D(5)), user=user)
    wb = _download(form, tree, user)
    save_value(Entry(ind("DT"), tree.c1, "2024", None), user=people["colleague"])
    wb[SHEET]["G7"] = 6
    result = check_workbook(save_book(wb), user=user, form=form)
    assert [(p.cell, "đã xóa" in p.message) for p in result.errors] == [("G7", True)]


def test_the_versions_in_the_meta_sheet_are_signed(form, tree, people):
    user = people["district"]
    save_value(Entry(ind("DT"), tree.c1, "2024", D(5)), user=user)
    wb = _download(form, tree, user)
    rows = [r for r in wb["_meta"].iter_rows() if r[0].value == "ver"]
    assert [(r[2].value, r[3].value, r[5].value) for r in rows] == [("7", "G", "5.000000")]
    save_value(Entry(ind("DT"), tree.c1, "2024", D(7)), user=people["colleague"])
    rows[0][4].value = str(DataValueChange.objects.latest("pk").pk)  # claim the new version
    wb[SHEET]["G7"] = 6
    result = import_workbook(save_book(wb), user=user, form=form)
    assert [p.message for p in result.errors] == [
        "Trang ẩn “_meta” đã bị sửa hoặc hỏng; xin tải lại biểu mẫu."
    ]
    assert _stored(ind("DT"), tree.c1) == Decimal(7)
