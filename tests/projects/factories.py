"""factory_boy factories of the project register. Projects go through ``project_create``
(it keeps the tree's path and level right)."""

import datetime
from decimal import Decimal

import factory

from projects.models import (
    AccountingDimension,
    AccountingDimensionValue,
    TimeCode,
)
from projects.models.accounting import SIE_COST_CENTER
from projects.services import project_create, time_registration_create
from tests.factories import CompanyFactory


class TimeCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeCode
        django_get_or_create = ("company", "code")

    company = factory.SubFactory(CompanyFactory)
    code = "ARB"
    name = "Arbetad tid"
    kind = TimeCode.Kind.ATTENDANCE
    paxml_code = "ARB"
    salary_type_code = "100"


def dimension(company, sie_number: int = SIE_COST_CENTER, **fields) -> AccountingDimension:
    """The company's dimension with that SIE number (created for free dimensions)."""
    fields.setdefault("code", f"d{sie_number}")
    fields.setdefault("name", f"Dimension {sie_number}")
    found, _created = AccountingDimension.objects.get_or_create(
        company=company, sie_number=sie_number, defaults=fields
    )
    return found


class DimensionValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountingDimensionValue

    company = factory.SubFactory(CompanyFactory)
    dimension = factory.LazyAttribute(lambda o: dimension(o.company))
    code = factory.Sequence(lambda n: f"{100 + n}")
    name = factory.Sequence(lambda n: f"Value {n}")


def make_project(company, code: str, *, parent=None, **fields):
    fields.setdefault("name", f"Project {code}")
    return project_create(company=company, code=code, parent=parent, **fields)


def make_tree(company, **leaf_fields):
    """``BS`` > ``BS.HR`` > ``BS.HR.Bem`` and ``BS.HR.Rek``; returns the four."""
    main = make_project(company, "BS", registrable=False)
    sub = make_project(company, "HR", parent=main, registrable=False)
    bem = make_project(company, "Bem", parent=sub, **leaf_fields)
    rek = make_project(company, "Rek", parent=sub, **leaf_fields)
    return main, sub, bem, rek


def register(employee, project=None, hours="8", day=datetime.date(2025, 3, 3), **kwargs):
    kwargs.setdefault("time_code", TimeCodeFactory(company=employee.company))
    return time_registration_create(
        employee=employee, date=day, hours=Decimal(hours), project=project, **kwargs
    )
