"""Whom and what the sync sends: the company's payroll link, whether an employee is in
the transfer, which synced fields changed."""

from __future__ import annotations

from companies.models import Company
from employees.models import Employee

from ..models import PayrollLink
from ..payroll_mapping import SYNCED_FIELDS


def payroll_link_for(*, company: Company | int) -> PayrollLink | None:
    company_id = company if isinstance(company, int) else company.pk
    return PayrollLink.objects.filter(company_id=company_id).first()


def employee_in_transfer(*, link: PayrollLink, employee: Employee) -> bool:
    """Whether HR sends this employee to payroll ("transfer employment data")."""
    mode = link.transfer_employment_data
    if mode == PayrollLink.TransferEmploymentData.ALL:
        return True
    if mode != PayrollLink.TransferEmploymentData.SELECTION:
        return False
    selection = link.selection or {}
    forms = selection.get("employment_forms")
    categories = selection.get("personnel_categories")
    if forms and (employee.employment_form is None or employee.employment_form.code not in forms):
        return False
    return not (categories and employee.personnel_category.code not in categories)


def payroll_sync_fields_changed(*, previous: Employee | None, employee: Employee) -> list[str]:
    """The synced fields that differ between two versions of an employee (all on create)."""
    if previous is None:
        return sorted(SYNCED_FIELDS)
    changed = []
    for name in SYNCED_FIELDS:
        if name == "employment_rates":
            continue
        attname = Employee._meta.get_field(name).attname
        if getattr(previous, attname) != getattr(employee, attname):
            changed.append(name)
    return changed
