"""The 404 and 403 pages are the project's own, in Vietnamese, inside the site's layout."""

from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role


def test_an_unknown_address_gets_the_vietnamese_404_page(client, tree):
    client.force_login(factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER))
    for url in ("/khong-co-trang-nay/", reverse("data:entry") + "?unit=999999"):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert "<title>Không tìm thấy trang · Tiến Độ</title>" in html
        assert "Trang hoặc mục bạn tìm không tồn tại." in html
        assert 'lang="vi"' in html and "Về trang chủ" in html
        assert "Not Found" not in html


def test_a_page_of_another_unit_gets_the_vietnamese_403_page_with_the_reason(client, tree):
    client.force_login(factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR))
    response = client.get(reverse("data:entry") + f"?unit={tree.c1.pk}")
    html = response.content.decode()
    assert response.status_code == 403
    assert "<title>Không có quyền truy cập · Tiến Độ</title>" in html
    assert "Bạn không có quyền xem đơn vị này." in html  # the reason the view gave
    assert 'lang="vi"' in html and "Forbidden" not in html
