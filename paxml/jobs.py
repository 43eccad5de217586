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

from flexbridge.masking import mask_text
from jobs.messages import (
    JobMessage,
    register_job_messages,
    register_parameter_labels,
    register_parameter_values,
)
from jobs.models import FileHolds
from jobs.registry import register_job_kind

from .codes import PROFILES
from .messages import Text, map_strings, render
from .services import paxml_export_run, paxml_import_run
from .services.exporting import export_summary_text
from .services.importing import import_summary_text
from .validation import Problem


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
    for note in result.note_texts:
        ctx.info(_note(note))
    for section in result.not_imported_sections:
        ctx.info(JobMessage("paxml.section_not_imported", section=section))
    for problem in result.problems:
        ctx.error(_problem(problem), item=problem.employee)
    if result.problem_count > len(result.problems):
        ctx.error(
            JobMessage("paxml.more_problems", count=result.problem_count - len(result.problems))
        )
    # One line with the outcome and every count (added, replaced, removed, unchanged) and,
    # where they differ, both organisation numbers.
    ctx.info(JobMessage("paxml.import_summary", **result.summary_data()))


# --- stored messages: ids with parameters, rendered in the reader's language ------------------


def _note(text: Text) -> JobMessage:
    return JobMessage("paxml.note", text=map_strings(text.as_data(), mask_text))


def _problem(problem: Problem) -> JobMessage:
    """A problem with its place in the file; the employee is the log line's item."""
    message = (
        {"text": map_strings(problem.text.as_data(), mask_text)}
        if problem.text is not None
        else {"message": problem.message}  # libxml2's or a register's own words
    )
    return JobMessage(
        "paxml.problem",
        line=problem.line,
        element=problem.element,
        field=problem.field,
        **message,
    )


class _Rendered:
    """A registered job message rendered by a function of its parameters."""

    def __init__(self, func) -> None:
        self.func = func

    def __mod__(self, params: dict) -> str:
        return self.func(params)


def _problem_text(params: dict) -> str:
    """``line 7, tidtrans, field @persnr: <message>`` in the active language."""
    where = [_("line %(n)s") % {"n": params["line"]} if params.get("line") else _("file")]
    if params.get("element"):
        where.append(params["element"])
    if params.get("field") and params["field"] != params.get("element"):
        where.append(_("field %(f)s") % {"f": params["field"]})
    text = render(params["text"]) if "text" in params else params["message"]
    return f"{', '.join(str(w) for w in where)}: {text}"


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
            ctx.error(_problem(problem), item=problem.employee)
        for warning in result.warning_texts:
            ctx.warning(_note(warning))
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
        ctx.info(JobMessage("paxml.export_summary", **result.summary_data()))


register_job_messages(
    {
        "paxml.problem": _Rendered(_problem_text),
        "paxml.note": _Rendered(lambda params: render(params["text"])),
        "paxml.import_summary": _Rendered(import_summary_text),
        "paxml.export_summary": _Rendered(export_summary_text),
        "paxml.section_not_imported": _("Section <%(section)s> read, not imported."),
        "paxml.more_problems": ngettext_lazy(
            "… and %(count)s more problem.", "… and %(count)s more problems.", "count"
        ),
    }
)

register_parameter_values(
    "profile", lambda code: PROFILES[code].label if code in PROFILES else code
)
# The import's and the export's options by the names the forms give them.
register_parameter_labels(
    {
        "create_missing": _("Create missing register entries, projects and cost centres"),
        "confirm_organisation_number": _(
            "Import even if the file names another organisation number"
        ),
        "source_name": _("Source"),
        "personnel": _("Include the personnel register"),
    }
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
