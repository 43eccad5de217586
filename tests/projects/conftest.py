import pytest

from tests.employees.factories import EmployeeFactory


@pytest.fixture
def employee(company):
    return EmployeeFactory(company=company)
