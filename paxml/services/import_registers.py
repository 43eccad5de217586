"""An import's view of the company's registers: employees, codes, cost centres, projects,
schedules and the coded person fields (matched by code, else name; created with the
option to create missing entries)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy, gettext_noop

from companies.models import Company
from employees.models import Employee, EmploymentForm, PersonnelCategory, Position
from projects.models import (
    AccountingDimension,
    AccountingDimensionValue,
    Project,
    TimeCode,
    WorkSchedule,
)
from projects.services import project_create

from .. import codes
from ..messages import Text
from ..models import SalaryCode
from ..records import (
    COST_CENTRE_DIM,
    PROJECT_DIM,
    TimeTransaction,
    result_unit,
)
from .import_base import REGISTER_FIELDS, REGISTER_KINDS, Emp, Missing, Problems
from .import_persons import PersonsMixin
from .registers import RegisterIndex, code_for


class Importer(PersonsMixin):
    """One import's state: the company's registers, the problems and counts so far; the
    persons' steps come from ``PersonsMixin``."""

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
        self.problems = Problems(settings.PAXML_MAX_PROBLEMS)
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
        self.notes.append(Text(text, kind=REGISTER_KINDS[kind], value=value, line=line))

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
                field=REGISTER_FIELDS[kind],
                message=Text(
                    gettext_noop(
                        "unknown %(kind)s %(value)s, used on lines %(lines)s: add it to the "
                        "register, or import with the option to create missing entries"
                    ),
                    kind=REGISTER_KINDS[kind],
                    value=value,
                    lines=shown,
                ),
            )

    # registers ---------------------------------------------------------------------------
    def load_registers(self) -> None:
        self.employees: dict[str, Emp] = {}
        self.by_pin: dict[str, str] = {}
        for row in Employee.objects.filter(company=self.company).values_list(
            "id",
            "employee_number",
            "personal_identity_number",
            "employment_start_date",
            "employment_end_date",
            "pay_form",
        ):
            emp = Emp(*row)
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

    # transactions ------------------------------------------------------------------------
    def employee_for(self, record, element: str) -> Emp | None:
        number = record.anstid or self.by_pin.get(record.persnr, "")
        emp = self.employees.get(number) if number else None
        if emp is None:
            self.problems.add_for(
                record,
                field="@anstid" if record.anstid else "@persnr",
                element=element,
                message=Text(gettext_noop("unknown employee number"))
                if record.anstid
                else Text(gettext_noop("no employee with this personal identity number")),
            )
            return None
        if record.persnr and record.anstid and emp.pin and emp.pin != record.persnr:
            self.problems.add_for(
                record,
                field="@persnr",
                element=element,
                message=Text(
                    gettext_noop("persnr does not match the employee's personal identity number")
                ),
            )
            return None
        return emp

    def within_employment(self, emp: Emp, record, day: dt.date, element: str, field: str):
        if day < emp.start or (emp.end is not None and day > emp.end):
            self.problems.add_for(
                record,
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
                field=REGISTER_FIELDS[kind],
                message=Text(
                    gettext_noop("%(kind)s %(value)s could not be created: %(why)s"),
                    kind=REGISTER_KINDS[kind],
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
                    kind: ValidationError(
                        gettext_lazy(
                            "%(value)s is ambiguous in the %(kind)s register: %(candidates)s"
                        ),
                        params={
                            "value": value,
                            "kind": REGISTER_KINDS[kind],
                            "candidates": ", ".join(match.candidates),
                        },
                    )
                }
            )
        if not self.create_missing:
            self.report_missing(kind, value, line)
            raise Missing
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

    def scheduled_hours(self, emp: Emp, day: dt.date) -> Decimal | None:
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

    def time_rows(self, t: TimeTransaction, emp: Emp) -> list[tuple[dt.date, Decimal]]:
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
                self.problems.add_for(
                    t,
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
