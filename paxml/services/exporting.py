"""Export of payroll input (LÖNIN) for a period as one PAXml file, streamed.

The seed's rules (``paxml-for-fortnox-lon.sv.md``):

* **monthly-paid** employees: only deviations (sick leave, child care, vacation, overtime,
  allowances …), never worked time — their schedule and salary live in payroll. Worked
  time is a registration whose PAXml code is ``TID``, ``ARB`` or ``SCH``.
* **hourly-paid** employees: all worked time, and for every day with an absence a
  schedule transaction with the same hours.
* amounts only where set (salary transactions); cost centre (dim 1) and project (dim 6) on
  every transaction; expenses carry their expense code in ``varugrupp``.
* registrations on projects marked "never transfer to downstream system" (or below one)
  are left out, and the log says how many.

Before anything is written the same semantic checks as on import run: nothing outside the
employment period, a PAXml code on every exported time code, cost-centre and project codes
that fit ``resenhet/@id`` (10 characters). Any error: no file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from companies.models import Company
from employees.models import Employee, PayForm
from integrations.messages import summary_label

from .. import codes
from ..models import PaxmlFile, SalaryCode
from ..models import SalaryTransaction as SalaryRow
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
from .importing import PaxmlLicenseError

WORKED_TIME_CODES = frozenset({"TID", "ARB", "SCH"})
UNIT_ID_MAX = 10
PROGRAM_NAME = "flexbridge"


@dataclass
class ExportResult:
    ok: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    file: PaxmlFile | None = None

    def summary(self) -> str:
        parts = [f"{summary_label(key)} {value}" for key, value in self.counts.items() if value]
        state = _("exported") if self.ok else _("not exported")
        text = f"{state}: {', '.join(parts) or _('nothing to export')}"
        if self.problems:
            text += "; " + ngettext("%(n)s problem", "%(n)s problems", len(self.problems)) % {
                "n": len(self.problems)
            }
        return text


def _excluded_projects(company: Company) -> set[int]:
    from projects.models import Project

    roots = Project.objects.filter(company=company, never_transfer=True).values_list(
        "path", flat=True
    )
    query = Q()
    for path in roots:
        query |= Q(path__startswith=path)
    if not query:
        return set()
    return set(Project.objects.filter(query, company=company).values_list("id", flat=True))


def paxml_export_run(
    *,
    company: Company,
    date_from: dt.date,
    date_to: dt.date,
    out: BinaryIO,
    employee_numbers: list[str] | None = None,
    profile: str = "standard",
    encoding: str = "iso-8859-1",
    job=None,
    progress=None,
) -> ExportResult:
    """Write the period's transactions to ``out``; see the module docstring."""
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
    excluded = _excluded_projects(company)
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
                    message=_("registration outside the employment period: %(d)s") % {"d": day},
                )
            )

    outside(regs, "date", "tidtrans")
    outside(salaries, "period_date", "lonetrans")
    for code, name in (
        regs.filter(time_code__paxml_code="")
        .exclude(project_id__in=excluded)
        .values_list("time_code__code", "time_code__name")
        .distinct()
    ):
        result.problems.append(
            Problem(
                line=0,
                element="tidtrans",
                field="tidkod",
                message=_("time code %(c)s (%(n)s) has no PAXml code") % {"c": code, "n": name},
            )
        )
    for label, values in (
        ("dim 1", regs.exclude(cost_center=None).values_list("cost_center__code", flat=True)),
        ("dim 6", regs.exclude(project=None).values_list("project__code", flat=True)),
    ):
        for code in set(values.distinct()):
            if len(code) > UNIT_ID_MAX:
                result.problems.append(
                    Problem(
                        line=0,
                        element="resenhet",
                        field=label,
                        message=_("code %(c)s is longer than the 10 characters PAXml allows")
                        % {"c": code},
                    )
                )
    if result.problems:
        return result

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
                    "project_id",
                    "project__code",
                    "paxml_source__postid",
                    "pk",
                )
                .iterator(chunk_size=5000)
            )
            for emp_id, day, hours, code, kind, cc, project_id, project, postid, pk in rows:
                if project_id is not None and project_id in excluded:
                    counts["left_out_never_transfer"] += 1
                    continue
                if not code:
                    continue
                number, _pin, pay_form, _start, _end = emp_info[emp_id]
                if pay_form == PayForm.MONTHLY and code in WORKED_TIME_CODES:
                    counts["left_out_worked_time_monthly"] += 1
                    continue
                if pay_form == PayForm.HOURLY and kind == "absence":
                    deviation_days[emp_id][day] += hours
                units = []
                if cc:
                    units.append((COST_CENTRE_DIM, cc))
                if project:
                    units.append((PROJECT_DIM, project))
                writer.write(
                    TimeTransaction(
                        anstid=number,
                        postid=postid if postid is not None else pk,
                        tidkod=code,
                        datum=day,
                        timmar=hours,
                        resenheter=tuple(units),
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
                if row.project_id is not None and row.project_id in excluded:
                    counts["left_out_never_transfer"] += 1
                    continue
                units = []
                if row.cost_center is not None:
                    units.append((COST_CENTRE_DIM, row.cost_center.code))
                if row.project is not None:
                    units.append((PROJECT_DIM, row.project.code))
                if row.salary_code in expense_codes and not row.product_group:
                    result.warnings.append(
                        _("expense without expense code (varugrupp) for employee %(n)s")
                        % {"n": emp_info[row.employee_id][0]}
                    )
                writer.write(
                    SalaryTransaction(
                        anstid=emp_info[row.employee_id][0],
                        postid=row.postid if row.postid is not None else row.pk,
                        lonkod=row.salary_code,
                        lonart=row.salary_type,
                        benamning=row.name,
                        kommentar=row.comment,
                        datum=row.date,
                        datumfrom=row.date_from.replace(tzinfo=None) if row.date_from else None,
                        datumtom=row.date_to.replace(tzinfo=None) if row.date_to else None,
                        antal=row.quantity,
                        apris=row.unit_price,
                        belopp=row.amount,
                        varugrupp=row.product_group,
                        moms=row.vat,
                        kontonr=row.account,
                        kundnr=row.customer,
                        resenheter=tuple(units),
                    )
                )
                counts["salary_transactions"] += 1
        if deviation_days:
            with writer.section("schematransaktioner"):
                for emp_id, per_day in deviation_days.items():
                    writer.write_schedule(
                        anstid=emp_info[emp_id][0],
                        days=[(day, hours) for day, hours in sorted(per_day.items())],
                    )
                    counts["schedule_days"] += len(per_day)
        writer.write_profile_codes()
    if writer.deviating_codes:
        result.warnings.append(
            _(
                "Profile %(p)s wrote %(c)s, which the PAXml 2.0 XSD does not list: Fortnox "
                "Lön reads them, the validator on paxml.se will not."
            )
            % {"p": profile_obj.label, "c": ", ".join(sorted(writer.deviating_codes))}
        )
    if counts.get("left_out_never_transfer"):
        result.warnings.append(
            _("%(n)s rows on projects marked 'never transfer' were left out.")
            % {"n": counts["left_out_never_transfer"]}
        )
    result.counts = dict(counts)
    result.ok = True
    return result
