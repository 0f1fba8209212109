"""The register's pages: the list (search, filters, paging, masked IDs), the household page,
its forms (versions, refusals beside their field, never a 500), the exports and their
audit rows."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories
from tests.households import helpers
from tiendo.accounts.models import Role
from tiendo.households import services
from tiendo.households.models import Household, Loan, PersonalDataExport, Plot, RecordChange


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER, first_name="Lan")


@pytest.fixture
def coordinator(tree):
    return factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)


@pytest.fixture
def register(tree):
    programme, component = helpers.loan_programme()
    first = helpers.household(tree.c1, village="Thôn Một")
    second = helpers.household(
        tree.c1,
        "H2",
        head_name="Trần Thị Bình",
        head_birth_year=1990,
        head_sex="F",
        head_id=helpers.OTHER_NUMBER,
        village="Thôn Hai",
    )
    services.set_poverty(first, 2023, "poor", expected_version=None)
    services.save_record(
        "enrolment",
        second,
        {"programme": programme, "component": component, "enrolled_on": date(2022, 1, 5)},
    )
    return {"first": first, "second": second, "programme": programme, "component": component}


def _list(client, tree, **params):
    return client.get(reverse("households:list", args=[tree.c1.pk]), params).content.decode()


def test_the_list_searches_filters_and_masks(client, tree, officer, register):
    client.force_login(officer)
    page = _list(client, tree)
    assert "Nguyễn Văn A" in page and "Trần Thị Bình" in page
    assert helpers.NUMBER not in page and "•••••••••345" in page
    assert "Trần Thị Bình" not in _list(client, tree, q="345")
    assert "Nguyễn Văn A" not in _list(client, tree, q="Bình")
    assert "Trần Thị Bình" in _list(client, tree, q=helpers.OTHER_NUMBER)
    assert "Nguyễn Văn A" not in _list(client, tree, q="H2")
    assert "Trần Thị Bình" not in _list(client, tree, thon="Thôn Một")
    assert "Trần Thị Bình" not in _list(client, tree, nam=2023, ngheo="poor")
    assert "Nguyễn Văn A" not in _list(client, tree, chuong_trinh="HG-NQ04")


def test_removed_households_are_listed_only_when_asked(client, tree, officer, register):
    second = register["second"]
    services.remove_household(second, reason="Chuyển đi", expected_version=second.version)
    client.force_login(officer)
    assert "Trần Thị Bình" not in _list(client, tree)
    assert "Trần Thị Bình" in _list(client, tree, da_xoa="1")
    assert "Nguyễn Văn A" in _list(client, tree, da_xoa="tat-ca")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 5000},
        {"nam": "abc", "ngheo": "rich"},
        {"page": "9999"},
        {"page": "-1"},
        {"chuong_trinh": "NQ04’"},
        {"q": "٣٤٥"},
    ],
)
def test_hostile_list_parameters_never_fail(client, tree, officer, register, params):
    client.force_login(officer)
    response = client.get(reverse("households:list", args=[tree.c1.pk]), params)
    assert response.status_code == 200


def test_the_list_pages(client, tree, officer):
    for i in range(55):
        helpers.household(tree.c1, f"P{i:02d}", head_name=f"Hộ {i}", head_id="")
    client.force_login(officer)
    first = _list(client, tree)
    assert "Trang 1/2" in first and "P49" in first and "P50" not in first
    assert "P54" in _list(client, tree, page=2)


def _sheet(response):
    book = load_workbook(io.BytesIO(response.content))
    return [[c for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]


def test_the_list_export_is_audited_with_full_ids_only_for_the_commune(
    client, tree, officer, coordinator, register
):
    url = reverse("households:export_list", args=[tree.c1.pk])
    client.force_login(officer)
    response = client.get(url, {"thon": "Thôn Một"})
    rows = _sheet(response)
    assert any(helpers.NUMBER in [str(c) for c in row] for row in rows)
    assert not any("Trần Thị Bình" in [str(c) for c in row] for row in rows)
    audit = PersonalDataExport.objects.get()
    assert (audit.kind, audit.rows, audit.with_id_numbers, audit.exported_by) == (
        "list",
        1,
        True,
        officer,
    )
    assert audit.filters == {"thon": "Thôn Một"}
    client.force_login(coordinator)
    rows = _sheet(client.get(url))
    texts = " ".join(str(c) for row in rows for c in row)
    assert helpers.NUMBER not in texts and "•••••••••345" in texts
    assert PersonalDataExport.objects.filter(with_id_numbers=False, rows=2).count() == 1


def test_one_households_own_data_as_json_and_excel_audited(client, tree, officer, register):
    household = register["first"]
    client.force_login(officer)
    url = reverse("households:export_household", args=[household.pk])
    data = json.loads(client.get(url, {"dinh-dang": "json"}).content)
    assert data["household"]["head_id"] == helpers.NUMBER
    assert data["poverty"] == [{"year": 2023, "level": "poor"}]
    assert {"household", "members", "loans", "plots", "history"} <= set(data)
    response = client.get(url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    # the person reads it in Vietnamese: sheets and headers from the models' labels
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:3] == ["Hộ", "Thành viên", "Phân loại hộ nghèo"]
    assert "Trả nợ" in book.sheetnames and "Lịch sử thay đổi" in book.sheetnames
    head = [c.value for c in book["Hộ"][1]]
    assert "Họ và tên chủ hộ" in head and "Số căn cước chủ hộ" in head
    assert not {"head_name", "head_id", "code"} & set(head)
    assert [c.value for c in book["Phân loại hộ nghèo"][1]] == ["Năm", "Phân loại"]
    kinds = list(PersonalDataExport.objects.values_list("kind", "rows", "filters__format"))
    assert sorted(kinds) == [("household", 1, "json"), ("household", 1, "xlsx")]


def test_the_export_audit_page_lists_exports(client, tree, officer, coordinator, register):
    client.force_login(officer)
    client.get(reverse("households:export_list", args=[tree.c1.pk]))
    client.force_login(coordinator)
    page = client.get(reverse("households:export_audit", args=[tree.c1.pk])).content.decode()
    assert "Lan (xa.mot)" in page and "Danh sách hộ" in page


def _household_post(household, **changes):
    data = {
        "code": household.code,
        "head_name": household.head_name,
        "head_birth_year": household.head_birth_year,
        "head_sex": household.head_sex,
        "village": household.village,
        "ethnicity": household.ethnicity,
        "version": household.version,
    }
    data.update(changes)
    return data


def test_create_then_edit_keeping_the_id_number(client, tree, officer):
    client.force_login(officer)
    response = client.post(
        reverse("households:create", args=[tree.c1.pk]),
        {
            "code": "H7",
            "head_name": "Lò Văn Bảy",
            "head_birth_year": 1985,
            "head_sex": "M",
            "head_id": "002 085 012 345",
        },
    )
    household = Household.objects.get(code="H7")
    assert response["Location"] == reverse("households:detail", args=[household.pk])
    edit_url = reverse("households:edit", args=[household.pk])
    form = client.get(edit_url).content.decode()
    assert helpers.NUMBER not in form  # a stored number is never shown back in a form
    response = client.post(edit_url, _household_post(household, village="Thôn Bảy", head_id=""))
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.village == "Thôn Bảy" and household.head_id() == helpers.NUMBER
    assert household.version == 2


def test_a_stale_form_is_refused_and_says_who_saved(client, tree, officer, register):
    household = register["first"]
    household.refresh_from_db()
    stale = _household_post(household, village="Thôn Ba")
    services.update_household(
        household,
        {**_household_post(household, village="Thôn Hai")},
        expected_version=household.version,
        user=factories.user("xa.mot.2", tree.c1, Role.COMMUNE_OFFICER, first_name="Hoa"),
    )
    client.force_login(officer)
    response = client.post(reverse("households:edit", args=[household.pk]), stale)
    assert response.status_code == 200
    assert "Hoa" in response.content.decode()
    household.refresh_from_db()
    assert household.village == "Thôn Hai"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"head_id": "12345"}, "12 chữ số"),
        ({"head_id": "002085012345", "head_birth_year": 1990}, "Năm sinh 1990"),
        ({"code": "HỘ-MỘT"}, "không hợp lệ"),
        ({"head_name": "x" * 5000}, "200"),
        ({"head_birth_year": "một nghìn"}, "số"),
    ],
)
def test_hostile_household_input_gives_messages_not_500(client, tree, officer, changes, words):
    client.force_login(officer)
    data = {"code": "H1", "head_name": "Lò Văn A", "head_birth_year": 1985, "head_sex": "M"}
    data.update(changes)
    response = client.post(reverse("households:create", args=[tree.c1.pk]), data)
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not Household.objects.exists()


def test_remove_with_reason_keeps_the_household_and_its_history(client, tree, officer, register):
    household = register["first"]
    household.refresh_from_db()
    client.force_login(officer)
    url = reverse("households:remove", args=[household.pk])
    assert client.post(url, {"reason": "", "version": household.version}).status_code == 200
    response = client.post(url, {"reason": "Nhập trùng", "version": household.version})
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.removed_reason == "Nhập trùng"
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert "Nhập trùng" in page and 'id="removed"' in page
    assert reverse("households:edit", args=[household.pk]) not in page
    assert RecordChange.objects.filter(household=household, field="removed").exists()


def test_loan_plot_and_repayment_forms(client, tree, officer, register):
    household = register["first"]
    client.force_login(officer)
    response = client.post(
        reverse("households:record_add", args=[household.pk, "vay"]),
        {
            "programme": register["programme"].pk,
            "component": register["component"].pk,
            "amount": "1.234,5",
            "disbursed_on": "15/03/2022",
            "term_months": 36,
        },
    )
    assert response.status_code == 302, response.content.decode()
    loan = Loan.objects.get()
    assert str(loan.amount) == "1234.500"
    response = client.post(
        reverse("households:repayment", args=[household.pk, loan.pk]),
        {"paid_on": "01/03/2023", "principal": "234,5", "version": loan.version},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("households:record_add", args=[household.pk, "dat"]),
        {
            "land_unit": tree.c2.code,
            "programme": register["programme"].pk,
            "component": register["component"].pk,
            "area_ha": "1,5",
            "crop": "Cam sành",
        },
    )
    assert response.status_code == 302
    assert Plot.objects.get().land_unit == tree.c2
    bad = client.post(
        reverse("households:record_add", args=[household.pk, "dat"]),
        {"land_unit": "Xã Một", "area_ha": "1", "crop": "Cam"},
    )
    assert bad.status_code == 200 and "chỉ gồm chữ số" in bad.content.decode()
    page = client.get(
        reverse("households:detail", args=[household.pk]), {"ngay": "31/12/2023"}
    ).content.decode()
    assert "1.000" in page  # outstanding after the repayment
    assert "ngoài xã cư trú" in page


def test_the_household_page_warns_of_duplicates_and_eligibility(client, tree, officer, register):
    helpers.land_rule(register["component"], message="Đất phải ở xã cư trú.")
    household = register["first"]
    helpers.plot(household, tree.c2, register["programme"], register["component"])
    helpers.loan(household, register["programme"], register["component"])
    helpers.household(tree.c1, "H3", head_id="")  # same name and year in the commune
    helpers.household(tree.other_commune, "K1", head_name="Khác")  # same ID, another province
    client.force_login(officer)
    page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
    assert 'id="duplicates"' in page and "H3" in page
    assert "Xã Khác" not in page and "1 hộ ở đơn vị bạn không có quyền xem" in page
    assert 'id="eligibility"' in page and "Đất phải ở xã cư trú." in page
    failures = client.get(reverse("households:eligibility", args=[tree.c1.pk])).content.decode()
    assert "Nguyễn Văn A" in failures and "Xã Hai" in failures


def test_removing_a_record_with_a_stale_version_says_so(client, tree, officer, register):
    household = register["second"]
    enrolment = household.enrolments.get()
    client.force_login(officer)
    url = reverse("households:record_remove", args=[household.pk, "tham-gia", enrolment.pk])
    response = client.post(url, {"version": 7}, follow=True)
    assert "tải lại" in response.content.decode()
    assert household.enrolments.exists()
    client.post(url, {"version": enrolment.version})
    assert not household.enrolments.exists()


def test_households_are_added_in_a_commune_and_listed_above_it(client, tree, officer, coordinator):
    """A household lives in a commune: the list of a commune offers adding and importing;
    a province's list (its communes' households) offers the import, whose rows name their
    commune; an agency's list, neither (no commune is below it)."""
    from django.urls import reverse

    def buttons(user, unit):
        client.force_login(user)
        page = client.get(reverse("households:list", args=[unit.pk])).content.decode()
        return (
            reverse("households:create", args=[unit.pk]) in page,
            reverse("households:import", args=[unit.pk]) in page,
        )

    assert buttons(officer, tree.c1) == (True, True)
    assert buttons(coordinator, tree.ha_giang) == (False, True)
    agency_officer = factories.user("snn.hagiang", tree.agency, Role.AGENCY_OFFICER)
    assert buttons(agency_officer, tree.agency) == (False, False)
