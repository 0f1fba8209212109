"""A NUL character anywhere a view reads text is answered with a Vietnamese 400 page.

PostgreSQL refuses strings holding NUL (the driver raises before the query runs), so these
requests ended in server errors there; the middleware answers them before any view runs.
"""

import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue
from tiendo.programmes.models import Programme

NUL = "\x00"
GET_PAGES = [
    ("home", {}),
    ("units:list", {"q": "Xã" + NUL}),
    ("programmes:list", {"q": NUL}),
    ("analytics:programme", {"unit": NUL, "today": "1"}),
    ("analytics:drill", {"indicator": "HH", "period": "2022" + NUL, "unit": "1"}),
    ("data:entry", {"programme": "P1", "period": NUL, "unit_q": NUL}),
    ("data:validation", {"programme": NUL, "period": "2022", "unit": NUL}),
    ("reporting:inbox", {"q": NUL}),
    ("reporting:requests", {"page": NUL}),
    ("documents:reports", {"report": NUL}),
    ("documents:documents", {"report": NUL}),
]


@pytest.fixture
def officer(tree):
    factories.programme()
    return factories.user("tinh.hg", tree.ha_giang, Role.COORDINATOR)


def url(name):
    return reverse(name, kwargs={"code": "P1"}) if name.startswith("analytics:") else reverse(name)


@pytest.mark.parametrize(("name", "params"), GET_PAGES, ids=[n for n, _ in GET_PAGES])
def test_a_nul_in_a_get_parameter_gets_a_400_page_naming_the_parameter(
    client, officer, name, params
):
    client.force_login(officer)
    params = params or {"bat_ky": NUL}
    response = client.get(url(name), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Yêu cầu không hợp lệ" in html and "ký tự NUL" in html
    field = next(k for k, v in params.items() if NUL in v)
    assert f"Trường “{field}”" in html


def test_a_nul_in_a_parameter_name_or_the_path_or_a_cookie_gets_a_400_page(client, officer):
    client.force_login(officer)
    assert client.get(reverse("units:list"), {"q" + NUL: "x"}).status_code == 400
    assert client.get("/chuong-trinh/P1%00/").status_code == 400
    client.cookies["sessionid"] = "abc" + NUL
    assert client.get(reverse("home")).status_code == 400


def test_a_comment_holding_a_nul_is_refused_whole_and_nothing_is_saved(client, tree, officer):
    households = factories.indicator(Programme.objects.get(code="P1"), "HH")
    client.force_login(factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER))
    data = {
        "programme": "P1",
        "unit": tree.c1.pk,
        "period": "2022",
        f"v-{households.pk}-": "12",
        f"c-{households.pk}-": "theo biên bản" + NUL,
    }
    response = client.post(reverse("data:entry"), data)
    assert response.status_code == 400
    assert f"Trường “c-{households.pk}-”" in response.content.decode()
    assert not DataValue.objects.exists()
    del data[f"c-{households.pk}-"]
    assert client.post(reverse("data:entry"), data).status_code == 200
    assert DataValue.objects.get().value == 12


def test_other_bad_requests_get_the_vietnamese_400_page_without_a_field(client, db, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    response = client.post(reverse("login"), {"a": "1", "b": "2", "c": "3"})
    assert response.status_code == 400
    assert "Máy chủ không đọc được yêu cầu này" in response.content.decode()
