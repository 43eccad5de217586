import pytest
from django.utils import translation

from tests.employees.factories import EmployeeFactory


@pytest.fixture(autouse=True)
def _english(settings):
    """The tests read the messages in English, whatever the compiled Swedish catalogue
    holds at the moment (the site's default language is Swedish)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def employee(company):
    return EmployeeFactory(company=company)
