"""Job kinds: ``paxml_import`` and ``paxml_export``.

Import parameters: ``path`` (in default storage), ``name``, ``dry_run``, ``profile``.
Export parameters: ``date_from``, ``date_to`` (ISO dates), ``employees`` (employee
numbers, optional), ``profile``, ``encoding``. The exported file is the job's result file.
"""

from __future__ import annotations

import datetime as dt
import tempfile

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jobs.messages import JobMessage, register_job_messages, register_parameter_values
from jobs.models import FileHolds
from jobs.registry import register_job_kind

from .codes import PROFILES
from .services import paxml_export_run, paxml_import_run


def paxml_import_job(*, job, ctx) -> None:
    with translation.override(job.parameters.get("language") or settings.LANGUAGE_CODE):
        _import(job=job, ctx=ctx)


def _import(*, job, ctx) -> None:
    params = job.parameters
    try:
        source = default_storage.path(params["path"])  # stream from disk: memory stays flat
    except NotImplementedError:
        with default_storage.open(params["path"], "rb") as handle:
            source = handle.read()
    result = paxml_import_run(
        company=job.company,
        source=source,
        name=params.get("name", ""),
        dry_run=bool(params.get("dry_run")),
        profile=params.get("profile", "standard"),
        user=job.started_by,
        job=job,
        progress=ctx,
        create_missing=bool(params.get("create_missing")),
        confirm_organisation_number=bool(params.get("confirm_organisation_number")),
        source_name=params.get("source_name", ""),
    )
    for key, value in result.counts.items():
        ctx.count(key, value)
    for note in result.notes:
        ctx.info(note)
    for section in result.not_imported_sections:
        ctx.info(JobMessage("paxml.section_not_imported", section=section))
    for problem in result.problems:
        ctx.error(problem.message, item=_item(problem))
    if result.problem_count > len(result.problems):
        ctx.error(
            JobMessage("paxml.more_problems", count=result.problem_count - len(result.problems))
        )
    # One line with the outcome and every count (added, replaced, removed, unchanged) and,
    # where they differ, both organisation numbers.
    ctx.info(result.summary())


def _item(problem) -> str:
    parts = [_("line %(n)s") % {"n": problem.line} if problem.line else ""]
    if problem.employee:
        parts.append(_("employee %(e)s") % {"e": problem.employee})
    if problem.field:
        parts.append(problem.field)
    return ", ".join(p for p in parts if p)


def paxml_export_job(*, job, ctx) -> None:
    with translation.override(job.parameters.get("language") or settings.LANGUAGE_CODE):
        _export(job=job, ctx=ctx)


def _export(*, job, ctx) -> None:
    params = job.parameters
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as out:
        result = paxml_export_run(
            company=job.company,
            date_from=dt.date.fromisoformat(params["date_from"]),
            date_to=dt.date.fromisoformat(params["date_to"]),
            employee_numbers=params.get("employees") or None,
            profile=params.get("profile", "standard"),
            encoding=params.get("encoding", "iso-8859-1"),
            personnel=bool(params.get("personnel")),
            out=out,
            job=job,
            progress=ctx,
        )
        for problem in result.problems:
            ctx.error(problem.message, item=_item(problem))
        for warning in result.warnings:
            ctx.warning(warning)
        for key, value in result.counts.items():
            ctx.count(key, value)
        if result.ok:
            # rows written count as done, rows left out as failed: a file without a few
            # rows is a partly failed job, not a failed one
            written = sum(
                result.counts.get(key, 0)
                for key in ("time_transactions", "salary_transactions", "event_transactions")
            )
            ctx.advance(max(written - ctx.done, 0))
            ctx.count("failed", result.counts.get("left_out_rows", 0))
        if result.ok:
            out.seek(0)
            name = f"paxml-{job.company.code}-{params['date_from']}-{params['date_to']}.pax"
            ctx.save_result_file(
                name,
                out.read(),
                holds=[FileHolds.PERSONAL_IDENTITY_NUMBERS, FileHolds.SALARIES],
            )
        ctx.info(result.summary())


register_job_messages(
    {
        "paxml.section_not_imported": _("Section <%(section)s> read, not imported."),
        "paxml.more_problems": ngettext_lazy(
            "… and %(count)s more problem.", "… and %(count)s more problems.", "count"
        ),
    }
)

register_parameter_values(
    "profile", lambda code: PROFILES[code].label if code in PROFILES else code
)

register_job_kind(
    "paxml_import",
    _("PAXml import"),
    handler=paxml_import_job,
    permission="companies.run_paxml_import",
)
register_job_kind(
    "paxml_export",
    _("PAXml export"),
    handler=paxml_export_job,
    permission="companies.run_paxml_export",
)
