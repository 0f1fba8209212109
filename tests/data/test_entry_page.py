"""The data entry page for people: what it preselects, the period picker, every invalid
field at once, ambiguous numbers, a paginated history, and who may open and post it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.data.test_views import form_url, indicator, posted
from tests.data.test_views import prog as prog  # noqa: F401  (fixture)
from tests.factories import D
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue
from tiendo.data.services import Entry, save_value
from tiendo.programmes.models import Programme


def selected_period(html: str) -> str:
    select = html.split('<select name="period"')[1].split("</select>")[0]
    if " selected>" not in select:
        return ""
    return select.split(" selected>")[0].rsplit('value="', 1)[1].split('"')[0]


def test_the_users_own_unit_is_preselected_among_several(client, prog, tree):
    district = factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER)
    client.force_login(district)
    html = client.get(reverse("data:entry"), {"period": "2024"}).content.decode()
    assert f'<option value="{tree.vi_xuyen.pk}" selected>' in html
    assert f'<option value="{tree.c1.pk}">' in html  # its communes stay offered
    assert "Huyện Vị Xuyên · Năm 2024" in html  # the form is open at once


def test_the_running_year_is_preselected_when_the_programme_covers_today(client, tree):
    year = timezone.localdate().year
    prog = factories.programme("P9", "Chương trình đang chạy")
    prog.period = f"{year - 1}-{year + 3}"
    prog.save()
    factories.indicator(prog, "HH", name="Số hộ")
    officer = factories.user("xa.moi", tree.n1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    html = client.get(reverse("data:entry")).content.decode()
    assert selected_period(html) == str(year)
    assert 'name="v-' in html  # programme, unit and period known: the form opens


def test_no_period_is_assumed_when_the_programme_has_ended(client, prog, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)  # NQ05 ran 2021-2025
    html = client.get(reverse("data:entry")).content.decode()
    assert selected_period(html) == ""
    assert 'name="v-' not in html


def test_periods_are_picked_from_a_list_in_words_with_the_code_as_value(client, prog, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    html = client.get(form_url(tree, "2024S1")).content.decode()
    assert '<input type="text" name="period"' not in html
    assert '<option value="2024S1" selected>6 tháng đầu năm 2024</option>' in html
    assert '<option value="2023">Năm 2023</option>' in html
    assert '<option value="2021-2025">Giai đoạn 2021–2025</option>' in html
    assert "Xã Một · 6 tháng đầu năm 2024" in html


def test_every_invalid_field_is_marked_at_once_and_nothing_is_saved(client, prog, tree):
    dt = indicator(prog, "DT")
    dt.min_value = D(0)
    dt.save()
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    data = posted(prog, tree, KH="abc", DT="-3", GN_TW="1,234.5", GN_DP="7")
    html = client.post(reverse("data:entry"), data).content.decode()
    assert not DataValue.objects.exists()
    assert html.count('aria-invalid="true"') == 3
    summary = html.split('id="loi"')[1].split("</div>")[0]
    for code, category in (("KH", ""), ("DT", ""), ("GN", "TW")):
        pk = indicator(prog, code).pk
        field = f'id="id_v-{pk}-{category}"'
        assert f'href="#id_v-{pk}-{category}"' in summary
        tag = html.split(field)[1].split(">")[0]
        assert f'aria-describedby="err-{pk}-{category}"' in tag
        assert f'<p class="field-error" id="err-{pk}-{category}">' in html
    assert "3 ô chưa hợp lệ" in summary
    assert "Chỉ tiêu “Kế hoạch vốn”: “abc” không phải là số." in summary
    assert "Chỉ tiêu “Vốn giải ngân” (Trung ương): “1,234.5” không rõ" in summary
    assert "Chỉ tiêu “Diện tích cải tạo”" in summary  # the indicator's own limit, too
    gn_dp = indicator(prog, "GN").pk
    assert f'id="id_v-{gn_dp}-DP" value="7"' in html  # what was typed stays
    assert f'id="id_v-{gn_dp}-DP" value="7" aria-invalid' not in html


@pytest.mark.parametrize("typed", ["1,234.5", "1.234,5,6", "1.23.4"])
def test_an_ambiguous_number_is_refused_naming_the_field(client, prog, tree, typed):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    html = client.post(reverse("data:entry"), posted(prog, tree, KH=typed)).content.decode()
    assert f"Chỉ tiêu “Kế hoạch vốn”: “{typed}”" in html
    assert not DataValue.objects.exists()


@pytest.mark.parametrize(("typed", "stored"), [("1.234,5", "1234.5"), ("1.234", "1234")])
def test_vietnamese_numbers_are_saved_from_the_page(client, prog, tree, typed, stored):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    client.post(reverse("data:entry"), posted(prog, tree, KH=typed))
    assert DataValue.objects.get().value == D(stored)


def test_a_long_history_is_shown_a_page_at_a_time(client, prog, tree):
    kh = indicator(prog, "KH")
    for n in range(1, 31):
        save_value(Entry(kh, tree.c1, "2024", D(n)))
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    first = client.get(form_url(tree)).content.decode().split('id="lich-su"')[1]
    assert first.count("<tr>") == 1 + 25  # the header row and a page of changes
    assert "Trang 1/2 · 30 thay đổi" in first and "Trang sau" in first
    assert "Trang trước" not in first
    second = client.get(form_url(tree) + "&trang=2").content.decode().split('id="lich-su"')[1]
    assert second.count("<tr>") == 1 + 5
    assert "Trang trước" in second and "Trang sau" not in second
    assert client.get(form_url(tree) + "&trang=x").status_code == 200  # a bad page: the first


def test_anonymous_users_are_sent_to_the_login_page(client, prog, tree):
    response = client.post(reverse("data:entry"), posted(prog, tree, KH="5"))
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]
    assert client.get(form_url(tree)).status_code == 302
    assert not DataValue.objects.exists()


def test_another_units_officer_may_neither_read_nor_write(client, prog, tree):
    stranger = factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR)
    client.force_login(stranger)
    assert client.get(form_url(tree)).status_code == 403
    response = client.post(reverse("data:entry"), posted(prog, tree, KH="5"))
    assert response.status_code == 403
    assert "Không có quyền truy cập" in response.content.decode()
    assert not DataValue.objects.exists()


def test_a_leader_reads_but_may_not_post(client, prog, tree):
    leader = factories.user("lanhdao", tree.ha_giang, Role.LEADER)
    client.force_login(leader)
    assert client.get(form_url(tree)).status_code == 200
    assert client.post(reverse("data:entry"), posted(prog, tree, KH="5")).status_code == 403
    assert not DataValue.objects.exists()


def test_the_officer_of_the_unit_saves(client, prog, tree):
    officer = factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)
    client.force_login(officer)
    response = client.post(reverse("data:entry"), posted(prog, tree, KH="5"))
    assert response.status_code == 200
    assert DataValue.objects.get().value == 5
    assert Programme.objects.count() == 1
