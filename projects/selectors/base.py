"""What the selector modules share: the money steps, the lazy model lookups and the
employee-and-period filter of the registration reads."""

from __future__ import annotations

from decimal import Decimal

from django.apps import apps

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _model(name: str):
    return apps.get_model("projects", name)


def _dec(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)


def _model_employee():
    return apps.get_model("employees", "Employee")


def _registrations_of(registrations, *, employee=None, date_from=None, date_to=None):
    """``registrations`` of one employee and within a period, each only when given."""
    if employee is not None:
        registrations = registrations.filter(employee=employee)
    if date_from is not None:
        registrations = registrations.filter(date__gte=date_from)
    if date_to is not None:
        registrations = registrations.filter(date__lte=date_to)
    return registrations
