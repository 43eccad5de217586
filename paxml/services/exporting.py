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

The steps: select the rows, the checks that refuse the export and those that leave rows
out (``export_checks``), then one writer per section (``export_write``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from companies.models import Company
from employees.models import Employee
from projects.models import TimeRegistration

from .. import codes
from ..messages import Text
from ..models import PaxmlFile
from ..models import SalaryTransaction as SalaryRow
from ..personnel import personnel_queryset, personnel_write
from ..validation import Problem
from ..writer import PaxmlWriter
from .export_checks import LeftOut, export_problems, leave_out_out_of_bounds
from .export_write import (
    WORKED_TIME_CODES,
    ExportRows,
    event_postid,
    write_header,
    write_salaries,
    write_schedule,
    write_time,
)
from .importing import PaxmlLicenseError

__all__ = ["WORKED_TIME_CODES", "ExportResult", "event_postid", "paxml_export_run"]


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


def paxml_export_run(
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
    employees' register too); see the module docstring."""
    if not getattr(getattr(company, "license", None), "paxml", False):
        raise PaxmlLicenseError(_("PAXml is not licensed for %(c)s.") % {"c": company.name})
    profile_obj = codes.profile_get(profile)
    result = ExportResult()
    rows = _export_rows(company, date_from, date_to, employee_numbers, result, progress)
    result.problems.extend(export_problems(rows.regs, rows.salaries))
    if result.problems:
        return result
    rows.regs, rows.salaries = leave_out_out_of_bounds(rows.left_out, rows.regs, rows.salaries)
    # One transaction for the reading: in it the server-side cursors stream; outside one
    # (autocommit) Django declares them WITH HOLD, and the server builds a cursor's whole
    # result (a million sorted rows) before the first row comes.
    with transaction.atomic(), PaxmlWriter(out, encoding=encoding, profile=profile_obj) as writer:
        write_header(writer, company)
        write_time(writer, rows)
        write_salaries(writer, rows)
        write_schedule(writer, rows)
        if personnel:
            rows.counts["persons"] = personnel_write(
                writer, personnel_queryset(Employee.objects.filter(pk__in=list(rows.emp_info)))
            )
        writer.write_profile_codes()
    _export_finish(result, rows, writer, profile_obj)
    return result


def _export_rows(company, date_from, date_to, employee_numbers, result, progress) -> ExportRows:
    """The selected employees and their registrations and salary transactions in the
    period."""
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
    return ExportRows(
        company=company,
        emp_info=emp_info,
        regs=TimeRegistration.objects.filter(
            company=company, date__gte=date_from, date__lte=date_to, employee_id__in=list(emp_info)
        ),
        salaries=SalaryRow.objects.filter(
            company=company,
            period_date__gte=date_from,
            period_date__lte=date_to,
            employee_id__in=list(emp_info),
        ),
        left_out=LeftOut(result.problems),
        progress=progress,
    )


def _export_finish(result: ExportResult, rows: ExportRows, writer, profile_obj) -> None:
    """Warnings (expenses without expense code, codes the XSD does not list), the rows
    left out named, the counts."""
    result.warning_texts.extend(rows.warnings)
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
    rows.left_out.finish()
    if rows.left_out.count:
        rows.counts["left_out_rows"] = rows.left_out.count
    result.counts = dict(rows.counts)
    result.ok = True
