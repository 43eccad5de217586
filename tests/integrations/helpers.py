"""Helpers of the payroll, switchover and sync tests (their fixtures are in ``conftest.py``)."""

from __future__ import annotations

from employees.models import EmploymentForm, EmploymentTemplate, PersonnelCategory, Position
from integrations import switchover as sw
from integrations.models import Switchover
from integrations.payroll_backend import PaxmlFileBackend
from integrations.sandboxes.payroll import POSITIONS, PayrollSandbox
from jobs.models import Job
from jobs.runner import job_execute
from projects.models import AccountingDimension, AccountingDimensionValue, HomeAccounting


def match_hr_registers(company, sandbox: PayrollSandbox) -> None:
    """Give HR exactly the payroll sandbox's registers (the 'all green' starting point)."""
    company.name_order = "first_last"
    company.save(update_fields=["name_order"])
    for category in sandbox.categories:
        PersonnelCategory.objects.update_or_create(
            company=company, code=category["code"], defaults={"name": category["name"]}
        )
    for form in sandbox.forms:
        EmploymentForm.objects.update_or_create(
            company=company, code=form["code"], defaults={"name": form["name"]}
        )
    for number, title in enumerate(POSITIONS, start=1):
        Position.objects.update_or_create(
            company=company, code=f"P{number}", defaults={"title": title}
        )
    payroll_templates = {t["code"] for t in sandbox.templates}
    for template in EmploymentTemplate.objects.filter(company=company):
        if template.code not in payroll_templates:
            sandbox.templates.append(
                {
                    "code": template.code,
                    "name": template.name,
                    "personnel_category": "STD",
                    "employment_form": "TV",
                }
            )
    for template in list(sandbox.templates):
        EmploymentTemplate.objects.update_or_create(
            company=company, code=template["code"], defaults={"name": template["name"]}
        )


def puts(sandbox, path_prefix="/v1/employees/"):
    """The writes the sandbox accepted under a path prefix."""
    return [
        r for r in sandbox.requests if r["method"] == "PUT" and r["path"].startswith(path_prefix)
    ]


def run(user, company, step, **parameters) -> Job:
    """Start a switchover step and run its job here when no worker took it."""
    job = sw.switchover_step_start(user=user, company=company, step=step, parameters=parameters)
    job.refresh_from_db()
    if not job.is_finished:
        job = job_execute(job_id=job.pk)
    return job


def current(company) -> Switchover:
    return sw.switchover_current(company=company)


def items(company) -> dict:
    """The preflight report's items by key."""
    return {i["key"]: i for i in current(company).results["preflight"]["items"]}


def personnel_file(payroll: PayrollSandbox) -> bytes:
    """A file-based payroll system's personnel export of what ``payroll`` holds."""
    backend = PaxmlFileBackend()
    for record in payroll.employees.values():
        backend.employee_upsert(employee_number=record["employee_number"], data=record)
    return backend.render(company_name="Payroll AB")


def home_accounting(company, e, valid_from, cost_center_code):
    """Employee ``e``'s home accounting on cost centre ``cost_center_code`` from ``valid_from``."""
    dimension = AccountingDimension.objects.filter(company=company, sie_number=1).first()
    if dimension is None:
        dimension = AccountingDimension.objects.create(company=company, sie_number=1, name="KST")
    value, _ = AccountingDimensionValue.objects.get_or_create(
        company=company,
        dimension=dimension,
        code=cost_center_code,
        defaults={"name": cost_center_code},
    )
    return HomeAccounting.objects.create(employee=e, valid_from=valid_from, cost_center=value)
