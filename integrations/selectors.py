"""Reads about jobs."""

from __future__ import annotations

import csv
import io

from django.http import FileResponse

from companies.selectors import user_has_company_perm
from flexbridge.csvsafe import csv_cell

from .models import FILE_HOLDS_PERMISSIONS, FileHolds, Job, JobLogLine


def jobs_for_user(*, user):
    return Job.objects.for_user(user).select_related("company", "started_by")


def jobs_recent_for_user(*, user, limit: int = 10):
    return jobs_for_user(user=user)[:limit]


def job_file_missing_permissions(*, user, job: Job) -> list[str]:
    """The capabilities ``user`` lacks in the job's company to download its file (one per
    kind of personal data the file holds); empty when the download is allowed."""
    missing = []
    for tag in job.result_file_holds or []:
        perm = FILE_HOLDS_PERMISSIONS.get(tag)
        if perm is None:  # an unknown tag: only those who see everything
            perm = "companies.view_personal_identity_number"
        if not user_has_company_perm(user=user, perm=perm, company=job.company_id):
            missing.append(str(FileHolds(tag).label) if tag in FileHolds.values else tag)
    return missing


def job_file_may_download(*, user, job: Job) -> bool:
    return bool(job.result_file) and not job_file_missing_permissions(user=user, job=job)


def job_file_response(*, job: Job) -> FileResponse:
    """The job's file as a download (callers check :func:`job_file_missing_permissions`)."""
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result_file.name.rsplit("/", 1)[-1],
    )


def job_log_lines(*, job: Job):
    return JobLogLine.objects.filter(job=job).order_by("pk")


def job_log_csv(*, job: Job) -> bytes:
    """The job's log as a CSV file (UTF-8 with BOM so spreadsheet programs read å, ä, ö);
    text cells that a spreadsheet would run as a formula start with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["time", "level", "item", "message"])
    for line in job_log_lines(job=job).iterator(chunk_size=2000):
        writer.writerow(
            [
                line.created_at.isoformat(),
                line.level,
                csv_cell(line.item),
                csv_cell(line.message),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
