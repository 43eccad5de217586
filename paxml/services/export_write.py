"""Writing an export's sections (``exporting``): each step writes one section from the
rows ``ExportRows`` selected and counts what it wrote."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from companies.models import Company
from employees.models import PayForm
from projects.models import Project, ProjectEvent
from projects.selectors import project_events_for_registrations

from ..messages import Text
from ..models import SalaryCode
from ..records import (
    COST_CENTRE_DIM,
    PROJECT_DIM,
    Dimension,
    Header,
    SalaryTransaction,
)
from ..writer import PaxmlWriter
from .bounds import EVENT_POSTID_BASE, PROGRAM_NAME
from .export_checks import LeftOut, result_units

WORKED_TIME_CODES = frozenset({"TID", "ARB", "SCH"})
# rows per round trip of the export's server-side cursor
EXPORT_FETCH = 10_000


@dataclass
class ExportRows:
    """What an export writes: the selected employees (id → number, persnr, pay form,
    start, end), their registrations and salary transactions, and what writing found."""

    company: Company
    emp_info: dict
    regs: object
    salaries: object
    left_out: LeftOut
    progress: object = None
    counts: dict = field(default_factory=lambda: defaultdict(int))
    # hourly-paid employees' absence days: a schedule day with the same hours
    deviation_days: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))
    warnings: list[Text] = field(default_factory=list)


def write_header(writer: PaxmlWriter, company: Company) -> None:
    writer.header(
        Header(
            format="LÖNIN",
            datum=timezone.localtime().replace(microsecond=0, tzinfo=None),
            foretagid=company.code,
            foretagorgnr=company.organisation_number,
            foretagnamn=company.name,
            programnamn=PROGRAM_NAME,
        )
    )
    with writer.section("dimensioner"):
        writer.write(Dimension(dim=COST_CENTRE_DIM, namn="Kostnadsställe"))
        writer.write(Dimension(dim=PROJECT_DIM, namn="Projekt"))


def write_time(writer: PaxmlWriter, rows: ExportRows) -> None:
    """Time registrations: monthly-paid employees' worked time left out, hourly-paid
    employees' absences remembered for their schedule days. Rows come as plain tuples
    from a server-side cursor and go through the writer's fast path (``time_rows``)."""
    counts = rows.counts
    numbers = {emp_id: info[0] for emp_id, info in rows.emp_info.items()}
    monthly = {emp_id for emp_id, info in rows.emp_info.items() if info[2] == PayForm.MONTHLY}
    hourly = {emp_id for emp_id, info in rows.emp_info.items() if info[2] == PayForm.HOURLY}
    left_out, progress, deviation_days = rows.left_out, rows.progress, rows.deviation_days
    written = monthly_left_out = 0
    monthly_first = False  # the counts keep the order in which each first occurred
    with writer.section("tidtransaktioner"):
        write_row = writer.time_rows()
        for emp_id, day, hours, code, kind, cc, project, pk in (
            rows.regs.order_by("employee_id", "date", "pk")
            .values_list(
                "employee_id",
                "date",
                "hours",
                "time_code__paxml_code",
                "time_code__kind",
                "cost_center__code",
                "project__code",
                "pk",
            )
            .iterator(chunk_size=EXPORT_FETCH)
        ):
            if emp_id in monthly and code in WORKED_TIME_CODES:
                monthly_first = monthly_first or not written
                monthly_left_out += 1
                continue
            number = numbers[emp_id]
            if cc or project:
                units = result_units(left_out, cc, project, number, day, "tidtrans")
                if units is None:
                    continue
            else:
                units = ()
            if kind == "absence" and emp_id in hourly:
                deviation_days[emp_id][day] += hours
            write_row(number, pk, code, day, hours, units)
            written += 1
            if progress is not None and written % 5000 == 0:
                progress.advance(5000)
                progress.check_cancelled()
    found = [("time_transactions", written), ("left_out_worked_time_monthly", monthly_left_out)]
    for key, n in reversed(found) if monthly_first else found:
        if n:
            counts[key] += n


def write_salaries(writer: PaxmlWriter, rows: ExportRows) -> None:
    """Salary transactions (expenses without expense code warned about), then the project
    events' salary lines."""
    expense_codes = set(
        SalaryCode.objects.filter(company=rows.company, is_expense=True).values_list(
            "code", flat=True
        )
    )
    with writer.section("lonetransaktioner"):
        for row in (
            rows.salaries.select_related("cost_center", "project")
            .order_by("employee_id", "period_date", "pk")
            .iterator(chunk_size=2000)
        ):
            number = rows.emp_info[row.employee_id][0]
            units = result_units(
                rows.left_out,
                row.cost_center.code if row.cost_center is not None else "",
                row.project.code if row.project is not None else "",
                number,
                row.period_date,
                "lonetrans",
            )
            if units is None:
                continue
            if row.salary_code in expense_codes and not row.product_group:
                rows.warnings.append(
                    Text(
                        gettext_noop("expense without expense code (varugrupp) for employee %(n)s"),
                        n=number,
                    )
                )
            writer.write(_salary_record(row, number, units))
            rows.counts["salary_transactions"] += 1
        write_events(writer, rows)


def _salary_record(row, number: str, units) -> SalaryTransaction:
    return SalaryTransaction(
        anstid=number,
        postid=row.pk,
        lonkod=row.salary_code,
        lonart=row.salary_type,
        benamning=row.name,
        kommentar=row.comment,
        datum=row.date,
        datumfrom=_naive(row.date_from),
        datumtom=_naive(row.date_to),
        antal=row.quantity,
        apris=row.unit_price,
        belopp=row.amount,
        varugrupp=row.product_group,
        moms=row.vat,
        kontonr=row.account,
        kundnr=row.customer,
        resenheter=units,
    )


def write_schedule(writer: PaxmlWriter, rows: ExportRows) -> None:
    """For every hourly-paid employee's absence day, a schedule day with the same hours."""
    if not rows.deviation_days:
        return
    with writer.section("schematransaktioner"):
        for emp_id, per_day in rows.deviation_days.items():
            writer.write_schedule(
                anstid=rows.emp_info[emp_id][0],
                days=[(day, hours) for day, hours in sorted(per_day.items())],
            )
            rows.counts["schedule_days"] += len(per_day)


def write_events(writer: PaxmlWriter, rows: ExportRows) -> None:
    """Project events (extra compensation per hour or day) as salary transactions with
    the event's salary type, for the registrations that earn them."""
    projects = _event_projects(rows.company)
    if not projects:
        return
    for line in project_events_for_registrations(
        registrations=rows.regs.filter(project_id__in=projects)
    ):
        number = rows.emp_info[line.employee.pk][0]
        units = result_units(
            rows.left_out,
            line.cost_center.code if line.cost_center is not None else "",
            line.project.code,
            number,
            line.date,
            "lonetrans",
        )
        if units is None:
            continue
        writer.write(
            SalaryTransaction(
                anstid=number,
                postid=event_postid(
                    line.event.pk,
                    line.employee.pk,
                    line.date,
                    line.project.pk,
                    line.cost_center.pk if line.cost_center is not None else "",
                ),
                lonart=line.salary_type_code,
                benamning=line.event.name,
                datum=line.date,
                antal=line.quantity,
                apris=line.unit_price,
                belopp=line.amount,
                resenheter=units,
            )
        )
        rows.counts["event_transactions"] += 1


def _event_projects(company: Company) -> set[int]:
    """The projects whose registrations an event may pay for: those with events, and
    every project under one with an event that applies to sub projects."""
    own = set(
        ProjectEvent.objects.filter(project__company=company).values_list("project_id", flat=True)
    )
    if not own:
        return set()
    roots = Project.objects.filter(
        pk__in=ProjectEvent.objects.filter(
            project__company=company, applies_to_sub_projects=True
        ).values("project_id")
    ).values_list("path", flat=True)
    query = Q()
    for path in roots:
        query |= Q(path__startswith=path)
    if query:
        own |= set(Project.objects.filter(query, company=company).values_list("id", flat=True))
    return own


def event_postid(*parts) -> int:
    """A stable postid for an event line, from ``EVENT_POSTID_BASE`` up."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return EVENT_POSTID_BASE + int.from_bytes(digest[:4], "big") % (2**31 - 1 - EVENT_POSTID_BASE)


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)
