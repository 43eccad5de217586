"""Helpers that set up a company for PAXml tests through the apps' own services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from employees.services import employee_create
from projects.models import AccountingDimension, AccountingDimensionValue, WorkSchedule
from projects.models.accounting import SIE_COST_CENTER
from projects.services import project_create


def employee(company, number: str, *, start=dt.date(2000, 1, 1), pay_form="monthly", **fields):
    fields.setdefault("first_name", f"First{number}")
    fields.setdefault("last_name", f"Last{number}")
    return employee_create(
        company=company,
        employee_number=number,
        employment_start_date=start,
        pay_form=pay_form,
        **fields,
    )


def cost_centre(company, code: str, name: str = ""):
    dimension = AccountingDimension.objects.get(company=company, sie_number=SIE_COST_CENTER)
    return AccountingDimensionValue.objects.create(
        company=company, dimension=dimension, code=code, name=name or f"KST {code}"
    )


def project(company, code: str, **fields):
    fields.setdefault("name", f"Project {code}")
    return project_create(company=company, code=code, **fields)


def week_schedule(emp, hours: str = "8", valid_from=dt.date(2000, 1, 1)):
    value = Decimal(hours)
    return WorkSchedule.objects.create(
        employee=emp,
        valid_from=valid_from,
        monday=value,
        tuesday=value,
        wednesday=value,
        thursday=value,
        friday=value,
    )
