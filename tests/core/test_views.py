import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role


@pytest.fixture
def officer(tree):
    return factories.user(
        "xa.mot", tree.c1, Role.COMMUNE_OFFICER, first_name="Hoàng Văn", last_name="Xã"
    )


def test_the_login_page_is_vietnamese(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "Đăng nhập" in html and "Tên đăng nhập" in html and "Mật khẩu" in html


def test_a_bad_password_gets_a_vietnamese_message(client, officer):
    response = client.post(reverse("login"), {"username": "xa.mot", "password": "sai"})
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.content.decode()


def test_a_good_password_opens_the_home_page(client, officer):
    response = client.post(reverse("login"), {"username": "xa.mot", "password": "matkhau-thu"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_login_returns_to_the_page_asked_for(client, officer):
    target = reverse("units:list")
    response = client.post(
        reverse("login"), {"username": "xa.mot", "password": "matkhau-thu", "next": target}
    )
    assert response["Location"] == target


def test_logout_is_a_post_and_returns_to_login(client, officer):
    client.force_login(officer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_english_is_one_click_away(client, officer):
    client.force_login(officer)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("units:list")).content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Units</h1>" in html
    assert "Home" in html and "Programmes" in html and "Data entry" in html and "Log out" in html
    back = client.post(reverse("set_language"), {"language": "vi", "next": reverse("home")})
    assert back.status_code == 302
    assert "<h1>Đơn vị</h1>" in client.get(reverse("units:list")).content.decode()
