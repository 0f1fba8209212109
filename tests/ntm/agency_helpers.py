"""A 19-criterion stand-in for the set XA-2016-2020 (tests/ntm/data/xa-2016-2020-local.yaml),
written straight to the tables: the agency tests need the criteria, not the shipped package."""

from __future__ import annotations

from pathlib import Path

import yaml

from tiendo.ntm.models import CriteriaSet, Criterion

LOCAL_SET = Path(__file__).parent / "data" / "xa-2016-2020-local.yaml"


def local_set_2016() -> CriteriaSet:
    spec = yaml.safe_load(LOCAL_SET.read_text(encoding="utf-8"))
    cs, _ = CriteriaSet.objects.get_or_create(
        code=spec["code"],
        defaults={
            "name": spec["name"],
            "decisions": spec["decisions"],
            "valid_from": spec["valid_from"],
            "valid_to": spec["valid_to"],
            "bands": spec["bands"],
        },
    )
    for number, name, group in spec["criteria"]:
        Criterion.objects.get_or_create(
            criteria_set=cs, number=number, defaults={"name": name, "group": group}
        )
    return cs


def load_shipped():
    """What ``tiendo.ntm.sets.load_shipped`` does for the demo, as far as it needs: the
    set XA-2016-2020 (for running the demo in a branch without the shipped packages)."""
    return [local_set_2016()]


def access_sponsorship(world):
    """In the access world (tests/test_access.py), the Hà Giang agency of the mini tree
    sponsors Xã Một, and is responsible for a criterion over Hà Giang."""
    from datetime import date

    from tests.ntm.helpers import small_set
    from tiendo.ntm.models import Assignment, CriteriaSet, Sponsorship
    from tiendo.units.models import Unit

    agency = Unit.objects.get(code="02.SNN")
    cs = CriteriaSet.objects.filter(code="T-2021-2025").first() or small_set()
    Assignment.objects.get_or_create(
        agency=agency,
        criterion=cs.criteria.get(number=2),
        indicator=None,
        role="responsible",
        decision_number="8/QĐ-UBND",
        defaults={
            "area": world.tree.ha_giang,
            "decision_date": date(2022, 3, 1),
            "valid_from": date(2022, 3, 1),
        },
    )
    sponsorship, _ = Sponsorship.objects.get_or_create(
        agency=agency,
        commune=world.tree.c1,
        decision_number="9/QĐ-UBND",
        defaults={
            "decision_date": date(2024, 3, 1),
            "valid_from": date(2024, 3, 1),
            "working_group_number": "3/QĐ-SNN",
            "working_group_date": date(2024, 4, 1),
        },
    )
    return sponsorship
