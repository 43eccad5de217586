"""The register's events in: a change to a synced field of an employee in the transfer
becomes an outbox row (:class:`PayrollSyncChange`) in the caller's transaction, and the
job is scheduled after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from employees.models import Employee

from ..models import PayrollSyncChange
from ..payroll_mapping import SYNCED_FIELDS
from .scheduling import payroll_sync_schedule
from .selection import employee_in_transfer, payroll_link_for, payroll_sync_fields_changed


def payroll_sync_enqueue(*, employee: Employee, fields: Iterable[str]) -> PayrollSyncChange | None:
    """Record a change for the payroll sync; the job runs after the transaction commits.

    Nothing is recorded when payroll is master, the employee is outside the transfer
    selection, or no synced field changed.
    """
    fields = sorted(set(fields) & set(SYNCED_FIELDS))
    if not fields:
        return None
    link = payroll_link_for(company=employee.company_id)
    if link is None or not link.hr_is_master:
        return None
    if not employee_in_transfer(link=link, employee=employee):
        return None
    change = PayrollSyncChange.objects.create(
        company_id=employee.company_id, employee=employee, fields=fields
    )
    company_id = employee.company_id
    transaction.on_commit(lambda: payroll_sync_schedule(company_id=company_id))
    return change


def payroll_sync_on_employee_saved(sender, *, employee: Employee, previous, **kwargs) -> None:
    """Receiver of ``employees.events.employee_saved``: record the synced fields that changed."""
    payroll_sync_enqueue(
        employee=employee,
        fields=payroll_sync_fields_changed(previous=previous, employee=employee),
    )


def payroll_sync_on_dated_value_changed(
    sender, *, employee: Employee, field: str, **kwargs
) -> None:
    """Receiver of ``employees.events.employee_dated_value_changed`` (employment rates)."""
    payroll_sync_enqueue(employee=employee, fields=[field])
