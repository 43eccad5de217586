"""Reads about jobs."""

from __future__ import annotations

import csv
import io

from django.apps import apps
from django.http import FileResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.selectors import user_has_company_perm
from flexbridge.csvsafe import csv_cell

from .messages import (
    HIDDEN_PARAMETERS,
    format_value,
    parameter_label,
    parameter_order,
    parameter_value,
    summary_label,
)
from .models import FILE_HOLDS_PERMISSIONS, FileHolds, Job, JobLogLine


def jobs_for_user(*, user):
    return Job.objects.for_user(user).select_related("company", "started_by")


def jobs_recent_for_user(*, user, limit: int = 10):
    return jobs_for_user(user=user)[:limit]


def file_missing_permissions(*, user, company_id: int, holds) -> list[str]:
    """The capabilities ``user`` lacks in the company to download a file that holds
    ``holds`` (FileHolds tags), one per kind of personal data; empty when it is allowed."""
    missing = []
    for tag in holds or []:
        perm = FILE_HOLDS_PERMISSIONS.get(tag)
        if perm is None:  # an unknown tag: only those who see everything
            perm = "companies.view_personal_identity_number"
        if not user_has_company_perm(user=user, perm=perm, company=company_id):
            missing.append(str(FileHolds(tag).label) if tag in FileHolds.values else tag)
    return missing


def job_file_missing_permissions(*, user, job: Job) -> list[str]:
    """The capabilities ``user`` lacks in the job's company to download its file."""
    return file_missing_permissions(
        user=user, company_id=job.company_id, holds=job.result_file_holds
    )


def job_file_may_download(*, user, job: Job) -> bool:
    return bool(job.result_file) and not job_file_missing_permissions(user=user, job=job)


def job_file_response(*, job: Job) -> FileResponse:
    """The job's file as a download (callers check :func:`job_file_missing_permissions`)."""
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job_download_name(job=job, suffix="." + job.result_file.name.rsplit(".", 1)[-1]),
    )


def job_log_lines(*, job: Job):
    return JobLogLine.objects.filter(job=job).order_by("pk")


def job_log_csv(*, job: Job) -> bytes:
    """The job's log as a CSV file (UTF-8 with BOM so spreadsheet programs read å, ä, ö):
    local times as the pages show them, levels and messages in the reader's language; text
    cells that a spreadsheet would run as a formula start with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_("Time"), _("Level"), _("Item"), _("Message")])
    for line in job_log_lines(job=job).iterator(chunk_size=2000):
        local = timezone.localtime(line.created_at).replace(microsecond=0, tzinfo=None)
        writer.writerow(
            [
                local.isoformat(sep=" "),
                line.get_level_display(),
                csv_cell(line.item),
                csv_cell(line.text),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def job_download_name(*, job: Job, suffix: str) -> str:
    """A file name a person recognises: ``<kind>-<company>-<job>-<suffix>``, ASCII only."""
    words = slugify(f"{job.get_kind_display()} {job.company.code} {job.pk}")
    return f"{words}{suffix}" if suffix.startswith(".") else f"{words}-{suffix}"


def job_parameters_display(*, job: Job) -> list[tuple[str, str]]:
    """The job's selection as labelled values (payroll runs, employees and switchovers by
    name, dates and yes/no in the reader's language)."""
    rows = []
    for key, value in sorted((job.parameters or {}).items(), key=lambda kv: parameter_order(kv[0])):
        if key in HIDDEN_PARAMETERS:
            continue
        rows.append((parameter_label(key), _parameter_value(job, key, value)))
    return rows


def _parameter_value(job: Job, key: str, value) -> str:
    registered = parameter_value(key, value)
    if registered is not None:
        return registered
    if key == "payroll_run" and value:
        run = apps.get_model("payslips", "PayrollRun").objects.filter(
            pk=value, company=job.company_id
        )
        found = run.first()
        return str(found) if found else f"#{value}"
    if key == "switchover" and value:
        return f"#{value}"
    if key == "employees" and isinstance(value, list):
        if not value:
            return str(_("All employees"))
        if all(isinstance(v, int) for v in value):
            numbers = (
                apps.get_model("employees", "Employee")
                .objects.filter(company=job.company_id, pk__in=value)
                .order_by("employee_number")
                .values_list("employee_number", flat=True)
            )
            return ", ".join(numbers) or "–"
        return format_value(value)
    if key == "status" and isinstance(value, str):
        return str(_STATUS_WORDS.get(value, value))
    return format_value(value)


_STATUS_WORDS = {
    "final": gettext_lazy("Final"),
    "preliminary": gettext_lazy("Preliminary"),
    "any": gettext_lazy("Any payment date (older periods)"),
}


def job_summary_display(*, job: Job) -> list[tuple[str, str]]:
    """The job's counters as labelled values."""
    return [
        (summary_label(key), format_value(value))
        for key, value in (job.summary or {}).items()
        if value not in (None, "", [], {})
    ]
