"""Zero server errors: what the security review's fuzz run answered with 500s (or HTML)
now answers in the error shape, and filters do not tell which ids exist elsewhere."""

from __future__ import annotations

import pytest

from projects.models import TimeCode
from projects.models.accounting import SIE_COST_CENTER
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import (
    DimensionValueFactory,
    TimeCodeFactory,
    dimension,
    make_project,
    register,
)


def test_delete_of_a_referenced_time_code_is_409_naming_the_referrers(api, company):
    employee = EmployeeFactory(company=company)
    code = TimeCodeFactory(company=company)
    registration = register(employee, time_code=code)[0]
    response = api.delete(f"/api/v1/time-codes/{code.pk}/")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "time registrations" in error["message"]
    assert f"#{registration.pk}" in error["message"]
    assert TimeCode.objects.filter(pk=code.pk).exists()


def test_delete_of_a_referenced_cost_centre_and_project_is_409(api, company):
    employee = EmployeeFactory(company=company)
    centre = DimensionValueFactory(company=company, dimension=dimension(company, SIE_COST_CENTER))
    project = make_project(company, "P1")
    register(employee, project=project, cost_center=centre)
    for url in (
        f"/api/v1/cost-centers/{centre.pk}/",
        f"/api/v1/dimension-values/{centre.pk}/",
        f"/api/v1/projects/{project.pk}/",
    ):
        response = api.delete(url)
        assert response.status_code == 409, (url, response.content)
        assert response.json()["error"]["code"] == "conflict"


def test_delete_of_a_dimension_with_values_is_409(api, company):
    dim = dimension(company, 6)
    DimensionValueFactory(company=company, dimension=dim)
    response = api.delete(f"/api/v1/accounting-dimensions/{dim.pk}/")
    assert response.status_code == 409
    assert "values" in response.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_patch_to_an_existing_code_is_400_like_post(api, company):
    """Without a surrounding test transaction, as the server runs (autocommit)."""
    first = api.post("/api/v1/cost-centers/", {"company": company.pk, "code": "100", "name": "a"})
    second = api.post("/api/v1/cost-centers/", {"company": company.pk, "code": "200", "name": "b"})
    assert first.status_code == second.status_code == 201
    again = api.post("/api/v1/cost-centers/", {"company": company.pk, "code": "100", "name": "c"})
    assert again.status_code == 400
    response = api.patch(f"/api/v1/cost-centers/{second.json()['id']}/", {"code": "100"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert api.get(f"/api/v1/cost-centers/{second.json()['id']}/").json()["code"] == "200"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/jobs/1/nope/", "/api/v1/x"])
def test_unknown_api_path_answers_json_404_also_with_debug(api, settings, path):
    settings.DEBUG = True
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_method_not_allowed_answers_json_405(api):
    response = api.delete("/api/v1/jobs/selftest/")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_search_input_is_bounded(api, company):
    words = " ".join(f"w{n}" for n in range(1500))
    for url in ("/api/v1/time-codes/", "/api/v1/employees/", "/api/v1/projects/"):
        response = api.get(url, {"search": words})
        assert response.status_code == 400, url
        assert "search" in response.json()["error"]["fields"]
    assert api.get("/api/v1/time-codes/", {"search": "a b c"}).status_code == 200
    assert api.get("/api/v1/employees/", {"search": "a b c"}).status_code == 200


def test_filter_on_another_companys_id_answers_like_a_missing_id(api, company, other_company):
    theirs = EmployeeFactory(company=other_company)
    foreign = api.get("/api/v1/home-accountings/", {"employee": theirs.pk})
    missing = api.get("/api/v1/home-accountings/", {"employee": 999_999})
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["error"]["message"] == missing.json()["error"]["message"]
    foreign = api.get("/api/v1/jobs/", {"company": other_company.pk})
    missing = api.get("/api/v1/jobs/", {"company": 999_999})
    assert foreign.status_code == missing.status_code == 400
    mine = EmployeeFactory(company=company)
    assert api.get("/api/v1/home-accountings/", {"employee": mine.pk}).status_code == 200
