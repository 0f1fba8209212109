"""Which set a unit is assessed against in a year: by the set's validity, the unit's level
and the unit's own validity (old communes until 30/06/2025, new ones from 01/07/2025)."""

from __future__ import annotations

import pytest

from tiendo.ntm.sets import applicable_sets, load_shipped

pytestmark = pytest.mark.django_db


def codes(unit, year, tier=None):
    return [cs.code for cs in applicable_sets(unit, year, tier)]


@pytest.fixture
def shipped(tree):
    load_shipped()
    return tree


def test_an_old_commune_follows_the_2016_2020_then_the_2021_2025_sets(shipped):
    c1 = shipped.c1
    assert codes(c1, 2015) == []
    assert codes(c1, 2016) == ["XA-2016-2020"]
    assert codes(c1, 2020) == ["XA-2016-2020"]
    assert codes(c1, 2021) == ["XA-2016-2020"]  # the 2021-2025 set came on 08/3/2022
    assert codes(c1, 2022) == ["XA-2021-2025", "XA-NC-2021-2025", "XA-KM-2021-2025"]
    assert codes(c1, 2025) == ["XA-2021-2025", "XA-NC-2021-2025", "XA-KM-2021-2025"]
    assert codes(c1, 2026) == []  # it no longer exists


def test_a_new_commune_follows_the_2026_2030_set_from_its_start(shipped):
    n1 = shipped.n1
    assert codes(n1, 2025) == []
    assert codes(n1, 2026) == ["XA-2026-2030"]
    assert codes(n1, 2030) == ["XA-2026-2030"]
    assert codes(n1, 2031) == []


def test_a_tier_keeps_one_set(shipped):
    assert codes(shipped.c1, 2023, "advanced") == ["XA-NC-2021-2025"]
    assert codes(shipped.c1, 2023, "model") == ["XA-KM-2021-2025"]
    assert codes(shipped.n1, 2026, "advanced") == []


def test_districts_follow_the_district_sets_and_other_units_none(shipped):
    assert codes(shipped.vi_xuyen, 2019) == ["HUYEN-2016-2020"]
    assert codes(shipped.vi_xuyen, 2024) == ["HUYEN-2021-2025"]
    assert codes(shipped.vi_xuyen, 2026) == []
    assert codes(shipped.agency, 2020) == []
    assert codes(shipped.ha_giang, 2020) == []
    assert codes(shipped.nation, 2026) == []
