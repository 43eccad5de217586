"""Inherited values: colour (and automatic text colour), staffing comment, competences,
participants; the staffing selector."""

import pytest

from projects.models import (
    Competence,
    CompetenceGroup,
    EmployeeCompetence,
    ProjectCompetence,
    ProjectParticipant,
)
from projects.selectors import (
    employee_may_staff_project,
    project_effective_color,
    project_effective_competences,
    project_effective_participants,
    project_effective_staffing_comment,
    projects_for_participant,
    text_color_for,
)
from projects.services import project_update
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import make_project

pytestmark = pytest.mark.django_db


def test_automatic_text_colour_by_contrast():
    assert text_color_for("#FFFF00") == "#000000"
    assert text_color_for("#00008B") == "#FFFFFF"
    assert text_color_for("#14532D") == "#FFFFFF"
    assert text_color_for("#A0E0A0") == "#000000"


def test_colour_is_inherited_from_the_main_project(company):
    region = make_project(company, "R2", registrable=False, color="#14532D")
    sub = make_project(company, "S", parent=region, registrable=False)
    leaf = make_project(company, "L", parent=sub)
    assert sub.inherit_color and leaf.inherit_color  # new sub projects inherit by default
    assert project_effective_color(project=leaf) == ("#14532D", "#FFFFFF")
    own = make_project(
        company, "O", parent=sub, inherit_color=False, color="#FFFF00", text_color="#333333"
    )
    assert project_effective_color(project=own) == ("#FFFF00", "#333333")


def test_staffing_comment_applies_down_unless_overridden(company):
    main = make_project(company, "M", registrable=False, staffing_comment="Bring a helmet")
    a = make_project(company, "A", parent=main)
    b = make_project(company, "B", parent=main, staffing_comment="Night shift")
    assert project_effective_staffing_comment(project=a) == "Bring a helmet"
    assert project_effective_staffing_comment(project=b) == "Night shift"


@pytest.fixture
def competences(company):
    group = CompetenceGroup.objects.create(company=company, code="K", name="Körkort")
    driving = Competence.objects.create(company=company, group=group, code="B", name="B-körkort")
    fire = Competence.objects.create(company=company, group=group, code="BR", name="Brand")
    return driving, fire


def test_competences_inherited_or_own(company, competences, employee):
    driving, fire = competences
    lo = make_project(company, "LO", registrable=False)
    ProjectCompetence.objects.create(project=lo, competence=driving, level=2)
    lo101 = make_project(company, "101", parent=lo)
    lo102 = make_project(company, "102", parent=lo, inherit_competences=False)
    ProjectCompetence.objects.create(project=lo102, competence=driving, level=2)
    ProjectCompetence.objects.create(project=lo102, competence=fire, level=3)
    assert project_effective_competences(project=lo101) == {driving: 2}
    assert project_effective_competences(project=lo102) == {driving: 2, fire: 3}

    EmployeeCompetence.objects.create(employee=employee, competence=driving, level=3)
    assert employee_may_staff_project(employee=employee, project=lo101) is True
    assert employee_may_staff_project(employee=employee, project=lo102) is False
    EmployeeCompetence.objects.create(employee=employee, competence=fire, level=2)
    assert employee_may_staff_project(employee=employee, project=lo102) is False  # level 2 < 3
    EmployeeCompetence.objects.filter(competence=fire).update(level=5)
    assert employee_may_staff_project(employee=employee, project=lo102) is True


def test_participants_inherited_read_only(company):
    anna, bo = EmployeeFactory(company=company), EmployeeFactory(company=company)
    main = make_project(company, "M", registrable=False)
    ProjectParticipant.objects.create(project=main, employee=anna, role="project_lead")
    inheriting = make_project(company, "I", parent=main, inherit_participants=True)
    ProjectParticipant.objects.create(project=inheriting, employee=bo)
    alone = make_project(company, "A", parent=main)
    result = project_effective_participants(project=inheriting)
    assert {(p.participant.employee, p.inherited) for p in result.participants} == {
        (anna, True),
        (bo, False),
    }
    assert project_effective_participants(project=alone).participants == []
    assert projects_for_participant(employee=anna) == {main.pk, inheriting.pk}
    alone = project_update(project=alone, all_employees_participate=True)
    assert project_effective_participants(project=alone).includes(bo)
    assert alone.pk in projects_for_participant(employee=bo)
