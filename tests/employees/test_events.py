"""The register publishes its changes as events; it calls none of the apps that listen."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from employees import events, selectors, services
from employees.models import EmploymentRate, MonthlySalary
from tests.employees.factories import EmployeeFactory, pin_for
from tests.payslips.factories import KivraLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """What the two events carried, and whether each came inside the writing transaction."""
    calls = []

    def saved(sender, *, employee, previous, **kwargs):
        calls.append(("saved", employee.pk, previous, connection.in_atomic_block))

    def dated(sender, *, employee, field, **kwargs):
        calls.append(("dated", employee.pk, field, connection.in_atomic_block))

    events.employee_saved.connect(saved, dispatch_uid="test.saved")
    events.employee_dated_value_changed.connect(dated, dispatch_uid="test.dated")
    yield calls
    events.employee_saved.disconnect(dispatch_uid="test.saved")
    events.employee_dated_value_changed.disconnect(dispatch_uid="test.dated")


def test_create_and_update_publish_employee_saved_with_the_previous_row(company, heard):
    employee = services.employee_create(
        company=company,
        employee_number="501",
        personal_identity_number=pin_for(501),
        first_name="Ada",
        last_name="Berg",
        employment_start_date=datetime.date(2026, 1, 1),
    )
    assert heard == [("saved", employee.pk, None, True)]
    heard.clear()
    services.employee_update(employee=employee, data={"city": "Umeå"})
    [(kind, pk, previous, in_transaction)] = heard
    assert (kind, pk, in_transaction) == ("saved", employee.pk, True)
    assert previous.pk == employee.pk and previous.city != "Umeå"


def test_dated_values_publish_their_list(company, heard):
    employee = EmployeeFactory(company=company)
    heard.clear()
    day = datetime.date(2026, 1, 1)
    rate = services.employment_rate_set(employee=employee, valid_from=day, rate_percent=80)
    services.monthly_salary_set(employee=employee, valid_from=day, amount=Decimal("30000"))
    services.dated_value_delete(row=EmploymentRate.objects.get(pk=rate.pk))
    assert heard == [
        ("dated", employee.pk, "employment_rates", True),
        ("dated", employee.pk, "monthly_salaries", True),
        ("dated", employee.pk, "employment_rates", True),
    ]
    assert MonthlySalary.objects.filter(employee=employee).count() == 1


def test_the_payroll_sync_listens_to_both_events():
    from integrations import payroll_sync

    # Each entry is (lookup key, weak reference to the receiver, ...).
    saved = [entry[1]() for entry in events.employee_saved.receivers]
    dated = [entry[1]() for entry in events.employee_dated_value_changed.receivers]
    assert payroll_sync.payroll_sync_on_employee_saved in saved
    assert payroll_sync.payroll_sync_on_dated_value_changed in dated


def test_print_handling_is_answered_by_the_kivra_link(company):
    assert selectors.kivra_print_handling_available(company=company) is False
    link = KivraLinkFactory(company=company, print_handling=True)
    assert selectors.kivra_print_handling_available(company=company) is True
    assert selectors.kivra_print_handling_available(company=company.pk) is True
    link.active = False
    link.save()
    assert selectors.kivra_print_handling_available(company=company) is False
