"""Export of payroll input (LÖNIN) for a period as one PAXml file, streamed.

The seed's rules (``paxml-for-fortnox-lon.sv.md``):

* **monthly-paid** employees: only deviations (sick leave, child care, vacation, overtime,
  allowances …), never worked time — their schedule and salary live in payroll. Worked
  time is a registration whose PAXml code is ``TID``, ``ARB`` or ``SCH``.
* **hourly-paid** employees: all worked time, and for every day with an absence a
  schedule transaction with the same hours.
* amounts only where set (salary transactions); cost centre (dim 1) and project (dim 6) on
  every transaction; expenses carry their expense code in ``varugrupp``.
* what pays people reaches payroll: rows on projects marked "never transfer to downstream
  system" are exported (the flag governs the billing basis, not payroll or accounting —
  the project-register seed), and project events go out as salary transactions with
  their salary type (``lonart``).

Every transaction carries a stable ``postid``: the row's id (time registrations, salary
transactions), or for an event line a number from ``EVENT_POSTID_BASE`` up derived from
the event, employee, day, project and cost centre. So the file re-imports into the same
company without adding anything (``importing``).

Before anything is written the same semantic checks as on import run: nothing outside the
employment period and a PAXml code on every exported time code (any error: no file). Rows
that cannot be written — a cost-centre or project code longer than ``resenhet/@id`` holds
(10 characters), a stored value beyond the import bounds — are left out and named, code
and rows; the rest of the file is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from companies.models import Company
from employees.models import Employee, PayForm
from projects.selectors import PAXML_UNIT_ID_MAX as UNIT_ID_MAX

from .. import codes
from ..messages import Text
from ..models import PaxmlFile, SalaryCode
from ..models import SalaryTransaction as SalaryRow
from ..personnel import personnel_queryset, personnel_write
from ..records import (
    COST_CENTRE_DIM,
    PROJECT_DIM,
    Dimension,
    Header,
    SalaryTransaction,
    TimeTransaction,
)
from ..validation import Problem
from ..writer import PaxmlWriter
from .importing import (
    AMOUNT_MAX,
    EVENT_POSTID_BASE,
    HOURS_MAX,
    PROGRAM_NAME,
    QUANTITY_MAX,
    UNIT_PRICE_MAX,
    PaxmlLicenseError,
)

WORKED_TIME_CODES = frozenset({"TID", "ARB", "SCH"})


@dataclass
class ExportResult:
    ok: bool = False
    problems: list[Problem] = field(default_factory=list)
    warning_texts: list[Text] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    file: PaxmlFile | None = None

    @property
    def warnings(self) -> list[str]:
        """The warnings in the active language."""
        return [str(warning) for warning in self.warning_texts]

    def summary_data(self) -> dict:
        """The summary as parameters (JSON), for :func:`export_summary_text`."""
        return {"ok": self.ok, "counts": self.counts, "problems": len(self.problems)}

    def summary(self) -> str:
        """One line in the active language."""
        return export_summary_text(self.summary_data())


def export_summary_text(data: dict) -> str:
    """An export's summary line (``ExportResult.summary_data``) in the active language."""
    counts = data.get("counts") or {}
    parts = [
        f"{label} {counts[key]}" for key, label in EXPORT_COUNT_LABELS.items() if counts.get(key)
    ]
    state = _("exported") if data.get("ok") else _("not exported")
    nothing = _("nothing to export")
    text = f"{state}: {', '.join(parts) or nothing}"
    if data.get("problems"):
        text += "; " + ngettext("%(n)s problem", "%(n)s problems", data["problems"]) % {
            "n": data["problems"]
        }
    return text


EXPORT_COUNT_LABELS = {
    "time_transactions": gettext_lazy("time transactions"),
    "salary_transactions": gettext_lazy("salary transactions"),
    "event_transactions": gettext_lazy("event transactions"),
    "schedule_days": gettext_lazy("schedule days"),
    "persons": gettext_lazy("persons"),
    "left_out_worked_time_monthly": gettext_lazy("worked time of monthly-paid left out"),
    "left_out_rows": gettext_lazy("rows not exported"),
}


def _event_projects(company: Company) -> set[int]:
    """The projects whose registrations an event may pay for: those with events, and
    every project under one with an event that applies to sub projects."""
    from projects.models import Project, ProjectEvent

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


def paxml_export_run(  # noqa: C901
    *,
    company: Company,
    date_from: dt.date,
    date_to: dt.date,
    out: BinaryIO,
    employee_numbers: list[str] | None = None,
    profile: str = "standard",
    encoding: str = "iso-8859-1",
    personnel: bool = False,
    job=None,
    progress=None,
) -> ExportResult:
    """Write the period's transactions to ``out`` (with ``personnel``, the selected
    employees' register first); see the module docstring."""
    from projects.models import TimeRegistration

    if not getattr(getattr(company, "license", None), "paxml", False):
        raise PaxmlLicenseError(_("PAXml is not licensed for %(c)s.") % {"c": company.name})
    profile_obj = codes.profile_get(profile)
    result = ExportResult()
    employees = Employee.objects.filter(company=company)
    if employee_numbers:
        employees = employees.filter(employee_number__in=employee_numbers)
    emp_info = {
        row[0]: row[1:]
        for row in employees.values_list(
            "id",
            "employee_number",
            "personal_identity_number",
            "pay_form",
            "employment_start_date",
            "employment_end_date",
        )
    }
    regs = TimeRegistration.objects.filter(
        company=company, date__gte=date_from, date__lte=date_to, employee_id__in=list(emp_info)
    )
    salaries = SalaryRow.objects.filter(
        company=company,
        period_date__gte=date_from,
        period_date__lte=date_to,
        employee_id__in=list(emp_info),
    )

    # semantic checks ---------------------------------------------------------------------
    def outside(model_rows, date_field: str, label: str) -> None:
        bad = model_rows.filter(
            Q(**{f"{date_field}__lt": F("employee__employment_start_date")})
            | Q(**{f"{date_field}__gt": F("employee__employment_end_date")})
        ).values_list("employee__employee_number", date_field)
        for number, day in bad[:200]:
            result.problems.append(
                Problem(
                    line=0,
                    employee=number,
                    element=label,
                    field=date_field,
                    message=Text(
                        gettext_noop("registration outside the employment period: %(d)s"), d=day
                    ),
                )
            )

    outside(regs, "date", "tidtrans")
    outside(salaries, "period_date", "lonetrans")
    for code, name in (
        regs.filter(time_code__paxml_code="")
        .values_list("time_code__code", "time_code__name")
        .distinct()
    ):
        result.problems.append(
            Problem(
                line=0,
                element="tidtrans",
                field="tidkod",
                message=Text(
                    gettext_noop("time code %(c)s (%(n)s) has no PAXml code"), c=code, n=name
                ),
            )
        )
    if result.problems:
        return result

    # rows that cannot be written are left out and named; the rest is written -------------
    left_out = _LeftOut(result)
    bad_time = set(
        regs.filter(Q(hours__gt=HOURS_MAX) | Q(hours__lt=-HOURS_MAX)).values_list("pk", flat=True)[
            :10_000
        ]
    )
    for number, day in regs.filter(pk__in=bad_time).values_list(
        "employee__employee_number", "date"
    ):
        left_out.add("timmar", Text(gettext_noop("hours out of bounds")), number, day, "tidtrans")
    bad_salary: set[int] = set()
    for name, limit in (
        ("amount", AMOUNT_MAX),
        ("vat", AMOUNT_MAX),
        ("quantity", QUANTITY_MAX),
        ("unit_price", UNIT_PRICE_MAX),
    ):
        for pk, number, day in salaries.filter(
            Q(**{f"{name}__gt": limit}) | Q(**{f"{name}__lt": -limit})
        ).values_list("pk", "employee__employee_number", "period_date")[:10_000]:
            bad_salary.add(pk)
            left_out.add(name, Text(gettext_noop("value out of bounds")), number, day, "lonetrans")
    if bad_time:
        regs = regs.exclude(pk__in=bad_time)
    if bad_salary:
        salaries = salaries.exclude(pk__in=bad_salary)

    # writing -----------------------------------------------------------------------------
    counts: dict[str, int] = defaultdict(int)
    deviation_days: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with PaxmlWriter(out, encoding=encoding, profile=profile_obj) as writer:
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
        with writer.section("tidtransaktioner"):
            rows = (
                regs.order_by("employee_id", "date", "pk")
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
                .iterator(chunk_size=5000)
            )
            for emp_id, day, hours, code, kind, cc, project, pk in rows:
                number, _pin, pay_form, _start, _end = emp_info[emp_id]
                if pay_form == PayForm.MONTHLY and code in WORKED_TIME_CODES:
                    counts["left_out_worked_time_monthly"] += 1
                    continue
                units = _units(left_out, cc, project, number, day, "tidtrans")
                if units is None:
                    continue
                if pay_form == PayForm.HOURLY and kind == "absence":
                    deviation_days[emp_id][day] += hours
                writer.write(
                    TimeTransaction(
                        anstid=number,
                        postid=pk,
                        tidkod=code,
                        datum=day,
                        timmar=hours,
                        resenheter=units,
                    )
                )
                counts["time_transactions"] += 1
                if progress is not None and counts["time_transactions"] % 5000 == 0:
                    progress.advance(5000)
                    progress.check_cancelled()
        expense_codes = set(
            SalaryCode.objects.filter(company=company, is_expense=True).values_list(
                "code", flat=True
            )
        )
        with writer.section("lonetransaktioner"):
            for row in (
                salaries.select_related("cost_center", "project")
                .order_by("employee_id", "period_date", "pk")
                .iterator(chunk_size=2000)
            ):
                number = emp_info[row.employee_id][0]
                units = _units(
                    left_out,
                    row.cost_center.code if row.cost_center is not None else "",
                    row.project.code if row.project is not None else "",
                    number,
                    row.period_date,
                    "lonetrans",
                )
                if units is None:
                    continue
                if row.salary_code in expense_codes and not row.product_group:
                    result.warning_texts.append(
                        Text(
                            gettext_noop(
                                "expense without expense code (varugrupp) for employee %(n)s"
                            ),
                            n=number,
                        )
                    )
                writer.write(
                    SalaryTransaction(
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
                )
                counts["salary_transactions"] += 1
            _write_events(writer, regs, company, emp_info, left_out, counts)
        if deviation_days:
            with writer.section("schematransaktioner"):
                for emp_id, per_day in deviation_days.items():
                    writer.write_schedule(
                        anstid=emp_info[emp_id][0],
                        days=[(day, hours) for day, hours in sorted(per_day.items())],
                    )
                    counts["schedule_days"] += len(per_day)
        if personnel:
            counts["persons"] = personnel_write(
                writer, personnel_queryset(Employee.objects.filter(pk__in=list(emp_info)))
            )
        writer.write_profile_codes()
    if writer.deviating_codes:
        result.warning_texts.append(
            Text(
                gettext_noop(
                    "Profile %(p)s wrote %(c)s, which the PAXml 2.0 XSD does not list: Fortnox "
                    "Lön reads them, the validator on paxml.se will not."
                ),
                p=str(profile_obj.label),
                c=", ".join(sorted(writer.deviating_codes)),
            )
        )
    left_out.finish()
    if left_out.count:
        counts["left_out_rows"] = left_out.count
    result.counts = dict(counts)
    result.ok = True
    return result


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


class _LeftOut:
    """Rows left out of the file, grouped by reason: one problem per code (or field)
    naming the rows (employee and day, the first ten)."""

    def __init__(self, result: ExportResult) -> None:
        self.result = result
        self.count = 0
        # (field, reason's text, element) -> (reason, rows)
        self.groups: dict[tuple[str, str, str], tuple[Text, list]] = {}

    def add(self, field: str, reason: Text, number: str, day, element: str) -> None:
        self.count += 1
        _reason, rows = self.groups.setdefault((field, str(reason), element), (reason, []))
        rows.append(f"{number} {day}")

    def finish(self) -> None:
        for (name, _text, element), (reason, rows) in self.groups.items():
            shown: str | Text = ", ".join(rows[:10])
            if len(rows) > 10:
                shown = Text(
                    gettext_noop("%(lines)s and %(n)s more"), lines=shown, n=len(rows) - 10
                )
            self.result.problems.append(
                Problem(
                    line=0,
                    element=element,
                    field=name,
                    message=Text(
                        gettext_noop(
                            "%(reason)s: %(n)s row not exported (employee, day: %(rows)s)"
                        ),
                        plural="%(reason)s: %(n)s rows not exported (employee, day: %(rows)s)",
                        count="n",
                        reason=reason,
                        n=len(rows),
                        rows=shown,
                    ),
                )
            )


def _units(left_out: _LeftOut, cc: str | None, project: str | None, number, day, element):
    """The ``resenheter`` of a row, or None (and the row named) when a code is longer than
    ``resenhet/@id`` holds."""
    units = []
    for dim, code in ((COST_CENTRE_DIM, cc), (PROJECT_DIM, project)):
        if not code:
            continue
        if len(code) > UNIT_ID_MAX:
            left_out.add(
                f"resenhet dim {dim}",
                Text(
                    gettext_noop("code %(c)s is longer than the 10 characters PAXml allows"), c=code
                ),
                number,
                day,
                element,
            )
            return None
        units.append((dim, code))
    return tuple(units)


def _write_events(writer, regs, company, emp_info, left_out, counts) -> None:
    """Project events (extra compensation per hour or day) as salary transactions with
    the event's salary type, for the registrations that earn them."""
    from projects.selectors import project_events_for_registrations

    projects = _event_projects(company)
    if not projects:
        return
    for line in project_events_for_registrations(
        registrations=regs.filter(project_id__in=projects)
    ):
        number = emp_info[line.employee.pk][0]
        units = _units(
            left_out,
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
        counts["event_transactions"] += 1
