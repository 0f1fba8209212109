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
