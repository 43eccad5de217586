"""Dated values of an employee: employment rates, monthly salaries and hourly wages."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from .. import events
from ..models import DatedValue, Employee, EmploymentRate, HourlyWage, MonthlySalary
from .checks import _refuse


def _dated_set(
    model: type[DatedValue], field: str, employee: Employee, valid_from, value, user
) -> Any:
    """Set ``field`` of the employee's row of ``model`` from ``valid_from`` (created when
    missing) and publish the change."""
    if valid_from in (None, ""):
        _refuse("valid_from", _("Enter the date the value applies from."), "required")
    row = model.objects.filter(employee=employee, valid_from=valid_from).first()
    if row is None:
        row = model(employee=employee, valid_from=valid_from)
    setattr(row, field, value)
    if user is not None:
        row._history_user = user
    row.full_clean()
    row.save()
    _dated_value_changed(row)
    return row


def _dated_value_changed(row: Any) -> None:
    """Publish that one of the employee's dated values was set or deleted (events.py)."""
    events.employee_dated_value_changed.send(
        sender=type(row), employee=row.employee, field=type(row)._meta.default_related_name
    )


@transaction.atomic
def employment_rate_set(
    *, employee: Employee, valid_from: datetime.date, rate_percent: Decimal, user=None
) -> EmploymentRate:
    """Set the employment rate from a date (start date required: payroll needs it)."""
    return _dated_set(EmploymentRate, "rate_percent", employee, valid_from, rate_percent, user)


@transaction.atomic
def monthly_salary_set(
    *, employee: Employee, valid_from: datetime.date, amount: Decimal, user=None
) -> MonthlySalary:
    return _dated_set(MonthlySalary, "amount", employee, valid_from, amount, user)


@transaction.atomic
def hourly_wage_set(
    *, employee: Employee, valid_from: datetime.date, amount: Decimal, user=None
) -> HourlyWage:
    return _dated_set(HourlyWage, "amount", employee, valid_from, amount, user)


@transaction.atomic
def dated_value_delete(*, row: DatedValue, user=None) -> None:
    """Remove a dated row (employment rate, monthly salary, hourly wage); the history keeps it."""
    if user is not None:
        row._history_user = user
    row.delete()
    _dated_value_changed(row)
