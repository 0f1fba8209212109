"""Figures changed by someone else while a form was open: never silently overwritten.

A form carries the version of every figure it showed; the data service refuses a write over
a figure that moved on since, whoever calls it (this form, the submission form, an Excel
upload). Concurrent first saves of one cell, on both databases, end in one create and
updates or conflicts — never a server error, never a lost history row.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Count, Sum
from django.urls import reverse

from tests import factories
from tests.factories import D, form_inputs
from tiendo.accounts.models import Role
from tiendo.data.models import DataValue, DataValueChange, Rollup
from tiendo.data.services import BusyError, Entry, ValueConflictError, save_value, save_values
from tiendo.units.models import Unit

from .test_views import form_url, indicator, posted
from .test_views import prog as prog  # noqa: F401  (the fixture)


@pytest.fixture
def officer(tree):
    return factories.user("xa.mot", tree.c1, Role.COMMUNE_OFFICER)


@pytest.fixture
def colleague(tree):
    return factories.user(
        "xa.mot.2", tree.c1, Role.COMMUNE_OFFICER, first_name="Nguyễn Thị", last_name="Lan"
    )


def opened(client, prog, tree, officer) -> dict[str, str]:
    """The entry form as the officer's browser holds it, ready to post."""
    client.force_login(officer)
    data = posted(prog, tree)
    data.update(form_inputs(client.get(form_url(tree)).content.decode()))
    return data


def field(prog, code, category="", kind="v"):
    return f"{kind}-{indicator(prog, code).pk}-{category}"


def stored(prog, tree, code):
    row = DataValue.objects.filter(indicator=indicator(prog, code), unit=tree.c1).first()
    return row.value if row else None


def test_a_stale_form_does_not_overwrite_a_newer_save(client, prog, tree, officer, colleague):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(10)), user=officer)
    form = opened(client, prog, tree, officer)
    assert form[field(prog, "KH")] == "10"
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(20)), user=colleague)
    form[field(prog, "DT")] = "5"  # the officer types another figure only
    html = client.post(reverse("data:entry"), form).content.decode()
    assert "Đã lưu 1 số liệu." in html
    assert stored(prog, tree, "KH") == 20 and stored(prog, tree, "DT") == 5
    kh = DataValueChange.objects.filter(indicator=indicator(prog, "KH")).order_by("pk")
    assert [(c.action, c.new_value, c.changed_by) for c in kh] == [
        ("create", 10, officer),
        ("update", 20, colleague),
    ]


def test_a_field_changed_on_a_stale_form_is_refused_with_both_values_and_who_changed_it(
    client, prog, tree, officer, colleague
):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(10)), user=officer)
    form = opened(client, prog, tree, officer)
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D("20.5")), user=colleague)
    changed_at = DataValueChange.objects.latest("pk").changed_at
    form[field(prog, "KH")] = "15"
    form[field(prog, "DT")] = "5"
    response = client.post(reverse("data:entry"), form)
    html = response.content.decode()
    assert response.status_code == 200
    from tiendo.core.formatting import format_datetime

    line = next(li for li in html.split("<li>") if "Kế hoạch vốn" in li)
    assert "Nguyễn Thị Lan" in line and "20,5" in line and "10" in line and "15" in line
    assert format_datetime(changed_at) in line  # 14:05 01/12/2026, the Vietnamese way
    assert "Không lưu số liệu nào" in html
    # nothing saved, not even the figure that did not conflict; what was typed stays
    assert stored(prog, tree, "KH") == D("20.5") and stored(prog, tree, "DT") is None
    again = form_inputs(html)
    assert again[field(prog, "KH")] == "15" and again[field(prog, "DT")] == "5"
    assert "field-warning high" in html.split(field(prog, "KH"))[-1].split("</td>")[0]


def test_after_a_conflict_the_re_displayed_form_saves_when_sent_again(
    client, prog, tree, officer, colleague
):
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(10)), user=officer)
    save_value(Entry(indicator(prog, "GN"), tree.c1, "2024", D(3), "TW"), user=officer)
    form = opened(client, prog, tree, officer)
    save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(20)), user=colleague)
    save_value(Entry(indicator(prog, "GN"), tree.c1, "2024", D(4), "TW"), user=colleague)
    form[field(prog, "KH")] = "15"
    form[field(prog, "DT")] = "5"
    html = client.post(reverse("data:entry"), form).content.decode()
    assert "Không lưu số liệu nào" in html
    again = posted(prog, tree)
    again.update(form_inputs(html))
    # a figure the officer left alone shows the colleague's value, not the stale one
    assert again[field(prog, "GN", "TW")] == "4"
    again[field(prog, "KH")] = "20"  # having seen the colleague's figure, keeps it
    html = client.post(reverse("data:entry"), again).content.decode()
    assert "Đã lưu 1 số liệu." in html
    assert stored(prog, tree, "KH") == 20 and stored(prog, tree, "DT") == 5
    gn = DataValue.objects.get(indicator=indicator(prog, "GN"), category="TW")
    assert gn.value == 4 and DataValueChange.objects.count() == 5


def test_a_cell_empty_when_the_form_was_loaded_and_created_meanwhile_is_a_conflict(
    client, prog, tree, officer, colleague
):
    form = opened(client, prog, tree, officer)
    assert form[field(prog, "DT", kind="ver")] == "0"
    save_value(Entry(indicator(prog, "DT"), tree.c1, "2024", D(7)), user=colleague)
    form[field(prog, "DT")] = "5"
    html = client.post(reverse("data:entry"), form).content.decode()
    line = next(li for li in html.split("<li>") if "Diện tích cải tạo" in li)
    assert "Nguyễn Thị Lan" in line and "(trống)" in line and "7" in line
    assert stored(prog, tree, "DT") == 7
    assert DataValueChange.objects.count() == 1


def test_a_figure_deleted_meanwhile_is_a_conflict_and_so_is_deleting_a_changed_one(
    client, prog, tree, officer, colleague
):
    kh, dt = indicator(prog, "KH"), indicator(prog, "DT")
    save_value(Entry(kh, tree.c1, "2024", D(10)), user=officer)
    save_value(Entry(dt, tree.c1, "2024", D(3)), user=officer)
    form = opened(client, prog, tree, officer)
    save_value(Entry(kh, tree.c1, "2024", None), user=colleague)  # deleted meanwhile
    save_value(Entry(dt, tree.c1, "2024", D(4)), user=colleague)  # changed meanwhile
    form[field(prog, "KH")] = "15"
    form[field(prog, "DT")] = ""  # the officer deletes a figure that has changed
    html = client.post(reverse("data:entry"), form).content.decode()
    lines = [li.split("</li>")[0] for li in html.split("<li>")[1:]]
    kh_line = next(li for li in lines if "Kế hoạch vốn" in li)
    dt_line = next(li for li in lines if "Diện tích cải tạo" in li)
    assert "đã xóa" in kh_line and "15" in kh_line
    assert "thành 4" in dt_line and "(trống)" in dt_line
    assert stored(prog, tree, "KH") is None and stored(prog, tree, "DT") == 4
    assert DataValueChange.objects.count() == 4


def test_a_figure_deleted_and_typed_again_does_not_return_to_an_old_version(prog, tree, officer):
    kh = indicator(prog, "KH")
    save_value(Entry(kh, tree.c1, "2024", D(10)))
    seen = DataValueChange.objects.latest("pk").pk
    save_value(Entry(kh, tree.c1, "2024", None))
    save_value(Entry(kh, tree.c1, "2024", D(12)))
    with pytest.raises(ValueConflictError) as exc:
        save_values(
            [
                Entry(kh, tree.c1, "2024", D(11), expected_version=seen),
                Entry(indicator(prog, "DT"), tree.c1, "2024", D(1), expected_version=0),
            ]
        )
    assert [c.entry.indicator.code for c in exc.value.conflicts] == ["KH"]
    assert stored(prog, tree, "KH") == 12 and stored(prog, tree, "DT") is None
    # the same figure typed by both is no conflict: nothing to write
    result = save_value(Entry(kh, tree.c1, "2024", D(12), expected_version=seen))
    assert result.action is None


# --- concurrent saves ----------------------------------------------------------------------

THREADS = 20


@pytest.fixture
def threads_db(tree, prog, tmp_path):
    """The test database, as other threads (their own connections) see it.

    PostgreSQL: the test database itself. SQLite: the in-memory test database is shared
    through SQLite's shared cache, whose table locks fail at once instead of waiting, so the
    threads work on a file copy of it, opened with the project's options (WAL, BEGIN
    IMMEDIATE, 20 s timeout) — the way the server runs. The test thread keeps the in-memory
    database: read results through :func:`_in_thread`.
    """
    if connection.vendor != "sqlite":
        yield None
        return
    import sqlite3

    path = tmp_path / "threads.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.execute("PRAGMA journal_mode=WAL")  # as the server's database file is
    copy.close()
    shared = {id(connection.settings_dict): connection.settings_dict}
    shared[id(connections.settings["default"])] = connections.settings["default"]
    saved = connection.settings_dict["NAME"]
    for settings_dict in shared.values():
        settings_dict["NAME"] = str(path)
    try:
        yield path
    finally:
        for settings_dict in shared.values():
            settings_dict["NAME"] = saved


def _in_thread(function):
    """Run ``function`` in a thread of its own (its own connection); return its result."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function()
        except BaseException as exc:  # re-raised in the test thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _save_together(entries: list) -> tuple[list, list, list]:
    """Each entry (or list of entries, saved together) saved by its own thread (its own
    connection), all released at once."""
    barrier = threading.Barrier(len(entries))
    accepted, conflicts, failures = [], [], []

    def work(entry):
        try:
            barrier.wait()
            if isinstance(entry, list):
                accepted.extend(save_values(entry, source="api"))
            else:
                accepted.append(save_value(entry, source="api"))
        except ValueConflictError as exc:
            conflicts.append(exc)
        except Exception as exc:  # anything else would be a server error
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(e,)) for e in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return accepted, conflicts, failures


def _history(indicator_id) -> list[tuple]:
    return list(
        DataValueChange.objects.filter(indicator_id=indicator_id)
        .order_by("pk")
        .values_list("unit_id", "action", "new_value")
    )


def _stored(indicator_id) -> dict[int, Decimal]:
    return dict(DataValue.objects.filter(indicator_id=indicator_id).values_list("unit_id", "value"))


def _rollups_against_leaves(indicator_id) -> list[tuple]:
    """(rollup total, count) beside (sum, count of the values below), for every rollup."""
    pairs = []
    for rollup in Rollup.objects.filter(indicator_id=indicator_id):
        below = Unit.objects.subtree(rollup.unit, include_self=False)
        leaves = DataValue.objects.filter(
            indicator_id=indicator_id,
            unit__in=below,
            period=rollup.period,
            category=rollup.category,
        ).aggregate(total=Sum("value"), n=Count("pk"))
        pairs.append(((rollup.total, rollup.count), (leaves["total"], leaves["n"])))
    return pairs


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_saves_of_one_cell_become_one_create_and_updates(prog, tree, threads_db):
    kh = indicator(prog, "KH")
    # two new cells under one district: the cells' rows and the rollups' rows are raced
    units = [tree.c1, tree.c2]
    entries = [Entry(kh, units[i % 2], "2024", Decimal(i + 1)) for i in range(THREADS)]
    accepted, conflicts, failures = _save_together(entries)
    assert failures == [] and conflicts == [] and len(accepted) == THREADS
    history = _in_thread(lambda: _history(kh.pk))
    assert len(history) == THREADS  # history rows = accepted saves
    stored = _in_thread(lambda: _stored(kh.pk))
    for unit in units:
        mine = [h for h in history if h[0] == unit.pk]
        assert [action for _u, action, _v in mine].count("create") == 1
        assert stored[unit.pk] == mine[-1][2]  # the last save is the stored figure
    pairs = _in_thread(lambda: _rollups_against_leaves(kh.pk))
    assert len(pairs) == 3 and all(rollup == leaves for rollup, leaves in pairs), pairs


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_saves_of_a_cell_loaded_empty_give_one_save_and_conflicts(
    prog, tree, threads_db
):
    kh = indicator(prog, "KH")
    entries = [
        Entry(kh, tree.c1, "2024", Decimal(i + 1), expected_version=0) for i in range(THREADS)
    ]
    accepted, conflicts, failures = _save_together(entries)
    assert failures == []
    assert len(accepted) == 1 and len(conflicts) == THREADS - 1
    history = _in_thread(lambda: _history(kh.pk))
    assert [action for _u, action, _v in history] == ["create"]
    assert _in_thread(lambda: _stored(kh.pk)) == {tree.c1.pk: history[0][2]}
    pairs = _in_thread(lambda: _rollups_against_leaves(kh.pk))
    assert len(pairs) == 3 and all(rollup == leaves for rollup, leaves in pairs), pairs


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_of_several_figures_in_any_order_wait_instead_of_deadlocking(
    prog, tree, threads_db
):
    kh, dt = indicator(prog, "KH"), indicator(prog, "DT")
    for unit in (tree.c1, tree.c2):  # existing rows: every save locks them
        _in_thread(lambda unit=unit: save_value(Entry(kh, unit, "2024", D(1))))
    batches = []
    for i in range(THREADS):
        batch = [
            Entry(kh, tree.c1, "2024", Decimal(i + 2)),
            Entry(dt, tree.c1, "2024", Decimal(i + 2)),  # a new cell, created by one
            Entry(kh, tree.c2, "2024", Decimal(i + 2)),
        ]
        batches.append(batch if i % 2 else batch[::-1])
    accepted, conflicts, failures = _save_together(batches)
    assert failures == [] and conflicts == [] and len(accepted) == 3 * THREADS
    history = _in_thread(lambda: _history(kh.pk) + _history(dt.pk))
    assert len(history) == 2 + 3 * THREADS
    assert [action for _u, action, _v in history].count("create") == 3
    for code in (kh, dt):
        pairs = _in_thread(lambda code=code: _rollups_against_leaves(code.pk))
        assert len(pairs) == 3 and all(rollup == leaves for rollup, leaves in pairs), pairs


@pytest.mark.django_db(transaction=True)
def test_officers_posting_the_same_new_cell_together_get_pages_not_server_errors(
    prog, tree, threads_db
):
    from django.test import Client

    officers = _in_thread(
        lambda: [
            factories.user(f"xa.mot.{i}", tree.c1, Role.COMMUNE_OFFICER) for i in range(THREADS)
        ]
    )
    barrier = threading.Barrier(THREADS)
    statuses, pages = [], []

    def officer_saves(i):
        try:
            client = Client(raise_request_exception=False)
            client.force_login(officers[i])
            form = posted(prog, tree)
            form.update(form_inputs(client.get(form_url(tree)).content.decode()))
            form[field(prog, "DT")] = str(i + 1)
            barrier.wait()
            response = client.post(reverse("data:entry"), form)
            statuses.append(response.status_code)
            pages.append(response.content.decode())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=officer_saves, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * THREADS
    saved = [p for p in pages if "Đã lưu 1 số liệu." in p]
    refused = [p for p in pages if "Không lưu số liệu nào" in p]
    assert len(saved) == 1 and len(refused) == THREADS - 1
    dt = indicator(prog, "DT")
    assert [action for _u, action, _v in _in_thread(lambda: _history(dt.pk))] == ["create"]


@pytest.mark.django_db(transaction=True)
def test_a_database_locked_past_the_timeout_is_a_message_and_nothing_is_saved(
    prog, tree, threads_db
):
    if threads_db is None:
        pytest.skip("PostgreSQL waits for row locks: it has no “database is locked” error")
    import sqlite3

    holder = sqlite3.connect(threads_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    options = connection.settings_dict["OPTIONS"]
    saved, options["timeout"] = options["timeout"], 0.05
    try:
        with pytest.raises(BusyError) as caught:
            _in_thread(lambda: save_value(Entry(indicator(prog, "KH"), tree.c1, "2024", D(1))))
        assert caught.value.code == "data.busy"
    finally:
        options["timeout"] = saved
        holder.rollback()
        holder.close()
    assert _in_thread(lambda: DataValueChange.objects.count()) == 0
