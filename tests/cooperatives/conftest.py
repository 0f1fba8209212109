"""A small register on the mini tree: one cooperative and one OCOP product of Xã Một, and
the people who look at them."""

from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tiendo.accounts.models import Role
from tiendo.cooperatives import services


@pytest.fixture
def people(tree):
    return {
        "officer": factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER),
        "district": factories.user("huyen.vixuyen", tree.vi_xuyen, Role.AGENCY_OFFICER),
        "coordinator": factories.user("bcd.hagiang", tree.ha_giang, Role.COORDINATOR),
        "leader": factories.user("lanhdao.hagiang", tree.ha_giang, Role.LEADER),
        "other_commune": factories.user("xa.ba", tree.c3, Role.COMMUNE_OFFICER),
        "stranger": factories.user("bcd.quangtri", tree.other_province, Role.COORDINATOR),
    }


def cooperative_data(unit, **kw):
    return {
        "kind": "htx",
        "name": "HTX Cam sành Một",
        "tax_code": "5100123456",
        "unit": unit,
        "founded_on": date(2019, 3, 1),
        "members": 12,
        "sector": "agriculture",
        "value_chain": "Cam sành",
        **kw,
    }


def product_data(unit, cooperative, **kw):
    return {
        "name": "Cam sành Một",
        "unit": unit,
        "cooperative": cooperative,
        "group": "food",
        "stars": 3,
        "score": Decimal("65"),
        "decision_number": "12/QĐ-UBND",
        "decision_date": date(2021, 10, 20),
        "issuer": "UBND tỉnh Hà Giang",
        **kw,
    }


@pytest.fixture
def coop(tree, people):
    return services.create_cooperative(
        people["officer"], cooperative_data(tree.c1, no_collateral=True)
    )


@pytest.fixture
def product(tree, people, coop):
    return services.create_product(people["officer"], product_data(tree.c1, coop))
