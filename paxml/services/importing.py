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
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import io
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from companies.models import Company
from employees import services as employee_services
from employees.models import Employee, EmploymentForm, PayForm, PersonnelCategory, Position
from flexbridge.errors import DomainError
from projects.models import (
    AccountingDimension,
    AccountingDimensionValue,
    Project,
    TimeCode,
    TimeRegistration,
    WorkSchedule,
)
from projects.services import project_create

from .. import codes
from ..messages import Text
from ..models import ImportedTimeRegistration, PaxmlFile, SalaryCode, ScheduleDay
from ..models import SalaryTransaction as SalaryRow
from ..reader import PaxmlFatalError, PaxmlReader
from ..records import (
    COST_CENTRE_DIM,
    PROJECT_DIM,
    CodeName,
    Header,
    Person,
    ResultUnit,
    SalaryTransaction,
    TimeTransaction,
    result_unit,
)
from ..records import ScheduleDay as ScheduleRecord
from ..validation import Problem
from .registers import RegisterIndex, code_for, normalize

BATCH = 2000
COUNTRIES = {"sverige": "SE", "sweden": "SE", "norge": "NO", "danmark": "DK", "finland": "FI"}
SELF_SOURCE = "flexbridge:self"
PROGRAM_NAME = "flexbridge"
# Own exports write project-event lines (computed from time registrations, never stored)
# with postids from here up, so importing the own export back skips them.
EVENT_POSTID_BASE = 2_000_000_000

# Bounds at the door: what a payroll holds and the database stores (docs/paxml.md).
HOURS_MAX = Decimal(24)  # tidtrans/timmar and schema/dag timmar, per day
QUANTITY_MAX = Decimal("99999")  # lonetrans/antal
UNIT_PRICE_MAX = Decimal("9999999.99")  # lonetrans/apris
AMOUNT_MAX = Decimal("99999999.99")  # lonetrans/belopp and moms (100 million SEK)
MONTHLY_SALARY_MAX = Decimal("9999999.99")  # person/manlon
HOURLY_WAGE_MAX = Decimal("99999.99")  # person/timlon
# field -> (largest absolute value, decimals stored)
SALARY_BOUNDS = {
    "antal": (QUANTITY_MAX, 4),
    "apris": (UNIT_PRICE_MAX, 4),
    "belopp": (AMOUNT_MAX, 2),
    "moms": (AMOUNT_MAX, 2),
}
HUNDREDTH = Decimal("0.01")

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


class _Missing(Exception):
    """A register entry the file names is missing (reported once per value)."""


_REGISTER_KINDS = {
    "employee": Text(gettext_noop("employee")),
    "project": Text(gettext_noop("project")),
    "cost_centre": Text(gettext_noop("cost centre")),
    "kategori": Text(gettext_noop("personnel category")),
    "anstform": Text(gettext_noop("employment form")),
    "befattning": Text(gettext_noop("position")),
}
_REGISTER_FIELDS = {
    "project": "resenhet dim 6",
    "cost_centre": "resenhet dim 1",
    "kategori": "kategori",
    "anstform": "anstform",
    "befattning": "befattning",
}


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


class _Problems:
    def __init__(self, cap: int) -> None:
        self.cap, self.items, self.count = cap, [], 0

    def add(self, *, line: int, message: str, employee: str = "", field: str = "", element=""):
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append(
                Problem(line=line, message=message, employee=employee, field=field, element=element)
            )


@dataclass
class _Emp:
    id: int
    number: str
    pin: str
    start: dt.date
    end: dt.date | None
    pay_form: str


class _Importer:
    def __init__(
        self,
        *,
        company: Company,
        profile: codes.Profile,
        user,
        progress,
        dry_run: bool = False,
        create_missing: bool = False,
    ) -> None:
        self.company = company
        self.profile = profile
        self.user = user
        self.progress = progress
        self.dry_run = dry_run
        self.create_missing = create_missing
        self.problems = _Problems(settings.PAXML_MAX_PROBLEMS)
        self.counts: dict[str, int] = {}
        self.notes: list[Text] = []
        self.file_days: dict[tuple[str, dt.date], Decimal] = {}
        # (anstid or pnr, date) the file gives more than one schedule day for: summed
        self.duplicate_days: set = set()
        # (kind, value) -> [count, first lines]: one problem per missing register entry
        self.missing: dict[tuple[str, str], list] = {}
        self.unit_names: dict[tuple[int, str], str] = {}
        self.source = ""
        self.own = False
        self.history = False

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def note(self, kind: str, value: str, line: int) -> None:
        """Log a register entry created (or, in a dry run, that would be)."""
        if self.dry_run:
            text = gettext_noop("Would create %(kind)s %(value)s (line %(line)s).")
        else:
            text = gettext_noop("Created %(kind)s %(value)s (line %(line)s).")
        self.notes.append(Text(text, kind=_REGISTER_KINDS[kind], value=value, line=line))

    def report_missing(self, kind: str, value: str, line: int) -> None:
        entry = self.missing.setdefault((kind, value), [0, []])
        entry[0] += 1
        if len(entry[1]) < 5:
            entry[1].append(line)

    def missing_problems(self) -> None:
        for (kind, value), (count, lines) in self.missing.items():
            shown: str | Text = ", ".join(str(n) for n in lines)
            if count > len(lines):
                shown = Text(
                    gettext_noop("%(lines)s and %(n)s more"), lines=shown, n=count - len(lines)
                )
            self.problems.add(
                line=lines[0],
                field=_REGISTER_FIELDS[kind],
                message=Text(
                    gettext_noop(
                        "unknown %(kind)s %(value)s, used on lines %(lines)s: add it to the "
                        "register, or import with the option to create missing entries"
                    ),
                    kind=_REGISTER_KINDS[kind],
                    value=value,
                    lines=shown,
                ),
            )

    # registers ---------------------------------------------------------------------------
    def load_registers(self) -> None:
        self.employees: dict[str, _Emp] = {}
        self.by_pin: dict[str, str] = {}
        for row in Employee.objects.filter(company=self.company).values_list(
            "id",
            "employee_number",
            "personal_identity_number",
            "employment_start_date",
            "employment_end_date",
            "pay_form",
        ):
            emp = _Emp(*row)
            self.employees[emp.number] = emp
            if emp.pin:
                self.by_pin[emp.pin] = emp.number
        self.time_codes: dict[str, int] = {}
        for code_id, paxml_code in (
            TimeCode.objects.filter(company=self.company)
            .exclude(paxml_code="")
            .order_by("-pk")
            .values_list("id", "paxml_code")
        ):
            self.time_codes[paxml_code] = code_id
        self.salary_codes = set(
            SalaryCode.objects.filter(company=self.company, active=True).values_list(
                "code", flat=True
            )
        )
        self.cost_centres = dict(
            AccountingDimensionValue.objects.filter(
                company=self.company, dimension__sie_number=COST_CENTRE_DIM
            ).values_list("code", "id")
        )
        self.projects = dict(Project.objects.filter(company=self.company).values_list("code", "id"))
        self.schedules: dict[int, list] = {}
        for schedule in WorkSchedule.objects.filter(employee__company=self.company).order_by(
            "valid_from"
        ):
            self.schedules.setdefault(schedule.employee_id, []).append(schedule)
        self.registers = {
            "kategori": RegisterIndex(
                PersonnelCategory.objects.filter(company=self.company).values_list(
                    "id", "code", "name"
                )
            ),
            "anstform": RegisterIndex(
                EmploymentForm.objects.filter(company=self.company).values_list(
                    "id", "code", "name"
                )
            ),
            "befattning": RegisterIndex(
                Position.objects.filter(company=self.company).values_list("id", "code", "title")
            ),
        }

    # persons -----------------------------------------------------------------------------
    def _person_end(self, person: Person, existing: Employee | None) -> None:
        """A person with ``delete``: end the employment (today unless avgdatum says)."""
        if existing is None:
            self.problems.add(
                line=person.line,
                employee=person.employee,
                field="@delete",
                message=Text(gettext_noop("unknown employee number; nothing to end")),
            )
            return
        end = person.values.get("avgdatum") or dt.date.today()
        self._call(
            person,
            lambda: employee_services.employee_end_employment(
                employee=existing, end_date=end, user=self.user
            ),
        )
        self.count("employments_ended")

    def _person_dated_values(self, person: Person, employee: Employee, dated: dict) -> None:
        """Monthly salary, hourly wage and employment rate from their dates (or the
        employment's start), each refused with its field when outside the bounds."""
        start = employee.employment_start_date
        for key, value in dated.items():
            limit = {"manlon": MONTHLY_SALARY_MAX, "timlon": HOURLY_WAGE_MAX}.get(key)
            if limit is not None and not (0 <= value.value <= limit):
                self.problems.add(
                    line=person.line,
                    employee=person.employee,
                    field=key,
                    element="person",
                    message=Text(
                        gettext_noop("%(value)s is outside 0 – %(max)s"),
                        value=value.value,
                        max=limit,
                    ),
                )
                continue
            valid_from = value.datum or start
            setter = {
                "manlon": (employee_services.monthly_salary_set, "amount"),
                "timlon": (employee_services.hourly_wage_set, "amount"),
                "sysgrad": (employee_services.employment_rate_set, "rate_percent"),
            }[key]
            self._call(
                person,
                lambda setter=setter, valid_from=valid_from, value=value: setter[0](
                    employee=employee,
                    valid_from=valid_from,
                    user=self.user,
                    **{setter[1]: value.value},
                ),
                field=key,
            )

    def apply_person(self, person: Person) -> None:
        number = person.anstid or self.by_pin.get(person.persnr, "")
        label = person.employee
        existing = (
            Employee.objects.filter(company=self.company, employee_number=number).first()
            if number
            else None
        )
        if person.delete:
            self._person_end(person, existing)
            return
        try:
            data = self._person_fields(person)
        except _Missing:
            return
        except ValidationError as exc:
            self._validation_problems(person, exc)
            return
        if (
            person.persnr
            and existing is not None
            and existing.personal_identity_number
            and existing.personal_identity_number != person.persnr
        ):
            self.problems.add(
                line=person.line,
                employee=label,
                field="@persnr",
                message=Text(
                    gettext_noop("persnr does not match the employee's personal identity number")
                ),
            )
            return
        dated = {k: person.values[k] for k in ("manlon", "timlon", "sysgrad") if k in person.values}
        if existing is None:
            if not person.anstid:
                self.problems.add(
                    line=person.line,
                    employee=label,
                    field="@anstid",
                    message=Text(gettext_noop("a new employee needs an employee number (anstid)")),
                )
                return
            missing = [
                name
                for name, key in (
                    ("fornamn", "first_name"),
                    ("efternamn", "last_name"),
                    ("anstdatum", "employment_start_date"),
                )
                if not data.get(key)
            ]
            if missing:
                self.problems.add(
                    line=person.line,
                    employee=label,
                    field=", ".join(missing),
                    message=Text(gettext_noop("a new employee needs %(f)s"), f=", ".join(missing)),
                )
                return
            employee = self._call(
                person,
                lambda: employee_services.employee_create(
                    company=self.company, employee_number=person.anstid, user=self.user, **data
                ),
            )
            if employee is None:
                return
            self.count("employees_created")
            self.note("employee", person.anstid, person.line)
        else:
            employee = existing
            if data and (
                self._call(
                    person,
                    lambda: employee_services.employee_update(
                        employee=existing, data=data, user=self.user
                    ),
                )
                is None
            ):
                return
            self.count("employees_updated")
        self._person_dated_values(person, employee, dated)
        employee.refresh_from_db()
        emp = _Emp(
            employee.pk,
            employee.employee_number,
            employee.personal_identity_number,
            employee.employment_start_date,
            employee.employment_end_date,
            employee.pay_form,
        )
        self.employees[emp.number] = emp
        if emp.pin:
            self.by_pin[emp.pin] = emp.number

    def _person_fields(self, person: Person) -> dict[str, Any]:
        text_map = {
            "fornamn": "first_name",
            "efternamn": "last_name",
            "postadress": "street_address",
            "extraadress": "care_of",
            "postnr": "postal_code",
            "ort": "city",
            "mobiltelefon": "mobile_phone",
            "hemtelefon": "home_phone",
            "arbetstelefon": "work_phone",
            "epostarb": "work_email",
            "eposthem": "private_email",
            "bankclearing": "clearing_number",
            "bankkonto": "bank_account_number",
            "anstdatum": "employment_start_date",
            "avgdatum": "employment_end_date",
            "skattekolumn": "tax_column",
        }
        values = person.values
        data: dict[str, Any] = {
            target: values[source] for source, target in text_map.items() if source in values
        }
        if person.persnr:
            data["personal_identity_number"] = person.persnr
        if "land" in values:
            land = str(values["land"]).strip()
            data["country"] = COUNTRIES.get(land.lower(), land.upper() if len(land) == 2 else land)
            if len(data["country"]) != 2:
                raise ValidationError({"land": _("unknown country %(c)s") % {"c": land}})
        if "skattetabell" in values:
            data["tax_table"] = int(values["skattetabell"])
        if "lonform" in values:
            data["pay_form"] = PayForm.HOURLY if values["lonform"] == "TIM" else PayForm.MONTHLY
        if "kategori" in values:
            data["personnel_category"] = PersonnelCategory.objects.get(
                pk=self.register_entry("kategori", values["kategori"], person.line, person.employee)
            )
        if "anstform" in values:
            data["employment_form"] = EmploymentForm.objects.get(
                pk=self.register_entry("anstform", values["anstform"], person.line, person.employee)
            )
        if "befattningskod" in values or "befattning" in values:
            # befattningskod is the code; befattning the title (or a code, as people write it)
            code = str(values.get("befattningskod") or "")
            title = str(values.get("befattning") or "")
            index = self.registers["befattning"]
            match = index.find(code) if code else None
            if match is None or match.id is None:
                found = self.register_entry(
                    "befattning", title or code, person.line, person.employee, code_hint=code
                )
            else:
                found = match.id
            data["position"] = Position.objects.get(pk=found)
        return data

    def _call(self, person: Person, func: Callable, *, field: str = ""):
        try:
            with transaction.atomic():
                return func()
        except ValidationError as exc:
            self._validation_problems(person, exc, field=field)
            return None

    def _validation_problems(self, person: Person, exc: ValidationError, field: str = "") -> None:
        reverse = {
            "first_name": "fornamn",
            "last_name": "efternamn",
            "street_address": "postadress",
            "care_of": "extraadress",
            "postal_code": "postnr",
            "city": "ort",
            "country": "land",
            "personal_identity_number": "@persnr",
            "clearing_number": "bankclearing",
            "bank_account_number": "bankkonto",
            "employment_start_date": "anstdatum",
            "employment_end_date": "avgdatum",
            "tax_table": "skattetabell",
            "tax_column": "skattekolumn",
            "employee_number": "@anstid",
        }
        if hasattr(exc, "message_dict"):
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.problems.add(
                        line=person.line,
                        employee=person.employee,
                        field=reverse.get(name, field or name),
                        element="person",
                        message=message,
                    )
        else:
            for message in exc.messages:
                self.problems.add(
                    line=person.line,
                    employee=person.employee,
                    field=field,
                    element="person",
                    message=message,
                )

    # transactions ------------------------------------------------------------------------
    def employee_for(self, record, element: str) -> _Emp | None:
        number = record.anstid or self.by_pin.get(record.persnr, "")
        emp = self.employees.get(number) if number else None
        if emp is None:
            self.problems.add(
                line=record.line,
                employee=record.employee,
                field="@anstid" if record.anstid else "@persnr",
                element=element,
                message=Text(gettext_noop("unknown employee number"))
                if record.anstid
                else Text(gettext_noop("no employee with this personal identity number")),
            )
            return None
        if record.persnr and record.anstid and emp.pin and emp.pin != record.persnr:
            self.problems.add(
                line=record.line,
                employee=record.employee,
                field="@persnr",
                element=element,
                message=Text(
                    gettext_noop("persnr does not match the employee's personal identity number")
                ),
            )
            return None
        return emp

    def within_employment(self, emp: _Emp, record, day: dt.date, element: str, field: str):
        if day < emp.start or (emp.end is not None and day > emp.end):
            self.problems.add(
                line=record.line,
                employee=record.employee,
                field=field,
                element=element,
                message=Text(
                    gettext_noop(
                        "registration outside the employment period (%(start)s – %(end)s): %(day)s"
                    ),
                    start=emp.start,
                    end=emp.end or "",
                    day=day,
                ),
            )
            return False
        return True

    def units(self, record, element: str) -> tuple[int | None, int | None, bool]:
        cost_centre, cc_ok = self._unit(record, element, COST_CENTRE_DIM, "cost_centre")
        project, project_ok = self._unit(record, element, PROJECT_DIM, "project")
        return cost_centre, project, cc_ok and project_ok

    def _unit(self, record, element: str, dim: int, kind: str):
        """The id of the record's result unit in dimension ``dim`` (None without one) and
        whether it is known. An unknown code is created with the option to create missing
        entries, else reported once for the whole file (``missing_problems``)."""
        code = result_unit(record.resenheter, dim)
        if not code:
            return None, True
        known = self.cost_centres if kind == "cost_centre" else self.projects
        found = known.get(code)
        if found is None and self.create_missing:
            found = self._create_unit(kind, code, record.line)
        if found is None:
            self.report_missing(kind, code, record.line)
            return None, False
        return found, True

    def _create_unit(self, kind: str, code: str, line: int) -> int | None:
        dim = COST_CENTRE_DIM if kind == "cost_centre" else PROJECT_DIM
        name = self.unit_names.get((dim, code))
        try:
            with transaction.atomic():
                if kind == "project":
                    created = project_create(company=self.company, code=code, name=name or code)
                else:
                    dimension = AccountingDimension.objects.filter(
                        company=self.company, sie_number=COST_CENTRE_DIM
                    ).first()
                    if dimension is None:
                        return None
                    created = AccountingDimensionValue.objects.create(
                        company=self.company,
                        dimension=dimension,
                        code=code,
                        name=(name or code)[:200],
                    )
        except ValidationError as exc:
            self.problems.add(
                line=line,
                field=_REGISTER_FIELDS[kind],
                message=Text(
                    gettext_noop("%(kind)s %(value)s could not be created: %(why)s"),
                    kind=_REGISTER_KINDS[kind],
                    value=code,
                    why="; ".join(exc.messages),
                ),
            )
            return None
        (self.projects if kind == "project" else self.cost_centres)[code] = created.pk
        self.count("projects_created" if kind == "project" else "cost_centres_created")
        self.note(kind, code, line)
        return created.pk

    def register_entry(self, kind: str, value: str, line: int, label: str, code_hint: str = ""):
        """The register entry ``value`` names (code, else name); created with the option
        to create missing entries. Raises ValidationError naming the value (and the
        candidates when ambiguous)."""
        index = self.registers[kind]
        match = index.find(value)
        if match.id is not None:
            return match.id
        if match.ambiguous:
            raise ValidationError(
                {
                    kind: _("%(value)s is ambiguous in the %(kind)s register: %(candidates)s")
                    % {
                        "value": value,
                        "kind": _REGISTER_KINDS[kind],
                        "candidates": ", ".join(match.candidates),
                    }
                }
            )
        if not self.create_missing:
            self.report_missing(kind, value, line)
            raise _Missing
        model, name_field, count_key = {
            "kategori": (PersonnelCategory, "name", "personnel_categories_created"),
            "anstform": (EmploymentForm, "name", "employment_forms_created"),
            "befattning": (Position, "title", "positions_created"),
        }[kind]
        code = code_for(code_hint or value, index.codes())
        entry = model.objects.create(
            company=self.company, code=code, **{name_field: " ".join(value.split())[:100]}
        )
        index.add(entry.pk, code, getattr(entry, name_field))
        self.count(count_key)
        self.note(kind, value, line)
        return entry.pk

    def scheduled_hours(self, emp: _Emp, day: dt.date) -> Decimal | None:
        hours = self.file_days.get((emp.number, day))
        if hours is None and emp.pin:
            hours = self.file_days.get((f"pnr:{emp.pin}", day))
        if hours is not None:
            return hours
        found = None
        for schedule in self.schedules.get(emp.id, ()):
            if schedule.valid_from <= day:
                found = schedule
        if found is None:
            return None
        return getattr(found, found.WEEKDAYS[day.weekday()])

    def time_rows(self, t: TimeTransaction, emp: _Emp) -> list[tuple[dt.date, Decimal]]:
        """The (day, hours) rows a time post stands for, or [] after reporting why not."""
        if t.datum is not None and t.timmar is not None:
            return [(t.datum, t.timmar)]
        if t.starttid is not None and t.sluttid is not None:
            hours = Decimal((t.sluttid - t.starttid).total_seconds()) / Decimal(3600)
            return [(t.starttid.date(), hours.quantize(Decimal("0.01")))]
        first = t.datum or t.datumfrom
        last = t.datum or t.datumtom
        share = (t.omfattning if t.omfattning is not None else Decimal(100)) / Decimal(100)
        rows = []
        day = first
        while day <= last:
            scheduled = self.scheduled_hours(emp, day)
            if scheduled is None:
                self.problems.add(
                    line=t.line,
                    employee=t.employee,
                    field="omfattning",
                    element="tidtrans",
                    message=Text(
                        gettext_noop(
                            "no schedule for %(day)s: give timmar, or schedule days for the "
                            "employee"
                        ),
                        day=day,
                    ),
                )
                return []
            hours = (scheduled * share).quantize(Decimal("0.01"))
            if hours:
                rows.append((day, hours))
            day += dt.timedelta(days=1)
        return rows


def _raw_delete(queryset) -> int:
    """One ``DELETE`` for the queryset, without the ORM's collector (which loads every row
    and its cascade into memory). Only for models nothing else points at."""
    return queryset._raw_delete(queryset.db) or 0


def _delete_time_registrations(links, *, scope=None) -> int:
    """Delete the time registrations behind ``links`` (an ``ImportedTimeRegistration``
    queryset), set-based: their "other accounting" rows, the registrations, then the links
    left without a registration among ``scope`` (``links`` unless it filters on the
    registration itself).

    The links' foreign key is checked at commit (Django declares it deferrable), so the
    registrations can go while the subquery still reads the links."""
    ids = links.values("time_registration_id")
    through = TimeRegistration.dimension_values.through
    _raw_delete(through.objects.filter(timeregistration_id__in=ids))
    deleted = _raw_delete(TimeRegistration.objects.filter(pk__in=ids))
    if deleted:
        orphans = (links if scope is None else scope).filter(
            ~Exists(TimeRegistration.objects.filter(pk=OuterRef("pk")))
        )
        _raw_delete(orphans)
    return deleted


def _batched_insert_time(rows: list, links: list, file: PaxmlFile) -> None:
    if connection.vendor == "postgresql":
        _copy_time(rows, links, file)
        return
    company_id = file.company_id
    created = TimeRegistration.objects.bulk_create(
        [
            TimeRegistration(
                company_id=company_id,
                employee_id=emp,
                date=day,
                time_code_id=code,
                hours=hours,
                project_id=project,
                cost_center_id=cost_centre,
                internal_comment=info,
            )
            for emp, day, code, hours, project, cost_centre, info in rows
        ],
        batch_size=BATCH,
    )
    ImportedTimeRegistration.objects.bulk_create(
        [
            ImportedTimeRegistration(time_registration_id=row.pk, source_file=file, postid=postid)
            for row, postid in zip(created, links, strict=True)
        ],
        batch_size=BATCH,
    )


_TIME_COLUMNS = (
    "id",
    "company_id",
    "employee_id",
    "date",
    "time_code_id",
    "hours",
    "project_id",
    "cost_center_id",
    "internal_comment",
    "external_comment",
    "billable",
    "reviewed",
    "released_for_billing",
    "review_status",
    "created_at",
)


def _copy_time(rows: list, links: list, file: PaxmlFile) -> None:
    """PostgreSQL: ids from the sequence in one query, then ``COPY`` of both tables —
    the ORM's per-object INSERT building dominates a large import otherwise. The rows go
    as COPY's text format, one string per batch (``_copy_text``)."""
    table = TimeRegistration._meta.db_table
    link_table = ImportedTimeRegistration._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(_TIME_COLUMNS)}) FROM STDIN") as copy:
            copy.write(_copy_text_time(ids, rows, file.company_id))
        with raw.copy(
            f"COPY {link_table} (time_registration_id, source_file_id, postid) FROM STDIN"
        ) as copy:
            file_id = file.pk
            copy.write(
                "".join(
                    f"{pk}\t{file_id}\t{NULL if postid is None else postid}\n"
                    for pk, postid in zip(ids, links, strict=True)
                )
            )


NULL = "\\N"
# COPY's text format: backslash, tab, newline and carriage return escaped
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text_time(ids: list[int], rows: list, company_id: int) -> str:
    """The time rows as COPY text (columns ``_TIME_COLUMNS``): ids and foreign keys are
    ints (or None), the date ISO, hours a quantized Decimal, the comment escaped."""
    # the columns after internal_comment: external_comment, billable, reviewed,
    # released_for_billing, review_status (not reviewed), created_at
    pending = TimeRegistration._meta.get_field("review_status").default
    tail = f"\t\tf\tf\tf\t{pending}\t{timezone.now().isoformat()}\n"
    return "".join(
        f"{pk}\t{company_id}\t{emp}\t{day.isoformat()}\t{code}\t{hours}\t"
        f"{NULL if project is None else project}\t"
        f"{NULL if cost_centre is None else cost_centre}\t"
        f"{info.translate(_COPY_ESCAPES)}{tail}"
        for pk, (emp, day, code, hours, project, cost_centre, info) in zip(ids, rows, strict=True)
    )


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
    optional ``integrations.services.JobContext``.

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
    importer = _Importer(
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
    if not reader.ok:
        result.problems, result.problem_count = reader.problems, reader.problem_count
        result.file = _record_file(
            company=company,
            status=PaxmlFile.Status.REJECTED,
            name=name,
            fingerprint=fingerprint,
            size=size,
            profile=profile,
            reader=reader,
            header=header,
            counts={},
            job=job,
            source=result.source,
        )
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
            file = _record_file(
                company=company,
                status=PaxmlFile.Status.DRY_RUN if dry_run else PaxmlFile.Status.IMPORTED,
                name=name,
                fingerprint=fingerprint,
                size=size,
                profile=profile,
                reader=reader,
                header=header,
                counts={},
                job=job,
                source=result.source,
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
                _write(
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
        result.file = _record_file(
            company=company,
            status=PaxmlFile.Status.REJECTED,
            name=name,
            fingerprint=fingerprint,
            size=size,
            profile=profile,
            reader=reader,
            header=header,
            counts={},
            job=job,
            source=result.source,
        )
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


def _check_file(reader: PaxmlReader, importer: _Importer) -> _Collected:
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


def _collect_day(importer: _Importer, collected: _Collected, record: ScheduleRecord) -> None:
    key = (record.anstid or f"pnr:{record.persnr}", record.datum)
    if key in collected.seen_days:
        importer.duplicate_days.add(key)
    collected.seen_days.add(key)
    hours = _day_hours(record)
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


def _day_hours(record: ScheduleRecord) -> Decimal | None:
    """A schedule day's hours: ``timmar``, else from its start and end."""
    if record.timmar is not None:
        return record.timmar
    if record.starttid is not None and record.sluttid is not None:
        start = dt.datetime.combine(dt.date.min, record.starttid)
        end = dt.datetime.combine(dt.date.min, record.sluttid)
        seconds = (end - start).total_seconds()
        if seconds < 0:
            seconds += 24 * 3600  # a night shift over midnight
        return (Decimal(seconds) / Decimal(3600)).quantize(HUNDREDTH)
    return None


def _record_file(
    *, company, status, name, fingerprint, size, profile, reader, header, counts, job, source=""
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
        counts=counts,
        job=job,
    )


def _write(*, importer: _Importer, file, header, persons, units, source, profile) -> None:
    """Pass 2: result units, registers, persons, then the posts in batches."""
    _write_units(importer, units)
    importer.load_registers()
    for person in persons:
        importer.apply_person(person)
        if importer.progress is not None:
            importer.progress.advance()
    if importer.problems.count:
        return  # transactions would only repeat "unknown employee" for these persons
    batch = _Batch(importer=importer, file=file, header=header, profile=profile)
    reader = PaxmlReader(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        validate=False,
        profile=profile,
    )
    for record in reader:
        add = _ADD_POST.get(type(record))
        if add is not None:
            add(batch, record)
            if len(batch.time_rows) + len(batch.salary_rows) + len(batch.days) >= BATCH:
                batch.flush()
    for (emp_id, day), parts in batch.held.items():
        merged = _merge_days(importer, importer.company, file, emp_id, day, parts)
        if merged is not None:
            batch.days[(emp_id, day)] = merged
    batch.flush()
    if header is not None and header.nyexport is not None and importer.history:
        _nyexport_remove(importer, file, *header.nyexport.period)


def _write_units(importer: _Importer, units: list[ResultUnit]) -> None:
    """Result units: cost centres the file declares are created/renamed; projects are
    created only with the option to create missing entries, when a post uses them."""
    company = importer.company
    cost_dimension = AccountingDimension.objects.filter(
        company=company, sie_number=COST_CENTRE_DIM
    ).first()
    if cost_dimension is None:
        return
    for unit in units:
        if unit.dim != COST_CENTRE_DIM or unit.delete:
            continue
        value, created = AccountingDimensionValue.objects.get_or_create(
            company=company,
            dimension=cost_dimension,
            code=unit.id,
            defaults={"name": unit.namn[:200]},
        )
        if not created and value.name != unit.namn:
            value.name = unit.namn[:200]
            value.save(update_fields=["name"])
        importer.count("cost_centres_created" if created else "cost_centres_seen")
        if created:
            importer.note("cost_centre", unit.id, unit.line)


@dataclass
class _Batch:
    """The rows of pass 2 waiting to be written, and how to write them."""

    importer: _Importer
    file: PaxmlFile
    header: Header | None
    profile: codes.Profile
    time_rows: list = field(default_factory=list)
    time_links: list = field(default_factory=list)
    salary_rows: list = field(default_factory=list)
    days: dict = field(default_factory=dict)  # (employee id, date) -> ScheduleDay
    # days the file gives more than once: summed, written at the end
    held: dict = field(default_factory=dict)

    def flush(self) -> None:
        importer = self.importer
        if importer.problems.count:
            self.time_rows, self.time_links, self.salary_rows = [], [], []
            self.days.clear()
            return
        time_rows, time_links, salary_rows = self.time_rows, self.time_links, self.salary_rows
        done = len(time_rows) + len(salary_rows)
        if importer.history:
            time_rows, time_links = _match_time(importer, self.file, time_rows, time_links)
            salary_rows = _match_salary(importer, self.file, salary_rows)
        else:
            importer.count("added", len(time_rows) + len(salary_rows))
        if time_rows:
            _batched_insert_time(time_rows, time_links, self.file)
            importer.count("time_registrations", len(time_rows))
        if salary_rows:
            SalaryRow.objects.bulk_create(salary_rows, batch_size=BATCH)
            importer.count("salary_transactions", len(salary_rows))
        if self.days:
            _upsert_days(self.days.values())
            importer.count("schedule_days", len(self.days))
        if importer.progress is not None:
            importer.progress.advance(done)
            importer.progress.check_cancelled()
        self.time_rows, self.time_links, self.salary_rows = [], [], []
        self.days.clear()


def _add_time(batch: _Batch, record: TimeTransaction) -> None:
    """A time post → one row per day it stands for, each checked against the employment
    period and the bounds."""
    importer = batch.importer
    emp = importer.employee_for(record, "tidtrans")
    if emp is None:
        return
    code_id = importer.time_codes.get(batch.profile.import_time_code(record.tidkod))
    if code_id is None:
        importer.problems.add(
            line=record.line,
            employee=record.employee,
            field="tidkod",
            element="tidtrans",
            message=Text(
                gettext_noop("unknown code %(c)s: not in the time-code register"), c=record.tidkod
            ),
        )
        return
    if record.resenheter:
        cost_centre, project, ok = importer.units(record, "tidtrans")
        if not ok:
            return
    else:
        cost_centre = project = None
    if record.datum is not None and record.timmar is not None:
        expanded = [(record.datum, record.timmar)]  # nearly every post: a day with hours
    else:
        expanded = _expand_time(importer, record, emp)
    for day, hours in expanded:
        if not importer.within_employment(emp, record, day, "tidtrans", "datum"):
            break
        if not (-HOURS_MAX <= hours <= HOURS_MAX):
            importer.problems.add(
                line=record.line,
                employee=record.employee,
                field="timmar",
                element="tidtrans",
                message=Text(gettext_noop("%(value)s hours on one day: more than 24"), value=hours),
            )
            break
        batch.time_rows.append(
            (
                emp.id,
                day,
                code_id,
                hours.quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
                project,
                cost_centre,
                record.info,
            )
        )
        batch.time_links.append(record.postid)


def _expand_time(importer: _Importer, record: TimeTransaction, emp: _Emp) -> list:
    """The (day, hours) rows of a post given as a range, omfattning or start and end; a
    post that stands for no row at all is a problem (no row lost without a word)."""
    before = importer.problems.count
    expanded = importer.time_rows(record, emp)
    if not expanded and importer.problems.count == before:
        importer.problems.add(
            line=record.line,
            employee=record.employee,
            field="omfattning",
            element="tidtrans",
            message=Text(
                gettext_noop(
                    "no scheduled hours from %(first)s to %(last)s: nothing to register; "
                    "give timmar"
                ),
                first=record.first_date,
                last=record.last_date,
            ),
        )
    return expanded


def _add_salary(batch: _Batch, record: SalaryTransaction) -> None:
    """A salary post → one ``SalaryTransaction`` row, checked against the registers, the
    bounds and the employment period."""
    importer = batch.importer
    if importer.own and record.postid is not None and record.postid >= EVENT_POSTID_BASE:
        # an event line of our own export: computed from the time registrations
        importer.count("own_event_lines_skipped")
        return
    emp = importer.employee_for(record, "lonetrans")
    if emp is None:
        return
    if record.lonkod and not record.lonart and record.lonkod not in importer.salary_codes:
        importer.problems.add(
            line=record.line,
            employee=record.employee,
            field="lonkod",
            element="lonetrans",
            message=Text(
                gettext_noop("unknown code %(c)s: not in the salary-code register"), c=record.lonkod
            ),
        )
        return
    if not _salary_within_bounds(importer, record):
        return
    day = record.first_date
    if day is not None and not importer.within_employment(emp, record, day, "lonetrans", "datum"):
        return
    cost_centre, project, ok = importer.units(record, "lonetrans")
    if not ok:
        return
    header = batch.header
    batch.salary_rows.append(
        SalaryRow(
            company_id=importer.company.pk,
            employee_id=emp.id,
            salary_code=record.lonkod,
            salary_type=record.lonart,
            name=record.benamning[:200],
            comment=record.kommentar[:255],
            date=record.datum,
            date_from=_aware(record.datumfrom),
            date_to=_aware(record.datumtom),
            period_date=day
            or (header.datum.date() if header and header.datum else dt.date.today()),
            quantity=record.antal,
            unit_price=record.apris,
            amount=record.belopp,
            vat=record.moms,
            product_group=record.varugrupp[:40],
            account=record.kontonr[:20],
            customer=record.kundnr[:40],
            cost_center_id=cost_centre,
            project_id=project,
            source_file=batch.file,
            postid=record.postid,
        )
    )


def _add_day(batch: _Batch, record: ScheduleRecord) -> None:
    """A schedule day → one ``ScheduleDay`` per employee and date; a date the file gives
    more than once is held and summed at the end (``_merge_days``)."""
    importer = batch.importer
    emp = importer.employee_for(record, "schema")
    if emp is None:
        return
    hours = _day_hours(record)
    if hours is not None and not (0 <= hours <= HOURS_MAX):
        importer.problems.add(
            line=record.line,
            employee=record.employee,
            field="timmar",
            element="dag",
            message=Text(
                gettext_noop("%(value)s scheduled hours on one day: outside 0 – 24"), value=hours
            ),
        )
        return
    file_key = (record.anstid or f"pnr:{record.persnr}", record.datum)
    if file_key in importer.duplicate_days:
        batch.held.setdefault((emp.id, record.datum), []).append((record, hours))
        return
    batch.days[(emp.id, record.datum)] = ScheduleDay(
        company_id=importer.company.pk,
        employee_id=emp.id,
        date=record.datum,
        hours=record.timmar.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
        if record.timmar is not None
        else None,
        start_time=record.starttid,
        end_time=record.sluttid,
        source_file=batch.file,
    )


def _add_code_name(batch: _Batch, record: CodeName) -> None:
    batch.importer.count("code_names_read")


_ADD_POST: dict[type, Callable] = {
    TimeTransaction: _add_time,
    SalaryTransaction: _add_salary,
    ScheduleRecord: _add_day,
    CodeName: _add_code_name,
}


def _merge_days(importer, company, file, emp_id, day, parts) -> ScheduleDay | None:
    """Two or more schedule days for one employee on one date (a split shift): one row
    with the summed hours, from the earliest start to the latest end, and a log line."""
    hours = sum((h for _r, h in parts if h is not None), Decimal(0))
    first = parts[0][0]
    lines = ", ".join(str(r.line) for r, _h in parts)
    if hours > HOURS_MAX:
        importer.problems.add(
            line=first.line,
            employee=first.employee,
            field="timmar",
            element="dag",
            message=Text(
                gettext_noop("%(n)s schedule days on %(day)s (lines %(lines)s) sum to %(h)s hours"),
                n=len(parts),
                day=day,
                lines=lines,
                h=hours,
            ),
        )
        return None
    starts = [r.starttid for r, _h in parts if r.starttid is not None]
    ends = [r.sluttid for r, _h in parts if r.sluttid is not None]
    importer.count("schedule_days_merged", len(parts) - 1)
    importer.notes.append(
        Text(
            gettext_noop(
                "Employee %(e)s, %(day)s: %(n)s schedule days on one date (lines %(lines)s) "
                "summed to %(h)s hours."
            ),
            e=first.employee,
            day=day,
            n=len(parts),
            lines=lines,
            h=hours,
        )
    )
    return ScheduleDay(
        company_id=company.pk,
        employee_id=emp_id,
        date=day,
        hours=hours.quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
        start_time=min(starts) if len(starts) == len(parts) else None,
        end_time=max(ends) if len(ends) == len(parts) else None,
        source_file=file,
    )


def _upsert_days(days) -> None:
    # one upsert per batch on (employee, date): the schedule of a day is one truth
    ScheduleDay.objects.bulk_create(
        list(days),
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["employee", "date"],
        update_fields=["hours", "start_time", "end_time", "source_file"],
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or not settings.USE_TZ or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def _salary_within_bounds(importer: _Importer, record: SalaryTransaction) -> bool:
    ok = True
    for name, (limit, places) in SALARY_BOUNDS.items():
        value = getattr(record, name)
        if value is None:
            continue
        if abs(value) > limit:
            message = Text(
                gettext_noop("%(value)s is larger than %(max)s, more than a payroll holds"),
                value=value,
                max=limit,
            )
        elif value != value.quantize(Decimal(1).scaleb(-places)):
            message = Text(
                gettext_noop("%(value)s has more than %(n)s decimals"), value=value, n=places
            )
        else:
            continue
        importer.problems.add(
            line=record.line,
            employee=record.employee,
            field=name,
            element="lonetrans",
            message=message,
        )
        ok = False
    return ok


# Matching a batch against the rows of the same source ------------------------------------

_TIME_FIELDS = (
    "employee_id",
    "date",
    "time_code_id",
    "hours",
    "project_id",
    "cost_center_id",
    "internal_comment",
)
_SALARY_FIELDS = (
    "employee_id",
    "salary_code",
    "salary_type",
    "name",
    "comment",
    "date",
    "date_from",
    "date_to",
    "quantity",
    "unit_price",
    "amount",
    "vat",
    "product_group",
    "account",
    "customer",
    "cost_center_id",
    "project_id",
)


def _norm_value(value):
    if isinstance(value, Decimal):
        return value.normalize() if value else Decimal(0)
    if value is None:
        return ""
    return value


def _content(values) -> tuple:
    return tuple(_norm_value(v) for v in values)


def _pair_by_content(
    importer: _Importer, plain: list[int], keys: list, pool: dict, *, relink: list, insert: list
) -> None:
    """Posts without a postid: one earlier row of the same source with the same content is
    kept (relinked, counted unchanged) per post; the others are added."""
    for i in plain:
        same = pool.get(keys[i])
        if same:
            relink.append(same.pop())
            importer.count("unchanged")
        else:
            importer.count("added")
            insert.append(i)


def _pair(importer: _Importer, new_by_pid: dict, old_by_pid: dict, keys: list) -> tuple:
    """Per postid: the same rows again → unchanged (the old rows are kept), else the old
    rows go and the new ones come. Returns (indexes to insert, old ids to keep, to delete)."""
    insert, keep, delete = [], [], []
    for pid, new in new_by_pid.items():
        old = old_by_pid.get(pid, [])
        if old and Counter(keys[i] for i in new) == Counter(key for _pk, key in old):
            importer.count("unchanged", len(new))
            keep.extend(pk for pk, _key in old)
            continue
        delete.extend(pk for pk, _key in old)
        paired = min(len(old), len(new))
        importer.count("replaced", paired)
        importer.count("added", len(new) - paired)
        importer.count("removed", len(old) - paired)
        insert.extend(new)
    return insert, keep, delete


def _match_time(importer: _Importer, file, rows: list, links: list) -> tuple[list, list]:
    """Match a batch of time rows against the rows of the file's source; returns the rows
    (and their postids) still to insert. Kept rows are linked to this file (so a
    ``nyexport`` keeps them and a later batch does not match them again); replaced rows
    are deleted."""
    keys = [(*_content(row[:6]), row[6] or "") for row in rows]
    new_by_pid: dict[int, list[int]] = defaultdict(list)
    plain: list[int] = []
    for i, pid in enumerate(links):
        (plain if pid is None else new_by_pid[pid]).append(i)
    old_by_pid: dict[int, list] = defaultdict(list)
    relink: list[int] = []
    if new_by_pid:
        pids = list(new_by_pid)
        if importer.own:
            # postids of our own export are row ids; rows it replaced before carry the
            # postid in their link
            found = (
                TimeRegistration.objects.filter(company=importer.company)
                .filter(
                    Q(pk__in=pids)
                    | Q(
                        paxml_source__source_file__source=SELF_SOURCE,
                        paxml_source__source_file__company=importer.company,
                        paxml_source__postid__in=pids,
                    )
                )
                .exclude(paxml_source__source_file=file)
                .values_list("pk", *_TIME_FIELDS, "paxml_source__postid")
            )
            for pk, *values, link_pid in found:
                pid = pk if pk in new_by_pid else link_pid
                old_by_pid[pid].append((pk, (*_content(values[:6]), values[6] or "")))
        else:
            found = (
                ImportedTimeRegistration.objects.filter(
                    source_file__company=importer.company,
                    source_file__source=importer.source,
                    postid__in=pids,
                )
                .exclude(source_file=file)
                .values_list(
                    "postid",
                    "time_registration_id",
                    *(f"time_registration__{name}" for name in _TIME_FIELDS),
                )
            )
            for pid, pk, *values in found:
                old_by_pid[pid].append((pk, (*_content(values[:6]), values[6] or "")))
    insert, keep, delete = _pair(importer, new_by_pid, old_by_pid, keys)
    relink.extend(keep)
    if plain:
        found = (
            ImportedTimeRegistration.objects.filter(
                source_file__company=importer.company,
                source_file__source=importer.source,
                postid=None,
                time_registration__employee_id__in={rows[i][0] for i in plain},
                time_registration__date__in={rows[i][1] for i in plain},
            )
            .exclude(source_file=file)
            .values_list(
                "time_registration_id", *(f"time_registration__{name}" for name in _TIME_FIELDS)
            )
        )
        pool: dict[tuple, list[int]] = defaultdict(list)
        for pk, *values in found:
            pool[(*_content(values[:6]), values[6] or "")].append(pk)
        _pair_by_content(importer, plain, keys, pool, relink=relink, insert=insert)
    if delete:
        _delete_time_ids(delete)
    if relink:
        ImportedTimeRegistration.objects.filter(
            time_registration_id__in=relink, source_file__source=importer.source
        ).update(source_file=file)
    insert.sort()
    return [rows[i] for i in insert], [links[i] for i in insert]


def _match_salary(importer: _Importer, file, rows: list) -> list:
    """As :func:`_match_time`, for salary transactions (postid on the row itself)."""
    keys = [_content(getattr(row, name) for name in _SALARY_FIELDS) for row in rows]
    new_by_pid: dict[int, list[int]] = defaultdict(list)
    plain: list[int] = []
    for i, row in enumerate(rows):
        (plain if row.postid is None else new_by_pid[row.postid]).append(i)
    earlier = SalaryRow.objects.filter(company=importer.company).exclude(source_file=file)
    old_by_pid: dict[int, list] = defaultdict(list)
    if new_by_pid:
        pids = list(new_by_pid)
        if importer.own:
            found = earlier.filter(
                Q(pk__in=pids) | Q(source_file__source=SELF_SOURCE, postid__in=pids)
            ).values_list("pk", "postid", *_SALARY_FIELDS)
            for pk, postid, *values in found:
                pid = pk if pk in new_by_pid else postid
                old_by_pid[pid].append((pk, _content(values)))
        else:
            found = earlier.filter(
                source_file__source=importer.source, postid__in=pids
            ).values_list("pk", "postid", *_SALARY_FIELDS)
            for pk, postid, *values in found:
                old_by_pid[postid].append((pk, _content(values)))
    insert, relink, delete = _pair(importer, new_by_pid, old_by_pid, keys)
    if plain:
        found = earlier.filter(
            source_file__source=importer.source,
            postid=None,
            employee_id__in={rows[i].employee_id for i in plain},
            period_date__in={rows[i].period_date for i in plain},
        ).values_list("pk", *_SALARY_FIELDS)
        pool: dict[tuple, list[int]] = defaultdict(list)
        for pk, *values in found:
            pool[_content(values)].append(pk)
        _pair_by_content(importer, plain, keys, pool, relink=relink, insert=insert)
    if delete:
        _raw_delete(SalaryRow.objects.filter(pk__in=delete))
    if relink:
        SalaryRow.objects.filter(pk__in=relink, source_file__source=importer.source).update(
            source_file=file
        )
    insert.sort()
    return [rows[i] for i in insert]


def _nyexport_remove(importer: _Importer, file, start: dt.date, end: dt.date) -> None:
    """``nyexport``: the source's rows in the period that this file no longer has go."""
    company = importer.company
    scope = ImportedTimeRegistration.objects.filter(
        source_file__company=company, source_file__source=importer.source
    ).exclude(source_file=file)
    links = scope.filter(time_registration__date__gte=start, time_registration__date__lte=end)
    removed = _delete_time_registrations(links, scope=scope)
    removed += _raw_delete(
        SalaryRow.objects.filter(
            company=company,
            source_file__source=importer.source,
            period_date__gte=start,
            period_date__lte=end,
        ).exclude(source_file=file)
    )
    importer.count("removed", removed)
    days = _raw_delete(
        ScheduleDay.objects.filter(
            company=company,
            source_file__source=importer.source,
            date__gte=start,
            date__lte=end,
        ).exclude(source_file=file)
    )
    if days:
        importer.count("schedule_days_removed", days)


def _delete_time_ids(ids: list[int]) -> None:
    through = TimeRegistration.dimension_values.through
    _raw_delete(through.objects.filter(timeregistration_id__in=ids))
    _raw_delete(ImportedTimeRegistration.objects.filter(time_registration_id__in=ids))
    _raw_delete(TimeRegistration.objects.filter(pk__in=ids))
