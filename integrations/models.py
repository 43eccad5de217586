"""Background jobs: the record every batch job writes, and its per-item log.

A job is created queued, a Celery task runs it (see ``services.job_execute``), and the job
reports progress and log lines as it goes. The UI, the admin and ``/api/v1/jobs/`` read it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyOwned, CompanyScopedQuerySet


class Job(CompanyOwned):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        PARTLY_FAILED = "partly_failed", _("Partly failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.PARTLY_FAILED, Status.CANCELLED)

    kind = models.SlugField(_("kind"), max_length=64)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["company", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_kind_display(self) -> str:
        from .jobs_registry import kind_label

        return str(kind_label(self.kind))

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress_percent(self) -> int:
        if self.is_finished and self.status != self.Status.CANCELLED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))


class JobLogLine(models.Model):
    class Level(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_lines")
    created_at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, default=Level.INFO)
    item = models.CharField(
        _("item"), max_length=200, blank=True, help_text=_("Employee, payslip, row ...")
    )
    message = models.TextField(_("message"))

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "job__company"

    class Meta:
        verbose_name = _("job log line")
        verbose_name_plural = _("job log lines")
        ordering = ["job", "pk"]

    def __str__(self) -> str:
        return f"[{self.level}] {self.item}: {self.message}"
