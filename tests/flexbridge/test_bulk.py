"""``bulk_insert`` writes what ``bulk_create`` writes: the model's own values, the new
primary keys on the objects, relations to objects saved in the same call, and (with
``ignore_conflicts``) the rows that exist already left alone."""

import datetime
from decimal import Decimal

from django.db import connection
from django.forms.models import model_to_dict

from employees.models import Employee, EmploymentRate
from flexbridge.bulk import bulk_insert
from payslips.models import KivraLink
from tests.employees.factories import EmployeeFactory


def _employee(company, number: str) -> Employee:
    template = EmployeeFactory.build(company=company, employee_number=number)
    template.personnel_category.save()
    template.personnel_category_id = template.personnel_category.pk
    return template


def test_rows_and_keys_are_those_bulk_create_gives(company):
    created = [_employee(company, "A1"), _employee(company, "A2")]
    inserted = [_employee(company, "B1"), _employee(company, "B2")]
    Employee.objects.bulk_create(created)
    bulk_insert(inserted)
    assert all(e.pk for e in inserted) and not any(e._state.adding for e in inserted)
    differ = {"id", "employee_number", "personal_identity_number", "first_name", "last_name"}
    differ |= {"work_email", "personnel_category"}
    for theirs, ours in zip(created, inserted, strict=True):
        stored = Employee.objects.get(pk=ours.pk)
        assert stored.employee_number == ours.employee_number
        assert stored.personal_identity_number == ours.personal_identity_number
        expected = model_to_dict(Employee.objects.get(pk=theirs.pk))
        got = model_to_dict(stored)
        assert {k: v for k, v in got.items() if k not in differ} == {
            k: v for k, v in expected.items() if k not in differ
        }


def test_a_relation_to_an_object_inserted_before_takes_its_key(company):
    employee = _employee(company, "R1")
    rate = EmploymentRate(
        employee=employee, valid_from=datetime.date(2026, 1, 1), rate_percent=Decimal("80")
    )
    bulk_insert([employee])
    bulk_insert([rate])
    assert EmploymentRate.objects.get(pk=rate.pk).employee_id == employee.pk


def test_ignore_conflicts_leaves_the_existing_row_and_encrypts_as_the_field_does(company):
    kept = KivraLink.objects.create(company=company, tenant_key="t1", client_secret="first")
    bulk_insert(
        [KivraLink(company=company, tenant_key="t2", client_secret="second")],
        ignore_conflicts=True,
    )
    assert list(KivraLink.objects.filter(company=company).values_list("pk", flat=True)) == [kept.pk]
    other = EmployeeFactory().company
    link = KivraLink(company=other, tenant_key="t3", client_secret="third")
    bulk_insert([link])
    assert KivraLink.objects.get(pk=link.pk).client_secret == "third"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT client_secret FROM {KivraLink._meta.db_table} WHERE id = %s", [link.pk]
        )
        assert "third" not in cursor.fetchone()[0]  # stored encrypted
