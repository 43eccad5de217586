"""Participant and authorization settings of the project dimension: the default selection
"only projects I take part in", accounting-based authorization, ETag/If-Match on projects."""

import pytest
from django.contrib.auth.models import Permission

from companies.models import Membership, Role
from employees.services import employee_update
from projects.models import AccountingDimension, ProjectAuthorization, ProjectParticipant
from projects.models.accounting import SIE_PROJECT
from projects.services import TimeRegistrationRejected
from tests.factories import UserFactory
from tests.projects.factories import make_project, make_tree, register

pytestmark = pytest.mark.django_db


def _dimension(company, **settings):
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(**settings)


def _codes(response):
    assert response.status_code == 200, response.json()
    return sorted(p["code"] for p in response.json()["results"])


@pytest.fixture
def registrar_role(db):
    """A role that may see projects and register time, but not manage the register."""
    role = Role.objects.create(code="registrar", name="Registrar")
    role.permissions.set(
        Permission.objects.filter(
            content_type__app_label="projects",
            codename__in=["view_project", "add_timeregistration", "view_timeregistration"],
        )
    )
    return role


@pytest.fixture
def worker(company, employee, registrar_role):
    user = UserFactory()
    Membership.objects.create(user=user, company=company, role=registrar_role)
    employee_update(employee=employee, data={"user": user})
    return user


def test_list_shows_only_my_projects_by_default_and_all_on_request(
    api_client, company, employee, worker
):
    main, _sub, bem, rek = make_tree(company)
    other = make_project(company, "X")
    ProjectParticipant.objects.create(project=bem, employee=employee)
    api_client.force_authenticate(worker)
    every = ["BS", "BS.HR", "BS.HR.Bem", "BS.HR.Rek", "X"]
    assert _codes(api_client.get("/api/v1/projects/")) == every  # setting off
    _dimension(company, show_only_my_projects=True)
    assert _codes(api_client.get("/api/v1/projects/")) == ["BS.HR.Bem"]
    assert _codes(api_client.get("/api/v1/projects/?all=true")) == every
    # by inheritance and by "all employees are participants"
    rek.inherit_participants = True
    rek.save()
    main.participants.create(employee=employee)
    other.all_employees_participate = True
    other.save()
    assert _codes(api_client.get("/api/v1/projects/")) == ["BS", "BS.HR.Bem", "X"]
    # a detail is not limited by the default selection
    assert api_client.get(f"/api/v1/projects/{rek.pk}/").status_code == 200


def test_user_without_employee_sees_all_projects(api, company):
    make_tree(company)
    _dimension(company, show_only_my_projects=True)
    assert len(_codes(api.get("/api/v1/projects/"))) == 4


def test_tree_page_shows_only_my_projects_with_a_toggle(client, company, employee, worker):
    _main, _sub, bem, _rek = make_tree(company)
    ProjectParticipant.objects.create(project=bem, employee=employee)
    _dimension(company, show_only_my_projects=True)
    client.force_login(worker)
    page = client.get("/projects/").content.decode()
    assert "BS.HR.Bem" in page and "BS.HR.Rek" not in page
    assert "?all=1" in page
    page = client.get("/projects/?all=1").content.decode()
    assert "BS.HR.Rek" in page


def test_authorization_limits_what_a_user_sees(api_client, client, company, worker, registrar_role):
    _main, sub, bem, _rek = make_tree(company)
    other = make_project(company, "X")
    api_client.force_authenticate(worker)
    assert len(_codes(api_client.get("/api/v1/projects/"))) == 5
    _dimension(company, used_for_authorization=True)
    assert _codes(api_client.get("/api/v1/projects/")) == []
    ProjectAuthorization.objects.create(project=sub, user=worker, role=registrar_role)
    assert _codes(api_client.get("/api/v1/projects/")) == ["BS.HR", "BS.HR.Bem", "BS.HR.Rek"]
    assert api_client.get(f"/api/v1/projects/{other.pk}/").status_code == 404
    client.force_login(worker)
    assert client.get(f"/projects/{other.pk}/").status_code == 404
    assert client.get(f"/projects/{bem.pk}/").status_code == 200
    page = client.get("/projects/").content.decode()
    assert "BS.HR.Bem" in page and ">X<" not in page


def test_project_administrators_are_not_limited_by_authorization(api, company):
    make_tree(company)
    _dimension(company, used_for_authorization=True)
    assert len(_codes(api.get("/api/v1/projects/"))) == 4


def test_registration_needs_a_role_that_registers_on_the_branch(
    company, employee, worker, registrar_role
):
    _main, sub, bem, _rek = make_tree(company)
    other = make_project(company, "X")
    _dimension(company, used_for_authorization=True)
    ProjectAuthorization.objects.create(project=sub, user=worker, role=registrar_role)
    assert register(employee, bem, user=worker)[1] == []
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, other, user=worker)
    error = excinfo.value.errors[0]
    assert (error.rule, error.project) == ("authorization", "X")
    assert "X" in error.message
    # a role without "add time registration" does not reach it for registering
    viewer = Role.objects.get(code="viewer")
    ProjectAuthorization.objects.create(project=other, user=worker, role=viewer)
    with pytest.raises(TimeRegistrationRejected):
        register(employee, other, user=worker)
    # the system (no user) is not limited
    assert register(employee, other)[1] == []


def test_registration_api_checks_authorization(api_client, company, employee, worker):
    leaf = make_project(company, "X")
    _dimension(company, used_for_authorization=True)
    api_client.force_authenticate(worker)
    from tests.projects.factories import TimeCodeFactory

    code = TimeCodeFactory(company=company)
    response = api_client.post(
        "/api/v1/time-registrations/",
        {
            "employee": employee.pk,
            "date": "2025-03-03",
            "time_code": code.pk,
            "hours": "8",
            "project": leaf.pk,
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"]["rules"][0]["rule"] == "authorization"


def test_only_participants_message_names_project_and_rule(company, employee):
    _dimension(company, only_participants_may_register=True)
    leaf = make_project(company, "P")
    with pytest.raises(TimeRegistrationRejected) as excinfo:
        register(employee, leaf)
    error = excinfo.value.errors[0]
    assert error.rule == "participants"
    assert "project P" in error.message and "only participants may register" in error.message


# --- ETag / If-Match --------------------------------------------------------------------------


def test_project_update_honours_if_match(api, company):
    project = make_project(company, "E")
    url = f"/api/v1/projects/{project.pk}/"
    read = api.get(url)
    etag = read["ETag"]
    assert etag
    changed = api.patch(url, {"name": "First"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.json()
    assert changed["ETag"] != etag
    stale = api.patch(url, {"name": "Second"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    project.refresh_from_db()
    assert project.name == "First"
    assert api.patch(url, {"name": "Third"}, format="json").status_code == 200
