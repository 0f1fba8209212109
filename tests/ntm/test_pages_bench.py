"""bench/ntm_matrix.py, run at the scale of the miniature tree so that it cannot rot: it
generates, measures every figure (checking the matrix against plain SQL) and removes
what it wrote."""

import pytest

from bench import ntm_matrix
from tiendo.ntm.models import Assessment, CriteriaSet, CriterionResult

pytestmark = pytest.mark.django_db


def test_every_measurement_runs_and_the_bench_leaves_nothing_behind(tree):
    results = ntm_matrix.measure(1, log=lambda _msg: None)
    assert [r["name"] for r in results] == list(ntm_matrix.LABELS)
    assert all(len(r["runs_ms"]) == 1 and r["median_ms"] >= 0 for r in results)
    assert {r["name"]: r["target_ms"] for r in results if r["target_ms"]} == ntm_matrix.TARGETS
    assert not CriteriaSet.objects.exists()
    assert not Assessment.objects.exists() and not CriterionResult.objects.exists()
    assert "province matrix" in ntm_matrix.format_table(results, "sqlite")


def test_a_kept_run_is_reused_by_the_next(tree):
    ntm_matrix.measure(1, log=lambda _msg: None, keep=True)
    # 4 old communes × 5 years and 4 new communes in 2026
    assert Assessment.objects.filter(criteria_set__code=ntm_matrix.SET_OLD).count() == 20
    assert Assessment.objects.filter(criteria_set__code=ntm_matrix.SET_NEW).count() == 4
    said = []
    ntm_matrix.measure(1, log=said.append)
    assert "reusing the assessments of a kept run" in said
    assert not CriteriaSet.objects.exists()
