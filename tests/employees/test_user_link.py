"""The link from an employee to a user (login): service rules, selector, API and admin."""

import pytest
from django.core.exceptions import ValidationError

from employees import selectors, services
from tests.employees.factories import EmployeeFactory


@pytest.fixture
def employee(company):
    return EmployeeFactory(company=company, employee_number="3001")


def test_link_a_member_of_the_company(company, employee, make_user):
    login = make_user(company, role="viewer")
    services.employee_update(employee=employee, data={"user": login})
    assert selectors.employee_for_user(user=login, company=company) == employee
    assert selectors.employee_for_user(user=login, company=company.pk) == employee


def test_selector_answers_none_in_another_company_or_unlinked(
    company, other_company, employee, make_user
):
    login = make_user(company, role="viewer")
    assert selectors.employee_for_user(user=login, company=company) is None
    services.employee_update(employee=employee, data={"user": login})
    assert selectors.employee_for_user(user=login, company=other_company) is None
    assert selectors.employee_for_user(user=None, company=company) is None


def test_user_outside_the_company_is_refused(company, other_company, employee, make_user):
    stranger = make_user(other_company, role="viewer")
    with pytest.raises(ValidationError) as exc:
        services.employee_update(employee=employee, data={"user": stranger})
    assert "user" in exc.value.message_dict


def test_one_user_links_to_one_employee(company, employee, make_user):
    login = make_user(company, role="viewer")
    services.employee_update(employee=employee, data={"user": login})
    other = EmployeeFactory(company=company, employee_number="3002")
    with pytest.raises(ValidationError) as exc:
        services.employee_update(employee=other, data={"user": login})
    assert exc.value.message_dict["user"] == ["The user is already linked to another employee."]


def test_api_reads_and_writes_the_user(api, company, employee, make_user):
    login = make_user(company, role="viewer")
    url = f"/api/v1/employees/{employee.pk}/"
    response = api.patch(url, {"user": login.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["user"] == login.pk
    employee.refresh_from_db()
    assert employee.user == login
    assert api.patch(url, {"user": None}, format="json").json()["user"] is None


def test_api_does_not_offer_users_of_other_companies(api, other_company, employee, make_user):
    stranger = make_user(other_company, role="viewer")
    response = api.patch(f"/api/v1/employees/{employee.pk}/", {"user": stranger.pk}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()["error"]["fields"]


def test_admin_page_has_the_user_field(client, user, company, employee, make_user):
    make_user(company, role="viewer", username="linkme")
    client.force_login(user)
    page = client.get(f"/admin/employees/employee/{employee.pk}/change/")
    assert page.status_code == 200
    assert b'name="user"' in page.content
    assert b"linkme" in page.content
