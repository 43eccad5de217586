"""The export's checks, each on its own: what refuses the export, what leaves rows out."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.translation import gettext_noop

from paxml.messages import Text
from paxml.models import SalaryTransaction as SalaryRow
from paxml.services.export_checks import (
    LeftOut,
    export_problems,
    leave_out_out_of_bounds,
    result_units,
)
from projects.models import TimeCode, TimeRegistration
from tests.paxml.factories import employee

pytestmark = pytest.mark.django_db


def _reg(company, emp, day, hours, code="SJK"):
    return TimeRegistration.objects.create(
        company=company,
        employee=emp,
        date=day,
        time_code=TimeCode.objects.get(company=company, code=code),
        hours=Decimal(hours),
    )


def test_export_problems_name_rows_outside_the_employment_and_codes_without_paxml(company):
    emp = employee(company, "1", start=dt.date(2024, 3, 5))
    _reg(company, emp, dt.date(2024, 3, 4), "8")
    _reg(company, emp, dt.date(2024, 3, 6), "8")
    regs = TimeRegistration.objects.filter(company=company)
    problems = export_problems(regs, SalaryRow.objects.none())
    assert [(p.employee, p.element, p.field, p.message) for p in problems] == [
        ("1", "tidtrans", "date", "registration outside the employment period: 2024-03-04")
    ]
    TimeCode.objects.filter(company=company, code="SJK").update(paxml_code="")
    problems = export_problems(regs.filter(date__gte=dt.date(2024, 3, 5)), SalaryRow.objects.none())
    assert [(p.field, p.message.split(" (")[0]) for p in problems] == [("tidkod", "time code SJK")]


def test_rows_out_of_bounds_are_left_out_and_named(company):
    emp = employee(company, "1")
    _reg(company, emp, dt.date(2024, 3, 4), "8")
    big = _reg(company, emp, dt.date(2024, 3, 5), "30")
    problems = []
    left_out = LeftOut(problems)
    regs, _salaries = leave_out_out_of_bounds(
        left_out, TimeRegistration.objects.filter(company=company), SalaryRow.objects.none()
    )
    assert big.pk not in set(regs.values_list("pk", flat=True)) and regs.count() == 1
    left_out.finish()
    assert left_out.count == 1
    assert problems[0].message == (
        "hours out of bounds: 1 row not exported (employee, day: 1 2024-03-05)"
    )


def test_result_units_leave_out_a_code_longer_than_paxml_holds():
    problems = []
    left_out = LeftOut(problems)
    assert result_units(left_out, "12", "P1", "1", dt.date(2024, 3, 4), "tidtrans") == (
        (1, "12"),
        (6, "P1"),
    )
    assert result_units(left_out, "", "PROJEKT-12345", "1", dt.date(2024, 3, 4), "tidtrans") is None
    for n in range(11):
        left_out.add("x", Text(gettext_noop("value out of bounds")), str(n), "d", "tidtrans")
    left_out.finish()
    assert problems[0].field == "resenhet dim 6"
    assert "PROJEKT-12345" in problems[0].message
    assert problems[1].message.endswith(
        "(employee, day: 0 d, 1 d, 2 d, 3 d, 4 d, 5 d, 6 d, 7 d, 8 d, 9 d and 1 more)"
    )
