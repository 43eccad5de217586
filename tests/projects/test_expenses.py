"""Expense codes: the register, its API, and the accounting check of an expense with the
priority project rule > expense code rule > dimension's general rule."""

import datetime

import pytest

from projects.models import (
    AccountingRule,
    ExpenseCode,
    ProjectAccountingDefault,
)
from projects.models.accounting import SIE_COST_CENTER
from projects.services import expense_code_save, registration_accounting_validate
from tests.projects.factories import DimensionValueFactory, dimension, make_project

pytestmark = pytest.mark.django_db
DAY = "2025-03-03"


def _code(company, **rules):
    code = ExpenseCode(company=company, code="TAXI", name="Taxi", paxml_code="T1")
    return expense_code_save(expense_code=code, rules=rules or None)


def _errors(draft):
    return [(f.rule, f.message) for f in draft.findings if f.level == "error"]


def test_rule_priority_for_an_expense(company, employee):
    kst = dimension(company, SIE_COST_CENTER)
    kst.rule = AccountingRule.MAY
    kst.save()
    project = make_project(company, "P")
    taxi = _code(company)
    expense_code_save(expense_code=taxi, rules={kst: AccountingRule.MUST})
    day = datetime.date(2025, 3, 3)
    draft = registration_accounting_validate(
        employee=employee, date=day, expense_code=taxi, project=project
    )
    assert _errors(draft) == [
        ("accounting_rule", f"{kst.name} must be given (the rule of expense code TAXI).")
    ]
    # the project's rule wins over the code's
    ProjectAccountingDefault.objects.create(project=project, dimension=kst, rule=AccountingRule.MAY)
    draft = registration_accounting_validate(
        employee=employee, date=day, expense_code=taxi, project=project
    )
    assert _errors(draft) == []
    # without a code rule the dimension's general rule decides
    expense_code_save(expense_code=taxi, rules={})
    ProjectAccountingDefault.objects.all().delete()
    kst.rule = AccountingRule.MUST
    kst.save()
    draft = registration_accounting_validate(employee=employee, date=day, expense_code=taxi)
    assert "the dimension's general rule" in _errors(draft)[0][1]


def test_travel_lays_out_by_the_travel_setting(company, employee):
    kst = dimension(company, SIE_COST_CENTER)
    cc = DimensionValueFactory(company=company, dimension=kst, code="10")
    project = make_project(company, "P")
    ProjectAccountingDefault.objects.create(project=project, dimension=kst, value=cc)
    day = datetime.date(2025, 3, 3)
    kst.lay_out_from_project_time = True
    kst.save()
    draft = registration_accounting_validate(employee=employee, date=day, project=project)
    assert draft.values.get(kst.pk) is None  # only time lays it out
    kst.lay_out_from_project_travel = True
    kst.save()
    draft = registration_accounting_validate(employee=employee, date=day, project=project)
    assert draft.values[kst.pk] == cc
    draft = registration_accounting_validate(
        employee=employee, date=day, project=project, kind="pay"
    )
    assert draft.values.get(kst.pk) is None
    with pytest.raises(ValueError):
        registration_accounting_validate(employee=employee, date=day, kind="time")


def test_api_crud_and_validate(api, company, employee):
    kst = dimension(company, SIE_COST_CENTER)
    created = api.post(
        "/api/v1/expense-codes/",
        {
            "company": company.pk,
            "code": "HOTEL",
            "name": "Hotell",
            "paxml_code": "H1",
            "rules": [{"dimension": kst.pk, "rule": "must"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["rules"] == [{"dimension": kst.pk, "rule": "must"}]
    url = f"/api/v1/expense-codes/{body['id']}/"
    assert api.get("/api/v1/expense-codes/").json()["count"] == 1
    project = make_project(company, "P")
    check = api.post(
        f"{url}validate/",
        {"employee": employee.pk, "date": DAY, "project": project.pk},
        format="json",
    )
    assert check.status_code == 200, check.json()
    assert check.json()["valid"] is False
    assert check.json()["findings"][0]["rule"] == "accounting_rule"
    assert "expense code HOTEL" in check.json()["findings"][0]["message"]
    changed = api.patch(url, {"rules": []}, format="json")
    assert changed.status_code == 200 and changed.json()["rules"] == []
    check = api.post(f"{url}validate/", {"employee": employee.pk, "date": DAY}, format="json")
    assert check.json()["valid"] is True


def test_code_is_unique_per_company(api, company):
    _code(company)
    response = api.post(
        "/api/v1/expense-codes/", {"company": company.pk, "code": "TAXI", "name": "x"}
    )
    assert response.status_code == 400
