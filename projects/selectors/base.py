"""What the selector modules share: the money steps and the lazy model lookups."""

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
