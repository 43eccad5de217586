"""Fixtures shared by the payroll tests: a payroll sandbox served over real HTTP, a company
whose HR registers match it, and its payroll link.

Imported by ``test_payroll_*``, ``test_switchover*`` and ``test_sync*``.
"""

from __future__ import annotations

import pytest

from employees.models import EmploymentForm, EmploymentTemplate, PersonnelCategory, Position
from integrations.models import PayrollLink
from integrations.sandboxes.payroll import POSITIONS, PayrollSandbox


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


@pytest.fixture
def fast_client(settings):
    settings.PAYROLL_CLIENT_BACKOFF = 0.01
    settings.PAYROLL_CLIENT_TIMEOUT = 1.0
    settings.PAYROLL_CLIENT_MAX_ATTEMPTS = 4


@pytest.fixture
def sandbox():
    return PayrollSandbox(differences=False, employees=12)


@pytest.fixture
def served(sandbox, fast_client):
    with sandbox.serving() as url:
        yield url


@pytest.fixture
def link(company, served, sandbox):
    match_hr_registers(company, sandbox)
    return PayrollLink.objects.create(
        company=company, base_url=served, api_token="sandbox-token", is_sandbox=True
    )


def puts(sandbox, path_prefix="/v1/employees/"):
    """The writes the sandbox accepted under a path prefix."""
    return [
        r for r in sandbox.requests if r["method"] == "PUT" and r["path"].startswith(path_prefix)
    ]


@pytest.fixture(autouse=True)
def english():
    """Assertions read the English messages; the catalogue may translate them."""
    from django.utils import translation

    with translation.override("en"):
        yield
