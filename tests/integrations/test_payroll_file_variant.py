"""The file-based variant (PAXml only payroll systems): the same employee records in and out
through the PAXml module."""

from __future__ import annotations

import pytest

from integrations.payroll_backend import PaxmlFileBackend
from integrations.payroll_import import Registers, employees_import_page
from integrations.sandboxes.payroll import PayrollSandbox
from tests.integrations.helpers import match_hr_registers

pytestmark = pytest.mark.django_db


def test_round_trip_through_paxml(company):
    sandbox = PayrollSandbox(differences=False, employees=5)
    out = PaxmlFileBackend()
    for record in sandbox.employees.values():
        out.employee_upsert(employee_number=record["employee_number"], data=record)
    content = out.render(company_name=company.name, organisation_number="5561000001")
    assert b"<personal>" in content and b'anstid="1001"' in content

    page = PaxmlFileBackend(content=content).employees_page(page=1, page_size=3)
    assert page.total == 5 and page.has_more
    first = page.items[0]
    original = sandbox.employees["1001"]
    assert (first.employee_number, first.first_name, first.last_name) == (
        "1001",
        original["first_name"],
        original["last_name"],
    )
    assert first.email == original["email"]
    assert first.employment_rates[0]["percent"] == "100.00"

    match_hr_registers(company, sandbox)
    outcome = employees_import_page(
        company=company, records=page.items, registers=Registers.load(company)
    )
    assert outcome.created == 3 and not outcome.failed, outcome.failed
