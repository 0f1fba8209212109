"""The demo's register holds what the seeds say (demo/cooperatives.py)."""

from datetime import date
from decimal import Decimal

import pytest

from tiendo.cooperatives import figures
from tiendo.cooperatives.models import Cooperative, OcopProduct
from tiendo.demo.cooperatives import load_demo_cooperatives
from tiendo.demo.dataset import Scopes
from tiendo.units.services import resolve_unit

pytestmark = pytest.mark.slow


def test_four_cam_sanh_products_one_recognised_in_2021_three_in_2022(demo_db):
    products = OcopProduct.objects.filter(programme__code="HG-NQ04")
    assert products.count() == 4
    assert products.filter(decision_date__year=2021).count() == 1
    assert products.filter(decision_date__year=2022).count() == 3
    assert all(p.stars >= 3 and p.illustrative for p in products)
    orange = {u.pk for u in Scopes().orange}
    assert {p.unit_id for p in products} <= orange
    assert figures.ocop_product_count(resolve_unit("02"), date(2022, 12, 31)) == 4


def test_the_cooperatives_of_the_three_orange_districts_could_not_borrow(demo_db):
    hagiang = resolve_unit("02")
    counts = figures.cooperatives_unable_to_borrow(hagiang)
    assert counts["total"] == Cooperative.objects.in_subtree(hagiang).count() >= 3
    assert counts["no_collateral"] and counts["no_office"] and counts["not_compliant"]
    districts = {
        c.unit.parent.name for c in Cooperative.objects.in_subtree(hagiang).select_related("unit")
    }
    assert districts == {"Huyện Bắc Quang", "Huyện Vị Xuyên", "Huyện Quang Bình"}


def test_van_quy_received_500_million_from_the_vietnam_cooperative_alliance(demo_db):
    van_quy = Cooperative.objects.get(name="HTX Văn Quỹ")
    assert van_quy.unit.code == "45.LMHTX" and van_quy.illustrative
    support = van_quy.supports.get()
    assert (support.giver, support.amount) == ("Liên minh Hợp tác xã Việt Nam", Decimal(500))


def test_loading_twice_adds_nothing(demo_db):
    before = (Cooperative.objects.count(), OcopProduct.objects.count())
    load_demo_cooperatives(Scopes().orange)
    assert (Cooperative.objects.count(), OcopProduct.objects.count()) == before
