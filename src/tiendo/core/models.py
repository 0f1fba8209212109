"""Cross-cutting records: the audit log and in-app notifications."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One workflow step or administrative change, with a dotted action code.

    ``submission.returned``, ``entry_window.reopened``, ``report.rendered``, …
    """

    action = models.CharField(_("thao tác"), max_length=80, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey("units.Unit", models.SET_NULL, null=True, blank=True, related_name="+")
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    message = models.TextField(_("nội dung"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("nhật ký")
        verbose_name_plural = _("nhật ký")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    message = models.TextField(_("nội dung"))
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("thông báo")
        verbose_name_plural = _("thông báo")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.message[:60]


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang chạy")
    SUCCEEDED = "succeeded", _("Đã xong")
    FAILED = "failed", _("Không thành công")


class Job(models.Model):
    """A piece of work run in the background (an import of thousands of rows), and what
    its page shows: how far it got, then its result or its errors.

    Started with :func:`tiendo.core.jobs.start_job`, run by the task worker (``tiendo
    db_worker``) through :func:`tiendo.core.jobs.run_job`. ``upload`` holds the input file
    a job reads (encrypted by the app that owns the kind when it carries personal data) and
    is emptied once it is no longer needed.
    """

    kind = models.CharField(_("loại việc"), max_length=60, db_index=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unit = models.ForeignKey("units.Unit", models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(
        _("trạng thái"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(_("nội dung"), max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    upload = models.BinaryField(blank=True, default=b"", editable=False)
    upload_name = models.CharField(max_length=255, blank=True)
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the django.tasks result id of the run (django_tasks_db's DBTaskResult)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("việc chạy nền")
        verbose_name_plural = _("việc chạy nền")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    def progress(self, done: int, total: int | None = None, message=None, *, force=False):
        """Record how far the job got; see :func:`tiendo.core.jobs.record_progress`."""
        from tiendo.core.jobs import record_progress  # noqa: PLC0415

        record_progress(self, done, total, message, force=force)
