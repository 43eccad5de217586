"""The payroll number check: the integrations app registers the question "may this
employee number change now?" (the register imports no integration code)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from ..models import Employee

PayrollNumberCheck = Callable[..., "str | None"]
_payroll_number_checks: list[PayrollNumberCheck] = []


def payroll_number_check_register(func: PayrollNumberCheck) -> PayrollNumberCheck:
    """Register ``func(*, employee, new_number) -> str | None``.

    It returns a refusal message when the employee number may not be changed yet — when
    the payroll system is master-linked, the number must be changed there first. With no
    check registered every change is allowed.
    """
    if func not in _payroll_number_checks:
        _payroll_number_checks.append(func)
    return func


def payroll_number_check_unregister(func: PayrollNumberCheck) -> None:
    if func in _payroll_number_checks:
        _payroll_number_checks.remove(func)


def payroll_number_check(*, employee: Employee, new_number: str) -> None:
    """Raise a field error on ``employee_number`` when a registered check refuses."""
    for check in _payroll_number_checks:
        refusal = check(employee=employee, new_number=new_number)
        if refusal:
            raise ValidationError(
                {"employee_number": ValidationError(refusal, code="payroll_refused")}
            )
