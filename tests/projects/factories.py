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


def use_billing(company, **fields) -> None:
    """Switch on "use billing of time" (Settings > Billing) for the company."""
    from projects.models import ProjectRegisterSettings

    ProjectRegisterSettings.objects.update_or_create(
        company=company, defaults={"billing_time": True, **fields}
    )


def reviewer(company, project, *, role: str = "project_reviewer", **user_fields):
    """A user with ``role`` in the company who is a reviewer of ``project`` (``username``,
    ``password`` ... go to the user)."""
    from companies.models import Role
    from projects.models import ProjectReviewer
    from tests.factories import MembershipFactory

    kwargs = {f"user__{name}": value for name, value in user_fields.items()}
    membership = MembershipFactory(company=company, role=Role.objects.get(code=role), **kwargs)
    ProjectReviewer.objects.create(project=project, user=membership.user)
    return membership.user


def approve(*registrations, user=None):
    """Approve the registrations as a reviewer of their projects (made when not given)."""
    from projects.models import TimeRegistration
    from projects.services import time_registrations_review

    first = registrations[0]
    user = user or reviewer(first.company, first.project)
    return time_registrations_review(
        user=user,
        registrations=TimeRegistration.objects.filter(pk__in=[r.pk for r in registrations]),
        approve=True,
    )
