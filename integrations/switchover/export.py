"""Steps 2 and 3: the test export of one employee and the export of all employees
from payroll into HR, page by page, with the count check."""

from __future__ import annotations

from django.utils.translation import gettext as _

from companies.models import Company
from employees.history_reasons import history_reason
from employees.models import (
    Employee,
    EmploymentTemplate,
)
from flexbridge.masking import mask_personal_identity_number
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import Job

from ..clients.payroll import PayrollClient, PayrollEmployee
from ..payroll_import import Registers, employees_import_page
from ..payroll_mapping import hr_employee_payload, payroll_view
from .hr_changes import _journal, _journal_registers
from .preflight import _payroll_employees
from .states import SwitchoverRefused, _client, _finish_step

# --- 2. test export ---------------------------------------------------------------------------


def switchover_test_export_run(*, job: Job, ctx: JobContext) -> None:
    company = job.company
    with _client(job) as client:
        number = job.parameters.get("employee_number")
        if not number:
            first = client.employees_page(page=1, page_size=1, include_ended=False).items
            if not first:
                raise SwitchoverRefused(_("The payroll system has no employees."))
            number = first[0].employee_number
        record = client.employee_get(employee_number=number)
    if record is None:
        ctx.error(JobMessage("switchover.no_employee", n=number), item=number)
        _finish_step(job=job, step="test_export", outcome="failed")
        return
    ctx.set_total(1)
    registers = Registers.load(company)
    outcome = employees_import_page(
        company=company,
        records=[record],
        registers=registers,
        template=_template(company, job.parameters.get("template")),
        change_reason=history_reason(
            "switchover_test_export", switchover=job.parameters["switchover"]
        ),
        user=job.started_by,
        journal=_journal(job.parameters["switchover"]),
    )
    _journal_registers(job.parameters["switchover"], registers)
    for warning in outcome.warnings:
        ctx.warning(warning[1], item=warning[0])
    if outcome.failed:
        for failed in outcome.failed:
            ctx.error(failed[1], item=failed[0])
        _finish_step(
            job=job, step="test_export", outcome="failed", report={"employee_number": number}
        )
        return
    employee = Employee.objects.select_related(
        "personnel_category", "employment_form", "template", "position"
    ).get(company=company, employee_number=number)
    hr = hr_employee_payload(employee)
    payroll = payroll_view(record)
    side_by_side = [
        {
            "field": name,
            "payroll": payroll.get(name),
            "hr": hr.get(name),
            "same": (payroll.get(name) or None) == (hr.get(name) or None),
        }
        for name in hr
    ]
    for row in side_by_side:
        if row["field"] == "personal_identity_number":
            row["payroll"] = mask_personal_identity_number(row["payroll"] or "")
            row["hr"] = mask_personal_identity_number(row["hr"] or "")
    ctx.info(JobMessage("switchover.awaiting_approval"), item=number)
    ctx.advance()
    _finish_step(
        job=job,
        step="test_export",
        outcome="awaiting_approval",
        report={"employee_number": number, "side_by_side": side_by_side},
        advance=False,
    )


def _template(company: Company, code: str | None) -> EmploymentTemplate | None:
    if not code:
        return None
    template = EmploymentTemplate.objects.filter(company=company, code=code).first()
    if template is None:
        raise SwitchoverRefused(_("There is no employment template %(code)s.") % {"code": code})
    return template


# --- 3. export all ----------------------------------------------------------------------------


def _selected(record: PayrollEmployee, selection: dict) -> bool:
    numbers = selection.get("employee_numbers")
    if numbers and record.employee_number not in numbers:
        return False
    forms = selection.get("employment_forms")
    if forms and record.employment_form not in forms:
        return False
    categories = selection.get("personnel_categories")
    return not (categories and record.personnel_category not in categories)


def count_check(*, company: Company, client: PayrollClient) -> dict:
    """The same number of employees on both sides, or the difference listed."""
    payroll_total = client.employees_page(page=1, page_size=1, include_ended=True).total
    hr_total = Employee.objects.filter(company=company).count()
    result = {"payroll": payroll_total, "hr": hr_total, "only_in_payroll": [], "only_in_hr": []}
    if payroll_total != hr_total:
        numbers = {p.employee_number for p in _payroll_employees(client)}
        hr_numbers = set(
            Employee.objects.filter(company=company).values_list("employee_number", flat=True)
        )
        result["only_in_payroll"] = sorted(numbers - hr_numbers)[:1000]
        result["only_in_hr"] = sorted(hr_numbers - numbers)[:1000]
    return result


def switchover_export_all_run(*, job: Job, ctx: JobContext) -> None:
    """Page by page, resumable: ``pages_done`` in the job's summary is where a restarted
    job carries on; each page's import is idempotent."""
    company = job.company
    page_size = int(job.parameters.get("page_size", 500))
    selection = job.parameters.get("selection") or {}
    template = _template(company, job.parameters.get("template"))
    registers = Registers.load(company)
    reason = history_reason("switchover_export", switchover=job.parameters["switchover"])
    with _client(job) as client:
        start = int(ctx.summary.get("pages_done", 0)) + 1
        for page in client.employees_iter(
            page_size=page_size, include_ended=True, start_page=start
        ):
            ctx.check_cancelled()
            if ctx.total != page.total:
                ctx.set_total(page.total)
            records = [r for r in page.items if _selected(r, selection)]
            outcome = employees_import_page(
                company=company,
                records=records,
                registers=registers,
                template=template,
                change_reason=reason,
                user=job.started_by,
                journal=_journal(job.parameters["switchover"]),
            )
            _journal_registers(job.parameters["switchover"], registers)
            for number, message in outcome.warnings:
                ctx.warning(message, item=number)
            for number, message in outcome.failed:
                ctx.error(message, item=number)
            ctx.count("created", outcome.created)
            ctx.count("updated", outcome.updated)
            ctx.count("unchanged", outcome.unchanged)
            ctx.count("failed", len(outcome.failed))
            ctx.count("skipped", len(page.items) - len(records))
            ctx.summary["pages_done"] = page.page
            ctx.advance(len(page.items))
            ctx.flush(force=True)
        for created in registers.created:
            ctx.warning(JobMessage("switchover.created_in_hr", what=created))
        counts = count_check(company=company, client=client)
    ctx.summary["count_check"] = {k: counts[k] for k in ("payroll", "hr")}
    if counts["payroll"] != counts["hr"]:
        ctx.error(
            JobMessage("switchover.count_mismatch", p=counts["payroll"], h=counts["hr"]),
            item="count",
        )
        for number in counts["only_in_payroll"][:200]:
            ctx.error(JobMessage("switchover.only_in_payroll"), item=number)
        for number in counts["only_in_hr"][:200]:
            ctx.error(JobMessage("switchover.only_in_hr"), item=number)
        outcome = "failed"
    else:
        ctx.info(JobMessage("switchover.count_check", count=counts["hr"]), item="count")
        outcome = "passed"
    _finish_step(
        job=job,
        step="export_all",
        outcome=outcome,
        report={
            "count_check": counts,
            "failed_items": ["count_check"] if outcome == "failed" else [],
        },
    )
