"""A save of several figures is written in one batch: the same history, versions and
rollups as figure by figure, in a number of queries that does not grow with the figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import indicator, programme
from tiendo.data.models import ChangeAction, DataValue, DataValueChange, Rollup
from tiendo.data.services import Entry, rebuild_rollups, save_values

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def prog(db):
    return programme()


def _rollups() -> set[tuple]:
    return set(
        Rollup.objects.values_list(
            "indicator_id", "unit_id", "period", "category", "total", "count"
        )
    )


def _queries(entries) -> int:
    with CaptureQueriesContext(connection) as captured:
        save_values(entries)
    return len(captured.captured_queries)


def test_a_mixed_save_writes_history_and_rollups_as_a_rebuild_would(tree, prog):
    kh, dt = indicator(prog, "KH"), indicator(prog, "DT")
    save_values(
        [
            Entry(kh, tree.c1, "2024", D(5)),
            Entry(kh, tree.c2, "2024", D(7)),
            Entry(dt, tree.c3, "2024", D(2)),
        ]
    )
    results = save_values(
        [
            Entry(kh, tree.c1, "2024", D(6)),  # changed
            Entry(kh, tree.c2, "2024", None),  # deleted
            Entry(dt, tree.c3, "2024", D(2)),  # as stored: nothing written
            Entry(dt, tree.c4, "2024", D(9)),  # created
        ]
    )
    assert [r.action for r in results] == [
        ChangeAction.UPDATE,
        ChangeAction.DELETE,
        None,
        ChangeAction.CREATE,
    ]
    assert [(r.old_value, r.new_value) for r in results] == [
        (D(5), D(6)),
        (D(7), None),
        (D(2), D(2)),
        (None, D(9)),
    ]
    stored = dict(DataValue.objects.values_list("unit_id", "value"))
    assert stored == {tree.c1.pk: D(6), tree.c3.pk: D(2), tree.c4.pk: D(9)}
    history = list(
        DataValueChange.objects.order_by("pk").values_list("unit_id", "action", "new_value")
    )
    assert history[3:] == [
        (tree.c1.pk, ChangeAction.UPDATE, D(6)),
        (tree.c2.pk, ChangeAction.DELETE, None),
        (tree.c4.pk, ChangeAction.CREATE, D(9)),
    ]
    moved = _rollups()
    rebuild_rollups()
    assert moved == _rollups()
    # Vị Xuyên keeps Xã Một only; Bắc Quang holds two DT figures
    assert Rollup.objects.get(indicator=kh, unit=tree.vi_xuyen, period="2024").count == 1
    assert Rollup.objects.get(indicator=dt, unit=tree.bac_quang, period="2024").total == D(11)


def test_the_queries_of_a_save_do_not_grow_with_its_figures(tree, prog):
    codes = [indicator(prog, f"I{n:02d}") for n in range(12)]
    communes = [tree.c1, tree.c2, tree.c3, tree.c4]
    few = [Entry(codes[0], tree.c1, "2024", D(1))]
    many = [Entry(i, c, "2024", D(1)) for i in codes[1:] for c in communes]  # 44 figures
    assert _queries(few) == _queries(many)  # every figure new: rows and rollups created
    changed_few = [Entry(codes[0], tree.c1, "2024", D(2))]
    changed_many = [Entry(i, c, "2024", D(3)) for i in codes[1:] for c in communes]
    assert _queries(changed_few) == _queries(changed_many)  # every figure and rollup moved
    moved = _rollups()
    rebuild_rollups()
    assert moved == _rollups()


def test_a_save_of_more_figures_than_one_locking_read_holds_is_written_whole(tree, prog):
    codes = [indicator(prog, f"J{n:03d}") for n in range(110)]
    entries = [Entry(i, c, "2024", D(n)) for n, i in enumerate(codes) for c in (tree.c1, tree.c3)]
    assert len(entries) == 220  # more keys than one locking read takes
    save_values(entries)
    save_values([Entry(e.indicator, e.unit, e.period, e.value + 1) for e in entries])
    assert DataValue.objects.count() == 220
    assert DataValueChange.objects.count() == 440
    moved = _rollups()
    rebuild_rollups()
    assert moved == _rollups()


def test_a_save_naming_one_figure_twice_writes_both_in_order(tree, prog):
    kh = indicator(prog, "KH")
    results = save_values([Entry(kh, tree.c1, "2024", D(1)), Entry(kh, tree.c1, "2024", D(4))])
    assert [r.action for r in results] == [ChangeAction.CREATE, ChangeAction.UPDATE]
    assert DataValue.objects.get(indicator=kh).value == D(4)
    assert Rollup.objects.get(indicator=kh, unit=tree.vi_xuyen, period="2024").total == D(4)
