"""Employee numbers: payroll first, then HR."""

from __future__ import annotations

from django.utils.translation import gettext as _

from employees.models import Employee
from employees.services import employee_change_number

from ..clients.base import OutsideSystemError
from ..models import PayrollLink
from ..payroll_backend import PayrollLinkMissing, payroll_client_for
from .selection import payroll_link_for


def payroll_number_check(*, employee: Employee, new_number: str) -> str | None:
    """Registered with ``employees.services.payroll_number_check_register``: refuse the HR
    change while payroll does not have the new number yet (the seed: payroll first)."""
    link = payroll_link_for(company=employee.company_id)
    if link is None or not link.hr_is_master or link.variant != PayrollLink.Variant.WEB_SERVICE:
        return None
    try:
        with payroll_client_for(link=link) as client:
            found = client.employee_get(employee_number=new_number)
    except (OutsideSystemError, PayrollLinkMissing) as exc:
        return _("The payroll system could not be asked about the new number: %(error)s") % {
            "error": exc
        }
    if found is None:
        return _(
            "Change the number in the payroll system first: it has no employee %(number)s yet."
        ) % {"number": new_number}
    return None


def payroll_employee_change_number(*, employee: Employee, new_number: str, user=None) -> Employee:
    """The seed's order in one call: change the number in payroll, then in HR."""
    link = payroll_link_for(company=employee.company_id)
    if link is not None and link.variant == PayrollLink.Variant.WEB_SERVICE and link.base_url:
        with payroll_client_for(link=link) as client:
            if client.employee_get(employee_number=new_number) is None:
                client.employee_change_number(
                    employee_number=employee.employee_number, new_employee_number=new_number
                )
    return employee_change_number(employee=employee, new_number=new_number, user=user)
