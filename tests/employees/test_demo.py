"""``seed_demo`` adds the registers and 25 employees, and running it twice changes nothing."""

import io

from companies.models import Task
from employees import demo
from employees.models import Employee, EmploymentForm, PersonnelCategory


def test_demo_seed(company, user):
    demo.seed(company=company, admin=user, stdout=io.StringIO())
    employees = Employee.objects.filter(company=company)
    assert employees.count() == 25
    assert {e.pay_form for e in employees} == {"monthly", "hourly"}
    assert employees.filter(employment_end_date__isnull=False).count() == 1
    assert employees.filter(is_coordination_number=True).count() == 1
    assert employees.filter(personal_identity_number="").count() == 1
    assert all(e.bank_account_number for e in employees)
    assert Task.objects.filter(company=company, kind="termination-reason").count() == 1
    assert set(
        PersonnelCategory.objects.filter(company=company).values_list("code", flat=True)
    ) == {
        "STD",
        "TJM",
        "ARB",
    }
    assert EmploymentForm.objects.filter(company=company).count() == 4
    demo.seed(company=company, admin=user, stdout=io.StringIO())
    assert Employee.objects.filter(company=company).count() == 25
