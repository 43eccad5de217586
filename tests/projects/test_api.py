"""REST API of the project register."""

import datetime
from decimal import Decimal

import pytest

from projects.models import Project, ProjectControl, TimeRegistration
from projects.models.accounting import SIE_COST_CENTER
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import (
    DimensionValueFactory,
    TimeCodeFactory,
    dimension,
    make_project,
    make_tree,
    register,
)

pytestmark = pytest.mark.django_db


def test_create_a_sub_project_and_list_the_tree(api, company):
    main = api.post(
        "/api/v1/projects/",
        {"company": company.pk, "code": "BS", "name": "Bemanning", "registrable": False},
    )
    assert main.status_code == 201, main.json()
    sub = api.post("/api/v1/projects/", {"parent": main.json()["id"], "code": "HR", "name": "HR"})
    assert sub.status_code == 201, sub.json()
    assert sub.json()["code"] == "BS.HR" and sub.json()["level"] == 1
    assert sub.json()["registrable"] is True
    body = api.get("/api/v1/projects/?registrable=true").json()
    assert [p["code"] for p in body["results"]] == ["BS.HR"]
    body = api.get(f"/api/v1/projects/?parent={main.json()['id']}").json()
    assert body["count"] == 1


def test_budget_rule_answers_400_in_the_error_shape(api, company):
    main, _sub, bem, _rek = make_tree(company)
    api.patch(f"/api/v1/projects/{main.pk}/", {"budget_hours": "100"})
    response = api.patch(f"/api/v1/projects/{bem.pk}/", {"budget_hours": "10"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "BS already has a budget" in error["fields"]["budget_hours"]


def test_another_companys_project_is_not_found(api, other_company):
    foreign = make_project(other_company, "X")
    assert api.get(f"/api/v1/projects/{foreign.pk}/").status_code == 404
    response = api.post(
        "/api/v1/projects/", {"company": other_company.pk, "code": "Y", "name": "Y"}
    )
    assert response.status_code == 400


def test_filter_by_status_and_participant(api, company):
    a = make_project(company, "A")
    make_project(company, "B", status=Project.Status.FROZEN)
    employee = EmployeeFactory(company=company)
    a.participants.create(employee=employee)
    assert [p["code"] for p in api.get("/api/v1/projects/?status=frozen").json()["results"]] == [
        "B"
    ]
    result = api.get(f"/api/v1/projects/?participant={employee.pk}").json()["results"]
    assert [p["code"] for p in result] == ["A"]


def test_copy_endpoint(api, company):
    _main, sub, _bem, _rek = make_tree(company)
    response = api.post(f"/api/v1/projects/{sub.pk}/copy/", {"code": "HR2", "with_children": True})
    assert response.status_code == 201, response.json()
    assert response.json()["code"] == "BS.HR2"
    assert Project.objects.filter(code__startswith="BS.HR2.").count() == 2


def test_status_endpoint_with_filters_and_colour(api, company):
    main, _sub, bem, rek = make_tree(company, budget_hours=Decimal("5"))
    anna, bo = EmployeeFactory(company=company), EmployeeFactory(company=company)
    register(anna, bem, "4", day=datetime.date(2025, 3, 3))
    register(bo, rek, "7", day=datetime.date(2025, 3, 10))
    body = api.get(f"/api/v1/projects/{main.pk}/status/").json()
    assert body["worked_hours"] == "11.00" and body["budget_hours"] == "10.00"
    assert body["color"] == "red"
    assert [(r["employee"], r["worked_hours"]) for r in body["per_employee"]] == [
        (bo.pk, "7.00"),
        (anna.pk, "4.00"),
    ]
    body = api.get(f"/api/v1/projects/{main.pk}/status/?date_to=2025-03-05").json()
    assert body["worked_hours"] == "4.00" and body["color"] == "green"
    body = api.get(f"/api/v1/projects/{rek.pk}/status/?employee={anna.pk}").json()
    assert body["worked_hours"] == "0.00"


def test_time_registration_create_returns_warnings(api, company):
    leaf = make_project(company, "A", budget_hours=Decimal("10"))
    ProjectControl.objects.create(
        project=leaf, kind="time", action="warning", threshold_percent=Decimal("50")
    )
    employee = EmployeeFactory(company=company)
    code = TimeCodeFactory(company=company)
    response = api.post(
        "/api/v1/time-registrations/",
        {
            "employee": employee.pk,
            "date": "2025-03-03",
            "time_code": code.pk,
            "hours": "6",
            "project": leaf.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["hours"] == "6.00" and body["project"] == leaf.pk
    assert [(w["rule"], w["project"], w["level"]) for w in body["warnings"]] == [
        ("time_control", "A", "warning")
    ]


def test_time_registration_stop_answers_400_naming_project_and_rule(api, company):
    leaf = make_project(company, "A", status=Project.Status.CLOSED)
    employee = EmployeeFactory(company=company)
    code = TimeCodeFactory(company=company)
    response = api.post(
        "/api/v1/time-registrations/",
        {
            "employee": employee.pk,
            "date": "2025-03-03",
            "time_code": code.pk,
            "hours": "6",
            "project": leaf.pk,
        },
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "registration_rejected"
    assert error["fields"]["project"] == "A"
    assert error["fields"]["rules"][0]["rule"] == "status"
    assert "Project A is closed" in error["message"]
    assert not TimeRegistration.objects.exists()


def test_cost_centers_and_time_codes(api, company, other_company):
    response = api.post(
        "/api/v1/cost-centers/",
        {"company": company.pk, "code": "100", "name": "Ekonomi", "valid_from": "2025-01-01"},
    )
    assert response.status_code == 201, response.json()
    DimensionValueFactory(company=other_company, dimension=dimension(other_company))
    DimensionValueFactory(company=company, dimension=dimension(company, 20, code="kund"))
    listed = api.get("/api/v1/cost-centers/").json()["results"]
    assert [c["code"] for c in listed] == ["100"]
    created = api.post(
        "/api/v1/time-codes/",
        {
            "company": company.pk,
            "code": "SJK9",
            "name": "Sjuk",
            "kind": "absence",
            "paxml_code": "SJK",
            "salary_type_code": "310",
        },
    )
    assert created.status_code == 201
    assert api.get("/api/v1/time-codes/?code=SJK9").json()["results"][0]["kind"] == "absence"
    assert dimension(company, SIE_COST_CENTER).values.get().name == "Ekonomi"


def test_home_accountings(api, company):
    employee = EmployeeFactory(company=company)
    centre = DimensionValueFactory(company=company, dimension=dimension(company))
    response = api.post(
        "/api/v1/home-accountings/",
        {"employee": employee.pk, "valid_from": "2030-01-01", "cost_center": centre.pk},
    )
    assert response.status_code == 201, response.json()
    assert employee.home_accountings.get().cost_center == centre


def test_viewer_cannot_create(company, make_user, api_client):
    api_client.force_authenticate(make_user(company, role="viewer"))
    response = api_client.post(
        "/api/v1/projects/", {"company": company.pk, "code": "V", "name": "V"}
    )
    assert response.status_code == 403
    assert api_client.get("/api/v1/projects/").status_code == 200


def test_project_list_query_count_is_flat(api, company, django_assert_max_num_queries):
    for i in range(20):
        make_project(company, f"P{i}")
    with django_assert_max_num_queries(30):
        response = api.get("/api/v1/projects/?page_size=100")
    assert response.json()["count"] == 20
