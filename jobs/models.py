"""Background jobs: the record every batch job writes, its per-item log and its chunks.

A job is created queued, a Celery task runs it (see ``runner.job_execute``), and the job
reports progress and log lines as it goes. The UI, the admin and ``/api/v1/jobs/`` read it.

The tables kept the names they had when the models lived in ``integrations``
(``db_table``): moving the models to this app moved no data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyOwned, CompanyScopedQuerySet

from .messages import job_message_text
from .registry import kind_label


class FileHolds(models.TextChoices):
    """What personal data a job's file holds; each tag needs its own capability to
    download the file (``FILE_HOLDS_PERMISSIONS``)."""

    PERSONAL_IDENTITY_NUMBERS = "personal_identity_numbers", _("Personal identity numbers")
    BANK_DETAILS = "bank_details", _("Bank details")
    SALARIES = "salaries", _("Salaries")


FILE_HOLDS_PERMISSIONS = {
    FileHolds.PERSONAL_IDENTITY_NUMBERS: "companies.view_personal_identity_number",
    FileHolds.BANK_DETAILS: "companies.view_bank_account",
    FileHolds.SALARIES: "employees.view_monthlysalary",
}


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
    # The message as an id with parameters (jobs.messages), shown in the reader's
    # language; ``message`` is its text in the writer's language, or a plain message.
    message_id = models.CharField(_("message id"), max_length=100, blank=True)
    message_params = models.JSONField(_("message parameters"), default=dict, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    result_file_holds = models.JSONField(
        _("the file holds"),
        default=list,
        blank=True,
        help_text=_("Personal data in the result file (FileHolds); each needs its capability."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        db_table = "integrations_job"
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["company", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_kind_display(self) -> str:
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

    @property
    def message_text(self) -> str:
        """The final message in the active language."""
        return job_message_text(self.message_id, self.message_params, self.message)


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
    message_id = models.CharField(_("message id"), max_length=100, blank=True)
    message_params = models.JSONField(_("message parameters"), default=dict, blank=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "job__company"

    class Meta:
        db_table = "integrations_joblogline"
        verbose_name = _("job log line")
        verbose_name_plural = _("job log lines")
        ordering = ["job", "pk"]

    def __str__(self) -> str:
        return f"[{self.level}] {self.item}: {self.message}"

    @property
    def text(self) -> str:
        """The message in the active language (see ``jobs.messages``)."""
        return job_message_text(self.message_id, self.message_params, self.message)


class JobChunk(models.Model):
    """One part of a fanned-out job (see ``runner.job_chunks_drain``).

    A job whose kind declares a fan-out splits its items into chunks when it starts; any
    worker claims a queued chunk (or one whose worker stopped sending heartbeats), runs it
    and writes its counters here, and the job's progress, summary and outcome are the sum
    of its chunks: the user sees one job. Chunk 0 is the job's own part: what planning
    counted and the finishing step that runs once every other chunk is over.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")  # chunk 0 until every other chunk is over
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    OVER = (Status.DONE, Status.FAILED, Status.CANCELLED)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("number"))
    items = models.JSONField(_("items"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    done = models.PositiveIntegerField(_("done"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    output = models.JSONField(_("output"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "job__company"

    class Meta:
        db_table = "integrations_jobchunk"
        verbose_name = _("job chunk")
        verbose_name_plural = _("job chunks")
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="jobchunk_once_per_number")
        ]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.number} {self.status}"
