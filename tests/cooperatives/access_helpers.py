"""Records of the cooperative register for the access table (tests/test_access.py): a
cooperative of Xã Một with one support and one OCOP product, made once per world."""

from datetime import date
from decimal import Decimal

from tiendo.cooperatives import services
from tiendo.cooperatives.models import Cooperative


def access_cooperative(w) -> Cooperative:
    found = Cooperative.objects.filter(unit=w.tree.c1, name="HTX Cam sành Xã Một").first()
    if found is not None:
        return found
    officer = w.people["officer"]
    record = services.create_cooperative(
        officer,
        {
            "name": "HTX Cam sành Xã Một",
            "unit": w.tree.c1,
            "founded_on": date(2019, 3, 1),
            "no_collateral": True,
        },
    )
    services.add_support(
        officer,
        record,
        {
            "given_on": date(2020, 11, 16),
            "giver": "Liên minh HTX",
            "kind": "equipment",
            "amount": Decimal(500),
        },
    )
    services.create_product(
        officer,
        {
            "name": "Cam sành Xã Một",
            "unit": w.tree.c1,
            "cooperative": record,
            "group": "food",
            "stars": 3,
            "decision_number": "12/QĐ-UBND",
            "decision_date": date(2022, 10, 20),
            "issuer": "UBND tỉnh",
        },
    )
    return record


def access_product(w):
    return access_cooperative(w).ocop_products.get()


def access_support(w):
    return access_cooperative(w).supports.get()


def cooperative_post(w, **kw):
    return {
        "kind": "htx",
        "name": "HTX mới",
        "tax_code": "",
        "unit_code": w.tree.c1.code,
        "founded_on": "01/01/2021",
        "members": "5",
        "sector": "agriculture",
        "status": "active",
        "version": str(access_cooperative(w).version),
        **kw,
    }


def product_post(w, **kw):
    return {
        "name": "Sản phẩm mới",
        "unit_code": w.tree.c1.code,
        "group": "food",
        "stars": "3",
        "enterprise": "Công ty Thử",
        "decision_number": "1/QĐ-UBND",
        "decision_date": "01/01/2023",
        "issuer": "UBND tỉnh",
        "version": str(access_product(w).version),
        **kw,
    }


def support_post(w):
    return {
        "given_on": "01/01/2021",
        "giver": "Sở Nông nghiệp",
        "kind": "training",
        "amount": "12,5",
    }
