"""Import of one PAXml file: all or nothing, idempotent, with every problem located.

Two passes over the file, both streaming:

1. **Check** — the reader validates every post (XSD + the spec's rules) and collects the
   small parts: header, result units, code names, persons and the file's schedule days
   (needed to turn ``omfattning`` into hours). Any problem: the file is rejected.
2. **Write** — in one transaction: persons → employees (only the elements present change
   a field; ``delete="true"`` ends the employment), then time posts → ``TimeRegistration``,
   salary posts → ``SalaryTransaction``, schedule days → ``ScheduleDay``, each checked
   against the registers (unknown employee number, a date outside the employment, an
   unknown code, an unknown cost centre or project). Any problem: rolled back, nothing is
   written, and every problem (up to ``settings.PAXML_MAX_PROBLEMS``) is reported with line,
   employee and field. A dry run takes the same path and always rolls back, so it reports
   exactly what would change.

Idempotency: a file whose SHA-256 was imported before is not imported again; a post whose
``postid`` was imported before replaces the earlier row; a ``nyexport`` header deletes the
rows earlier PAXml imports put into its period first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from companies.models import Company
from employees.models import Employee, EmploymentForm, PayForm, PersonnelCategory, Position
from integrations.messages import summary_label

from .. import codes
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

UNKNOWN_COST_CENTRE = gettext_lazy("unknown cost centre %(c)s")
UNKNOWN_PROJECT = gettext_lazy("unknown project %(c)s")

BATCH = 2000
COUNTRIES = {"sverige": "SE", "sweden": "SE", "norge": "NO", "danmark": "DK", "finland": "FI"}


class PaxmlLicenseError(Exception):
    """The company has no PAXml licence."""


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

    def summary(self) -> str:
        state = (
            _("already imported")
            if self.already_imported
            else _("dry run")
            if self.dry_run and self.ok
            else _("imported")
            if self.ok
            else _("rejected")
        )
        parts = [f"{summary_label(key)} {value}" for key, value in self.counts.items() if value]
        text = f"{state}: {', '.join(parts) or _('nothing to change')}"
        if self.problem_count:
            text += "; " + ngettext("%(n)s problem", "%(n)s problems", self.problem_count) % {
                "n": self.problem_count
            }
        if self.not_imported_sections:
            text += "; " + _("read, not imported: %(s)s") % {
                "s": ", ".join(self.not_imported_sections)
            }
        return text


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
    def __init__(self, *, company: Company, profile: codes.Profile, user, progress) -> None:
        self.company = company
        self.profile = profile
        self.user = user
        self.progress = progress
        self.problems = _Problems(getattr(settings, "PAXML_MAX_PROBLEMS", 500))
        self.counts: dict[str, int] = {}
        self.file_days: dict[tuple[str, dt.date], Decimal] = {}

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    # registers ---------------------------------------------------------------------------
    def load_registers(self) -> None:
        from projects.models import AccountingDimensionValue, Project, TimeCode, WorkSchedule

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

    # persons -----------------------------------------------------------------------------
    def apply_person(self, person: Person) -> None:
        from employees import services as employee_services

        number = person.anstid or self.by_pin.get(person.persnr, "")
        label = person.employee
        existing = (
            Employee.objects.filter(company=self.company, employee_number=number).first()
            if number
            else None
        )
        if person.delete:
            if existing is None:
                self.problems.add(
                    line=person.line,
                    employee=label,
                    field="@delete",
                    message=_("unknown employee number; nothing to end"),
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
            return
        try:
            data = self._person_fields(person)
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
                message=_("persnr does not match the employee's personal identity number"),
            )
            return
        dated = {k: person.values[k] for k in ("manlon", "timlon", "sysgrad") if k in person.values}
        if existing is None:
            if not person.anstid:
                self.problems.add(
                    line=person.line,
                    employee=label,
                    field="@anstid",
                    message=_("a new employee needs an employee number (anstid)"),
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
                    message=_("a new employee needs %(f)s") % {"f": ", ".join(missing)},
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
        start = employee.employment_start_date
        for key, value in dated.items():
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
            found = PersonnelCategory.objects.filter(
                company=self.company, code=values["kategori"]
            ).first()
            if found is None:
                raise ValidationError({"kategori": _("unknown personnel category")})
            data["personnel_category"] = found
        if "anstform" in values:
            found = EmploymentForm.objects.filter(
                company=self.company, code=values["anstform"]
            ).first()
            if found is None:
                raise ValidationError({"anstform": _("unknown employment form")})
            data["employment_form"] = found
        if "befattningskod" in values or "befattning" in values:
            code = values.get("befattningskod") or ""
            title = values.get("befattning") or ""
            found = None
            if code:
                found = Position.objects.filter(company=self.company, code=code).first()
            if found is None and title:
                found = Position.objects.filter(company=self.company, title=title).first()
            if found is None:
                found = Position.objects.create(
                    company=self.company, code=(code or title)[:20], title=title or code
                )
                self.count("positions_created")
            data["position"] = found
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
                message=_("unknown employee number")
                if record.anstid
                else _("no employee with this personal identity number"),
            )
            return None
        if record.persnr and record.anstid and emp.pin and emp.pin != record.persnr:
            self.problems.add(
                line=record.line,
                employee=record.employee,
                field="@persnr",
                element=element,
                message=_("persnr does not match the employee's personal identity number"),
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
                message=_(
                    "registration outside the employment period (%(start)s – %(end)s): %(day)s"
                )
                % {"start": emp.start, "end": emp.end or "", "day": day},
            )
            return False
        return True

    def units(self, record, element: str) -> tuple[int | None, int | None, bool]:
        cost_centre, cc_ok = self._unit(
            record, element, COST_CENTRE_DIM, self.cost_centres, UNKNOWN_COST_CENTRE
        )
        project, project_ok = self._unit(
            record, element, PROJECT_DIM, self.projects, UNKNOWN_PROJECT
        )
        return cost_centre, project, cc_ok and project_ok

    def _unit(self, record, element: str, dim: int, known: dict, unknown: str):
        """The id of the record's result unit in dimension ``dim`` (None without one) and
        whether it is known; an unknown code is a problem on ``resenhet dim N``."""
        code = result_unit(record.resenheter, dim)
        if not code:
            return None, True
        found = known.get(code)
        if found is None:
            self.problems.add(
                line=record.line,
                employee=record.employee,
                field=f"resenhet dim {dim}",
                element=element,
                message=unknown % {"c": code},
            )
            return None, False
        return found, True

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

    def time_rows(self, t: TimeTransaction) -> list[tuple[dt.date, Decimal]]:
        """The (day, hours) rows a time post stands for, or [] after reporting why not."""
        if t.datum is not None and t.timmar is not None:
            return [(t.datum, t.timmar)]
        if t.starttid is not None and t.sluttid is not None:
            hours = Decimal((t.sluttid - t.starttid).total_seconds()) / Decimal(3600)
            return [(t.starttid.date(), hours.quantize(Decimal("0.01")))]
        first = t.datum or t.datumfrom
        last = t.datum or t.datumtom
        share = (t.omfattning if t.omfattning is not None else Decimal(100)) / Decimal(100)
        emp = self._current_emp
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
                    message=_(
                        "no schedule for %(day)s: give timmar, or schedule days for the employee"
                    )
                    % {"day": day},
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
    from projects.models import TimeRegistration

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
    from django.db import connection

    from projects.models import TimeRegistration

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
    "created_at",
)


def _copy_time(rows: list, links: list, file: PaxmlFile) -> None:
    """PostgreSQL: ids from the sequence in one query, then ``COPY`` of both tables —
    the ORM's per-object INSERT building dominates a large import otherwise."""
    from django.db import connection
    from django.utils import timezone

    from projects.models import TimeRegistration

    table = TimeRegistration._meta.db_table
    link_table = ImportedTimeRegistration._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(_TIME_COLUMNS)}) FROM STDIN") as copy:
            company_id = file.company_id
            for pk, (emp, day, code, hours, project, cost_centre, info) in zip(
                ids, rows, strict=True
            ):
                copy.write_row(
                    (
                        pk,
                        company_id,
                        emp,
                        day,
                        code,
                        hours,
                        project,
                        cost_centre,
                        info,
                        "",
                        False,
                        False,
                        False,
                        now,
                    )
                )
        with raw.copy(
            f"COPY {link_table} (time_registration_id, source_file_id, postid) FROM STDIN"
        ) as copy:
            for pk, postid in zip(ids, links, strict=True):
                copy.write_row((pk, file.pk, postid))


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
) -> ImportResult:
    """Check and import one PAXml file (see the module docstring). ``progress`` is an
    optional ``integrations.services.JobContext``."""
    if not getattr(getattr(company, "license", None), "paxml", False):
        raise PaxmlLicenseError(_("PAXml is not licensed for %(c)s.") % {"c": company.name})
    profile_obj = codes.profile_get(profile)
    if not isinstance(source, bytes):
        source = Path(source)
    fingerprint, size = _fingerprint(source)
    result = ImportResult(dry_run=dry_run, fingerprint=fingerprint)
    name = name or (source.name if isinstance(source, Path) else "")

    # pass 1: check ---------------------------------------------------------------------
    importer = _Importer(company=company, profile=profile_obj, user=user, progress=progress)
    reader = PaxmlReader(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        profile=profile_obj,
        max_problems=importer.problems.cap,
    )
    header: Header | None = None
    persons: list[Person] = []
    units: list[ResultUnit] = []
    posts = 0
    try:
        for record in reader:
            if isinstance(record, Header):
                header = record
            elif isinstance(record, Person):
                persons.append(record)
            elif isinstance(record, ResultUnit):
                units.append(record)
            elif isinstance(record, ScheduleRecord):
                if record.timmar is not None:
                    key = (record.anstid or f"pnr:{record.persnr}", record.datum)
                    importer.file_days[key] = record.timmar
                posts += 1
            elif isinstance(record, TimeTransaction | SalaryTransaction):
                posts += 1
    except PaxmlFatalError:
        pass
    result.not_imported_sections = reader.not_imported_sections
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
            )
            _write(
                importer=importer,
                file=file,
                header=header,
                persons=persons,
                units=units,
                source=source,
                profile=profile_obj,
            )
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
    result.counts = importer.counts
    result.problems, result.problem_count = importer.problems.items, importer.problems.count
    if importer.problems.count:
        result.ok = False
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
        )
    elif dry_run:
        result.ok = True
    return result


def _record_file(*, company, status, name, fingerprint, size, profile, reader, header, counts, job):
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
        is_reexport=nyexport is not None,
        period_from=nyexport.period[0] if nyexport else None,
        period_to=nyexport.period[1] if nyexport else None,
        counts=counts,
        job=job,
    )


def _write(*, importer: _Importer, file, header, persons, units, source, profile) -> None:
    from projects.models import AccountingDimension, AccountingDimensionValue

    company = importer.company
    # result units: cost centres are created/renamed; projects must exist in the register
    cost_dimension = AccountingDimension.objects.filter(
        company=company, sie_number=COST_CENTRE_DIM
    ).first()
    for unit in units:
        if unit.dim == COST_CENTRE_DIM and cost_dimension is not None and not unit.delete:
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
    importer.load_registers()

    # nyexport: the rows of earlier imports in the period go first
    if header is not None and header.nyexport is not None:
        start, end = header.nyexport.period
        earlier = PaxmlFile.objects.filter(company=company, direction="import").exclude(pk=file.pk)
        links = ImportedTimeRegistration.objects.filter(
            source_file__in=earlier,
            time_registration__date__gte=start,
            time_registration__date__lte=end,
        )
        replaced = _delete_time_registrations(
            links, scope=ImportedTimeRegistration.objects.filter(source_file__in=earlier)
        )
        salary_deleted = _raw_delete(
            SalaryRow.objects.filter(
                company=company,
                source_file__in=earlier,
                period_date__gte=start,
                period_date__lte=end,
            )
        )
        days_deleted = _raw_delete(
            ScheduleDay.objects.filter(
                company=company, source_file__in=earlier, date__gte=start, date__lte=end
            )
        )
        importer.count("replaced_by_nyexport", replaced + salary_deleted + days_deleted)

    for person in persons:
        importer.apply_person(person)
        if importer.progress is not None:
            importer.progress.advance()
    if importer.problems.count:
        return  # transactions would only repeat "unknown employee" for these persons

    time_rows: list = []
    time_links: list = []
    salary_rows: list = []
    days: dict[tuple[int, dt.date], ScheduleDay] = {}

    def flush() -> None:
        if importer.problems.count:
            time_rows.clear(), time_links.clear(), salary_rows.clear(), days.clear()
            return
        postids = [p for p in time_links if p is not None]
        if postids:
            old = ImportedTimeRegistration.objects.filter(
                source_file__company=company, postid__in=postids
            )
            importer.count("replaced_by_postid", _delete_time_registrations(old))
        if time_rows:
            _batched_insert_time(time_rows, time_links, file)
        salary_postids = [r.postid for r in salary_rows if r.postid is not None]
        if salary_postids:
            _raw_delete(SalaryRow.objects.filter(company=company, postid__in=salary_postids))
        if salary_rows:
            SalaryRow.objects.bulk_create(salary_rows, batch_size=BATCH)
        if days:
            # one upsert per batch on (employee, date): a day the file repeats keeps its last
            ScheduleDay.objects.bulk_create(
                days.values(),
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=["employee", "date"],
                update_fields=["hours", "start_time", "end_time", "source_file"],
            )
        if importer.progress is not None:
            importer.progress.advance(len(time_rows) + len(salary_rows))
            importer.progress.check_cancelled()
        time_rows.clear(), time_links.clear(), salary_rows.clear(), days.clear()

    reader = PaxmlReader(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        validate=False,
        profile=profile,
    )
    time_count = 0
    for record in reader:
        if isinstance(record, TimeTransaction):
            emp = importer.employee_for(record, "tidtrans")
            if emp is None:
                continue
            code = profile.import_time_code(record.tidkod)
            code_id = importer.time_codes.get(code)
            if code_id is None:
                importer.problems.add(
                    line=record.line,
                    employee=record.employee,
                    field="tidkod",
                    element="tidtrans",
                    message=_("unknown code %(c)s: not in the time-code register")
                    % {"c": record.tidkod},
                )
                continue
            cost_centre, project, ok = importer.units(record, "tidtrans")
            if not ok:
                continue
            importer._current_emp = emp
            for day, hours in importer.time_rows(record):
                if not importer.within_employment(emp, record, day, "tidtrans", "datum"):
                    break
                if not (Decimal(-24) <= hours <= Decimal(24)):
                    importer.problems.add(
                        line=record.line,
                        employee=record.employee,
                        field="timmar",
                        element="tidtrans",
                        message=_("more than 24 hours on one day"),
                    )
                    break
                time_rows.append((emp.id, day, code_id, hours, project, cost_centre, record.info))
                time_links.append(record.postid)
                time_count += 1
        elif isinstance(record, SalaryTransaction):
            emp = importer.employee_for(record, "lonetrans")
            if emp is None:
                continue
            if record.lonkod and not record.lonart and record.lonkod not in importer.salary_codes:
                importer.problems.add(
                    line=record.line,
                    employee=record.employee,
                    field="lonkod",
                    element="lonetrans",
                    message=_("unknown code %(c)s: not in the salary-code register")
                    % {"c": record.lonkod},
                )
                continue
            day = record.first_date
            if day is not None and not importer.within_employment(
                emp, record, day, "lonetrans", "datum"
            ):
                continue
            cost_centre, project, ok = importer.units(record, "lonetrans")
            if not ok:
                continue
            salary_rows.append(
                SalaryRow(
                    company_id=company.pk,
                    employee_id=emp.id,
                    salary_code=record.lonkod,
                    salary_type=record.lonart,
                    name=record.benamning[:200],
                    comment=record.kommentar[:255],
                    date=record.datum,
                    date_from=record.datumfrom,
                    date_to=record.datumtom,
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
                    source_file=file,
                    postid=record.postid,
                )
            )
            importer.count("salary_transactions")
        elif isinstance(record, ScheduleRecord):
            emp = importer.employee_for(record, "schema")
            if emp is None:
                continue
            days[(emp.id, record.datum)] = ScheduleDay(
                company_id=company.pk,
                employee_id=emp.id,
                date=record.datum,
                hours=record.timmar,
                start_time=record.starttid,
                end_time=record.sluttid,
                source_file=file,
            )
            importer.count("schedule_days")
        elif isinstance(record, CodeName):
            importer.count("code_names_read")
        if len(time_rows) + len(salary_rows) + len(days) >= BATCH:
            flush()
    flush()
    if time_count:
        importer.count("time_registrations", time_count)
