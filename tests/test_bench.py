"""The benchmarks' own code (``bench/`` at the repository root), run at a tiny scale on the
miniature tree so that it cannot rot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import pivot as bench
from tiendo.data.models import DataValue, Rollup

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture
def generated(tree):
    stats = bench.generate(bench.new_tree(), log=lambda _msg: None)
    return tree, stats


def test_the_new_tree_is_the_one_in_force_since_the_reform(tree):
    new = bench.new_tree()
    assert [p.code for p in new.provinces] == ["08", "44"]
    assert {p.code: [c.code for c in new.communes[p.pk]] for p in new.provinces} == {
        "08": ["10001", "10002", "10003"],
        "44": ["20001"],
    }
    # a small scale still keeps one commune in every province
    assert [len(v) for v in bench.new_tree(0.01).communes.values()] == [1, 1]


def test_generation_fills_every_commune_indicator_category_and_quarter(generated):
    _tree, stats = generated
    summed = bench.INDICATOR_COUNT - bench.INDICATOR_COUNT // bench.LAST_EVERY
    assert DataValue.objects.filter(indicator__aggregation="sum").count() == 4 * summed * 2 * 24
    assert stats["values"] == DataValue.objects.count()
    # rollups: two provinces and the nation, per summed indicator, quarter and category
    sums = Rollup.objects.filter(indicator__aggregation="sum")
    assert sums.count() == 3 * summed * 2 * 24


def test_the_cumulative_indicators_are_reported_in_different_quarters_by_each_commune(generated):
    _tree, _stats = generated
    last = bench.bench_indicators("last")
    assert len(last) == bench.INDICATOR_COUNT // bench.LAST_EVERY
    reported = DataValue.objects.filter(indicator__in=last, category="TW")
    assert reported.count() == 4 * len(last) * 24 // bench.REPORT_EVERY
    quarters = {}
    for unit_id, indicator_id, period in reported.values_list("unit_id", "indicator_id", "period"):
        quarters.setdefault((unit_id, indicator_id), set()).add(period)
    assert len({frozenset(q) for q in quarters.values()}) > 1


def test_every_measurement_runs_and_the_pivots_agree_with_the_floor(generated):
    tree, _stats = generated
    runner = bench.Bench(
        bench.new_tree(), bench.bench_indicators("sum"), bench.bench_indicators("last")
    )
    assert runner.province == tree.tuyen_quang
    measurements = runner.run(2, log=lambda _msg: None)  # run() checks pivot == floor
    assert [m.name for m in measurements] == [
        "national",
        "floor_national",
        "province",
        "floor_province",
        "last_national",
        "floor_last",
        "save_visible",
        "events",
        "history_today",
        "history_plain",
    ]
    assert all(len(m.runs_ms) == 2 and m.median_ms >= 0 for m in measurements)

    result = {
        "db": "sqlite",
        "measurements": [{"name": m.name, "median_ms": m.median_ms} for m in measurements],
    }
    table = bench.format_table([result])
    assert "(a) national pivot" in table and "(d) save → visible in pivot" in table
    assert "(e) national pivot, last" in table and "(e) floor: ROW_NUMBER, last" in table
    assert "(f) load 2,000 change events" in table and "≤ 2 × (g)" in table


def test_the_last_pivot_and_its_floor_sum_each_communes_latest_value(generated):
    _tree, _stats = generated
    runner = bench.Bench(
        bench.new_tree(), bench.bench_indicators("sum"), bench.bench_indicators("last")
    )
    pivot, floor = runner.last_national(), runner.floor_last()
    runner.check_last(pivot, floor)  # raises when they differ
    # by 2025 every commune has reported every cumulative indicator at least once
    assert len(floor[2025]) == 2 * len(runner.last) * 2  # two provinces, two categories


def test_the_history_copy_gives_the_provinces_figures_and_is_rolled_back(generated):
    from datetime import date

    from django.db import transaction

    from bench import history
    from tiendo.units.models import Unit, UnitChange

    tree, _stats = generated
    runner = bench.Bench(
        bench.new_tree(), bench.bench_indicators("sum"), bench.bench_indicators("last")
    )
    indicators = [*runner.indicators, *runner.last]
    units_before, links_before = Unit.objects.count(), UnitChange.objects.count()
    with transaction.atomic():
        copy = history.HistoryCopy(runner.province, runner.communes)
        copy.build()
        # each commune of the copy went through two events
        assert UnitChange.objects.count() == links_before + 1 + 2 * len(runner.communes)
        plain = history.pivot_years(indicators, [runner.province, *runner.communes], bench.YEARS)
        today = history.pivot_years(indicators, copy.targets(), bench.YEARS, on=date.today())
        history.same_figures(plain, today, copy)  # raises when they differ
        # and the check can fail: a value of an old version changed
        first = copy.rows[0][1]
        from tiendo.data.models import DataValue

        DataValue.objects.filter(unit_id=first, indicator=runner.indicators[0]).update(value=0)
        changed = history.pivot_years(indicators, copy.targets(), bench.YEARS, on=date.today())
        with pytest.raises(AssertionError, match="cells differ"):
            history.same_figures(plain, changed, copy)
        transaction.set_rollback(True)
    assert [c.code for c in history.event_communes()] == ["00001", "00002", "00003", "00004"]
    assert history.load_events(history.event_communes()) > 0
    assert (Unit.objects.count(), UnitChange.objects.count()) == (units_before, links_before)


def test_arguments():
    args = bench.parse_args(["--scale", "0.1", "--repeat", "3", "--db", "sqlite"])
    assert (args.scale, args.repeat, args.db, args.rebuild) == (0.1, 3, "sqlite", False)
    with pytest.raises(SystemExit):
        bench.parse_args(["--scale", "0"])


@pytest.mark.slow
def test_make_bench_end_to_end_on_sqlite_at_a_tiny_scale(tmp_path):
    """The real command: parent and child process, real unit tree, cache marker, table."""
    env = {**os.environ, "TIENDO_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "bench.pivot", "--db", "sqlite", "--scale", "0.005"]
    cmd += ["--repeat", "1", "--json", str(tmp_path / "bench.json")]
    first = subprocess.run(
        cmd, cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "generated" in first.stdout and "(a) national pivot" in first.stdout
    assert (tmp_path / "bench.sqlite3").exists()

    second = subprocess.run(
        cmd, cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=600
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "reusing the data set" in second.stdout
