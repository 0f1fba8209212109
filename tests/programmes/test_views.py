import pytest
from django.urls import reverse

from tests import factories
from tiendo.accounts.models import Role


@pytest.fixture
def coordinator(tree):
    return factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR)


def test_the_list_shows_every_programme(client, tree, coordinator):
    factories.programme("NQ04", "Phát triển cây cam sành bền vững")
    client.force_login(coordinator)
    response = client.get(reverse("programmes:list"))
    assert response.status_code == 200
    html = response.content.decode().split("<main>")[1].split("</main>")[0]
    assert "Phát triển cây cam sành bền vững" in html
    assert reverse("analytics:programme", args=["NQ04"]) in html
