"""The employee page's inlines are written by services: dated values and home accounting."""

import datetime
from decimal import Decimal

import pytest

from employees.models import EmploymentRate, MonthlySalary
from employees.services import employment_rate_set
from projects.models import HomeAccounting
from projects.models.accounting import SIE_COST_CENTER
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import DimensionValueFactory, dimension

pytestmark = pytest.mark.django_db


def _post_data(client, url):
    """The change form as the browser would send it back, unchanged."""
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if hasattr(value, "pk"):
            value = value.pk
        data[name] = value
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        data.update(
            {
                f"{fs.prefix}-TOTAL_FORMS": len(fs.forms),
                f"{fs.prefix}-INITIAL_FORMS": fs.initial_form_count(),
            }
        )
        for i, row in enumerate(fs.forms):
            for name in row.fields:
                value = row.instance.pk if name == "id" else row.initial.get(name)
                if value is None:
                    continue
                data[f"{fs.prefix}-{i}-{name}"] = getattr(value, "pk", value)
    return data, page


def test_inlines_save_through_services(client, user, company, monkeypatch):
    employee = EmployeeFactory(company=company, employee_number="4001")
    old = employment_rate_set(
        employee=employee, valid_from=datetime.date(2024, 1, 1), rate_percent=Decimal("50")
    )
    cc = DimensionValueFactory(company=company, dimension=dimension(company, SIE_COST_CENTER))
    calls = []
    import employees.services as es
    import projects.services as ps

    for module, name in [
        (es, "employment_rate_set"),
        (es, "monthly_salary_set"),
        (es, "dated_value_delete"),
        (ps, "home_accounting_set"),
    ]:
        original = getattr(module, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)

    client.force_login(user)
    url = f"/admin/employees/employee/{employee.pk}/change/"
    data, page = _post_data(client, url)
    prefixes = {fs.formset.prefix for fs in page.context["inline_admin_formsets"]}
    assert "home_accountings" in prefixes, prefixes
    rate = "employment_rates"
    data[f"{rate}-0-rate_percent"] = "80"  # change the existing row's value
    assert data.get(f"{rate}-0-id") == old.pk, (prefixes, sorted(data))
    data.update(
        {
            "monthly_salaries-TOTAL_FORMS": 1,
            "monthly_salaries-0-valid_from": "2025-01-01",
            "monthly_salaries-0-amount": "32000",
            "home_accountings-TOTAL_FORMS": 1,
            "home_accountings-0-valid_from": "2025-01-01",
            "home_accountings-0-cost_center": cc.pk,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [fs.formset.errors for fs in response.context["inline_admin_formsets"]],
    )
    assert EmploymentRate.objects.get(employee=employee).rate_percent == Decimal("80")
    assert MonthlySalary.objects.get(employee=employee).amount == Decimal("32000")
    assert HomeAccounting.objects.get(employee=employee).cost_center == cc
    assert {"employment_rate_set", "monthly_salary_set", "home_accounting_set"} <= set(calls)

    data, _page = _post_data(client, url)
    data[f"{rate}-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not EmploymentRate.objects.filter(employee=employee).exists()
    assert "dated_value_delete" in calls
