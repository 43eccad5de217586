"""Writes for jobs: start, run, report progress and log, cancel."""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm
from flexbridge.masking import mask_text

from .jobs_registry import FanOut, job_kind
from .messages import JobMessage
from .models import FileHolds, Job, JobChunk, JobLogLine

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
    def log(
        self, message: str | JobMessage, *, level: str = JobLogLine.Level.INFO, item: str = ""
    ) -> None:
        """A log line. ``message``: plain text, or a :class:`JobMessage` (id + parameters)
        that each reader sees in their own language; ``item`` is plain text (an employee
        number, a line ...)."""
        if level == JobLogLine.Level.ERROR:
            self.errors += 1
        elif level == JobLogLine.Level.WARNING:
            self.warnings += 1
        if self._log_count >= settings.JOB_LOG_MAX_LINES:
            self.count("log_lines_dropped")
            return
        self._log_count += 1
        message_id, params = _message_parts(message)
        self._pending_lines.append(
            JobLogLine(
                job=self.job,
                level=level,
                item=mask_text(str(item))[:200],
                message=mask_text(str(message)),
                message_id=message_id,
                message_params=params,
            )
        )
        if len(self._pending_lines) >= 1000:
            self.flush(force=True)

    def info(self, message: str | JobMessage, *, item: str = "") -> None:
        self.log(message, level=JobLogLine.Level.INFO, item=item)

    def warning(self, message: str | JobMessage, *, item: str = "") -> None:
        self.log(message, level=JobLogLine.Level.WARNING, item=item)

    def error(self, message: str | JobMessage, *, item: str = "") -> None:
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


def _message_parts(message) -> tuple[str, dict]:
    if isinstance(message, JobMessage):
        params = {
            key: mask_text(value) if isinstance(value, str) else value
            for key, value in message.params.items()
        }
        return message.id, params
    return "", {}


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


def jobs_requeue_unfinished() -> list[int]:
    """Enqueue every job that is queued or was left running; returns their ids.

    The embedded run calls it when it starts, before its worker: a job queued while no
    worker ran, or interrupted by a stop, runs (or resumes) again. ``job_execute`` leaves
    finished jobs alone and handlers skip items already done, so this never does an item
    twice.
    """
    from .tasks import run_job

    ids = list(
        Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for job_id in ids:
        run_job.delay(job_id)
    return ids


def job_execute(*, job_id: int) -> Job:
    """Run a job's handler and record the outcome; safe to call again for the same job.

    A finished job is left alone (a redelivered task does nothing). A job found running was
    interrupted (killed worker): it runs again and its handler skips finished items. A
    fanned-out kind plans its chunks (once), hands them to other workers and runs chunks
    itself until none is left (:func:`job_chunks_drain`).
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

    kind = job_kind(job.kind)
    ctx = JobContext(job)
    if job.attempts > 1:
        ctx.warning(JobMessage("job.resumed", attempt=job.attempts))
    message: str | JobMessage
    try:
        if kind.fanout is not None:
            _job_fanout_plan(job=job, ctx=ctx, fanout=kind.fanout)
        else:
            kind.handler(job=job, ctx=ctx)
    except JobCancelled:
        message = JobMessage("job.cancelled_on_request")
        ctx.warning(message)
        status = Job.Status.CANCELLED
    except Exception as exc:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        message = exc.message if isinstance(getattr(exc, "message", None), JobMessage) else None
        message = message or mask_text(str(exc)) or exc.__class__.__name__
        ctx.error(message)
        status = Job.Status.FAILED
    else:
        if kind.fanout is not None:
            return job_chunks_drain(job_id=job.pk)
        status, message = _job_outcome(
            errors=ctx.errors, failed=ctx.summary.get("failed", ctx.errors), done=ctx.done
        )
    ctx.flush(force=True)
    return _job_finish(job=job, status=status, message=message)


def _job_outcome(*, errors: int, failed: int, done: int) -> tuple[str, str | JobMessage]:
    if errors == 0:
        return Job.Status.SUCCEEDED, ""
    if failed >= max(done, 1):
        return Job.Status.FAILED, JobMessage("job.errors", count=errors)
    return Job.Status.PARTLY_FAILED, JobMessage("job.errors", count=errors)


def _job_finish(*, job: Job, status: str, message: str | JobMessage) -> Job:
    message_id, params = _message_parts(message)
    Job.objects.filter(pk=job.pk).update(
        status=status,
        message=mask_text(str(message)),
        message_id=message_id,
        message_params=params,
        finished_at=timezone.now(),
    )
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


# --- fan-out: one job, its chunks run by any worker -------------------------------------------

# Chunks this process is running right now: a RUNNING chunk of this process's name that is
# not here was interrupted (an exception that escaped, as a test's stand-in for SIGKILL).
_RUNNING_HERE: set[int] = set()
# Held while a thread of this process claims a chunk and adds it to _RUNNING_HERE, so no
# other thread (a thread-pool worker) sees it claimed by this process and not here.
_RUNNING_LOCK = threading.RLock()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ChunkLost(Exception):
    """Another worker took this chunk over (ours had stopped sending heartbeats)."""


class ChunkContext(JobContext):
    """The :class:`JobContext` of one chunk: the same log and cancel as the job, its own
    counters (written to the chunk row with a heartbeat) summed into the job's progress
    and summary. ``output`` is handed to the kind's ``finish`` step."""

    def __init__(
        self, job: Job, chunk: JobChunk, *, base: dict | None = None, flush_interval: float = 0.5
    ) -> None:
        super().__init__(job, flush_interval=flush_interval)
        self.chunk = chunk
        self.attempt = chunk.attempts
        base = base or {}
        self.done = int(base.get("done", 0))
        self.total = 0
        self.summary = dict(base.get("summary", {}))
        self.errors = int(base.get("errors", 0))
        self.output: dict[str, Any] = {}
        self.heartbeat = float(settings.JOB_CHUNK_HEARTBEAT_SECONDS)

    def set_total(self, total: int) -> None:
        """The job's total was set when it was planned; a chunk does not change it."""

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < self.flush_interval:
            return
        self._last_flush = now
        if self._pending_lines:
            JobLogLine.objects.bulk_create(self._pending_lines, batch_size=1000)
            self._pending_lines = []
        moved = JobChunk.objects.filter(
            pk=self.chunk.pk, attempts=self.attempt, status=JobChunk.Status.RUNNING
        ).update(
            done=self.done, errors=self.errors, summary=self.summary, heartbeat_at=timezone.now()
        )
        if not moved:
            raise ChunkLost
        job_id = self.job.pk
        if connection.in_atomic_block:  # sum it up once this is visible to the others
            transaction.on_commit(lambda: job_progress_aggregate(job_id=job_id))
        else:
            job_progress_aggregate(job_id=job_id)

    def check_cancelled(self) -> None:
        """Also the chunk's heartbeat: a chunk whose worker stops calling this (or
        flushing) for ``JOB_CHUNK_STALE_SECONDS`` is taken over by another worker."""
        if time.monotonic() - self._last_flush >= self.heartbeat:
            self.flush(force=True)
        super().check_cancelled()


def job_progress_aggregate(*, job_id: int) -> None:
    """The job's progress and summary as the sum of its chunks' (under the job's row lock,
    so two workers' sums never overwrite each other out of order)."""
    with transaction.atomic():
        list(Job.objects.select_for_update().filter(pk=job_id).values_list("pk"))
        done, summary = 0, {}
        for chunk_done, chunk_summary in JobChunk.objects.filter(job_id=job_id).values_list(
            "done", "summary"
        ):
            done += chunk_done
            for key, value in (chunk_summary or {}).items():
                if isinstance(value, int | float) and isinstance(summary.get(key, 0), int | float):
                    summary[key] = summary.get(key, 0) + value
                else:
                    summary[key] = value
        Job.objects.filter(pk=job_id).update(progress_done=done, summary=summary)


def _job_fanout_plan(*, job: Job, ctx: JobContext, fanout: FanOut) -> None:
    """Split the job into chunks, once (a resumed job keeps the chunks it has), and hand
    them to up to ``parallel`` - 1 more workers."""
    if JobChunk.objects.filter(job=job).exists():
        ctx.flush(force=True)
        return
    items = list(fanout.plan(job=job, ctx=ctx))
    size, parallel = fanout.sizes(job.parameters)
    ctx.flush(force=True)
    plan = {"done": ctx.done, "errors": ctx.errors, "summary": ctx.summary}
    chunks = [
        JobChunk(
            job=job,
            number=0,
            status=JobChunk.Status.WAITING,
            done=ctx.done,
            errors=ctx.errors,
            summary=ctx.summary,
            output={"plan": plan},
        )
    ] + [
        JobChunk(job=job, number=n + 1, items=items[start : start + size])
        for n, start in enumerate(range(0, len(items), size))
    ]
    with transaction.atomic():
        list(Job.objects.select_for_update().filter(pk=job.pk).values_list("pk"))
        if JobChunk.objects.filter(job=job).exists():
            return
        JobChunk.objects.bulk_create(chunks, batch_size=500)
        Job.objects.filter(pk=job.pk).update(progress_total=max(ctx.total, len(items)))
        helpers = min(parallel, len(chunks) - 1) - 1
        if helpers > 0 and not _tasks_run_inline():
            from .tasks import run_job_chunks

            job_id = job.pk
            transaction.on_commit(lambda: [run_job_chunks.delay(job_id) for _ in range(helpers)])


def _tasks_run_inline() -> bool:
    """Eager Celery (no broker): a task enqueued runs right here, so helpers add nothing."""
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


def job_chunks_drain(*, job_id: int) -> Job:
    """Run the job's chunks until none is left to claim, then its finishing step once, then
    record its outcome. Every worker task of a fanned-out job runs this; which of them runs
    which chunk is decided by the chunk rows (``SELECT ... FOR UPDATE SKIP LOCKED``). A
    chunk whose worker died (no heartbeat for ``JOB_CHUNK_STALE_SECONDS``) is taken over
    and run again: its items are idempotent, like a restarted job's."""
    poll = float(settings.JOB_CHUNK_POLL_SECONDS)
    worker = _worker_name()
    while True:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        fanout = job_kind(job.kind).fanout
        chunk = _chunk_claim(job=job, worker=worker)
        if chunk is None:
            if JobChunk.objects.filter(job_id=job_id, number=0, status__in=JobChunk.OVER).exists():
                return _job_fanout_outcome(job_id=job_id)
            time.sleep(poll)  # the last chunks run elsewhere: wait for them (or their death)
            continue
        _chunk_run(job=job, chunk=chunk, fanout=fanout)


def _chunk_claim(*, job: Job, worker: str) -> JobChunk | None:
    with _RUNNING_LOCK:
        chunk = _chunk_claim_locked(job=job, worker=worker)
        if chunk is not None:
            _RUNNING_HERE.add(chunk.pk)
        return chunk


def _chunk_claim_locked(*, job: Job, worker: str) -> JobChunk | None:
    stale = timezone.now() - datetime.timedelta(seconds=float(settings.JOB_CHUNK_STALE_SECONDS))
    here = set(_RUNNING_HERE)
    orphaned = (
        Q(status=JobChunk.Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=JobChunk.Status.RUNNING, heartbeat_at__isnull=True)
        | (Q(status=JobChunk.Status.RUNNING, worker=worker) & ~Q(pk__in=here))
    )
    with transaction.atomic():
        chunk = (
            JobChunk.objects.select_for_update(skip_locked=True)
            .filter(job_id=job.pk, number__gte=1)
            .filter(Q(status=JobChunk.Status.QUEUED) | orphaned)
            .order_by("number")
            .first()
        )
        if chunk is None:
            if (
                JobChunk.objects.filter(job_id=job.pk, number__gte=1)
                .exclude(status__in=JobChunk.OVER)
                .exists()
            ):
                return None
            chunk = (
                JobChunk.objects.select_for_update(skip_locked=True)
                .filter(job_id=job.pk, number=0)
                .filter(Q(status=JobChunk.Status.WAITING) | orphaned)
                .first()
            )
            if chunk is None:
                return None
        if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
            # Cancelled: the chunks nobody started are not started.
            JobChunk.objects.filter(
                job_id=job.pk, status__in=(JobChunk.Status.QUEUED, JobChunk.Status.WAITING)
            ).update(status=JobChunk.Status.CANCELLED)
            JobChunk.objects.filter(pk=chunk.pk).update(status=JobChunk.Status.CANCELLED)
            return _chunk_claim_locked(job=job, worker=worker) if chunk.number else None
        taken_over = chunk.status == JobChunk.Status.RUNNING
        # A compare-and-set as well as the row lock: where there is no SELECT ... FOR
        # UPDATE (SQLite), two workers that read the same row cannot both claim it.
        claimed = JobChunk.objects.filter(
            pk=chunk.pk, status=chunk.status, attempts=chunk.attempts
        ).update(
            status=JobChunk.Status.RUNNING,
            attempts=chunk.attempts + 1,
            worker=worker[:200],
            heartbeat_at=timezone.now(),
        )
    if not claimed:
        return _chunk_claim_locked(job=job, worker=worker)
    chunk.refresh_from_db()
    chunk.taken_over = taken_over
    return chunk


def _chunk_run(*, job: Job, chunk: JobChunk, fanout: FanOut) -> None:
    finishing = chunk.number == 0
    plan = chunk.output.get("plan", {}) if finishing else {}
    ctx = ChunkContext(job, chunk, base=plan)
    if chunk.taken_over:
        ctx.warning(
            _("Part %(number)s taken over: its worker stopped (attempt %(attempt)s).")
            % {"number": chunk.number, "attempt": chunk.attempts}
        )
    status, message = JobChunk.Status.DONE, ""
    try:  # claimed: in _RUNNING_HERE until it is over here
        try:
            if finishing:
                if fanout.finish is not None:
                    outputs = list(
                        JobChunk.objects.filter(job=job, number__gte=1)
                        .order_by("number")
                        .values_list("output", flat=True)
                    )
                    fanout.finish(job=job, ctx=ctx, outputs=outputs)
            else:
                fanout.run_chunk(job=job, ctx=ctx, items=chunk.items)
        except ChunkLost:
            return
        except JobCancelled:
            status = JobChunk.Status.CANCELLED
        except Exception as exc:
            logger.exception("Job %s (%s) part %s failed", job.pk, job.kind, chunk.number)
            message = mask_text(str(exc)) or exc.__class__.__name__
            ctx.error(message)
            status = JobChunk.Status.FAILED
        output = {"plan": plan, **ctx.output} if finishing else ctx.output
        try:
            with transaction.atomic():
                ctx.flush(force=True)
                JobChunk.objects.filter(
                    pk=chunk.pk, attempts=ctx.attempt, status=JobChunk.Status.RUNNING
                ).update(status=status, message=message, output=output)
        except ChunkLost:
            return
        job_progress_aggregate(job_id=job.pk)
    finally:
        with _RUNNING_LOCK:
            _RUNNING_HERE.discard(chunk.pk)


def _job_fanout_outcome(*, job_id: int) -> Job:
    """The job's outcome from its chunks, recorded once."""
    job_progress_aggregate(job_id=job_id)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        chunks = list(JobChunk.objects.filter(job_id=job_id).order_by("number"))
        errors = sum(chunk.errors for chunk in chunks)
        failed = [chunk for chunk in chunks if chunk.status == JobChunk.Status.FAILED]
        if job.cancel_requested or any(c.status == JobChunk.Status.CANCELLED for c in chunks):
            message = JobMessage("job.cancelled_on_request")
            message_id, params = _message_parts(message)
            JobLogLine.objects.create(
                job=job,
                level=JobLogLine.Level.WARNING,
                message=str(message),
                message_id=message_id,
                message_params=params,
            )
            status = Job.Status.CANCELLED
        elif failed:
            status, message = Job.Status.FAILED, failed[0].message
        else:
            status, message = _job_outcome(
                errors=errors, failed=job.summary.get("failed", errors), done=job.progress_done
            )
        return _job_finish(job=job, status=status, message=message)


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
            return _job_finish(
                job=job, status=Job.Status.CANCELLED, message=JobMessage("job.cancelled")
            )
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
        item = f"item {number}"
        if fail_at is not None and number == int(fail_at):
            ctx.error(JobMessage("selftest.failed"), item=item)
            ctx.count("failed")
        else:
            ctx.info(JobMessage("selftest.done"), item=item)
            ctx.count("ok")
        ctx.advance()
