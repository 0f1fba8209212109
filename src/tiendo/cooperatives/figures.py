"""Figures of the cooperative and OCOP register for the NTM report and the documents.

Plain functions over the register, in a unit's subtree: the NTM criterion 13 (production
organisation) and the district criterion on OCOP products ask how many products of three
stars or more a commune has on a day; seed 000 says why the orange districts' cooperatives
could not borrow. The register indicators of a package (``NQ04_OCOP_PRODUCTS`` over the
``ocop_product`` source) are computed by :mod:`tiendo.households.figures`; these functions
answer the questions a report asks directly.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q

from tiendo.cooperatives.models import (
    OBSTACLES,
    RECOGNISED_STARS,
    Cooperative,
    CooperativeStatus,
    OcopProduct,
    any_obstacle,
)
from tiendo.units.models import Unit


def ocop_products(unit: Unit, on: date, *, min_stars: int = RECOGNISED_STARS):
    """The OCOP products of ``unit``'s subtree with ``min_stars`` stars or more whose
    recognition is valid on ``on``."""
    return OcopProduct.objects.in_subtree(unit).valid_on(on).filter(stars__gte=min_stars)


def ocop_product_count(unit: Unit, on: date, *, min_stars: int = RECOGNISED_STARS) -> int:
    return ocop_products(unit, on, min_stars=min_stars).count()


def ocop_products_by_stars(unit: Unit, on: date) -> dict[int, int]:
    """How many products valid on ``on`` have 3, 4 and 5 stars (every key present)."""
    rows = ocop_products(unit, on).values("stars").annotate(n=Count("pk")).values_list("stars", "n")
    counts = dict.fromkeys(range(RECOGNISED_STARS, 6), 0)
    counts.update(rows)
    return counts


def cooperatives_unable_to_borrow(unit: Unit, on: date | None = None) -> dict[str, int]:
    """The cooperatives of ``unit``'s subtree (founded by ``on``, not dissolved) that could
    not borrow, by reason (a cooperative with two reasons counts under both), and under
    ``"total"`` how many cooperatives that is."""
    records = Cooperative.objects.in_subtree(unit).exclude(status=CooperativeStatus.DISSOLVED)
    if on is not None:
        records = records.filter(founded_on__lte=on)
    return records.aggregate(
        total=Count("pk", filter=any_obstacle()),
        **{name: Count("pk", filter=Q(**{name: True})) for name in OBSTACLES},
    )
