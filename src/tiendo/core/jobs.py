"""Background jobs: long work (an import of 100.000 households) off the request.

Django's tasks framework (``django.tasks``) runs the work; the pinned ``django-tasks-db``
backend keeps the queue in the database, so no broker is needed: ``tiendo db_worker`` is
the worker (docs/tasks.md). The task result it keeps says only "ran, succeeded, failed";
the :class:`~tiendo.core.models.Job` row is what the user's page shows — who started it,
for which unit, how far it got, its result or its Vietnamese errors.

An app offers a kind of job by registering its handler in its ``AppConfig.ready``
(:func:`register_job`); :func:`start_job` records the job and enqueues :func:`run_job`,
which calls the handler with the job. The handler returns the result (a JSON-able dict),
or raises :class:`JobFailed` with the messages to show; any other exception marks the job
failed with a generic message (the traceback stays in the task result and the log).

Progress is committed outside the job's own transaction (:func:`record_progress`): an
import writes everything in one transaction, all or nothing, yet its page sees the
progress bar move. On PostgreSQL a second connection commits it. SQLite has one writer at a
time and the import holds the lock, so there the figures written during the transaction
appear when it ends; the phases before it (reading and checking the file) are seen live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q
from django.db.models.sql import UpdateQuery
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from tiendo.core.errors import TiendoError
from tiendo.core.models import Job, JobStatus

logger = logging.getLogger(__name__)

Handler = Callable[[Job], dict]
_HANDLERS: dict[str, Handler] = {}
# progress is written at most this often (seconds), and whenever a job reaches its total
PROGRESS_EVERY = 0.5
# the most row messages a job keeps (the count of all of them is in its result)
MAX_ERRORS = 1000


class JobFailed(TiendoError):
    """The job could not do its work for a reason its user can fix; ``errors`` lists the
    row-level messages (dicts the kind's result page knows how to show)."""

    code = "job.failed"

    def __init__(self, message=None, *, errors=(), result=None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = list(errors)
        self.result = result or {}


def register_job(kind: str, handler: Handler) -> None:
    """``handler(job) -> dict`` runs the jobs of ``kind`` (an ASCII dotted name)."""
    _HANDLERS[kind] = handler


def start_job(
    kind: str,
    *,
    user=None,
    unit=None,
    params: dict | None = None,
    upload: bytes = b"",
    upload_name: str = "",
    message: str = "",
) -> Job:
    """Record a job of ``kind`` and enqueue its run; the worker picks it up once the
    surrounding transaction (if any) commits."""
    if kind not in _HANDLERS:
        raise KeyError(f"no handler registered for job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        started_by=user if user is not None and user.is_authenticated else None,
        unit=unit,
        params=params or {},
        upload=upload,
        upload_name=upload_name[:255],
        message=message or _("Đang chờ đến lượt chạy."),
    )
    result = run_job.enqueue(job.pk)
    job.task_result_id = str(result.id)
    Job.objects.filter(pk=job.pk).update(task_result_id=job.task_result_id)
    return job


def _save(job_id: int, **fields) -> None:
    Job.objects.filter(pk=job_id).update(**fields)


@task()
def run_job(job_id: int) -> str:
    """Run the job ``job_id`` with its kind's handler; returns its final status."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return job.status if job else "missing"  # run twice, or removed meanwhile
    handler = _HANDLERS.get(job.kind)
    job.status, job.started_at = JobStatus.RUNNING, timezone.now()
    job.message = _("Đang chạy.")
    _save(job.pk, status=job.status, started_at=job.started_at, message=job.message)
    try:
        if handler is None:
            raise JobFailed(_("Hệ thống không có việc loại “%(kind)s”."), kind=job.kind)
        result = handler(job)
    except JobFailed as failure:
        _finish(job, JobStatus.FAILED, str(failure), failure.result, failure.errors)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(
            job,
            JobStatus.FAILED,
            _("Có lỗi hệ thống khi chạy việc này; không có gì được ghi. Xin báo quản trị."),
            {},
            [],
        )
        raise
    else:
        _finish(job, JobStatus.SUCCEEDED, job.message, result or {}, [])
    return job.status


def _finish(job: Job, status, message, result: dict, errors: list) -> None:
    job.status, job.finished_at = status, timezone.now()
    job.message, job.result, job.errors = str(message)[:300], result, errors[:MAX_ERRORS]
    if status == JobStatus.SUCCEEDED and job.total:
        job.done = job.total
    _save(
        job.pk,
        status=job.status,
        finished_at=job.finished_at,
        message=job.message,
        result=job.result,
        errors=job.errors,
        done=job.done,
        total=job.total,
    )


def record_progress(job: Job, done: int, total=None, message=None, *, force=False) -> None:
    """Set ``job``'s progress and commit it where the job's page can read it.

    Outside a transaction it is an ordinary update. Inside one (the import's), it goes
    through a connection of its own so that it commits at once (PostgreSQL); on SQLite,
    which allows one writer at a time, it is kept on ``job`` and written when the work
    ends. At most one write every :data:`PROGRESS_EVERY` seconds, unless ``force``."""
    job.done = done
    if total is not None:
        job.total = total
    if message is not None:
        job.message = str(message)[:300]
    now = time.monotonic()
    last = getattr(job, "_progress_at", None)
    if not force and last is not None and now - last < PROGRESS_EVERY and done < job.total:
        return
    job._progress_at = now
    fields = {"done": job.done, "total": job.total, "message": job.message}
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        _save(job.pk, **fields)
    elif connection.vendor != "sqlite":
        _save_outside(job.pk, fields)


def _save_outside(job_id: int, fields: dict) -> None:
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        query = UpdateQuery(Job)
        query.add_q(Q(pk=job_id))
        query.add_update_values(fields)
        sql, params = query.get_compiler(connection=side).as_sql()
        with side.cursor() as cursor:
            cursor.execute(sql, params)
        if not side.get_autocommit():
            side.commit()
    finally:
        side.close()
