"""Reads about jobs."""

from __future__ import annotations

import csv
import io

from .models import Job, JobLogLine


def jobs_for_user(*, user):
    return Job.objects.for_user(user).select_related("company", "started_by")


def jobs_recent_for_user(*, user, limit: int = 10):
    return jobs_for_user(user=user)[:limit]


def job_log_lines(*, job: Job):
    return JobLogLine.objects.filter(job=job).order_by("pk")


def job_log_csv(*, job: Job) -> bytes:
    """The job's log as a CSV file (UTF-8 with BOM so spreadsheet programs read å, ä, ö)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["time", "level", "item", "message"])
    for line in job_log_lines(job=job).iterator(chunk_size=2000):
        writer.writerow([line.created_at.isoformat(), line.level, line.item, line.message])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
