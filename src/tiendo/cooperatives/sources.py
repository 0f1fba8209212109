"""The ``cooperative`` and ``ocop_product`` sources a register indicator may count over
(:mod:`tiendo.households.sources`).

A cooperative counts in its unit in the period of its founding date; a package filters on
its kind, sector, status and the reasons it could not borrow. An OCOP product counts in its
unit in the period of its recognition decision, and — for a figure "valid on" a day, such
as the products holding a certificate at the end of a year — only while its 36 months run;
a package filters on its stars, group, the kind of its producer and the programme it came
out of (``programme``: the programme's code, ``HG-NQ04`` for Hà Giang's Cam Sành).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tiendo.cooperatives.models import OBSTACLES, Cooperative, OcopProduct
from tiendo.households.sources import Source, register_source


def _cooperatives():
    return Cooperative.objects.all()


def _products():
    return OcopProduct.objects.all()


def _valid_on(queryset, day):
    return queryset.filter(decision_date__lte=day, expires_on__gt=day)


COOPERATIVE = Source(
    key="cooperative",
    label=_("Hợp tác xã, tổ hợp tác"),
    queryset=_cooperatives,
    unit="unit",
    date="founded_on",
    fields={
        "kind": "kind",
        "sector": "sector",
        "status": "status",
        "members": "members",
        **{name: name for name in OBSTACLES},
    },
)
OCOP_PRODUCT = Source(
    key="ocop_product",
    label=_("Sản phẩm OCOP"),
    queryset=_products,
    unit="unit",
    date="decision_date",
    valid_on=_valid_on,
    fields={
        "stars": "stars",
        "group": "group",
        "producer_kind": "producer_kind",
        "programme": "programme__code",
        "score": "score",
    },
)


def register_sources() -> None:
    register_source(COOPERATIVE)
    register_source(OCOP_PRODUCT)
