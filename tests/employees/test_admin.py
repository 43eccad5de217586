"""Admin of the employee register: masking, search, filters, scoping, history, Kivra flags."""

import datetime

import pytest
from django.urls import reverse

from companies.models import Task
from employees import services
from employees.models import Employee, PersonnelCategory
from tests.employees.conftest import EMPLOYEE_ALL, EMPLOYEE_VIEW
from tests.employees.factories import EmployeeFactory, pin_for

PIN = pin_for(1)
CHANGELIST = reverse("admin:employees_employee_changelist")


@pytest.fixture
def employee(company):
    return EmployeeFactory(
        company=company,
        employee_number="1001",
        first_name="Greta",
        last_name="Lund",
        personal_identity_number=PIN,
        clearing_number="5000",
        bank_account_number="1234560",
    )


def _change_url(employee):
    return reverse("admin:employees_employee_change", args=[employee.pk])


def test_changelist_shows_pin_masked_even_to_admins(client, user, employee):
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{PIN[:8]}-****" in html
    assert PIN not in html


def test_change_page_masks_pin_and_bank_account_without_permission(
    client, role_user, company, employee
):
    client.force_login(role_user(company, EMPLOYEE_ALL))
    response = client.get(_change_url(employee))
    assert response.status_code == 200
    html = response.content.decode()
    assert PIN not in html and PIN[2:] not in html
    assert f"{PIN[:8]}-****" in html
    assert "1234560" not in html and "****4560" in html
    # Grouped like the HR system's tabs.
    for legend in ("Personal data", "Employment", "Pay", "Kivra"):
        assert legend in html or legend.lower() in html.lower()


def test_change_page_shows_pin_with_permission(client, user, employee):
    client.force_login(user)
    html = client.get(_change_url(employee)).content.decode()
    assert f'value="{PIN}"' in html


def test_print_flag_hidden_while_print_handling_is_off(client, user, employee):
    client.force_login(user)
    html = client.get(_change_url(employee)).content.decode()
    assert "kivra_send_payslips" in html
    assert "kivra_allow_print" not in html


def test_kivra_send_flag_read_only_without_permission(client, role_user, company, employee):
    client.force_login(role_user(company, EMPLOYEE_ALL))
    html = client.get(_change_url(employee)).content.decode()
    assert 'name="kivra_send_payslips"' not in html


@pytest.mark.parametrize("term", ["1001", "greta", f"{PIN[:8]}", f"{PIN[:8]}-****"])
def test_search_by_number_name_and_masked_id(client, user, company, employee, term):
    EmployeeFactory(company=company, employee_number="2002", first_name="Olle", last_name="Ek")
    client.force_login(user)
    response = client.get(CHANGELIST, {"q": term})
    assert [e.pk for e in response.context["cl"].result_list] == [employee.pk]


def test_filters_active_and_pay_form(client, user, company, employee):
    ended = EmployeeFactory(
        company=company,
        employment_end_date=datetime.date(2021, 1, 1),
        termination_reason="Quit",
        pay_form="hourly",
    )
    client.force_login(user)
    active = client.get(CHANGELIST, {"active": "yes"}).context["cl"].result_list
    assert [e.pk for e in active] == [employee.pk]
    done = client.get(CHANGELIST, {"active": "no"}).context["cl"].result_list
    assert [e.pk for e in done] == [ended.pk]
    hourly = client.get(CHANGELIST, {"pay_form": "hourly"}).context["cl"].result_list
    assert [e.pk for e in hourly] == [ended.pk]


def test_changelist_is_scoped(client, user, other_company, employee):
    theirs = EmployeeFactory(company=other_company)
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert [e.pk for e in response.context["cl"].result_list] == [employee.pk]
    assert client.get(_change_url(theirs)).status_code == 302


def test_admin_edit_goes_through_the_service(client, user, company, employee):
    client.force_login(user)
    response = client.get(_change_url(employee))
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            value = ""
        if hasattr(value, "pk"):
            value = value.pk
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value
    data["employment_end_date"] = "2024-06-30"
    data["city"] = "Visby"
    for prefix in ("employment_rates", "monthly_salaries", "hourly_wages", "home_accountings"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data["employment_rates-TOTAL_FORMS"] = 1
    data["employment_rates-0-valid_from"] = "2024-01-01"
    data["employment_rates-0-rate_percent"] = "80"
    response = client.post(_change_url(employee), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    employee.refresh_from_db()
    assert employee.city == "Visby"
    assert employee.personal_identity_number == PIN
    assert employee.employment_rates.get().rate_percent == 80
    task = Task.objects.get(company=company)
    assert task.kind == services.TASK_KIND_TERMINATION_REASON
    assert employee.history.first().history_user == user


def test_history_page_shows_changes_without_pin(client, user, employee):
    services.employee_update(employee=employee, data={"city": "Lund"}, user=user)
    client.force_login(user)
    response = client.get(reverse("admin:employees_employee_history", args=[employee.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lund" in html
    assert PIN not in html


def test_register_admin_lists_are_scoped(client, user, company, other_company):
    client.force_login(user)
    response = client.get(reverse("admin:employees_personnelcategory_changelist"))
    assert [c.company_id for c in response.context["cl"].result_list] == [company.pk]
    assert PersonnelCategory.objects.filter(company=other_company).exists()


def test_viewer_role_cannot_change(client, role_user, company, employee):
    client.force_login(role_user(company, EMPLOYEE_VIEW))
    assert client.get(_change_url(employee)).status_code == 200
    client.post(_change_url(employee), {"city": "X"})
    assert Employee.objects.get(pk=employee.pk).city == employee.city
