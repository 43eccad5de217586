"""REST API of the employee register: CRUD, masking, field permissions, If-Match, scoping,
filters and a constant query count for the list."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companies.models import Task
from employees import services
from employees.models import Employee, EmploymentTemplate, PersonnelCategory
from tests.employees.conftest import EMPLOYEE_ALL, EMPLOYEE_VIEW
from tests.employees.factories import (
    EmployeeFactory,
    EmploymentFormFactory,
    PersonnelCategoryFactory,
    PositionFactory,
    pin_for,
)

PIN = pin_for(1)
URL = "/api/v1/employees/"


def _detail(employee):
    return f"{URL}{employee.pk}/"


def _client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def employee(company):
    return EmployeeFactory(
        company=company,
        employee_number="1001",
        personal_identity_number=PIN,
        clearing_number="5000",
        bank_account_number="1234560",
    )


def _payload(company, **fields):
    data = {
        "company": company.pk,
        "employee_number": "2001",
        "first_name": "Bo",
        "last_name": "Ek",
        "employment_start_date": "2024-01-01",
        "personal_identity_number": f"{PIN[2:8]}-{PIN[8:]}",
    }
    data.update(fields)
    return data


# --- create / read / update ----------------------------------------------------------------


def test_create_normalises_and_returns_the_employee(api, company):
    response = api.post(URL, _payload(company, work_email="bo@example.se"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["employee_number"] == "2001"
    assert body["personal_identity_number"] == PIN
    assert (
        body["personnel_category"] == PersonnelCategory.objects.get(company=company, code="STD").pk
    )
    assert body["template"] == EmploymentTemplate.objects.get(company=company, is_default=True).pk
    assert body["active"] is True
    assert "kivra_allow_print" not in body  # print handling is off for every company yet
    assert Employee.objects.get(pk=body["id"]).personal_identity_number == PIN


def test_validation_errors_name_the_field(api, company):
    response = api.post(
        URL,
        _payload(company, work_email="bo@nowhere", personal_identity_number="19800101-0000"),
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"work_email"} or "personal_identity_number" in error["fields"]
    response = api.post(URL, _payload(company, personal_identity_number="19800101-0000"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["personal_identity_number"]
    assert "19800101-0000" not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employee_number", "20-01"),
        ("private_email", "bo@"),
        ("home_phone", "abc"),
        ("tax_table", 99),
        ("postal_code", "12"),
        ("clearing_number", "0999"),
    ],
)
def test_each_bad_value_is_a_field_error(api, company, field, value):
    data = _payload(company, **{field: value})
    if field == "clearing_number":
        data["bank_account_number"] = "1234560"
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_duplicate_number_is_a_field_error(api, company, employee):
    response = api.post(URL, _payload(company, employee_number="1001", personal_identity_number=""))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["employee_number"]


def test_retrieve_has_etag_and_dated_history(api, employee):
    services.employment_rate_set(
        employee=employee, valid_from=datetime.date(2020, 1, 1), rate_percent=Decimal("75")
    )
    response = api.get(_detail(employee))
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    body = response.json()
    assert body["employment_rates"] == [
        {
            "id": employee.employment_rates.get().pk,
            "valid_from": "2020-01-01",
            "rate_percent": "75.00",
        }
    ]
    assert body["current_employment_rate"] == "75.00"


def test_patch_updates_and_returns_a_new_etag(api, employee):
    etag = api.get(_detail(employee))["ETag"]
    response = api.patch(_detail(employee), {"city": "Umeå"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert response.json()["city"] == "Umeå"
    assert response["ETag"] != etag
    assert Employee.objects.get(pk=employee.pk).city == "Umeå"


def test_stale_if_match_is_412_and_changes_nothing(api, employee):
    etag = api.get(_detail(employee))["ETag"]
    assert api.patch(_detail(employee), {"city": "A"}, HTTP_IF_MATCH=etag).status_code == 200
    response = api.patch(_detail(employee), {"city": "B"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"
    assert Employee.objects.get(pk=employee.pk).city == "A"


def test_put_of_what_was_read_round_trips(api_client, role_user, company, employee):
    """A user who sees masked values can PUT back what they read without touching them."""
    client = _client(api_client, role_user(company, EMPLOYEE_ALL))
    read = client.get(_detail(employee))
    body = read.json()
    assert body["personal_identity_number"] == f"{PIN[:8]}-****"
    assert body["bank_account_number"] == "****4560"
    body["city"] = "Kiruna"
    for key in ("employment_rates", "monthly_salaries", "hourly_wages"):
        body.pop(key)
    response = client.put(_detail(employee), body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.json()
    stored = Employee.objects.get(pk=employee.pk)
    assert (stored.city, stored.personal_identity_number, stored.bank_account_number) == (
        "Kiruna",
        PIN,
        "1234560",
    )


def test_number_is_changed_by_command_not_update(api, employee):
    response = api.patch(_detail(employee), {"employee_number": "9"})
    assert response.status_code == 400
    assert "employee_number" in response.json()["error"]["fields"]
    response = api.post(f"{_detail(employee)}change-number/", {"employee_number": "A9"})
    assert response.status_code == 200
    assert response.json()["employee_number"] == "A9"
    response = api.post(f"{_detail(employee)}change-number/", {"employee_number": "A-9"})
    assert response.status_code == 400
    assert "employee_number" in response.json()["error"]["fields"]


def test_ending_without_reason_over_the_api_creates_the_task(api, company, employee):
    response = api.patch(_detail(employee), {"employment_end_date": "2024-06-30"})
    assert response.status_code == 200
    assert response.json()["active"] is False
    task = Task.objects.get(company=company)
    assert (task.kind, task.reference) == (services.TASK_KIND_TERMINATION_REASON, "1001")


def test_dated_values_over_the_api(api, employee):
    url = f"{_detail(employee)}employment-rates/"
    response = api.post(url, {"valid_from": "2021-01-01", "rate_percent": "50"})
    assert response.status_code == 201
    response = api.post(url, {"rate_percent": "60"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["valid_from"]
    response = api.post(url, {"valid_from": "2022-01-01", "rate_percent": "101"})
    assert response.status_code == 400
    assert "rate_percent" in response.json()["error"]["fields"]
    response = api.post(
        f"{_detail(employee)}monthly-salaries/", {"valid_from": "2021-01-01", "amount": "41000.50"}
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "41000.50"
    listed = api.get(url).json()
    assert [row["rate_percent"] for row in listed] == ["50.00"]
    assert api.get(_detail(employee)).json()["current_monthly_salary"] == "41000.50"


# --- masking and field permissions ---------------------------------------------------------


def test_pin_and_bank_account_masked_without_permission(api_client, role_user, company, employee):
    client = _client(api_client, role_user(company, EMPLOYEE_VIEW))
    for response in (client.get(URL), client.get(_detail(employee))):
        assert response.status_code == 200
        text = response.content.decode()
        assert PIN not in text and PIN[2:] not in text
        assert "1234560" not in text
    row = client.get(URL).json()["results"][0]
    assert row["personal_identity_number"] == f"{PIN[:8]}-****"
    assert row["bank_account_number"] == "****4560"


def test_pin_in_clear_with_permission(api, employee):
    row = api.get(URL).json()["results"][0]
    assert row["personal_identity_number"] == PIN
    assert row["bank_account_number"] == "1234560"


def test_pin_write_without_permission_is_a_field_error(api_client, role_user, company, employee):
    client = _client(api_client, role_user(company, EMPLOYEE_ALL))
    response = client.patch(_detail(employee), {"personal_identity_number": pin_for(7)})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["personal_identity_number"]
    assert Employee.objects.get(pk=employee.pk).personal_identity_number == PIN
    response = client.post(URL, _payload(company))
    assert response.status_code == 400
    assert "personal_identity_number" in response.json()["error"]["fields"]
    # Without a number the same user may create the employee.
    response = client.post(URL, _payload(company, personal_identity_number=""))
    assert response.status_code == 201


def test_kivra_flags_over_the_api(api_client, make_user, role_user, company, employee):
    integration = _client(api_client, role_user(company, EMPLOYEE_ALL))
    response = integration.patch(_detail(employee), {"kivra_send_payslips": True})
    assert response.status_code == 400
    assert "kivra_send_payslips" in response.json()["error"]["fields"]
    hr = _client(api_client, make_user(company, role="hr_admin"))
    assert hr.patch(_detail(employee), {"kivra_send_payslips": True}).status_code == 200
    response = hr.patch(_detail(employee), {"kivra_allow_print": True})
    assert response.status_code == 400
    assert "kivra_allow_print" in response.json()["error"]["fields"]
    stored = Employee.objects.get(pk=employee.pk)
    assert (stored.kivra_send_payslips, stored.kivra_allow_print) == (True, False)


def test_viewer_cannot_write(api_client, make_user, company, employee):
    client = _client(api_client, make_user(company, role="viewer"))
    assert client.patch(_detail(employee), {"city": "X"}).status_code == 403
    assert client.post(URL, _payload(company)).status_code == 403


# --- scoping -------------------------------------------------------------------------------


def test_other_company_is_invisible(api, company, other_company, employee):
    theirs = EmployeeFactory(company=other_company)
    assert [row["id"] for row in api.get(URL).json()["results"]] == [employee.pk]
    assert api.get(_detail(theirs)).status_code == 404
    assert api.patch(_detail(theirs), {"city": "X"}).status_code == 404
    response = api.post(URL, _payload(other_company))
    assert response.status_code == 400
    assert "company" in response.json()["error"]["fields"]
    assert not Employee.objects.filter(company=other_company, employee_number="2001").exists()


def test_registers_of_another_company_are_refused(api, company, other_company):
    category = PersonnelCategoryFactory(company=other_company)
    response = api.post(URL, _payload(company, personnel_category=category.pk))
    assert response.status_code == 400
    assert "personnel_category" in response.json()["error"]["fields"]


# --- filters and search --------------------------------------------------------------------


def test_filters_and_search(api, company):
    hourly = EmploymentFormFactory(company=company, code="TIM")
    cat = PersonnelCategoryFactory(company=company, code="ARB")
    a = EmployeeFactory(
        company=company, employee_number="1", last_name="Lind", personnel_category=cat
    )
    b = EmployeeFactory(company=company, employee_number="2", employment_form=hourly)
    c = EmployeeFactory(
        company=company,
        employee_number="3",
        employment_end_date=datetime.date(2021, 1, 1),
        termination_reason="Quit",
    )

    def ids(query):
        response = api.get(URL + query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("?number=2") == {b.pk}
    assert ids("?category=ARB") == {a.pk}
    assert ids("?employment_form=TIM") == {b.pk}
    assert ids("?active=true") == {a.pk, b.pk}
    assert ids("?active=false") == {c.pk}
    assert ids("?search=lind") == {a.pk}
    assert ids(f"?search={a.personal_identity_number[:8]}") == {a.pk}
    assert ids(f"?search={a.personal_identity_number}") == {a.pk}


def test_full_pin_search_needs_the_view_permission(api_client, role_user, company, employee):
    client = _client(api_client, role_user(company, EMPLOYEE_VIEW))
    response = client.get(f"{URL}?search={PIN}")
    assert response.json()["results"] == []
    response = client.get(f"{URL}?search={PIN[:8]}-****")
    assert [row["id"] for row in response.json()["results"]] == [employee.pk]


# --- registers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("personnel-categories", {"code": "TJM", "name": "Tjänstemän"}),
        (
            "employment-forms",
            {"code": "PROV", "name": "Provanställning", "fixed_term_kind": "probationary"},
        ),
        ("positions", {"code": "DEV", "title": "Developer"}),
        ("employment-templates", {"code": "T2", "name": "Timavlönade", "pay_form": "hourly"}),
    ],
)
def test_register_create_update_and_412(api, company, other_company, path, data):
    url = f"/api/v1/{path}/"
    response = api.post(url, {"company": company.pk, **data})
    assert response.status_code == 201, response.json()
    detail = f"{url}{response.json()['id']}/"
    etag = api.get(detail)["ETag"]
    response = api.patch(detail, {"code": data["code"] + "X"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["code"] == data["code"] + "X"
    assert api.patch(detail, {"code": "Y"}, HTTP_IF_MATCH=etag).status_code == 412
    duplicate = api.post(url, {"company": company.pk, **data, "code": data["code"] + "X"})
    assert duplicate.status_code == 400
    assert list(duplicate.json()["error"]["fields"]) == ["code"]
    assert api.post(url, {"company": other_company.pk, **data}).status_code == 400


def test_register_lists_are_scoped(api, company, other_company):
    PositionFactory(company=company, code="MINE")
    PositionFactory(company=other_company, code="THEIRS")
    codes = [row["code"] for row in api.get("/api/v1/positions/").json()["results"]]
    assert codes == ["MINE"]
    codes = [row["code"] for row in api.get("/api/v1/personnel-categories/").json()["results"]]
    assert codes == ["STD"]


def test_new_default_template_over_the_api_replaces_the_old(api, company):
    response = api.post(
        "/api/v1/employment-templates/",
        {"company": company.pk, "code": "NEW", "name": "New", "is_default": True},
    )
    assert response.status_code == 201
    assert list(
        EmploymentTemplate.objects.filter(company=company, is_default=True).values_list(
            "code", flat=True
        )
    ) == ["NEW"]


# --- query count ---------------------------------------------------------------------------


def _bulk_employees(company, start, count):
    category = PersonnelCategory.objects.get(company=company, code="STD")
    form = EmploymentFormFactory(company=company)
    position = PositionFactory(company=company)
    rows = [
        Employee(
            company=company,
            employee_number=str(start + n),
            personal_identity_number=pin_for(start + n),
            first_name="F",
            last_name=f"L{n}",
            personnel_category=category,
            employment_form=form,
            position=position,
            employment_start_date=datetime.date(2020, 1, 1),
        )
        for n in range(count)
    ]
    Employee.objects.bulk_create(rows)
    from employees.models import EmploymentRate, MonthlySalary

    created = Employee.objects.filter(
        company=company, employee_number__in=[r.employee_number for r in rows]
    )
    EmploymentRate.objects.bulk_create(
        [
            EmploymentRate(employee=e, valid_from=datetime.date(2020, 1, 1), rate_percent=100)
            for e in created
        ]
    )
    MonthlySalary.objects.bulk_create(
        [
            MonthlySalary(employee=e, valid_from=datetime.date(2020, 1, 1), amount=30000)
            for e in created
        ]
    )


def _list_queries(client, user, url):
    # A fresh user object each time: its per-request permission caches start empty.
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


def test_employee_list_uses_a_constant_number_of_queries(api_client, role_user, company):
    viewer = role_user(company, EMPLOYEE_VIEW)  # masking checks run per row
    client = _client(api_client, viewer)
    _bulk_employees(company, 10_000, 120)
    small, body = _list_queries(client, viewer, f"{URL}?page_size=100")
    assert len(body["results"]) == 100
    _bulk_employees(company, 20_000, 180)
    large, body = _list_queries(client, viewer, f"{URL}?page_size=100&page=3")
    assert body["count"] == 300
    assert len(body["results"]) == 100
    assert body["results"][0]["current_employment_rate"] == "100.00"
    assert small == large
    # The user's companies and permissions, the Kivra print rule per company, the count,
    # the page's ids and the page's rows — nothing per row.
    assert large <= 8, [q["sql"] for q in ctx_sql(client, viewer)]


def ctx_sql(client, user):
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{URL}?page_size=100")
    return ctx.captured_queries
