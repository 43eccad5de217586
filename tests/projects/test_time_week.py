"""The time registration week view: self-service registration through the same service
as the API, the projects a person may pick, project info on pick, warnings and stops,
day and week totals against the work schedule; who may register and see whose time."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from projects.models import (
    AccountingDimension,
    Project,
    ProjectControl,
    ProjectParticipant,
    TimeRegistration,
    WorkSchedule,
)
from projects.models.accounting import SIE_PROJECT
from projects.selectors import registration_projects, time_week
from projects.services import project_attachment_create, project_set_status
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import (
    TimeCodeFactory,
    approve,
    make_project,
    make_tree,
    register,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2025, 3, 3)


@pytest.fixture
def me(company, make_user):
    """A self-service user linked to an employee of ``company``."""
    user = make_user(company, role="self_service", username="anna")
    employee = EmployeeFactory(company=company, user=user, first_name="Anna", last_name="Ek")
    return user, employee


@pytest.fixture
def code(company):
    return TimeCodeFactory(company=company)


def _post(client, employee, project, code, hours="8", day=MONDAY, **extra):
    data = {
        "company": employee.company_id,
        "employee": employee.pk,
        "week": MONDAY.isoformat(),
        "date": day.isoformat(),
        "project": project.pk if project else "",
        "time_code": code.pk,
        "hours": hours,
        "internal_comment": "",
        "external_comment": "",
        "billable": "",
        **extra,
    }
    return client.post("/projects/time/", data, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def test_an_employee_registers_own_time_with_a_warning_and_is_stopped(client, me, company, code):
    user, employee = me
    leaf = make_project(company, "A", budget_hours=Decimal("10"))
    ProjectControl.objects.create(
        project=leaf, kind="time", action="warning", threshold_percent=Decimal("80")
    )
    ProjectControl.objects.create(
        project=leaf, kind="time", action="stop", threshold_percent=Decimal("120")
    )
    client.force_login(user)
    html = _post(client, employee, leaf, code, "8").content.decode()
    assert "The registration was saved." in html
    html = _post(client, employee, leaf, code, "2", day=MONDAY.replace(day=4)).content.decode()
    assert "10.00 of 10.00 budgeted hours" in html  # the warning, saved anyway
    html = _post(client, employee, leaf, code, "3", day=MONDAY.replace(day=5)).content.decode()
    assert "Not saved:" in html and "13.00 of 10.00" in html  # the stop
    assert list(
        TimeRegistration.objects.filter(employee=employee).values_list("hours", flat=True)
    ) == [Decimal("2.00"), Decimal("8.00")]


def test_required_internal_comment_is_a_stop(client, me, company, code):
    user, employee = me
    leaf = make_project(company, "A", internal_comment_required=True)
    client.force_login(user)
    html = _post(client, employee, leaf, code).content.decode()
    assert "requires an internal comment" in html
    assert not TimeRegistration.objects.exists()
    _post(client, employee, leaf, code, internal_comment="Workshop")
    assert TimeRegistration.objects.get().internal_comment == "Workshop"


def test_only_projects_the_person_may_use_are_offered(company, me):
    user, employee = me
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        only_participants_may_register=True
    )
    main, _sub, bem, rek = make_tree(company)
    ProjectParticipant.objects.create(project=bem, employee=employee)
    ProjectParticipant.objects.create(project=rek, employee=employee)
    late = make_project(company, "LATE", start_date=MONDAY + datetime.timedelta(days=30))
    ProjectParticipant.objects.create(project=late, employee=employee)
    open_to_all = make_project(company, "ALL", all_employees_participate=True)
    make_project(company, "OTHER")  # not a participant
    sunday = MONDAY + datetime.timedelta(days=6)
    codes = [
        p.code
        for p in registration_projects(
            employee=employee, user=user, date_from=MONDAY, date_to=sunday
        )
    ]
    assert codes == ["ALL", "BS.HR.Bem", "BS.HR.Rek"]
    project_set_status(project=main, status=Project.Status.FROZEN)  # freezes the branch
    codes = [
        p.code
        for p in registration_projects(
            employee=employee, user=user, date_from=MONDAY, date_to=sunday
        )
    ]
    assert codes == [open_to_all.code]


def test_page_offers_only_usable_projects_and_shows_totals(client, me, company, code):
    user, employee = me
    leaf = make_project(company, "OPEN")
    make_project(company, "SHUT", status=Project.Status.CLOSED)
    WorkSchedule.objects.create(employee=employee, valid_from=MONDAY, monday=8, tuesday=8)
    register(employee, leaf, "6", day=MONDAY, time_code=code)
    register(employee, leaf, "9", day=MONDAY + datetime.timedelta(days=1), time_code=code)
    client.force_login(user)
    html = client.get(f"/projects/time/?week={MONDAY}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "OPEN Project OPEN</option>" in html and "SHUT" not in html
    assert "<strong>6.00</strong> / 8.00" in html and "<strong>9.00</strong> / 8.00" in html
    assert "15.00 / 16.00" in html  # week total against the schedule


def test_project_info_and_attachments_shown_at_registration(client, me, company, tmp_path):
    user, _employee = me
    leaf = make_project(company, "A", internal_comment="Use the customer's badge")
    with override_settings(MEDIA_ROOT=tmp_path):
        shown = project_attachment_create(
            project=leaf,
            file=SimpleUploadedFile("map.pdf", b"%PDF-1.4 map"),
            description="Site map",
            show_at_registration=True,
        )
        project_attachment_create(
            project=leaf, file=SimpleUploadedFile("budget.pdf", b"%PDF-1.4 money")
        )
    client.force_login(user)
    info = client.get(f"/projects/{leaf.pk}/registration-info/").json()
    assert info["internal_comment"] == "Use the customer's badge"
    assert [a["name"] for a in info["attachments"]] == ["map.pdf"]
    assert info["attachments"][0]["url"] == f"/projects/attachments/{shown.pk}/"


def test_self_service_cannot_register_for_or_see_others(client, me, company, code, api_client):
    user, employee = me
    colleague = EmployeeFactory(company=company)
    leaf = make_project(company, "A")
    register(colleague, leaf, "4", time_code=code)
    mine, _w = register(employee, leaf, "2", time_code=code)
    client.force_login(user)
    assert client.get(f"/projects/time/?employee={colleague.pk}").status_code == 404
    api_client.force_authenticate(user)
    body = api_client.get("/api/v1/time-registrations/").json()
    assert [r["id"] for r in body["results"]] == [mine.pk]
    response = api_client.post(
        "/api/v1/time-registrations/",
        {
            "employee": colleague.pk,
            "date": "2025-03-04",
            "time_code": code.pk,
            "hours": "1",
            "project": leaf.pk,
        },
        format="json",
    )
    assert response.status_code == 403
    response = api_client.post(
        "/api/v1/time-registrations/",
        {
            "employee": employee.pk,
            "date": "2025-03-04",
            "time_code": code.pk,
            "hours": "1",
            "project": leaf.pk,
        },
        format="json",
    )
    assert response.status_code == 201


def test_hr_registers_for_another_employee(client, company, make_user, code):
    hr = make_user(company, role="hr_admin")
    someone = EmployeeFactory(company=company)
    leaf = make_project(company, "A")
    client.force_login(hr)
    html = _post(client, someone, leaf, code, "7").content.decode()
    assert "The registration was saved." in html
    assert TimeRegistration.objects.get().employee == someone


def test_approved_registrations_are_locked(client, me, company, code):
    user, employee = me
    leaf = make_project(company, "A")
    registration, _w = register(employee, leaf, "2", time_code=code)
    approve(registration)
    client.force_login(user)
    html = client.post(
        f"/projects/time/{registration.pk}/delete/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "approved and locked" in html
    assert TimeRegistration.objects.filter(pk=registration.pk).exists()


def test_week_view_queries_are_bounded(company, me, django_assert_max_num_queries, code):
    _user, employee = me
    projects = [make_project(company, f"P{n}") for n in range(5)]
    for n in range(20):
        register(
            employee,
            projects[n % 5],
            "1",
            day=MONDAY + datetime.timedelta(days=n % 7),
            time_code=code,
        )
    with django_assert_max_num_queries(2):
        week = time_week(employee=employee, start=MONDAY)
        codes = [r.project.code for d in week.days for r in d.registrations]
    assert len(codes) == 20 and week.total == Decimal("20.00")


def test_week_page_answers_in_a_bounded_number_of_queries(
    client, me, company, code, django_assert_max_num_queries
):
    user, employee = me
    leaf = make_project(company, "A")
    client.force_login(user)
    client.get("/projects/time/")  # warm the session and content types
    for n in range(7):
        register(employee, leaf, "1", day=MONDAY + datetime.timedelta(days=n), time_code=code)
    with django_assert_max_num_queries(20):
        response = client.get(f"/projects/time/?week={MONDAY}")
    assert response.status_code == 200
    for n in range(30):
        register(employee, leaf, "0.5", day=MONDAY + datetime.timedelta(days=n % 7), time_code=code)
    with django_assert_max_num_queries(20):
        assert client.get(f"/projects/time/?week={MONDAY}").status_code == 200


def test_self_service_cannot_delete_a_colleagues_registration(client, me, company, code):
    user, _employee = me
    colleague = EmployeeFactory(company=company)
    theirs, _w = register(colleague, make_project(company, "A"), "4", time_code=code)
    client.force_login(user)
    assert client.post(f"/projects/time/{theirs.pk}/delete/").status_code == 404
    assert TimeRegistration.objects.filter(pk=theirs.pk).exists()


def test_hr_without_an_employee_of_their_own_picks_whose_week(client, company, make_user):
    hr = make_user(company, role="hr_admin")
    first = EmployeeFactory(company=company, first_name="Ada", last_name="Aberg")
    EmployeeFactory(company=company, first_name="Bo", last_name="Berg")
    client.force_login(hr)
    html = client.get("/projects/time/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ada Aberg" in html and 'name="employee" onchange' in html
    assert f'<option value="{first.pk}" selected>' in html
