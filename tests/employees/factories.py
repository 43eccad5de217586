"""factory_boy factories of the employee register.

``EmployeeFactory(company=...)`` gives a valid employee with a unique number and a valid,
unique personal identity number; pass ``personal_identity_number=""`` for none.
"""

import datetime
import random
from decimal import Decimal

import factory
from stdnum import luhn

from employees.models import (
    Employee,
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    HourlyWage,
    MonthlySalary,
    PayForm,
    PersonnelCategory,
    Position,
)
from tests.factories import CompanyFactory


def pin_for(n: int, *, coordination: bool = False) -> str:
    """A valid 12-digit personnummer (or samordningsnummer) for sequence number ``n``."""
    rng = random.Random(n)
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 50))
    day = birth.day + (60 if coordination else 0)
    serial = f"{n % 1000:03d}"
    body = f"{birth:%y%m}{day:02d}{serial}"
    return f"{birth.year // 100}{body}{luhn.calc_check_digit(body)}"


def _category(employee):
    return PersonnelCategory.objects.get(company=employee.company, code="STD")


class PersonnelCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonnelCategory

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"CAT{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class EmploymentFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmploymentForm

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"EF{n}")
    name = factory.Sequence(lambda n: f"Employment form {n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"POS{n}")
    title = factory.Sequence(lambda n: f"Position {n}")


class EmploymentTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmploymentTemplate

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"TPL{n}")
    name = factory.Sequence(lambda n: f"Template {n}")
    is_default = False


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    company = factory.SubFactory(CompanyFactory)
    employee_number = factory.Sequence(lambda n: f"{1000 + n}")
    personal_identity_number = factory.Sequence(pin_for)
    first_name = factory.Sequence(lambda n: f"Anna{n}")
    last_name = factory.Sequence(lambda n: f"Andersson{n}")
    street_address = "Storgatan 1"
    postal_code = "111 22"
    city = "Stockholm"
    country = "SE"
    work_email = factory.LazyAttribute(lambda o: f"{o.employee_number}@example.se")
    personnel_category = factory.LazyAttribute(_category)
    employment_start_date = datetime.date(2020, 1, 1)
    pay_form = PayForm.MONTHLY


class EmploymentRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmploymentRate

    employee = factory.SubFactory(EmployeeFactory)
    valid_from = datetime.date(2020, 1, 1)
    rate_percent = Decimal("100.00")


class MonthlySalaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlySalary

    employee = factory.SubFactory(EmployeeFactory)
    valid_from = datetime.date(2020, 1, 1)
    amount = Decimal("35000.00")


class HourlyWageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HourlyWage

    employee = factory.SubFactory(EmployeeFactory)
    valid_from = datetime.date(2020, 1, 1)
    amount = Decimal("185.00")
