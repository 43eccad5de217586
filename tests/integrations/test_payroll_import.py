"""The switchover's bulk import of payroll employees: validation as ``full_clean`` does it
(each value checked once per page), history rows and the undo journal written in bulk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.text import capfirst

from employees.models import Employee
from employees.validators import parse_personal_identity_number
from integrations import switchover as sw
from integrations.clients.payroll import PayrollEmployee
from integrations.models import Switchover, SwitchoverHrChange
from integrations.payroll_import import Registers, employees_import_page
from integrations.sandboxes.payroll import PayrollSandbox
from jobs.context import JobContext
from jobs.models import JobLogLine
from jobs.services import job_create
from tests.integrations.helpers import match_hr_registers

pytestmark = pytest.mark.django_db


@pytest.fixture
def payroll(company):
    sandbox = PayrollSandbox(differences=False, employees=4)
    match_hr_registers(company, sandbox)
    return sandbox


def records(payroll, **changes) -> list[PayrollEmployee]:
    rows = []
    for number in sorted(payroll.employees):
        data = dict(payroll.employees[number])
        data.update(changes.get(number, {}))
        rows.append(PayrollEmployee.from_json(data))
    return rows


def test_history_rows_copy_the_saved_employees_with_the_pin_masked(company, payroll, user):
    employees_import_page(
        company=company,
        records=records(payroll),
        registers=Registers.load(company),
        change_reason="switchover 7: export",
        user=user,
    )
    history = Employee.history.model.objects.filter(company_id=company.pk)
    assert history.count() == 4
    for employee in Employee.objects.filter(company=company):
        row = history.get(id=employee.pk)
        assert row.history_type == "+"
        assert row.history_change_reason == "switchover 7: export"
        assert row.history_user_id == user.pk
        assert row.personal_identity_number_masked == (
            f"{employee.personal_identity_number[:8]}-****"
        )
        for f in Employee.history.model.tracked_fields:
            assert getattr(row, f.attname) == getattr(employee, f.attname), f.attname


def test_a_changed_employee_gets_one_change_row_with_the_new_values(company, payroll):
    employees_import_page(
        company=company, records=records(payroll), registers=Registers.load(company)
    )
    number = sorted(payroll.employees)[1]
    outcome = employees_import_page(
        company=company,
        records=records(payroll, **{number: {"city": "Ystad"}}),
        registers=Registers.load(company),
        change_reason="again",
    )
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 3)
    employee = Employee.objects.get(company=company, employee_number=number)
    changes = Employee.history.model.objects.filter(id=employee.pk, history_type="~")
    assert [(c.city, c.history_change_reason) for c in changes] == [("Ystad", "again")]


def test_every_field_is_still_validated_also_when_values_repeat(company, payroll):
    first, second, third, _fourth = sorted(payroll.employees)
    outcome = employees_import_page(
        company=company,
        records=records(
            payroll,
            **{
                first: {"postal_code": "123"},
                second: {"postal_code": "123"},
                third: {"email": "not-an-email"},
            },
        ),
        registers=Registers.load(company),
    )
    failed = {number: str(message) for number, message in outcome.failed}
    assert set(failed) == {first, second, third}
    assert failed[first] == failed[second]
    assert (
        failed[first]
        == "Not imported: Postal code: A Swedish postal code has five digits (NNN NN)."
    )
    assert failed[third].startswith("Not imported: Work e-mail: Enter an e-mail address")
    assert outcome.created == 1


def test_the_validation_gives_the_same_messages_as_full_clean(company, payroll):
    number = sorted(payroll.employees)[0]
    bad = {"email": "x@", "clearing_number": "1", "employment_end": "1990-01-01"}
    outcome = employees_import_page(
        company=company,
        records=records(payroll, **{number: bad}),
        registers=Registers.load(company),
    )
    employee = Employee(company=company, employee_number=number)
    employee.personnel_category = Registers.load(company).categories["STD"]
    record = records(payroll, **{number: bad})[0]
    employee.first_name, employee.last_name = record.first_name, record.last_name
    employee.work_email, employee.clearing_number = record.email, record.clearing_number
    employee.bank_account_number = record.bank_account_number
    employee.employment_start_date = dt_date(record.employment_start)
    employee.employment_end_date = dt_date(record.employment_end)
    employee.postal_code, employee.city = record.postal_code, record.city
    employee.street_address, employee.mobile_phone = record.street_address, record.phone
    employee.private_email = record.private_email
    employee.personal_identity_number = parse_personal_identity_number(
        record.personal_identity_number
    ).number
    with pytest.raises(ValidationError) as expected:
        employee.full_clean(
            exclude=["company", "personnel_category", "employment_form", "template", "position"],
            validate_unique=False,
            validate_constraints=False,
        )
    messages = str(dict(outcome.failed)[number])
    for field, errors in expected.value.message_dict.items():
        label = capfirst(Employee._meta.get_field(field).verbose_name)
        for error in errors:
            assert f"{label}: {error}" in messages


def _logged_in(language: str, company, message) -> JobLogLine:
    job = job_create(company=company, kind="payroll_sync")
    with translation.override(language):
        ctx = JobContext(job)
        ctx.error(message, item="1")
        ctx.flush(force=True)
    return JobLogLine.objects.get(job=job)


def test_a_failure_written_in_swedish_reads_in_english(company, payroll):
    number = sorted(payroll.employees)[0]
    bad = {"postal_code": "123", "email": "x@"}
    outcome = employees_import_page(
        company=company,
        records=records(payroll, **{number: bad}),
        registers=Registers.load(company),
    )
    [(failed_number, failure)] = outcome.failed
    assert failed_number == number
    line = _logged_in("sv", company, failure)
    assert line.message_id == "payroll_import.invalid"
    assert line.message.startswith("Importerades inte: ")
    assert "Postnummer: Ett svenskt postnummer har fem siffror (NNN NN)." in line.message
    with translation.override("en"):
        text = line.text
    assert text.startswith("Not imported: ")
    assert "Postal code: A Swedish postal code has five digits (NNN NN)." in text
    assert "Work e-mail: Enter an e-mail address with a name, '@' and a domain" in text
    assert "Postnummer" not in text and "svenskt" not in text


def test_a_date_payroll_sends_that_is_no_date_is_named_by_its_field(company, payroll):
    number = sorted(payroll.employees)[0]
    outcome = employees_import_page(
        company=company,
        records=records(payroll, **{number: {"employment_end": "1990-13-01"}}),
        registers=Registers.load(company),
    )
    [(_number, failure)] = outcome.failed
    line = _logged_in("en", company, failure)
    assert line.message == (
        "Not imported: Employment end date: Enter a date as YYYY-MM-DD, not “1990-13-01”."
    )
    with translation.override("sv"):
        assert line.text == (
            "Importerades inte: Slutdatum för anställning: Ange ett datum som ÅÅÅÅ-MM-DD, "
            "inte ”1990-13-01”."
        )


def test_djangos_own_message_is_read_in_the_readers_language(company, payroll):
    """A message of Django's own validators (max length, with a plural and parameters) is
    kept by its msgid: Django's catalogue gives the reader's language."""
    number = sorted(payroll.employees)[0]
    outcome = employees_import_page(
        company=company,
        records=records(payroll, **{number: {"city": "X" * 101}}),
        registers=Registers.load(company),
    )
    [(_number, failure)] = outcome.failed
    line = _logged_in("en", company, failure)
    assert line.message == (
        "Not imported: City: Ensure this value has at most 100 characters (it has 101)."
    )
    with translation.override("sv"):
        assert line.text == (
            "Importerades inte: Ort: Säkerställ att detta värde har som mest 100 tecken "
            "(den har 101)."
        )


def dt_date(value):
    return dt.date.fromisoformat(value) if value else None


@pytest.mark.parametrize(
    "value",
    [
        "8001011231",
        "800101-1231",
        "800161-1238",
        "800161+1238",
        "198001611238",
        "640823+2335",
        "101010-1010",
    ],
)
def test_a_parsed_number_parses_to_itself(value):
    """The import takes a number ``parse_personal_identity_number`` normalised as valid
    without parsing it again: that holds because the normal form parses to itself."""
    parsed = parse_personal_identity_number(value)
    again = parse_personal_identity_number(parsed.number)
    assert again == parsed


def test_the_journal_records_each_created_employee_once_in_order(company, payroll):
    switchover = Switchover.objects.create(company=company, state="test_export")
    employees_import_page(
        company=company,
        records=records(payroll),
        registers=Registers.load(company),
        journal=sw._journal(switchover.pk),
    )
    rows = list(SwitchoverHrChange.objects.filter(switchover=switchover).order_by("pk"))
    employees = list(Employee.objects.filter(company=company).order_by("pk"))
    assert [(r.action, r.employee_id, r.employee_number, r.before) for r in rows] == [
        ("created", e.pk, e.employee_number, {}) for e in employees
    ]
    # A second run changes one employee: one "changed" row with the snapshot before.
    number = employees[0].employee_number
    employees_import_page(
        company=company,
        records=records(payroll, **{number: {"city": "Ystad"}}),
        registers=Registers.load(company),
        journal=sw._journal(switchover.pk),
    )
    assert SwitchoverHrChange.objects.filter(switchover=switchover).count() == 4


def test_import_warnings_are_messages_read_in_the_readers_language(company, payroll):
    number = sorted(payroll.employees)[0]
    outcome = employees_import_page(
        company=company,
        records=records(payroll, **{number: {"personnel_category": "OKÄND"}}),
        registers=Registers.load(company),
    )
    [(item, message)] = outcome.warnings
    assert item == number and message.id == "payroll_import.category_fallback"
    with translation.override("en"):
        assert str(message) == "Personnel category OKÄND is missing in HR; STD used."
    with translation.override("sv"):
        assert str(message) == "Personalkategori OKÄND saknas i HR; STD används."
