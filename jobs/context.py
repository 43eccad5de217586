"""What a running job's handler reports through: progress, summary counters, log lines,
cancel checks and the result file (:class:`JobContext`), and the same for one chunk of a
fanned-out job (:class:`ChunkContext`)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from flexbridge.masking import mask_text

from .messages import JobMessage
from .models import FileHolds, Job, JobChunk, JobLogLine


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

    def _flush_lines(self, *, force: bool) -> bool:
        """Write the pending log lines, unless the last flush is younger than
        ``flush_interval`` and ``force`` is false; whether it flushed (the caller then
        writes its progress)."""
        now = time.monotonic()
        if not force and now - self._last_flush < self.flush_interval:
            return False
        self._last_flush = now
        if self._pending_lines:
            JobLogLine.objects.bulk_create(self._pending_lines, batch_size=1000)
            self._pending_lines = []
        return True

    def flush(self, *, force: bool = False) -> None:
        if not self._flush_lines(force=force):
            return
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
        message_id, params = message_parts(message)
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


def message_parts(message) -> tuple[str, dict]:
    """What a log line or a job stores of ``message``: its id and its parameters (personal
    identity numbers masked), or ``("", {})`` for plain text."""
    if isinstance(message, JobMessage):
        return message.id, {key: _masked(value) for key, value in message.params.items()}
    return "", {}


def _masked(value):
    """``value`` with every string in it masked (nested texts and lists too; a msgid holds
    no number to mask, so it stays as it is)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


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
        if not self._flush_lines(force=force):
            return
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
