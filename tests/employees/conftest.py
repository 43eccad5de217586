"""Users with hand-picked permissions, so tests of masking and field permissions say
exactly which permissions a user holds."""

import itertools

import pytest
from django.contrib.auth.models import Permission

from companies.models import Membership, Role
from tests.factories import UserFactory

EMPLOYEE_VIEW = ["employees.view_employee"]
EMPLOYEE_ALL = [
    "employees.view_employee",
    "employees.add_employee",
    "employees.change_employee",
    "employees.view_employmentrate",
    "employees.add_employmentrate",
    "employees.change_employmentrate",
    "employees.view_monthlysalary",
    "employees.view_hourlywage",
    "employees.view_personnelcategory",
    "employees.view_employmentform",
    "employees.view_position",
    "employees.view_employmenttemplate",
]
_counter = itertools.count()


@pytest.fixture
def role_user(db):
    """``role_user(company, ["app.codename", ...])`` → a user whose role holds exactly those."""

    def make(company, perms):
        role = Role.objects.create(code=f"test-role-{next(_counter)}", name="Test role")
        for perm in perms:
            app_label, codename = perm.split(".")
            role.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        user = UserFactory()
        Membership.objects.create(user=user, company=company, role=role)
        return user

    return make
