"""A small register on the mini tree: the NQ 04 programme's loans component with the land
rule, and households of Xã Một (00001)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tiendo.households import services
from tiendo.households.models import EligibilityRule
from tiendo.programmes.models import Component, Programme

NUMBER = "002085012345"  # Hà Giang (002), a man born in 1985
OTHER_NUMBER = "002190054321"  # a woman born in 1990


def loan_programme():
    programme = Programme.objects.create(code="HG-NQ04", name="Nghị quyết 04", period="2021-2025")
    component = Component.objects.create(programme=programme, code="VAY_VON", name="Vay vốn")
    return programme, component


def land_rule(component, **kw):
    return EligibilityRule.objects.create(
        component=component, order=kw.pop("order", 0), kind="land_in_residence_commune", **kw
    )


def household(unit, code="H1", *, user=None, **fields):
    data = {
        "code": code,
        "village": "Thôn Một",
        "head_name": "Nguyễn Văn A",
        "head_birth_year": 1985,
        "head_sex": "M",
        "ethnicity": "Tày",
        "head_id": NUMBER,
    }
    data.update(fields)
    return services.create_household(unit, data, user=user)


def loan(household, programme, component, *, user=None, amount="50", **fields):
    data = {
        "programme": programme,
        "component": component,
        "amount": Decimal(amount),
        "disbursed_on": date(2022, 3, 15),
        "term_months": 36,
    }
    data.update(fields)
    return services.save_record("loan", household, data, user=user)


def plot(household, land_unit, programme=None, component=None, *, user=None, **fields):
    data = {
        "land_unit": land_unit,
        "programme": programme,
        "component": component,
        "area_ha": Decimal("1.5"),
        "crop": "Cam sành",
    }
    data.update(fields)
    return services.save_record("plot", household, data, user=user)
