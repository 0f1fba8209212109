import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role


@pytest.fixture
def officer(tree):
    return factories.user(
        "xa.mot", tree.c1, Role.COMMUNE_OFFICER, first_name="Hoàng Văn", last_name="Xã"
    )


def test_the_home_page_shows_the_user_unit_role_and_programmes(client, officer, tree):
    factories.programme("NQ04", "Phát triển cây cam sành")
    client.force_login(officer)
    html = client.get(reverse("home")).content.decode()
    assert "Hoàng Văn Xã" in html
    assert "Xã Một" in html and "00001" in html
    assert "Cán bộ xã" in html
    assert "Phát triển cây cam sành" in html
    assert reverse("analytics:programme", args=["NQ04"]) in html
    for label in ("Trang chủ", "Đơn vị", "Chương trình", "Nhập số liệu", "Đăng xuất"):
        assert label in html


def test_english_programme_page_has_english_headings(client, officer):
    factories.programme("NQ04", "Phát triển cây cam sành")
    client.force_login(officer)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("analytics:programme", args=["NQ04"])).content.decode()
    assert "Legal documents" in html and "Indicator results" in html
