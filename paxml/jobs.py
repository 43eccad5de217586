"""Job kinds: ``paxml_import`` and ``paxml_export``.

Import parameters: ``path`` (in default storage), ``name``, ``dry_run``, ``profile``.
Export parameters: ``date_from``, ``date_to`` (ISO dates), ``employees`` (employee
numbers, optional), ``profile``, ``encoding``. The exported file is the job's result file.
"""

from __future__ import annotations

import datetime as dt
import tempfile

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from integrations.jobs_registry import register_job_kind
from integrations.messages import JobMessage, register_job_messages, register_parameter_values

from .codes import PROFILES
from .services import paxml_export_run, paxml_import_run


def paxml_import_job(*, job, ctx) -> None:
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
    )
    for key, value in result.counts.items():
        ctx.count(key, value)
    for section in result.not_imported_sections:
        ctx.info(JobMessage("paxml.section_not_imported", section=section))
    for problem in result.problems:
        ctx.error(problem.message, item=_item(problem))
    if result.problem_count > len(result.problems):
        ctx.error(
            JobMessage("paxml.more_problems", count=result.problem_count - len(result.problems))
        )
    if result.already_imported:
        ctx.info(JobMessage("paxml.import.already"))
    elif result.ok:
        ctx.info(JobMessage("paxml.import.dry_run" if result.dry_run else "paxml.import.done"))
    else:
        ctx.info(JobMessage("paxml.import.rejected", count=result.problem_count))


def _item(problem) -> str:
    parts = [f"line {problem.line}" if problem.line else ""]
    if problem.employee:
        parts.append(f"employee {problem.employee}")
    if problem.field:
        parts.append(problem.field)
    return ", ".join(p for p in parts if p)


def paxml_export_job(*, job, ctx) -> None:
    params = job.parameters
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as out:
        result = paxml_export_run(
            company=job.company,
            date_from=dt.date.fromisoformat(params["date_from"]),
            date_to=dt.date.fromisoformat(params["date_to"]),
            employee_numbers=params.get("employees") or None,
            profile=params.get("profile", "standard"),
            encoding=params.get("encoding", "iso-8859-1"),
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
            out.seek(0)
            name = f"paxml-{job.company.code}-{params['date_from']}-{params['date_to']}.pax"
            ctx.save_result_file(name, out.read())
        if result.ok:
            ctx.info(JobMessage("paxml.export.done"))
        else:
            ctx.info(JobMessage("paxml.export.not_done", count=len(result.problems)))


register_job_messages(
    {
        "paxml.section_not_imported": _("Section <%(section)s> read, not imported."),
        "paxml.more_problems": ngettext_lazy(
            "… and %(count)s more problem.", "… and %(count)s more problems.", "count"
        ),
        "paxml.import.already": _("This file was imported before: nothing changed."),
        "paxml.import.dry_run": _("Checked only (dry run): nothing was saved."),
        "paxml.import.done": _("Imported. The counts are in the summary."),
        "paxml.import.rejected": ngettext_lazy(
            "Not imported: %(count)s problem.", "Not imported: %(count)s problems.", "count"
        ),
        "paxml.export.done": _("Exported. The counts are in the summary."),
        "paxml.export.not_done": ngettext_lazy(
            "Not exported: %(count)s problem.", "Not exported: %(count)s problems.", "count"
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
