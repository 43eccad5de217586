"""Writes of the accounting registers and employees' home accounting."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ..models import AccountingDimension, AccountingDimensionValue, HomeAccounting
from ..models.accounting import SIE_COST_CENTER


@transaction.atomic
def dimension_value_create(
    *,
    dimension: AccountingDimension,
    code: str,
    name: str,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> AccountingDimensionValue:
    value = AccountingDimensionValue(
        company_id=dimension.company_id,
        dimension=dimension,
        code=code,
        name=name,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    value.full_clean()
    value.save()
    return value


def cost_center_create(*, company, code: str, name: str, **fields) -> AccountingDimensionValue:
    dimension = AccountingDimension.objects.get(company=company, sie_number=SIE_COST_CENTER)
    return dimension_value_create(dimension=dimension, code=code, name=name, **fields)


@transaction.atomic
def home_accounting_set(
    *, employee, valid_from: dt.date, cost_center=None, project=None
) -> HomeAccounting:
    """The employee's home accounting from ``valid_from`` (replaces a row of that day)."""
    row = HomeAccounting.objects.filter(employee=employee, valid_from=valid_from).first()
    row = row or HomeAccounting(employee=employee, valid_from=valid_from)
    row.cost_center = cost_center
    row.project = project
    row.full_clean(validate_unique=False)
    row.save()
    return row


@transaction.atomic
def home_accounting_delete(*, row: HomeAccounting) -> None:
    row.delete()
