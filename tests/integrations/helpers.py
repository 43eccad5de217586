"""Helpers of the payroll, switchover, sync and Kivra tests (their fixtures are in
``conftest.py``)."""

from __future__ import annotations

import copy

from stdnum import luhn

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


# --- Kivra -----------------------------------------------------------------------------------


def kivra_ssn(n: int) -> str:
    """A valid personal identity number (born 1985-01-01), the ``n``-th of the series."""
    body = f"850101{n:03d}"
    return "19" + body + luhn.calc_check_digit(body)


def kivra_salaryslip(net="27690.00") -> dict:
    """A salaryslip as Kivra's schema takes it, with the fields every payslip has."""
    money = lambda v: {"monetary_amount": v, "currency": "SEK"}  # noqa: E731
    return {
        "document_metadata": {
            "creation_timestamp": "2026-01-31T10:00:00Z",
            "source_system": "flexbridge",
        },
        "employment": {
            "employer": {
                "legal_name": "Acme AB",
                "legal_identifiers": {"vat_number": "SE556036079301", "org_number": "556036-0793"},
                "contact_information": {
                    "address": {
                        "street_address": "Storgatan 1",
                        "postal_code": "111 22",
                        "city": "Stockholm",
                        "country": "Sweden",
                    },
                    "email_address": "hr@acme.example",
                    "telephone_number": "+46 8-123 456",
                },
            }
        },
        "pay_period": {
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "payout_date": "2026-01-25",
            "gross_pay": money("35500.00"),
            "tax_deducted": money("7810.00"),
            "net_pay": money(net),
        },
    }


def single_damages(value, replacements: tuple, path=()):
    """Every single-step damage to a JSON document: each key removed, each value replaced
    by each of ``replacements`` (values of other types, odd strings), an extra key in every
    object, every list emptied. Yields ``(path, (action, replacement))``."""
    if isinstance(value, dict):
        yield path, ("add", None)
        for key, child in value.items():
            yield (*path, key), ("delete", None)
            yield from single_damages(child, replacements, (*path, key))
    elif isinstance(value, list):
        yield path, ("set", [])
        for index, child in enumerate(value):
            yield from single_damages(child, replacements, (*path, index))
    for replacement in replacements:
        if replacement != value:
            yield path, ("set", replacement)


def damage_apply(document, path, change):
    """A copy of ``document`` with one damage of :func:`single_damages` applied."""
    action, replacement = change
    if not path:
        return replacement if action == "set" else {**document, "unexpected_key": "x"}
    damaged = copy.deepcopy(document)
    parent = damaged
    for step in path[:-1]:
        parent = parent[step]
    if action == "delete":
        del parent[path[-1]]
    elif action == "add":
        if isinstance(parent[path[-1]], dict):
            parent[path[-1]]["unexpected_key"] = "x"
    else:
        parent[path[-1]] = replacement
    return damaged
