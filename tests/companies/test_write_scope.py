"""Writes keep rows in their company: the role matrix over every writable endpoint.

The user is company administrator in ``mine`` (B) and read only in ``theirs`` (A). On
create and update, the row's company and every foreign key must lie in a company where
the user may write the model; a target in A answers 404 (not yours) in the error shape and
nothing changes. A user with no role in a company cannot name its rows at all (400, as for
an id that does not exist).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from companies.services import membership_set
from projects.models.accounting import SIE_COST_CENTER
from tests.employees.factories import (
    EmployeeFactory,
    EmploymentFormFactory,
    PersonnelCategoryFactory,
    PositionFactory,
)
from tests.projects.factories import DimensionValueFactory, TimeCodeFactory, dimension, make_project

_seq = itertools.count(1)


def _code(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


@dataclass
class Endpoint:
    url: str
    payload: callable  # (company, targets) -> a valid POST body for that company
    targets: dict = field(default_factory=dict)  # field -> (company) -> pk in that company
    updatable: bool = True


def _employee(company):
    return EmployeeFactory(company=company).pk


def _project(company):
    return make_project(company, _code("P")).pk


def _time_code(company):
    return TimeCodeFactory(company=company, code=_code("T")).pk


def _cost_center(company):
    return DimensionValueFactory(company=company, dimension=dimension(company, SIE_COST_CENTER)).pk


def _dimension(company):
    return dimension(company, 6).pk


def _company(company):
    return company.pk


def _register(company, prefix):
    return {"company": company.pk, "code": _code(prefix), "name": "x"}


ENDPOINTS = {
    "personnel-categories": Endpoint(
        "/api/v1/personnel-categories/", lambda c: _register(c, "C"), {"company": _company}
    ),
    "employment-forms": Endpoint(
        "/api/v1/employment-forms/", lambda c: _register(c, "F"), {"company": _company}
    ),
    "positions": Endpoint(
        "/api/v1/positions/",
        lambda c: {"company": c.pk, "code": _code("P"), "title": "x"},
        {"company": _company},
    ),
    "employment-templates": Endpoint(
        "/api/v1/employment-templates/",
        lambda c: _register(c, "TPL"),
        {
            "company": _company,
            "personnel_category": lambda c: PersonnelCategoryFactory(company=c).pk,
            "employment_form": lambda c: EmploymentFormFactory(company=c).pk,
            "position": lambda c: PositionFactory(company=c).pk,
        },
    ),
    "employees": Endpoint(
        "/api/v1/employees/",
        lambda c: {
            "company": c.pk,
            "employee_number": _code("9"),
            "first_name": "Bo",
            "last_name": "Ek",
            "employment_start_date": "2024-01-01",
        },
        {
            "company": _company,
            "personnel_category": lambda c: PersonnelCategoryFactory(company=c).pk,
            "position": lambda c: PositionFactory(company=c).pk,
        },
    ),
    "projects": Endpoint(
        "/api/v1/projects/",
        lambda c: {"company": c.pk, "code": _code("P"), "name": "x"},
        {"company": _company, "time_code": _time_code, "parent": _project},
    ),
    "accounting-dimensions": Endpoint(
        "/api/v1/accounting-dimensions/",
        lambda c: {"company": c.pk, "code": _code("d"), "name": "x", "sie_number": 30},
        {"company": _company},
    ),
    "dimension-values": Endpoint(
        "/api/v1/dimension-values/",
        lambda c: {"dimension": _dimension(c), "code": _code("V"), "name": "x"},
        {"dimension": _dimension},
    ),
    "cost-centers": Endpoint(
        "/api/v1/cost-centers/",
        lambda c: {"company": c.pk, "code": _code("K"), "name": "x"},
        {"company": _company},
    ),
    "time-codes": Endpoint(
        "/api/v1/time-codes/",
        lambda c: {"company": c.pk, "code": _code("T"), "name": "x", "kind": "absence"},
        {"company": _company},
    ),
    "expense-codes": Endpoint(
        "/api/v1/expense-codes/",
        lambda c: {"company": c.pk, "code": _code("E"), "name": "x"},
        {"company": _company},
    ),
    "home-accountings": Endpoint(
        "/api/v1/home-accountings/",
        lambda c: {"employee": _employee(c), "valid_from": "2030-01-01"},
        {"employee": _employee, "cost_center": _cost_center, "project": _project},
    ),
    "work-schedules": Endpoint(
        "/api/v1/work-schedules/",
        lambda c: {"employee": _employee(c), "valid_from": "2030-01-01", "monday": "8"},
        {"employee": _employee},
    ),
    "project-events": Endpoint(
        "/api/v1/project-events/",
        lambda c: {"project": _project(c), "name": "x", "salary_type_code": "1", "amount": "1"},
        {"project": _project, "time_codes": lambda c: [_time_code(c)]},
    ),
    "time-registrations": Endpoint(
        "/api/v1/time-registrations/",
        lambda c: {
            "employee": _employee(c),
            "date": "2025-03-03",
            "time_code": _time_code(c),
            "hours": "2",
        },
        {"employee": _employee, "time_code": _time_code, "project": _project},
        updatable=False,
    ),
    "payroll-runs": Endpoint(
        "/api/v1/payroll-runs/",
        lambda c: {
            "company": c.pk,
            "payment_date": "2026-01-25",
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "payslips": [
                {
                    "employee_number": EmployeeFactory(company=c).employee_number,
                    "gross_pay": "100.00",
                    "net_pay": "100.00",
                }
            ],
        },
        {"company": _company},
        updatable=False,  # a run is imported whole; it has no update
    ),
}
CASES = [(name, target) for name, ep in ENDPOINTS.items() for target in ep.targets]
UPDATE_CASES = [(name, target) for name, target in CASES if ENDPOINTS[name].updatable]


@pytest.fixture
def mine(company):
    return company


@pytest.fixture
def theirs(other_company):
    return other_company


@pytest.fixture
def client(api_client, mine, theirs, make_user):
    user = make_user(mine, role="admin")
    membership_set(user=user, company=theirs, role_code="viewer")
    api_client.force_authenticate(user)
    return api_client


def _count(client, url, company):
    return client.get(url, {"company": company.pk, "page_size": 1000}).json()["count"]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_create_in_own_company_works(client, mine, name):
    endpoint = ENDPOINTS[name]
    response = client.post(endpoint.url, endpoint.payload(mine), format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(("name", "target"), CASES)
def test_create_pointing_into_read_only_company_is_not_found(client, mine, theirs, name, target):
    endpoint = ENDPOINTS[name]
    body = endpoint.payload(mine)
    body[target] = endpoint.targets[target](theirs)
    before = (_count(client, endpoint.url, mine), _count(client, endpoint.url, theirs))
    response = client.post(endpoint.url, body, format="json")
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "not_found"
    assert (_count(client, endpoint.url, mine), _count(client, endpoint.url, theirs)) == before


@pytest.mark.parametrize(("name", "target"), UPDATE_CASES)
def test_update_moving_into_read_only_company_is_not_found(client, mine, theirs, name, target):
    endpoint = ENDPOINTS[name]
    created = client.post(endpoint.url, endpoint.payload(mine), format="json")
    assert created.status_code == 201, created.json()
    row = created.json()
    url = f"{endpoint.url}{row['id']}/"
    response = client.patch(url, {target: endpoint.targets[target](theirs)}, format="json")
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "not_found"
    after = client.get(url).json()
    assert after.get(target) == row.get(target)
    assert after.get("company") == row.get("company")


def test_rows_of_two_writable_companies_are_not_mixed(client, mine, theirs):
    membership_set(user=client.handler._force_user, company=theirs, role_code="admin")
    body = ENDPOINTS["home-accountings"].payload(mine)
    body["cost_center"] = _cost_center(theirs)
    response = client.post("/api/v1/home-accountings/", body, format="json")
    assert response.status_code == 400
    assert "cost_center" in response.json()["error"]["fields"]


def test_company_without_membership_answers_like_a_missing_id(client, mine):
    from tests.factories import CompanyFactory

    stranger = CompanyFactory()
    body = ENDPOINTS["time-codes"].payload(mine)
    foreign = client.post("/api/v1/time-codes/", {**body, "company": stranger.pk}, format="json")
    missing = client.post("/api/v1/time-codes/", {**body, "company": 999_999}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["error"]["message"].replace(str(stranger.pk), "N") == missing.json()[
        "error"
    ]["message"].replace("999999", "N")
