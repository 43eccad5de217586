"""Services of the employee register: defaults, field permissions, termination tasks,
number changes, dated values and the history that never holds an identity number in clear."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from companies.models import Task
from employees import selectors, services
from employees.history_reasons import history_reason_text
from employees.models import Employee, EmploymentTemplate, PayForm, PersonnelCategory
from tests.employees.conftest import EMPLOYEE_ALL
from tests.employees.factories import (
    EmployeeFactory,
    EmploymentFormFactory,
    EmploymentTemplateFactory,
    PositionFactory,
    pin_for,
)

PIN = pin_for(1)


def _create(company, user=None, number="1001", **fields):
    fields.setdefault("first_name", "Anna")
    fields.setdefault("last_name", "Berg")
    fields.setdefault("employment_start_date", datetime.date(2024, 1, 1))
    return services.employee_create(company=company, employee_number=number, user=user, **fields)


# --- per-company defaults and templates -----------------------------------------------------


def test_every_company_has_std_category_and_one_default_template(company):
    assert PersonnelCategory.objects.filter(company=company, code="STD").exists()
    defaults = EmploymentTemplate.objects.filter(company=company, is_default=True)
    assert [t.code for t in defaults] == ["STD"]


def test_create_takes_defaults_from_the_default_template(company):
    form = EmploymentFormFactory(company=company, code="TV")
    position = PositionFactory(company=company, code="DEV")
    template = EmploymentTemplate.objects.get(company=company, is_default=True)
    template.employment_form = form
    template.position = position
    template.pay_form = PayForm.HOURLY
    template.tax_table = 33
    template.tax_column = 1
    template.save()
    employee = _create(company)
    assert employee.template == template
    assert employee.employment_form == form
    assert employee.position == position
    assert employee.pay_form == PayForm.HOURLY
    assert (employee.tax_table, employee.tax_column) == (33, 1)
    assert employee.personnel_category.code == "STD"
    # Explicit values win over the template.
    other = _create(company, number="1002", pay_form=PayForm.MONTHLY, tax_table=30)
    assert (other.pay_form, other.tax_table) == (PayForm.MONTHLY, 30)


def test_making_a_template_default_takes_the_flag_from_the_old_one(company):
    new = EmploymentTemplateFactory(company=company, code="NEW")
    services.employment_template_set_default(template=new)
    assert list(
        EmploymentTemplate.objects.filter(company=company, is_default=True).values_list(
            "code", flat=True
        )
    ) == ["NEW"]


def test_the_only_default_template_cannot_be_unset_or_deleted(company):
    template = EmploymentTemplate.objects.get(company=company, is_default=True)
    template.is_default = False
    with pytest.raises(ValidationError) as exc:
        services.employment_template_save(template=template)
    assert "is_default" in exc.value.message_dict
    template.is_default = True
    with pytest.raises(ValidationError):
        services.employment_template_delete(template=template)


def test_database_refuses_two_default_templates(company):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EmploymentTemplate.objects.create(company=company, code="X", name="X", is_default=True)


def test_register_code_is_unique_per_company_as_a_field_error(company, other_company):
    PositionFactory(company=company, code="DEV")
    services.register_save(obj=PositionFactory.build(company=other_company, code="DEV"))
    with pytest.raises(ValidationError) as exc:
        services.register_save(obj=PositionFactory.build(company=company, code="DEV"))
    assert list(exc.value.message_dict) == ["code"]


# --- employee validation --------------------------------------------------------------------


def test_create_normalises_pin_and_flags_samordningsnummer(company):
    employee = _create(company, personal_identity_number=f"{PIN[2:8]}-{PIN[8:]}")
    assert employee.personal_identity_number == PIN
    assert employee.is_coordination_number is False
    coordination = pin_for(2, coordination=True)
    other = _create(company, number="1002", personal_identity_number=coordination)
    assert other.is_coordination_number is True
    assert other.personal_identity_number == coordination


def test_pin_is_optional(company):
    employee = _create(company, personal_identity_number="")
    assert employee.personal_identity_number == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("personal_identity_number", "19800101-0000"),
        ("work_email", "anna@example"),
        ("private_email", "anna.example.se"),
        ("mobile_phone", "call me"),
        ("postal_code", "1234"),
        ("country", "Sweden"),
        ("tax_table", 28),
        ("tax_table", 43),
        ("tax_column", 0),
        ("tax_column", 7),
        ("bank_account_number", "1234561"),
        ("employment_end_date", datetime.date(2023, 12, 31)),
    ],
)
def test_create_refuses_bad_values_naming_the_field(company, field, value):
    fields = {field: value}
    if field == "bank_account_number":
        fields["clearing_number"] = "5000"
    with pytest.raises(ValidationError) as exc:
        _create(company, **fields)
    assert field in exc.value.message_dict
    assert not Employee.objects.filter(company=company).exists()


def test_good_values_are_stored(company):
    employee = _create(
        company,
        work_email="anna@example.se",
        mobile_phone="+46 70 123 45 67",
        postal_code="111 22",
        tax_table=33,
        tax_column=6,
        clearing_number="8327-9",
        bank_account_number="000 000 0000",
        employment_end_date=datetime.date(2024, 1, 1),
        termination_reason="Own request",
    )
    employee.refresh_from_db()
    assert (employee.clearing_number, employee.bank_account_number) == ("83279", "0000000000")
    assert employee.tax_column == 6


def test_employee_number_and_pin_unique_per_company(company, other_company):
    _create(company, personal_identity_number=PIN)
    _create(other_company, personal_identity_number=PIN)  # another company: fine
    with pytest.raises(ValidationError) as exc:
        _create(company, number="1001")
    assert list(exc.value.message_dict) == ["employee_number"]
    with pytest.raises(ValidationError) as exc:
        _create(company, number="1002", personal_identity_number=PIN)
    assert list(exc.value.message_dict) == ["personal_identity_number"]
    assert PIN not in " ".join(exc.value.messages)


def test_registers_of_another_company_are_refused(company, other_company):
    form = EmploymentFormFactory(company=other_company)
    with pytest.raises(ValidationError) as exc:
        _create(company, employment_form=form)
    assert "employment_form" in exc.value.message_dict


# --- field permissions ----------------------------------------------------------------------


def test_pin_change_needs_its_permission(company, make_user, role_user):
    payroll = role_user(company, EMPLOYEE_ALL)  # no PIN permissions
    hr = make_user(company, role="hr_admin")
    employee = _create(company, personal_identity_number=PIN)
    with pytest.raises(ValidationError) as exc:
        services.employee_update(
            employee=employee, data={"personal_identity_number": pin_for(9)}, user=payroll
        )
    assert "personal_identity_number" in exc.value.message_dict
    employee.refresh_from_db()
    assert employee.personal_identity_number == PIN
    services.employee_update(
        employee=employee, data={"personal_identity_number": pin_for(9)}, user=hr
    )
    employee.refresh_from_db()
    assert employee.personal_identity_number == pin_for(9)


def test_kivra_send_flag_needs_its_permission(company, make_user):
    payroll = make_user(company, role="payroll")  # payroll has no Kivra flag permission
    employee = _create(company)
    with pytest.raises(ValidationError) as exc:
        services.employee_update(
            employee=employee, data={"kivra_send_payslips": True}, user=payroll
        )
    assert "kivra_send_payslips" in exc.value.message_dict
    hr = make_user(company, role="hr_admin")
    services.employee_update(employee=employee, data={"kivra_send_payslips": True}, user=hr)
    assert Employee.objects.get(pk=employee.pk).kivra_send_payslips is True


def test_kivra_print_flag_is_refused_while_print_handling_is_off(company, make_user, monkeypatch):
    hr = make_user(company, role="hr_admin")
    employee = _create(company)
    assert selectors.kivra_print_handling_available(company=company) is False
    with pytest.raises(ValidationError) as exc:
        services.employee_update(employee=employee, data={"kivra_allow_print": True}, user=hr)
    assert exc.value.error_dict["kivra_allow_print"][0].code == "print_handling_off"
    # Switched on in the one place, the same user may set it.
    monkeypatch.setattr(
        services.employee, "kivra_print_handling_available", lambda *, company: True
    )
    services.employee_update(employee=employee, data={"kivra_allow_print": True}, user=hr)
    assert Employee.objects.get(pk=employee.pk).kivra_allow_print is True


# --- termination ----------------------------------------------------------------------------


def test_ending_without_reason_creates_one_task(company):
    employee = _create(company)
    services.employee_end_employment(employee=employee, end_date=datetime.date(2024, 6, 30))
    task = Task.objects.get(company=company)
    assert task.kind == services.TASK_KIND_TERMINATION_REASON
    assert task.reference == "1001"
    assert task.due_date == datetime.date(2024, 6, 30)
    assert task.done_at is None
    assert "1001" in task.title
    # Saving again with the same end date does not add another task.
    services.employee_update(employee=employee, data={"city": "Malmö"})
    assert Task.objects.filter(company=company).count() == 1


def test_ending_with_reason_creates_no_task(company):
    employee = _create(company)
    services.employee_end_employment(
        employee=employee, end_date=datetime.date(2024, 6, 30), termination_reason="Retired"
    )
    assert not Task.objects.filter(company=company).exists()


def test_creating_an_ended_employee_without_reason_creates_a_task(company):
    _create(company, employment_end_date=datetime.date(2024, 2, 1))
    assert Task.objects.filter(company=company, reference="1001").count() == 1


# --- change number --------------------------------------------------------------------------


def test_change_number(company):
    employee = _create(company)
    services.employee_change_number(employee=employee, new_number="A2001")
    employee.refresh_from_db()
    assert employee.employee_number == "A2001"
    stored = employee.history.first().history_change_reason
    with translation.override("en"):
        assert history_reason_text(stored) == "Employee number changed from 1001 to A2001"
    with translation.override("sv"):
        assert history_reason_text(stored) == "Anställningsnumret ändrat från 1001 till A2001"


def test_change_number_refuses_duplicates_and_bad_numbers(company):
    employee = _create(company)
    _create(company, number="1002")
    for bad in ("1002", "10-02", ""):
        with pytest.raises(ValidationError) as exc:
            services.employee_change_number(employee=employee, new_number=bad)
        assert list(exc.value.message_dict) == ["employee_number"]
    assert Employee.objects.get(pk=employee.pk).employee_number == "1001"


def test_change_number_asks_the_payroll_check(company):
    employee = _create(company)
    calls = []

    def refuse(*, employee, new_number):
        calls.append((employee.employee_number, new_number))
        return "Change the number in the payroll system first."

    services.payroll_number_check_register(refuse)
    try:
        with pytest.raises(ValidationError) as exc:
            services.employee_change_number(employee=employee, new_number="2001")
    finally:
        services.payroll_number_check_unregister(refuse)
    assert calls == [("1001", "2001")]
    assert exc.value.message_dict["employee_number"] == [
        "Change the number in the payroll system first."
    ]
    assert Employee.objects.get(pk=employee.pk).employee_number == "1001"
    # Without the check the change goes through.
    services.employee_change_number(employee=employee, new_number="2001")
    assert Employee.objects.get(pk=employee.pk).employee_number == "2001"


def test_update_refuses_a_number_change(company):
    employee = _create(company)
    with pytest.raises(ValidationError) as exc:
        services.employee_update(employee=employee, data={"employee_number": "9"})
    assert "employee_number" in exc.value.message_dict


# --- dated values ---------------------------------------------------------------------------


def test_value_in_force_is_the_latest_row_on_or_before_the_day(company):
    employee = _create(company)
    services.employment_rate_set(
        employee=employee, valid_from=datetime.date(2024, 1, 1), rate_percent=Decimal("100")
    )
    services.employment_rate_set(
        employee=employee, valid_from=datetime.date(2024, 7, 1), rate_percent=Decimal("80")
    )
    services.employment_rate_set(
        employee=employee, valid_from=datetime.date(2099, 1, 1), rate_percent=Decimal("50")
    )  # future-dated: allowed, not in force yet

    def rate(day):
        row = selectors.employment_rate_in_force(employee=employee, on=day)
        return row.rate_percent if row else None

    assert rate(datetime.date(2023, 12, 31)) is None
    assert rate(datetime.date(2024, 1, 1)) == Decimal("100")
    assert rate(datetime.date(2024, 6, 30)) == Decimal("100")
    assert rate(datetime.date(2024, 7, 1)) == Decimal("80")
    assert rate(None) == Decimal("80")  # today
    assert rate(datetime.date(2099, 1, 1)) == Decimal("50")
    annotated = selectors.employees_with_values_in_force(
        Employee.objects.filter(pk=employee.pk), on=datetime.date(2024, 3, 1)
    ).get()
    assert annotated.current_employment_rate == Decimal("100")


def test_salary_and_wage_in_force(company):
    employee = _create(company)
    services.monthly_salary_set(
        employee=employee, valid_from=datetime.date(2024, 1, 1), amount=Decimal("35000.00")
    )
    services.monthly_salary_set(
        employee=employee, valid_from=datetime.date(2024, 4, 1), amount=Decimal("36500.50")
    )
    services.hourly_wage_set(
        employee=employee, valid_from=datetime.date(2024, 1, 1), amount=Decimal("185.25")
    )
    day = datetime.date(2024, 5, 1)
    assert selectors.monthly_salary_in_force(employee=employee, on=day).amount == Decimal(
        "36500.50"
    )
    assert selectors.hourly_wage_in_force(employee=employee, on=day).amount == Decimal("185.25")
    # Setting a value for an existing day replaces it.
    services.monthly_salary_set(
        employee=employee, valid_from=datetime.date(2024, 4, 1), amount=Decimal("37000")
    )
    assert employee.monthly_salaries.count() == 2
    assert selectors.monthly_salary_in_force(employee=employee, on=day).amount == Decimal("37000")


@pytest.mark.parametrize("rate", [Decimal("-1"), Decimal("100.01"), Decimal("250")])
def test_employment_rate_outside_0_100_is_refused(company, rate):
    employee = _create(company)
    with pytest.raises(ValidationError) as exc:
        services.employment_rate_set(
            employee=employee, valid_from=datetime.date(2024, 1, 1), rate_percent=rate
        )
    assert "rate_percent" in exc.value.message_dict


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("37.5"), Decimal("100")])
def test_employment_rate_inside_0_100_is_stored(company, rate):
    employee = _create(company)
    row = services.employment_rate_set(
        employee=employee, valid_from=datetime.date(2024, 1, 1), rate_percent=rate
    )
    assert row.rate_percent == rate


def test_employment_rate_needs_a_start_date(company):
    employee = _create(company)
    with pytest.raises(ValidationError) as exc:
        services.employment_rate_set(employee=employee, valid_from=None, rate_percent=Decimal(50))
    assert list(exc.value.message_dict) == ["valid_from"]
    assert not employee.employment_rates.exists()


def test_negative_salary_is_refused(company):
    employee = _create(company)
    with pytest.raises(ValidationError) as exc:
        services.monthly_salary_set(
            employee=employee, valid_from=datetime.date(2024, 1, 1), amount=Decimal("-1")
        )
    assert "amount" in exc.value.message_dict


# --- history and logs -----------------------------------------------------------------------


def test_history_records_who_and_what_but_never_the_pin_in_clear(company, make_user):
    hr = make_user(company, role="hr_admin")
    employee = _create(company, user=hr, personal_identity_number=PIN)
    services.employee_update(
        employee=employee, data={"city": "Lund", "personal_identity_number": pin_for(5)}, user=hr
    )
    records = list(employee.history.order_by("history_id"))
    assert len(records) == 2
    assert all(record.history_user == hr for record in records)
    delta = records[1].diff_against(records[0])
    assert {change.field for change in delta.changes} >= {"city"}
    assert records[0].personal_identity_number_masked == f"{PIN[:8]}-****"
    assert records[1].personal_identity_number_masked == f"{pin_for(5)[:8]}-****"
    # Nothing in the history table holds either number in clear.
    table = Employee.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        dump = repr(cursor.fetchall())
    assert PIN not in dump and PIN[2:] not in dump
    assert pin_for(5) not in dump and pin_for(5)[2:] not in dump
    column_names = [f.name for f in Employee.history.model._meta.get_fields()]
    assert "personal_identity_number" not in column_names


def test_logs_show_the_pin_masked(company, make_user, caplog):
    hr = make_user(company, role="hr_admin")
    employee = _create(company, user=hr, personal_identity_number=PIN)
    with caplog.at_level(logging.INFO, logger="employees"):
        services.employee_update(
            employee=employee, data={"personal_identity_number": pin_for(5)}, user=hr
        )
    assert f"{pin_for(5)[:8]}-****" in caplog.text
    assert pin_for(5) not in caplog.text and PIN not in caplog.text


def test_log_filter_masks_a_pin_that_slips_into_a_message(company):
    """The project-wide log filter scrubs numbers from any message, e.g. a str(employee)."""
    from flexbridge.logging import MaskPersonalIdentityNumbers

    record = logging.LogRecord("employees", logging.INFO, __file__, 1, "pin %s", (PIN,), None)
    MaskPersonalIdentityNumbers().filter(record)
    assert record.getMessage() == f"pin {PIN[:8]}-****"


def test_str_of_an_employee_has_no_pin(company):
    employee = EmployeeFactory(company=company, personal_identity_number=PIN)
    assert PIN not in str(employee) and PIN not in repr(employee)


def test_display_name_follows_company_name_order(company):
    employee = _create(company)
    assert employee.display_name == "Anna Berg"
    company.name_order = "last_first"
    company.save()
    assert Employee.objects.select_related("company").get(pk=employee.pk).display_name == (
        "Berg, Anna"
    )


def test_bulk_set_goes_through_the_history_with_who_and_why(company, user):
    first = EmployeeFactory(company=company, kivra_send_payslips=False)
    second = EmployeeFactory(company=company, kivra_send_payslips=False)
    already = EmployeeFactory(company=company, kivra_send_payslips=True)
    before = {e.pk: e.history.count() for e in (first, second, already)}

    count = services.employees_bulk_set(
        employees=Employee.objects.filter(company=company),
        values={"kivra_send_payslips": True},
        user=user,
        reason="Kivra link: switched for all employees",
    )

    assert count == 2
    assert Employee.objects.filter(company=company, kivra_send_payslips=True).count() == 3
    for employee in (first, second):
        assert employee.history.count() == before[employee.pk] + 1
        latest = employee.history.first()
        assert latest.history_user == user
        assert latest.history_change_reason == "Kivra link: switched for all employees"
        assert latest.kivra_send_payslips is True
        assert latest.personal_identity_number_masked.endswith("****")
        assert latest.diff_against(latest.prev_record).changed_fields == ["kivra_send_payslips"]
    assert already.history.count() == before[already.pk]  # unchanged: no history row

    # The next edit records only what it changed — no phantom "Kivra: False → True".
    services.employee_update(employee=Employee.objects.get(pk=first.pk), data={"first_name": "Ny"})
    latest = Employee.objects.get(pk=first.pk).history.first()
    assert latest.diff_against(latest.prev_record).changed_fields == ["first_name"]
