"""Staffing: shifts from recurring shifts, only people with the required (inherited)
competences, comments per employee and shift, the overview and the own schedule; the
Staffing tab only for the staffing dimension."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from projects.models import (
    AccountingDimension,
    Competence,
    CompetenceGroup,
    EmployeeCompetence,
    ProjectCompetence,
    ProjectShift,
    Shift,
    ShiftAssignment,
)
from projects.models.accounting import SIE_PROJECT
from projects.selectors import employee_schedule, staffing_week
from projects.services import shift_assign, shift_for_occurrence
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import make_project

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2025, 3, 3)


@pytest.fixture
def staffing(company):
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        used_for_staffing=True
    )


@pytest.fixture
def driving(company):
    group = CompetenceGroup.objects.create(company=company, code="K", name="Körkort")
    return Competence.objects.create(company=company, group=group, code="B", name="B-körkort")


def test_staffing_refuses_an_employee_without_an_inherited_competence(company, staffing, driving):
    main = make_project(company, "LO", registrable=False)
    ProjectCompetence.objects.create(project=main, competence=driving, level=2)
    leaf = make_project(company, "101", parent=main, inherit_competences=True)
    recurring = ProjectShift.objects.create(
        project=leaf, weekday=0, start_time=datetime.time(7), end_time=datetime.time(16)
    )
    shift = shift_for_occurrence(recurring=recurring, date=MONDAY)
    assert shift_for_occurrence(recurring=recurring, date=MONDAY) == shift  # one row per day
    novice = EmployeeFactory(company=company, first_name="Nils", last_name="Ny")
    EmployeeCompetence.objects.create(employee=novice, competence=driving, level=1)
    with pytest.raises(ValidationError) as excinfo:
        shift_assign(shift=shift, employee=novice)
    assert excinfo.value.messages == [
        "Nils Ny cannot be staffed on LO.101: missing B-körkort (level 2, has 1)."
    ]
    assert not ShiftAssignment.objects.exists()
    driver = EmployeeFactory(company=company)
    EmployeeCompetence.objects.create(employee=driver, competence=driving, level=3)
    assignment = shift_assign(shift=shift, employee=driver, comment="Take the van")
    assert assignment.comment == "Take the van"


def test_staffing_needs_the_staffing_dimension(company):
    leaf = make_project(company, "A")
    recurring = ProjectShift.objects.create(
        project=leaf, weekday=0, start_time=datetime.time(7), end_time=datetime.time(16)
    )
    with pytest.raises(ValidationError, match="not used for staffing"):
        shift_for_occurrence(recurring=recurring, date=MONDAY)


def test_week_overview_expands_recurring_shifts_every_n_weeks(company, staffing):
    leaf = make_project(company, "A")
    weekly = ProjectShift.objects.create(
        project=leaf, weekday=1, start_time=datetime.time(8), end_time=datetime.time(12)
    )
    ProjectShift.objects.create(
        project=leaf,
        weekday=2,
        start_time=datetime.time(8),
        end_time=datetime.time(12),
        repeat_weeks=2,
    )
    this_week = staffing_week(company=company, start=MONDAY)
    next_week = staffing_week(company=company, start=MONDAY + datetime.timedelta(days=7))
    assert len(this_week) + len(next_week) == 3  # weekly twice, fortnightly once
    shift = shift_for_occurrence(recurring=weekly, date=MONDAY + datetime.timedelta(days=1))
    employee = EmployeeFactory(company=company)
    shift_assign(shift=shift, employee=employee)
    slots = [s for s in staffing_week(company=company, start=MONDAY) if s.recurring == weekly]
    assert len(slots) == 1 and slots[0].shift == shift  # the stored one replaces the pattern
    assert [a.employee for a in slots[0].assignments] == [employee]


def test_own_schedule_shows_shifts_and_all_three_comments(client, company, staffing, make_user):
    main = make_project(company, "R2", registrable=False, staffing_comment="Park at the back")
    leaf = make_project(company, "A", parent=main)
    user = make_user(company, role="self_service")
    employee = EmployeeFactory(company=company, user=user)
    shift = Shift.objects.create(
        project=leaf,
        date=MONDAY,
        start_time=datetime.time(9),
        end_time=datetime.time(17),
        comment="Bring the keys",
    )
    shift_assign(shift=shift, employee=employee, comment="You open")
    rows = employee_schedule(employee=employee, start=MONDAY)
    assert [(a.shift, a.project_comment, a.comment) for a in rows] == [
        (shift, "Park at the back", "You open")
    ]
    client.force_login(user)
    html = client.get(f"/projects/my-schedule/?week={MONDAY}").content.decode()
    assert "Park at the back" in html and "Bring the keys" in html and "You open" in html


def test_staffing_page_refuses_and_names_the_missing_competence(
    client, user, company, staffing, driving
):
    leaf = make_project(company, "A")
    ProjectCompetence.objects.create(project=leaf, competence=driving, level=1)
    recurring = ProjectShift.objects.create(
        project=leaf, weekday=0, start_time=datetime.time(7), end_time=datetime.time(16)
    )
    employee = EmployeeFactory(company=company)
    client.force_login(user)
    html = client.get(f"/projects/staffing/?week={MONDAY}").content.decode()
    assert f'name="recurring" value="{recurring.pk}"' in html
    response = client.post(
        "/projects/staffing/assign/",
        {
            "company": company.pk,
            "recurring": recurring.pk,
            "date": MONDAY.isoformat(),
            "employee": employee.pk,
            "next": f"/projects/staffing/?week={MONDAY}",
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "missing B-körkort (level 1, has 0)" in response.content.decode()
    assert not ShiftAssignment.objects.exists()


def test_staffing_tab_only_for_the_staffing_dimension(client, user, company):
    leaf = make_project(company, "A")
    client.force_login(user)
    html = client.get(f"/projects/{leaf.pk}/").content.decode()
    assert "?tab=staffing" not in html
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        used_for_staffing=True
    )
    html = client.get(f"/projects/{leaf.pk}/").content.decode()
    assert "?tab=staffing" in html


def test_self_service_sees_own_schedule_but_not_the_staffing_overview(client, company, make_user):
    user = make_user(company, role="self_service")
    EmployeeFactory(company=company, user=user)
    client.force_login(user)
    assert client.get("/projects/my-schedule/").status_code == 200
    assert client.get("/projects/staffing/").status_code == 403


def test_a_one_off_shift_is_added_on_the_staffing_page(client, user, company, staffing):
    leaf = make_project(company, "A")
    client.force_login(user)
    html = client.get(f"/projects/staffing/?project={leaf.pk}&week={MONDAY}").content.decode()
    assert 'id="shift-form"' in html
    client.post(
        f"/projects/{leaf.pk}/shifts/",
        {
            "date": "2025-03-05",
            "start_time": "18:00",
            "end_time": "22:00",
            "people": "2",
            "comment": "Evening",
        },
    )
    shift = Shift.objects.get()
    assert (shift.project, shift.date, shift.people, shift.comment) == (
        leaf,
        datetime.date(2025, 3, 5),
        2,
        "Evening",
    )
    slots = staffing_week(company=company, start=MONDAY, root=leaf)
    assert [(s.shift, s.missing) for s in slots] == [(shift, 2)]


def test_shifts_are_refused_outside_the_staffing_dimension(company):
    leaf = make_project(company, "A")
    shift = Shift(project=leaf, date=MONDAY, start_time=datetime.time(8), end_time=datetime.time(9))
    with pytest.raises(ValidationError, match="not used for staffing"):
        shift.full_clean()


def test_staffing_never_redirects_off_site(client, user, company, staffing):
    leaf = make_project(company, "A")
    recurring = ProjectShift.objects.create(
        project=leaf, weekday=0, start_time=datetime.time(7), end_time=datetime.time(16)
    )
    client.force_login(user)
    response = client.post(
        "/projects/staffing/assign/",
        {
            "company": company.pk,
            "recurring": recurring.pk,
            "date": MONDAY.isoformat(),
            "employee": EmployeeFactory(company=company).pk,
            "next": "//evil.example/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/projects/staffing/"
