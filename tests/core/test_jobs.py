"""Background jobs: start, run, fail, progress outside the job's transaction, who sees a
job, and a real ``tiendo db_worker`` process running an enqueued import to its end."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django_tasks_db.models import DBTaskResult

from tests import factories
from tiendo.accounts import scope
from tiendo.accounts.models import Role
from tiendo.core import jobs
from tiendo.core.models import Job, JobStatus

REPOSITORY = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def kinds(monkeypatch):
    """Job kinds of the tests' own, beside the registered ones."""
    handlers = dict(jobs._HANDLERS)
    monkeypatch.setattr(jobs, "_HANDLERS", handlers)
    return handlers


def test_start_job_records_it_and_enqueues_its_run(tree, kinds):
    kinds["test.echo"] = lambda job: {"echo": job.params["text"]}
    officer = factories.user("xa.mot", tree.c1)
    job = jobs.start_job("test.echo", user=officer, unit=tree.c1, params={"text": "xin chào"})
    job.refresh_from_db()
    assert (job.status, job.started_by, job.unit, job.message) == (
        JobStatus.QUEUED,
        officer,
        tree.c1,
        "Đang chờ đến lượt chạy.",
    )
    queued = DBTaskResult.objects.get(id=job.task_result_id)
    assert queued.task_path == "tiendo.core.jobs.run_job"
    assert queued.args_kwargs == {"args": [job.pk], "kwargs": {}}
    assert jobs.run_job.call(job.pk) == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result == {"echo": "xin chào"}
    assert job.started_at <= job.finished_at and job.percent == 100
    # a job already run is not run again (a task retried, a worker restarted)
    kinds["test.echo"] = lambda job: pytest.fail("ran twice")
    assert jobs.run_job.call(job.pk) == JobStatus.SUCCEEDED


def test_an_unknown_kind_is_refused_when_started(db):
    with pytest.raises(KeyError):
        jobs.start_job("test.nothing")


def test_a_job_that_fails_for_a_reason_keeps_its_messages(db, kinds):
    def refuse(job):
        raise jobs.JobFailed("Tệp có 2 lỗi.", errors=[{"row": 3}, {"row": 5}], result={"n": 2})

    kinds["test.refuse"] = refuse
    job = jobs.start_job("test.refuse")
    assert jobs.run_job.call(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert (job.status, job.message, job.errors, job.result) == (
        JobStatus.FAILED,
        "Tệp có 2 lỗi.",
        [{"row": 3}, {"row": 5}],
        {"n": 2},
    )
    assert job.finished_at is not None


def test_an_unexpected_error_fails_the_job_and_the_task(db, kinds):
    def crash(job):
        raise ZeroDivisionError

    kinds["test.crash"] = crash
    job = jobs.start_job("test.crash")
    with pytest.raises(ZeroDivisionError):
        jobs.run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("Có lỗi hệ thống khi chạy việc này")


@pytest.mark.django_db(transaction=True)
def test_progress_is_throttled_but_always_reaches_the_total():
    # outside any transaction, as in the worker
    job = Job.objects.create(kind="test.progress")
    job.progress(1, 100, "Đang đọc.", force=True)
    job.progress(2)  # within PROGRESS_EVERY of the last write: kept on the object only
    assert Job.objects.values_list("done", "total", "message").get(pk=job.pk) == (
        1,
        100,
        "Đang đọc.",
    )
    job.progress(100)
    assert Job.objects.get(pk=job.pk).done == 100
    assert job.percent == 100


@pytest.mark.django_db(transaction=True)
def test_progress_inside_the_jobs_transaction_is_seen_outside_it(tree):
    job = Job.objects.create(kind="test.progress", unit=tree.c1)

    def seen():
        with connections.create_connection(DEFAULT_DB_ALIAS).cursor() as cursor:
            cursor.execute("SELECT done, total FROM core_job WHERE id = %s", [job.pk])
            return cursor.fetchone()

    with transaction.atomic():
        factories.unit("09999", "Xã Tạm", "commune", 3, tree.vi_xuyen)
        job.progress(40, 100, force=True)
        if connection.vendor == "sqlite":
            # one writer at a time: the transaction holds the lock, the progress waits
            assert seen() == (0, 0)
        else:
            assert seen() == (40, 100)
    job.progress(100, 100, force=True)
    assert seen() == (100, 100)


def test_who_sees_a_job(tree):
    officer = factories.user("xa.mot", tree.c1)
    job = Job.objects.create(kind="test", started_by=officer, unit=tree.c1)
    job = Job.objects.select_related("unit").get(pk=job.pk)
    expected = {
        officer: True,
        factories.user("xa.hai", tree.c2): False,
        factories.user("huyen", tree.vi_xuyen, Role.AGENCY_OFFICER): False,
        factories.user("bcd.hg", tree.ha_giang, Role.COORDINATOR): True,
        factories.user("bcd.qt", tree.other_province, Role.COORDINATOR): False,
        factories.user("ld.hg", tree.ha_giang, Role.LEADER): False,
        factories.user("qt", None, Role.ADMIN): True,
    }
    assert {u: scope.may_see_job(u, job) for u in expected} == expected


# --- a real worker ---------------------------------------------------------------------------


def _database_url(tmp_path) -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        # the test database lives in this process's memory: the worker gets a file copy
        path = tmp_path / "worker.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def _job_row(url: str, job_id: int):
    query = "SELECT status, done, total, message FROM core_job WHERE id = %s"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute(query.replace("%s", "?"), [job_id]).fetchone()
    with connection.cursor() as cursor:
        cursor.execute(query, [job_id])
        return cursor.fetchone()


def _households(url: str) -> int:
    query = "SELECT COUNT(*) FROM households_household"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute(query).fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_an_enqueued_import(tree, tmp_path):
    from tests.households.test_import import cccd, row, xlsx
    from tiendo.households import crypto, importing

    officer = factories.user("xa.mot", tree.c1)
    data = xlsx([row(f"H{i}", number=cccd(i)) for i in range(1, 21)])
    checked = jobs.start_job(
        importing.CHECK_JOB,
        user=officer,
        unit=tree.c1,
        upload=crypto.encrypt_bytes(data),
        upload_name="ho.xlsx",
    )
    jobs.run_job.call(checked.pk)  # the dry run here; the import in the worker
    job = jobs.start_job(
        importing.IMPORT_JOB, user=officer, unit=tree.c1, params={"check_job": checked.pk}
    )
    url = _database_url(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY)]),
    }
    worker = subprocess.run(
        [sys.executable, "-m", "tiendo.manage", "db_worker", "--batch", "--no-reload"]
        + ["--no-startup-delay", "--interval", "0"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert "tiendo.core.jobs.run_job" in worker.stdout + worker.stderr
    status, done, total, message = _job_row(url, job.pk)
    assert (status, done, total, message) == ("succeeded", 20, 20, "Đã nhập vào sổ hộ."), (
        worker.stdout + worker.stderr
    )
    assert _households(url) == 20
