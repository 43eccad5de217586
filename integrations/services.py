"""Writes for jobs: start, run, report progress and log, cancel."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm
from flexbridge.masking import mask_text

from .jobs_registry import job_kind
from .models import FileHolds, Job, JobLogLine

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a handler when the job was asked to stop."""


class JobContext:
    """What a running job's handler reports through.

    Progress, summary and log lines are written in batches, at most every
    ``flush_interval`` seconds (and always at the end), so reporting costs a few statements
    per interval rather than one per item. A handler that works inside one long
    transaction should report outside it (before and after), because what it writes inside
    becomes visible only at commit.
    """

    def __init__(self, job: Job, *, flush_interval: float = 0.2) -> None:
        self.job = job
        self.flush_interval = flush_interval
        self.done = job.progress_done
        self.total = job.progress_total
        self.summary: dict[str, Any] = dict(job.summary)
        self.errors = 0
        self.warnings = 0
        self._log_count = JobLogLine.objects.filter(job=job).count()
        self._pending_lines: list[JobLogLine] = []
        self._last_flush = 0.0
        self._last_cancel_check = 0.0

    # progress ---------------------------------------------------------------------------
    def set_total(self, total: int) -> None:
        self.total = total
        self.flush(force=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        self.flush()

    def count(self, key: str, amount: int = 1) -> None:
        """Add to a summary counter (``sent``, ``failed``, ``imported`` ...)."""
        self.summary[key] = self.summary.get(key, 0) + amount

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < self.flush_interval:
            return
        self._last_flush = now
        if self._pending_lines:
            JobLogLine.objects.bulk_create(self._pending_lines, batch_size=1000)
            self._pending_lines = []
        Job.objects.filter(pk=self.job.pk).update(
            progress_done=self.done, progress_total=max(self.total, self.done), summary=self.summary
        )

    # log --------------------------------------------------------------------------------
    def log(self, message: str, *, level: str = JobLogLine.Level.INFO, item: str = "") -> None:
        if level == JobLogLine.Level.ERROR:
            self.errors += 1
        elif level == JobLogLine.Level.WARNING:
            self.warnings += 1
        if self._log_count >= settings.JOB_LOG_MAX_LINES:
            self.count("log_lines_dropped")
            return
        self._log_count += 1
        self._pending_lines.append(
            JobLogLine(
                job=self.job, level=level, item=mask_text(item)[:200], message=mask_text(message)
            )
        )
        if len(self._pending_lines) >= 1000:
            self.flush(force=True)

    def info(self, message: str, *, item: str = "") -> None:
        self.log(message, level=JobLogLine.Level.INFO, item=item)

    def warning(self, message: str, *, item: str = "") -> None:
        self.log(message, level=JobLogLine.Level.WARNING, item=item)

    def error(self, message: str, *, item: str = "") -> None:
        self.log(message, level=JobLogLine.Level.ERROR, item=item)

    # cancel -----------------------------------------------------------------------------
    def check_cancelled(self) -> None:
        """Call between items: raises :class:`JobCancelled` once a cancel was requested."""
        now = time.monotonic()
        if now - self._last_cancel_check < 0.1:
            return
        self._last_cancel_check = now
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled

    # result -----------------------------------------------------------------------------
    def save_result_file(self, name: str, content: bytes, *, holds) -> None:
        """Store the job's file, tagged with the personal data it holds (``FileHolds``
        values; empty for none): downloading it needs each tag's capability."""
        tags = sorted({FileHolds(tag).value for tag in holds})
        self.job.result_file.save(name, ContentFile(content), save=False)
        self.job.result_file_holds = tags
        Job.objects.filter(pk=self.job.pk).update(
            result_file=self.job.result_file.name, result_file_holds=tags
        )


def job_create(
    *, company: Company, kind: str, started_by=None, parameters: dict | None = None
) -> Job:
    """Create a queued job and enqueue it once the surrounding transaction commits."""
    job_kind(kind)  # unknown kinds fail here, not in the worker
    job = Job.objects.create(
        company=company, kind=kind, started_by=started_by, parameters=parameters or {}
    )
    job_enqueue(job=job)
    return job


def job_start_check(*, user, company: Company, kind: str) -> None:
    """Raise PermissionDenied unless ``user`` may start ``kind`` jobs in ``company`` (call
    it before storing anything a job will read, e.g. an upload)."""
    registered = job_kind(kind)
    if not user_has_company_perm(user=user, perm=registered.permission, company=company):
        raise PermissionDenied(
            _("You may not start '%(job)s' in %(company)s.")
            % {"job": registered.label, "company": company.name}
        )


def job_start(*, user, company: Company, kind: str, parameters: dict | None = None) -> Job:
    """Start a job on behalf of a user, who needs the kind's permission in that company."""
    job_start_check(user=user, company=company, kind=kind)
    return job_create(company=company, kind=kind, started_by=user, parameters=parameters)


def job_enqueue(*, job: Job) -> None:
    from .tasks import run_job

    job_id = job.pk
    transaction.on_commit(lambda: run_job.delay(job_id))


def job_execute(*, job_id: int) -> Job:
    """Run a job's handler and record the outcome; safe to call again for the same job.

    A finished job is left alone (a redelivered task does nothing). A job found running was
    interrupted (killed worker): it runs again and its handler skips finished items.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        if job.cancel_requested:
            return _job_finish(job=job, status=Job.Status.CANCELLED, message="")
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.attempts = F("attempts") + 1
        job.save(update_fields=["status", "started_at", "attempts"])
    job.refresh_from_db()

    ctx = JobContext(job)
    if job.attempts > 1:
        ctx.warning(f"Resumed after an interruption (attempt {job.attempts}).")
    try:
        job_kind(job.kind).handler(job=job, ctx=ctx)
    except JobCancelled:
        ctx.warning("Cancelled on request.")
        status, message = Job.Status.CANCELLED, "Cancelled on request."
    except Exception as exc:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        message = mask_text(str(exc)) or exc.__class__.__name__
        ctx.error(message)
        status = Job.Status.FAILED
    else:
        if ctx.errors == 0:
            status, message = Job.Status.SUCCEEDED, ""
        elif ctx.summary.get("failed", ctx.errors) >= max(ctx.done, 1):
            status, message = Job.Status.FAILED, f"{ctx.errors} errors."
        else:
            status, message = Job.Status.PARTLY_FAILED, f"{ctx.errors} errors."
    ctx.flush(force=True)
    return _job_finish(job=job, status=status, message=message)


def _job_finish(*, job: Job, status: str, message: str) -> Job:
    Job.objects.filter(pk=job.pk).update(status=status, message=message, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def job_may_cancel(*, user, job: Job) -> bool:
    """Cancelling follows the role: "cancel a running job" and the permission to start jobs
    of that kind, both in the job's company."""
    try:
        kind_perm = job_kind(job.kind).permission
    except LookupError:
        kind_perm = "integrations.add_job"
    return all(
        user_has_company_perm(user=user, perm=perm, company=job.company_id)
        for perm in ("companies.cancel_job", kind_perm)
    )


def job_cancel(*, job: Job, user=None) -> Job:
    """Ask a job to stop. A queued job is cancelled at once; a running one at its next item."""
    if user is not None and not job_may_cancel(user=user, job=job):
        raise PermissionDenied(_("You may not cancel this job in this company."))
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
        if job.status == Job.Status.QUEUED:
            return _job_finish(job=job, status=Job.Status.CANCELLED, message="Cancelled.")
    return job


# --- the built-in self-test job ---------------------------------------------------------------


def selftest_run(*, job: Job, ctx: JobContext) -> None:
    """Counts through ``items`` items with ``delay`` seconds each; errors at ``fail_at``.

    Exists so an admin (and the end-to-end tests) can see that workers, progress and logs
    work end to end without touching any data.
    """
    items = int(job.parameters.get("items", 10))
    delay = float(job.parameters.get("delay", 0))
    fail_at = job.parameters.get("fail_at")
    ctx.set_total(items)
    for number in range(ctx.done + 1, items + 1):
        ctx.check_cancelled()
        if delay:
            time.sleep(delay)
        if fail_at is not None and number == int(fail_at):
            ctx.error("Failed on purpose.", item=f"item {number}")
            ctx.count("failed")
        else:
            ctx.info("Done.", item=f"item {number}")
            ctx.count("ok")
        ctx.advance()


# --- the payroll sync's entry point for the employee services ---------------------------------


def payroll_sync_enqueue(*, employee, fields) -> object | None:
    """Record a change of synced employee fields for the payroll sync (sent after commit).

    Called by ``employees.services`` in the transaction that changes the employee; see
    :mod:`integrations.payroll_sync`.
    """
    from .payroll_sync import payroll_sync_enqueue as enqueue

    return enqueue(employee=employee, fields=fields)


def payroll_sync_employee_saved(*, employee, previous) -> object | None:
    """Enqueue whatever synced fields differ between ``previous`` (None: new) and ``employee``."""
    from .payroll_sync import payroll_sync_fields_changed

    return payroll_sync_enqueue(
        employee=employee,
        fields=payroll_sync_fields_changed(previous=previous, employee=employee),
    )
