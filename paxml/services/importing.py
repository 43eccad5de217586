"""Import of one PAXml file: all or nothing, idempotent, with every problem located.

Two passes over the file, both streaming:

1. **Check** — the reader validates every post (XSD + the spec's rules) and collects the
   small parts: header, result units, code names, persons and the file's schedule days
   (needed to turn ``omfattning`` into hours). Any problem: the file is rejected.
2. **Write** — in one transaction: the header's organisation number is compared with the
   company's, persons → employees (only the elements present change a field;
   ``delete="true"`` ends the employment), then time posts → ``TimeRegistration``, salary
   posts → ``SalaryTransaction``, schedule days → ``ScheduleDay``, each checked against the
   registers and the bounds (unknown employee number, a date outside the employment, an
   unknown code, cost centre or project, an amount or hours no payroll holds). Any problem:
   rolled back, nothing is written, and every problem (up to ``settings.PAXML_MAX_PROBLEMS``)
   is reported with line, employee and field. A dry run takes the same path and always
   rolls back, so it reports exactly what would change.

Idempotency is by content and never crosses sources (``docs/paxml.md``). A file's source
is the header's ``foretagid`` and ``programnamn`` (or a source chosen on upload); the
product's own export into the same company is the source ``flexbridge:self``, whose
postids are the row ids. A post whose postid an earlier file of the same source imported
replaces that row (or leaves it as it is when nothing changed); a post without postid that
equals a row of the same source is unchanged; a ``nyexport`` header removes the source's
rows in its period that the file no longer has. A byte-identical file is skipped.

This module is the run (pass 1, the source, the outcome); the steps live beside it:
``import_registers`` and ``import_persons`` (the registers, persons → employees),
``import_write`` (pass 2, post by post, in batches) and ``import_match`` (idempotency).
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import logging
import os
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from companies.models import Company
from flexbridge.errors import DomainError

from .. import codes
from ..messages import Text
from ..models import PaxmlFile
from ..reader import PaxmlFatalError, PaxmlReader
from ..records import (
    Header,
    Person,
    ResultUnit,
    SalaryTransaction,
    TimeTransaction,
)
from ..records import ScheduleDay as ScheduleRecord
from ..validation import Problem
from .bounds import (
    PROGRAM_NAME,
    SELF_SOURCE,
)
from .import_registers import Importer
from .import_write import day_hours, write_file
from .registers import normalize

# Summary labels, in the order the summary lists them.
COUNT_LABELS = {
    "added": gettext_lazy("added"),
    "replaced": gettext_lazy("replaced"),
    "removed": gettext_lazy("removed"),
    "unchanged": gettext_lazy("unchanged"),
    "time_registrations": gettext_lazy("time registrations stored"),
    "salary_transactions": gettext_lazy("salary transactions stored"),
    "schedule_days": gettext_lazy("schedule days stored"),
    "schedule_days_merged": gettext_lazy("schedule days summed"),
    "own_event_lines_skipped": gettext_lazy("own event lines skipped"),
    "employees_created": gettext_lazy("employees created"),
    "employees_updated": gettext_lazy("employees updated"),
    "employments_ended": gettext_lazy("employments ended"),
    "cost_centres_created": gettext_lazy("cost centres created"),
    "cost_centres_seen": gettext_lazy("cost centres seen"),
    "projects_created": gettext_lazy("projects created"),
    "positions_created": gettext_lazy("positions created"),
    "personnel_categories_created": gettext_lazy("personnel categories created"),
    "employment_forms_created": gettext_lazy("employment forms created"),
    "code_names_read": gettext_lazy("code names read"),
}
DRY_RUN_LABELS = {
    "employees_created": gettext_lazy("employees to create"),
    "cost_centres_created": gettext_lazy("cost centres to create"),
    "projects_created": gettext_lazy("projects to create"),
    "positions_created": gettext_lazy("positions to create"),
    "personnel_categories_created": gettext_lazy("personnel categories to create"),
    "employment_forms_created": gettext_lazy("employment forms to create"),
    "employees_updated": gettext_lazy("employees to update"),
    "employments_ended": gettext_lazy("employments to end"),
    "added": gettext_lazy("to add"),
    "time_registrations": gettext_lazy("time registrations to store"),
    "salary_transactions": gettext_lazy("salary transactions to store"),
    "schedule_days": gettext_lazy("schedule days to store"),
    "replaced": gettext_lazy("to replace"),
    "removed": gettext_lazy("to remove"),
}


# A dry run rolls back what it did: the services it calls must not log it as done
# ("Employee 001 created"); its notes say what it would do instead.
_DRY_RUN = contextvars.ContextVar("paxml_dry_run", default=False)


class _NotInDryRun(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _DRY_RUN.get()


for _name in ("employees.services",):
    logging.getLogger(_name).addFilter(_NotInDryRun())


class PaxmlLicenseError(DomainError):
    """The company has no PAXml licence."""

    code = "not_licensed"
    http_status = 403


class _Rollback(Exception):
    pass


@dataclass
class ImportResult:
    ok: bool = False
    dry_run: bool = False
    already_imported: bool = False
    file: PaxmlFile | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    not_imported_sections: list[str] = field(default_factory=list)
    fingerprint: str = ""
    source: str = ""
    # What the import did (or, in a dry run, would do) beyond the counts, one line each.
    note_texts: list[Text] = field(default_factory=list)
    file_organisation_number: str = ""
    company_organisation_number: str = ""

    @property
    def notes(self) -> list[str]:
        """The notes in the active language."""
        return [str(note) for note in self.note_texts]

    def summary_data(self) -> dict:
        """The summary as parameters (JSON), for :func:`import_summary_text`."""
        state = (
            "already_imported"
            if self.already_imported
            else "dry_run"
            if self.dry_run and self.ok
            else "imported"
            if self.ok
            else "rejected"
        )
        data: dict = {"state": state, "dry_run": self.dry_run, "counts": self.counts}
        if self.problem_count:
            data["problems"] = self.problem_count
        if self.file_organisation_number and (
            _digits(self.file_organisation_number) != _digits(self.company_organisation_number)
        ):
            data["file_organisation_number"] = self.file_organisation_number
            data["company_organisation_number"] = self.company_organisation_number
        if self.not_imported_sections:
            data["sections"] = list(self.not_imported_sections)
        return data

    def summary(self) -> str:
        """One line in the active language."""
        return import_summary_text(self.summary_data())


_STATES = {
    "already_imported": gettext_lazy("already imported"),
    "dry_run": gettext_lazy("dry run"),
    "imported": gettext_lazy("imported"),
    "rejected": gettext_lazy("rejected"),
}


def import_summary_text(data: dict) -> str:
    """An import's summary line (``ImportResult.summary_data``) in the active language:
    the outcome and every count and, where they differ, both organisation numbers."""
    counts = data.get("counts") or {}
    labels = {**COUNT_LABELS, **DRY_RUN_LABELS} if data.get("dry_run") else COUNT_LABELS
    keys = [k for k in COUNT_LABELS if counts.get(k)]
    keys += sorted(k for k in counts if k not in COUNT_LABELS and counts[k])
    parts = [f"{labels.get(key, key)} {counts[key]}" for key in keys]
    nothing = _("nothing to change")
    text = f"{_STATES.get(data.get('state'), data.get('state'))}: {', '.join(parts) or nothing}"
    if data.get("problems"):
        text += "; " + ngettext("%(n)s problem", "%(n)s problems", data["problems"]) % {
            "n": data["problems"]
        }
    if data.get("file_organisation_number"):
        text += "; " + _("organisation number in the file %(file)s, of the company %(company)s") % {
            "file": data["file_organisation_number"],
            "company": data.get("company_organisation_number") or "–",
        }
    if data.get("sections"):
        text += "; " + _("read, not imported: %(s)s") % {"s": ", ".join(data["sections"])}
    return text


def _digits(value: str) -> str:
    """An organisation number compared by its ten digits (a 12-digit form's ``16`` off)."""
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    return digits[2:] if len(digits) == 12 and digits.startswith("16") else digits


def paxml_source_key(*, company: Company, header: Header | None, chosen: str = "") -> str:
    """The source a file's rows belong to (see the module docstring)."""
    if chosen.strip():
        return ("chosen:" + normalize(chosen))[:255]
    foretagid = (header.foretagid if header else "").strip()
    program = (header.programnamn if header else "").strip()
    if program.casefold() == PROGRAM_NAME and foretagid == company.code:
        return SELF_SOURCE
    return f"{normalize(foretagid)}|{normalize(program)}"[:255]


def _fingerprint(source) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    if isinstance(source, bytes):
        digest.update(source)
        return digest.hexdigest(), len(source)
    with open(source, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# COPY's text format: backslash, tab, newline and carriage return escaped
def paxml_import_run(
    *,
    company: Company,
    source: str | os.PathLike | bytes,
    name: str = "",
    dry_run: bool = False,
    profile: str = "standard",
    user=None,
    job=None,
    progress=None,
    create_missing: bool = False,
    confirm_organisation_number: bool = False,
    source_name: str = "",
) -> ImportResult:
    """Check and import one PAXml file (see the module docstring). ``progress`` is an
    optional ``jobs.context.JobContext``.

    ``create_missing``: create the register entries, projects and cost centres the file
    names and the registers lack (each logged in ``notes``). ``confirm_organisation_number``:
    import a file whose header names another organisation number. ``source_name``: the
    source whose rows this file's postids and ``nyexport`` may replace, instead of the
    header's ``foretagid`` and program."""
    if not getattr(getattr(company, "license", None), "paxml", False):
        raise PaxmlLicenseError(_("PAXml is not licensed for %(c)s.") % {"c": company.name})
    profile_obj = codes.profile_get(profile)
    if not isinstance(source, bytes):
        source = Path(source)
    fingerprint, size = _fingerprint(source)
    result = ImportResult(
        dry_run=dry_run,
        fingerprint=fingerprint,
        company_organisation_number=company.organisation_number or "",
    )
    name = name or (source.name if isinstance(source, Path) else "")

    # pass 1: check ---------------------------------------------------------------------
    importer = Importer(
        company=company,
        profile=profile_obj,
        user=user,
        progress=progress,
        dry_run=dry_run,
        create_missing=create_missing,
    )
    reader = PaxmlReader(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        profile=profile_obj,
        max_problems=importer.problems.cap,
    )
    collected = _check_file(reader, importer)
    header, persons, units, posts = (
        collected.header,
        collected.persons,
        collected.units,
        collected.posts,
    )
    result.not_imported_sections = reader.not_imported_sections
    result.file_organisation_number = (header.foretagorgnr if header else "") or ""
    result.source = paxml_source_key(company=company, header=header, chosen=source_name)
    # the file's row with what pass 1 learnt of it: only its status differs
    record_file = partial(
        _record_file,
        company=company,
        name=name,
        fingerprint=fingerprint,
        size=size,
        profile=profile,
        reader=reader,
        header=header,
        job=job,
        source=result.source,
    )
    if not reader.ok:
        result.problems, result.problem_count = reader.problems, reader.problem_count
        result.file = record_file(status=PaxmlFile.Status.REJECTED)
        return result
    if progress is not None:
        progress.set_total(posts + len(persons))

    # pass 2: write (or dry run) ---------------------------------------------------------
    if PaxmlFile.objects.filter(
        company=company,
        fingerprint=fingerprint,
        direction=PaxmlFile.Direction.IMPORT,
        status=PaxmlFile.Status.IMPORTED,
    ).exists():
        result.ok = True
        result.already_imported = True
        return result
    token = _DRY_RUN.set(dry_run)
    try:
        with transaction.atomic():
            file = record_file(
                status=PaxmlFile.Status.DRY_RUN if dry_run else PaxmlFile.Status.IMPORTED
            )
            importer.source = result.source
            importer.own = result.source == SELF_SOURCE
            importer.history = importer.own or (
                PaxmlFile.objects.filter(
                    company=company,
                    direction=PaxmlFile.Direction.IMPORT,
                    status=PaxmlFile.Status.IMPORTED,
                    source=result.source,
                )
                .exclude(pk=file.pk)
                .exists()
            )
            if _organisation_number_ok(
                importer, header, company, confirmed=confirm_organisation_number
            ):
                write_file(
                    importer=importer,
                    file=file,
                    header=header,
                    persons=persons,
                    units=units,
                    source=source,
                    profile=profile_obj,
                )
                importer.missing_problems()
            if importer.problems.count:
                raise _Rollback
            file.counts = importer.counts
            file.save(update_fields=["counts"])
            if dry_run:
                raise _Rollback
            result.file = file
            result.ok = True
    except _Rollback:
        pass
    finally:
        _DRY_RUN.reset(token)
    result.counts = importer.counts
    result.note_texts = importer.notes
    result.problems, result.problem_count = importer.problems.items, importer.problems.count
    if importer.problems.count:
        result.ok = False
        result.note_texts = []  # nothing was created
        result.file = record_file(status=PaxmlFile.Status.REJECTED)
    elif dry_run:
        result.ok = True
    return result


@dataclass
class _Collected:
    """What pass 1 keeps of a file: the small parts pass 2 needs before the posts."""

    header: Header | None = None
    persons: list[Person] = field(default_factory=list)
    units: list[ResultUnit] = field(default_factory=list)
    posts: int = 0
    seen_days: set = field(default_factory=set)


def _check_file(reader: PaxmlReader, importer: Importer) -> _Collected:
    """Pass 1: the reader checks every post; keep header, persons, result units and the
    file's schedule days (to turn ``omfattning`` into hours), count the posts."""
    collected = _Collected()
    try:
        for record in reader:
            kind = type(record)
            if kind is TimeTransaction or kind is SalaryTransaction:
                collected.posts += 1
            elif kind is ScheduleRecord:
                _collect_day(importer, collected, record)
            elif kind is Header:
                collected.header = record
            elif kind is Person:
                collected.persons.append(record)
            elif kind is ResultUnit:
                collected.units.append(record)
                importer.unit_names[(record.dim, record.id)] = record.namn
    except PaxmlFatalError:
        pass
    collected.seen_days = set()
    return collected


def _collect_day(importer: Importer, collected: _Collected, record: ScheduleRecord) -> None:
    key = (record.anstid or f"pnr:{record.persnr}", record.datum)
    if key in collected.seen_days:
        importer.duplicate_days.add(key)
    collected.seen_days.add(key)
    hours = day_hours(record)
    if hours is not None:
        importer.file_days[key] = importer.file_days.get(key, Decimal(0)) + hours
    collected.posts += 1


def _organisation_number_ok(importer, header, company, *, confirmed: bool) -> bool:
    """Whose file is it: a header naming another organisation number refuses the file
    unless the user confirmed it."""
    given = (header.foretagorgnr if header else "") or ""
    if not given.strip() or confirmed:
        return True
    if _digits(given) == _digits(company.organisation_number or ""):
        return True
    importer.problems.add(
        line=header.line if header else 0,
        element="header",
        field="foretagorgnr",
        message=Text(
            gettext_noop(
                "the file is for organisation number %(file)s, this company has %(company)s: "
                "confirm to import it anyway"
            ),
            file=given,
            company=company.organisation_number or "–",
        ),
    )
    return False


def _record_file(
    *, company, status, name, fingerprint, size, profile, reader, header, job, source=""
):
    nyexport = header.nyexport if header else None
    return PaxmlFile.objects.create(
        company=company,
        direction=PaxmlFile.Direction.IMPORT,
        status=status,
        name=name[:255],
        fingerprint=fingerprint,
        size=size,
        profile=profile,
        encoding=reader.encoding[:20],
        format=(header.format if header else "")[:20],
        program_name=(header.programnamn if header else "")[:200],
        source=source[:255],
        is_reexport=nyexport is not None,
        period_from=nyexport.period[0] if nyexport else None,
        period_to=nyexport.period[1] if nyexport else None,
        counts={},
        job=job,
    )


# Matching a batch against the rows of the same source ------------------------------------
