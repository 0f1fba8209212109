"""The checks `make loadtest` ends with, on a small database (the load itself is not run here).

Lost updates are found in SQL: one history row per accepted save, the latest history row of
every touched cell is its value, and every rollup row is the sum and count of its leaves.
"""

import pytest
from django.db import connection

from tests import factories
from tiendo import loadtest
from tiendo.data.models import DataValue, DataValueChange, Rollup
from tiendo.data.services import Entry, save_value

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(tree):
    prog = factories.programme()
    households = factories.indicator(prog, "HOUSEHOLDS")
    after = loadtest.last_history_pk(connection)
    for unit, value in ((tree.c1, 4), (tree.c2, 5), (tree.c3, 6), (tree.c1, 7)):
        save_value(Entry(households, unit, "2022", factories.D(value)))
    return tree, households, after


def test_saves_through_the_write_path_pass_every_check(saved):
    _tree, _households, after = saved
    assert loadtest.check(connection, after_pk=after, accepted=4) == []


def test_a_save_counted_by_the_driver_but_missing_from_history_is_reported(saved):
    _tree, _households, after = saved
    assert loadtest.check(connection, after_pk=after, accepted=5) == [
        "history rows 4 != accepted saves 5"
    ]


def test_a_rollup_that_drifted_from_its_leaves_is_reported(saved):
    tree, households, after = saved
    Rollup.objects.filter(unit=tree.vi_xuyen, indicator=households).update(total=99)

    problems = loadtest.check(connection, after_pk=after, accepted=4)

    assert len(problems) == 1 and problems[0].startswith("rollup")
    assert "stored 99" in problems[0]


def test_a_rollup_row_missing_or_left_over_is_reported(saved):
    tree, households, after = saved
    Rollup.objects.filter(unit=tree.bac_quang).delete()
    Rollup.objects.create(
        indicator=households,
        unit=tree.tuyen_quang,
        period="2022",
        period_start="2022-01-01",
        period_end="2022-12-31",
        total=3,
        count=1,
    )

    problems = loadtest.check(connection, after_pk=after, accepted=4)

    assert len(problems) == 2
    assert all(p.startswith("rollup") for p in problems)


def test_a_value_overwritten_without_its_history_is_a_lost_update(saved):
    tree, households, after = saved
    DataValue.objects.filter(unit=tree.c1).update(value=1)

    problems = loadtest.check(connection, after_pk=after, accepted=4)

    assert problems[0].startswith("lost update") and "last saved 7" in problems[0]
    # the rollup no longer matches either: the leaf changed behind the write path's back
    assert any(p.startswith("rollup") for p in problems)
    assert DataValueChange.objects.filter(pk__gt=after).count() == 4


def test_the_driver_saves_the_entry_form_as_a_browser_and_counts_what_was_accepted(saved, client):
    tree, households, _after = saved
    officer = factories.user("xa.mot", tree.c1)
    client.force_login(officer)
    url = f"/nhap-so-lieu/?programme=P1&unit={tree.c1.pk}&period=2022"
    page = client.get(url).content.decode()

    fields = loadtest.post_form(page, "nhap-so-lieu")

    names = [name for name, _value in fields]
    assert {"csrfmiddlewaretoken", "programme", "unit", "period"} <= set(names)
    value_field = next(f for f in fields if f[0] == f"v-{households.pk}-")
    value_field[1] = "123"
    reply = client.post("/nhap-so-lieu/", dict(fields)).content.decode()
    assert loadtest.SAVED.search(reply).group(1) == "1"
    assert DataValue.objects.get(unit=tree.c1).value == 123
