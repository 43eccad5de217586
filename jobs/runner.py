"""Runs a job: its handler, or its chunks on any worker, and records the outcome.

The runner knows nothing of Celery: ``jobs.tasks`` calls it (and hands it the way to start
more workers on a fanned-out job), and so may a command that runs a job in-process.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from flexbridge.masking import mask_text

from .context import (
    ChunkContext,
    ChunkLost,
    JobCancelled,
    JobContext,
    job_progress_aggregate,
    message_parts,
)
from .messages import JobMessage
from .models import Job, JobChunk, JobLogLine
from .registry import FanOut, job_kind

logger = logging.getLogger(__name__)

# ``helpers(job_id, count)``: start ``count`` more workers on a fanned-out job's chunks.
ChunkHelpers = Callable[[int, int], None]


def job_execute(*, job_id: int, helpers: ChunkHelpers | None = None) -> Job:
    """Run a job's handler and record the outcome; safe to call again for the same job.

    A finished job is left alone (a redelivered task does nothing). A job found running was
    interrupted (killed worker): it runs again and its handler skips finished items. A
    fanned-out kind plans its chunks (once), hands them to other workers and runs chunks
    itself until none is left (:func:`job_chunks_drain`); ``helpers`` starts the other
    workers (the Celery task passes it; without it this caller runs every chunk itself).
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        if job.cancel_requested:
            return job_finish(job=job, status=Job.Status.CANCELLED, message="")
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
            _job_fanout_plan(job=job, ctx=ctx, fanout=kind.fanout, helpers=helpers)
        else:
            kind.handler(job=job, ctx=ctx)
    except JobCancelled:
        message = JobMessage("job.cancelled_on_request")
        ctx.warning(message)
        status = Job.Status.CANCELLED
    except Exception as exc:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        message = _stored_message(exc) or mask_text(str(exc)) or exc.__class__.__name__
        ctx.error(message)
        status = Job.Status.FAILED
    else:
        if kind.fanout is not None:
            return job_chunks_drain(job_id=job.pk)
        status, message = _job_outcome(
            errors=ctx.errors, failed=ctx.summary.get("failed", ctx.errors), done=ctx.done
        )
    ctx.flush(force=True)
    return job_finish(job=job, status=status, message=message)


def _job_outcome(*, errors: int, failed: int, done: int) -> tuple[str, str | JobMessage]:
    if errors == 0:
        return Job.Status.SUCCEEDED, ""
    if failed >= max(done, 1):
        return Job.Status.FAILED, JobMessage("job.errors", count=errors)
    return Job.Status.PARTLY_FAILED, JobMessage("job.errors", count=errors)


def _stored_message(exc: Exception) -> JobMessage | None:
    """The exception's message when it is a :class:`JobMessage` (its ``message`` or its
    first argument): kept by id, so the job's message reads in the reader's language."""
    for candidate in (getattr(exc, "message", None), *exc.args[:1]):
        if isinstance(candidate, JobMessage):
            return candidate
    return None


def job_finish(*, job: Job, status: str, message: str | JobMessage) -> Job:
    message_id, params = message_parts(message)
    Job.objects.filter(pk=job.pk).update(
        status=status,
        message=mask_text(str(message)),
        message_id=message_id,
        message_params=params,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


# --- fan-out: one job, its chunks run by any worker -------------------------------------------

# Chunks this process is running right now: a RUNNING chunk of this process's name that is
# not here was interrupted (an exception that escaped, as a test's stand-in for SIGKILL).
_RUNNING_HERE: set[int] = set()
# Held while a thread of this process claims a chunk and adds it to _RUNNING_HERE, so no
# other thread (a thread-pool worker) sees it claimed by this process and not here.
_RUNNING_LOCK = threading.RLock()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _job_fanout_plan(
    *, job: Job, ctx: JobContext, fanout: FanOut, helpers: ChunkHelpers | None = None
) -> None:
    """Split the job into chunks, once (a resumed job keeps the chunks it has), and hand
    them to up to ``parallel`` - 1 more workers (``helpers``, after commit)."""
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
        count = min(parallel, len(chunks) - 1) - 1
        if count > 0 and helpers is not None:
            job_id = job.pk
            transaction.on_commit(lambda: helpers(job_id, count))


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
            message_id, params = message_parts(message)
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
        return job_finish(job=job, status=status, message=message)
