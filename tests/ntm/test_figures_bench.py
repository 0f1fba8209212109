"""bench/ntm.py at the scale of the mini tree, so that it cannot rot."""

from __future__ import annotations

import pytest

from bench import ntm as bench
from tiendo.data.models import DataValue
from tiendo.ntm.models import Assessment

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_data_set_is_generated_once_and_every_measurement_runs(tree):
    marker = bench.prepare(log=lambda _m: None)
    # 4 old communes × 5 years, 4 new communes (Tuyên Quang's 3 and Quảng Trị's 1) × 1 year
    assert marker["assessments"] == 4 * 5 + 4 == Assessment.objects.count()
    assert marker["values"] == DataValue.objects.count()
    old, new = bench.sets()
    # the aggregation and the plain count agree
    for cs, year in ((old, 2025), (old, 2021), (new, 2026)):
        shown = {k: int(v) for k, v in bench.national_bands(cs, year).items() if v}
        assert shown == bench._as_bands(cs, bench.floor_bands(cs, year))
    again = bench.prepare(log=lambda _m: None)
    assert again["generated_at"] == marker["generated_at"]  # reused
    results = bench.measure(1, log=lambda _m: None)
    assert [r["name"] for r in results] == [
        "band_national",
        "band_national_new",
        "floor_band",
        "summary_national",
        "save_visible",
        "floor_save",
    ]
    assert all(r["median_ms"] > 0 for r in results)
    # the commune saved is left with a count that matches its results
    for a in Assessment.objects.filter(criteria_set=new):
        assert a.criteria_met == a.results.filter(met=True).count()
