"""Users with hand-picked permissions.

The default roles' "view" rule grants every ``companies.view_*`` permission, including
viewing identity numbers and bank accounts in clear, so tests of masking build their own
roles here.
"""

import itertools

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from companies.models import Membership, Role
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _english(settings):
    """The tests read the pages and messages in English, whatever the compiled Swedish
    catalogue holds (the site's default language is Swedish)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


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
