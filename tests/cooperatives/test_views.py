"""The register's pages: who sees and edits what, hostile input, stale forms, exports.

Cooperatives are organisations, not personal data: a leader reads them (GET 200) but never
writes (403); another province's coordinator sees nothing of Xã Một's (403)."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import form_inputs
from tiendo.cooperatives.models import Cooperative, OcopProduct


def _pages(coop, product):
    return [
        reverse("cooperatives:list"),
        reverse("cooperatives:list") + f"?don_vi={coop.unit_id}",
        reverse("cooperatives:export"),
        reverse("cooperatives:detail", args=[coop.pk]),
        reverse("cooperatives:products"),
        reverse("cooperatives:product_export"),
        reverse("cooperatives:product", args=[product.pk]),
    ]


def _edits(coop, product):
    return [
        reverse("cooperatives:create"),
        reverse("cooperatives:edit", args=[coop.pk]),
        reverse("cooperatives:product_create"),
        reverse("cooperatives:product_edit", args=[product.pk]),
    ]


def _posts(coop, product):
    support = coop.supports.create(
        given_on=date(2020, 1, 1), giver="Liên minh HTX", kind="other", amount=1
    )
    return [
        *_edits(coop, product),
        reverse("cooperatives:support_add", args=[coop.pk]),
        reverse("cooperatives:support_remove", args=[coop.pk, support.pk]),
    ]


def test_anonymous_is_sent_to_the_login_page(client, coop, product):
    for url in _pages(coop, product) + _posts(coop, product):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_the_officer_and_the_units_above_read_every_page(client, people, coop, product):
    for who in ("officer", "district", "coordinator", "leader"):
        client.force_login(people[who])
        for url in _pages(coop, product):
            assert client.get(url).status_code == 200, (who, url)


def test_another_unit_sees_neither_the_records_nor_the_lists_of_its_units(
    client, people, coop, product
):
    client.force_login(people["stranger"])
    for url in [
        reverse("cooperatives:detail", args=[coop.pk]),
        reverse("cooperatives:product", args=[product.pk]),
        reverse("cooperatives:list") + f"?don_vi={coop.unit_id}",
        reverse("cooperatives:edit", args=[coop.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    listing = client.get(reverse("cooperatives:list"))
    assert coop.name not in listing.content.decode()
    products = client.get(reverse("cooperatives:products"))
    assert product.name not in products.content.decode()


def test_a_leader_reads_but_never_writes(client, people, coop, product):
    client.force_login(people["leader"])
    page = client.get(reverse("cooperatives:detail", args=[coop.pk])).content.decode()
    assert reverse("cooperatives:edit", args=[coop.pk]) not in page
    for url in _posts(coop, product):
        assert client.post(url, {"name": "x"}).status_code == 403, url
    for url in _edits(coop, product):
        assert client.get(url).status_code == 403, url
    coop.refresh_from_db()
    assert coop.version == 1


def test_a_commune_officer_of_another_commune_cannot_edit(client, people, coop, product):
    client.force_login(people["other_commune"])
    assert client.get(reverse("cooperatives:detail", args=[coop.pk])).status_code == 403
    assert client.post(reverse("cooperatives:edit", args=[coop.pk]), {}).status_code == 403


def test_unknown_records_and_units_are_404(client, people):
    client.force_login(people["officer"])
    assert client.get(reverse("cooperatives:detail", args=[999999])).status_code == 404
    assert client.get(reverse("cooperatives:list") + "?don_vi=x").status_code == 404


def _coop_post(unit_code="00001", **kw):
    return {
        "kind": "htx",
        "name": "HTX Cam Hai",
        "tax_code": "5100999999-001",
        "unit_code": unit_code,
        "founded_on": "15/03/2020",
        "members": "9",
        "sector": "agriculture",
        "value_chain": "Cam sành",
        "status": "active",
        "no_collateral": "on",
        "obstacle_note": "",
        "note": "",
        **kw,
    }


def test_the_officer_adds_a_cooperative_in_vietnamese_dates(client, people, tree):
    client.force_login(people["officer"])
    response = client.post(reverse("cooperatives:create"), _coop_post("00001"))
    record = Cooperative.objects.get(name="HTX Cam Hai")
    assert response.status_code == 302
    assert (record.unit, record.founded_on, record.no_collateral) == (
        tree.c1,
        date(2020, 3, 15),
        True,
    )
    page = client.get(reverse("cooperatives:detail", args=[record.pk])).content.decode()
    assert "15/03/2020" in page
    assert "Không có tài sản thế chấp" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_code", "12345", "Mã số thuế"),
        ("tax_code", "51009999ĐĐ", "Mã số thuế"),
        ("unit_code", "xã-một", "không dấu"),
        ("unit_code", "00003", "trong phạm vi của bạn"),
        ("founded_on", "31/02/2020", "ngày/tháng/năm"),
        ("name", "H" * 5000, "300"),
        ("note", "x" * 100_000, "4000"),
        ("members", "-4", "0"),
        ("kind", "<script>", "lựa chọn"),
    ],
)
def test_hostile_input_gets_a_message_and_saves_nothing(client, people, field, value, message):
    client.force_login(people["officer"])
    response = client.post(reverse("cooperatives:create"), _coop_post(**{field: value}))
    assert response.status_code == 200
    page = response.content.decode()
    assert message.lower() in page.lower(), page[-3000:]
    assert "Chưa lưu" in page
    assert not Cooperative.objects.exists()


def test_a_stale_edit_form_is_refused_with_a_message(client, people, coop):
    client.force_login(people["officer"])
    url = reverse("cooperatives:edit", args=[coop.pk])
    fields = form_inputs(client.get(url).content.decode())
    assert fields["version"] == "1"
    first = _coop_post("00001", name="HTX mới", tax_code="", version="1")
    assert client.post(url, first).status_code == 302
    response = client.post(url, _coop_post("00001", name="HTX cũ", tax_code="", version="1"))
    assert response.status_code == 200
    assert "phiên bản 2" in response.content.decode()
    coop.refresh_from_db()
    assert coop.name == "HTX mới"
    # a form that leaves out its version is never taken for a fresh one
    response = client.post(url, _coop_post("00001", name="HTX không phiên bản", tax_code=""))
    assert response.status_code == 200
    coop.refresh_from_db()
    assert coop.name == "HTX mới"


def test_support_with_a_bad_amount_is_refused_with_a_message(client, people, coop):
    client.force_login(people["officer"])
    url = reverse("cooperatives:support_add", args=[coop.pk])
    data = {"given_on": "16/11/2020", "giver": "Liên minh HTX Việt Nam", "kind": "equipment"}
    response = client.post(url, {**data, "amount": "năm trăm"}, follow=True)
    assert "phải là một số" in response.content.decode()
    assert not coop.supports.exists()
    client.post(url, {**data, "amount": "1.500,5"})
    assert str(coop.supports.get().amount) == "1500.500"


def _product_post(**kw):
    return {
        "name": "Cam sành Hai",
        "unit_code": "00001",
        "group": "food",
        "stars": "4",
        "score": "75,5",
        "enterprise": "Công ty Cam Việt",
        "decision_number": "15/QĐ-UBND",
        "decision_date": "20/10/2022",
        "issuer": "UBND tỉnh Hà Giang",
        "note": "",
        **kw,
    }


def test_the_officer_adds_a_product_valid_36_months(client, people, tree):
    client.force_login(people["officer"])
    assert client.post(reverse("cooperatives:product_create"), _product_post()).status_code == 302
    product = OcopProduct.objects.get()
    assert (product.producer_kind, product.expires_on) == ("enterprise", date(2025, 10, 20))
    page = client.get(reverse("cooperatives:product", args=[product.pk])).content.decode()
    assert "19/10/2025" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stars": "6"}, "lựa chọn"),
        ({"score": "95"}, "4 sao"),
        ({"score": "abc"}, "phải là một số"),
        ({"enterprise": ""}, "đúng một"),
        ({"household_code": "H-01"}, "đúng một"),
        ({"enterprise": "", "household_code": "Hộ-một"}, "không dấu"),
        ({"enterprise": "", "household_code": "H404"}, "Không có hộ"),
        ({"decision_date": "2022-20-20"}, "ngày/tháng/năm"),
    ],
)
def test_a_bad_product_gets_a_message_and_saves_nothing(client, people, changes, message):
    client.force_login(people["officer"])
    response = client.post(reverse("cooperatives:product_create"), _product_post(**changes))
    assert response.status_code == 200
    assert message.lower() in response.content.decode().lower()
    assert not OcopProduct.objects.exists()


def test_the_product_list_filters_by_stars_group_and_validity(client, people, product):
    client.force_login(people["coordinator"])
    url = reverse("cooperatives:products")
    assert product.name in client.get(url + "?sao=3&nhom=food").content.decode()
    assert product.name not in client.get(url + "?sao=4").content.decode()
    assert product.name in client.get(url + "?ngay=31/12/2022").content.decode()
    assert product.name not in client.get(url + "?ngay=31/12/2024").content.decode()
    response = client.get(url + "?ngay=99/99/9999&sao=x")
    assert response.status_code == 200
    assert "ngày/tháng/năm" in response.content.decode()


def test_the_cooperative_list_filters_and_pages(client, people, coop):
    client.force_login(people["coordinator"])
    url = reverse("cooperatives:list")
    assert coop.name in client.get(url + "?vuong_mac=no_collateral").content.decode()
    assert coop.name not in client.get(url + "?vuong_mac=no_office").content.decode()
    assert coop.name in client.get(url + "?vuong_mac=any&loai=htx").content.decode()
    assert coop.name not in client.get(url + "?linh_vuc=trade").content.decode()
    assert client.get(url + "?page=abc&vuong_mac=../etc").status_code == 200


def test_the_exports_hold_the_filtered_rows(client, people, coop, product):
    client.force_login(people["leader"])
    response = client.get(reverse("cooperatives:export") + "?vuong_mac=any")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert coop.name in values
    response = client.get(reverse("cooperatives:product_export") + "?ngay=31/12/2022")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert product.name in values
    assert coop.name in values  # the producer


def test_a_household_producer_is_named_only_to_who_sees_records(client, people, tree, coop):
    from tiendo.cooperatives import services
    from tiendo.households.models import Household

    household = Household.objects.create(
        unit=tree.c1, code="H01", head_name="Nguyễn Văn Cam", head_birth_year=1970, head_sex="M"
    )
    product = services.create_product(
        people["officer"],
        {
            "name": "Cam hộ",
            "unit": tree.c1,
            "household": household,
            "group": "food",
            "stars": 3,
            "decision_number": "1/QĐ",
            "decision_date": date(2022, 1, 1),
            "issuer": "UBND tỉnh",
        },
    )
    url = reverse("cooperatives:product", args=[product.pk])
    client.force_login(people["officer"])
    assert "Nguyễn Văn Cam" in client.get(url).content.decode()
    client.force_login(people["leader"])
    assert "Nguyễn Văn Cam" not in client.get(url).content.decode()
    assert "Nguyễn Văn Cam" not in client.get(reverse("cooperatives:products")).content.decode()


def test_the_history_names_fields_in_vietnamese_with_old_and_new_values(client, people, coop):
    client.force_login(people["officer"])
    url = reverse("cooperatives:edit", args=[coop.pk])
    client.post(url, _coop_post(members="25", tax_code=coop.tax_code, version="1"))
    page = client.get(reverse("cooperatives:detail", args=[coop.pk])).content.decode()
    assert "<td>Số thành viên</td>" in page
    assert '<td class="old">12</td>' in page and '<td class="new">25</td>' in page
    assert "xa.mot" in page
