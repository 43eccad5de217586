import io

import pytest

from projects import demo
from projects.models import Project, ProjectControl, TimeRegistration
from tests.employees.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_three_level_tree_with_registrations_once(company, user):
    for _ in range(3):
        EmployeeFactory(company=company)
    out = io.StringIO()
    demo.seed(company=company, admin=user, stdout=out)
    assert set(Project.objects.filter(company=company).values_list("level", flat=True)) == {
        0,
        1,
        2,
    }
    assert ProjectControl.objects.filter(project__company=company).count() == 3
    count = TimeRegistration.objects.filter(company=company).count()
    assert count > 10
    demo.seed(company=company, admin=user, stdout=out)  # idempotent
    assert TimeRegistration.objects.filter(company=company).count() == count
