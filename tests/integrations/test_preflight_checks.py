"""Each preflight check on its own (one per item of the seed's checklist), against a stub
payroll system: the registry's order, then every check's pass, warning and fail."""

from __future__ import annotations

import datetime as dt

import pytest

from employees.models import (
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    PersonnelCategory,
    Position,
)
from integrations import switchover as sw
from integrations.clients.payroll import PayrollEmployee, PayrollSettings
from integrations.models import PayrollLink
from tests.employees.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


class StubPayroll:
    """What a payroll web service answers, held in lists."""

    file_based = False

    def __init__(self, **answers):
        self.salary_codes = answers.get("salary_codes", [])
        self.categories = answers.get("categories", [{"code": "STD"}])
        self.forms = answers.get("forms", [{"code": "TV", "las_settings": True}])
        self.templates = answers.get("templates", [])
        self.users = answers.get("users", [{"username": "FlexIntegrationHRM", "active": True}])

    def salary_codes_list(self):
        return self.salary_codes

    def personnel_categories_list(self):
        return self.categories

    def employment_forms_list(self):
        return self.forms

    def person_templates_list(self):
        return self.templates

    def users_list(self):
        return self.users


class StubFile:
    """A file-based payroll system's backend: no registers, only the wage elements."""

    file_based = True

    def __init__(self, wages=None):
        self.wages = wages or {}


def person(number="1001", **values) -> PayrollEmployee:
    defaults = {
        "email": f"p{number}@acme.example",
        "personnel_category": "STD",
        "employment_form": "TV",
        "position": "Lagerarbetare",
        "clearing_number": "8327",
        "bank_account_number": "9999999999",
    }
    return PayrollEmployee(employee_number=number, **{**defaults, **values})


@pytest.fixture
def registers(company):
    company.name_order = "first_last"
    company.save()
    PersonnelCategory.objects.update_or_create(
        company=company, code="STD", defaults={"name": "Standard"}
    )
    EmploymentForm.objects.update_or_create(company=company, code="TV", defaults={"name": "TV"})
    Position.objects.create(company=company, code="P1", title="Lagerarbetare")
    return company


def preflight(company, client=None, *, people=(), name_order="first_last", **link_values):
    link, _ = PayrollLink.objects.update_or_create(company=company, defaults=link_values)
    return sw.Preflight(
        company=company,
        link=link,
        client=client or StubPayroll(),
        file_based=getattr(client, "file_based", False),
        settings=PayrollSettings(
            name_order=name_order,
            export_personal_data=True,
            export_balances=True,
            use_hr_web_service=True,
        ),
        people=list(people),
        hr_employees={},
    )


def test_the_registry_holds_one_check_per_item_in_the_reports_order():
    keys = [
        "salary_codes",
        "personnel_categories",
        "employment_forms",
        "emails",
        "position",
        "bank_accounts",
        "name_order",
        "templates",
        "employment_rates",
        "onboarding_flows",
        "web_service",
        "accountings",
        "field_diff",
        "termination_reason",
    ]
    assert [check.__name__ for check in sw.PREFLIGHT_CHECKS] == [f"check_{k}" for k in keys]


def test_salary_codes_in_use_are_a_strong_warning(registers):
    client = StubPayroll(
        salary_codes=[
            {"code": "120", "name": "Timlön", "kind": "hourly_wage", "in_use": True},
            {"code": "121", "name": "Månadslön", "kind": "monthly_wage", "in_use": False},
            {"code": "300", "name": "OB", "kind": "supplement", "in_use": True},
        ]
    )
    item = sw.check_salary_codes(preflight(registers, client))
    assert (item["status"], item["strong"], item["offenders"]) == ("warning", True, ["120 Timlön"])
    clean = sw.check_salary_codes(preflight(registers))
    assert (clean["status"], clean["strong"]) == ("pass", False)


def test_salary_codes_from_a_file_name_the_employees_with_wages(registers):
    item = sw.check_salary_codes(preflight(registers, StubFile({"1002": ["timlon"]})))
    assert item["strong"] and item["offenders"] == ["1002 (timlon)"]
    unknown = sw.check_salary_codes(preflight(registers, StubFile()))
    assert unknown["status"] == "warning" and unknown["not_checkable"]


def test_personnel_categories(registers):
    item = sw.check_personnel_categories(
        preflight(registers, people=[person(personnel_category="KONS")])
    )
    assert item["status"] == "fail" and item["offenders"] == ["KONS"]
    item = sw.check_personnel_categories(preflight(registers, StubPayroll(categories=[])))
    assert (item["status"], item["offenders"]) == ("warning", ["STD"])
    assert sw.check_personnel_categories(preflight(registers, people=[person()]))["status"] == (
        "pass"
    )


def test_employment_forms(registers):
    item = sw.check_employment_forms(preflight(registers, people=[person(employment_form="VIK")]))
    assert item["status"] == "fail" and item["offenders"] == ["VIK"]
    no_las = StubPayroll(forms=[{"code": "TV", "las_settings": False}])
    item = sw.check_employment_forms(preflight(registers, no_las))
    assert (item["status"], item["offenders"]) == ("warning", ["TV"])
    assert sw.check_employment_forms(preflight(registers))["status"] == "pass"


def test_emails(registers):
    hr = EmployeeFactory(company=registers, employee_number="1003", work_email="x@acme.example")
    pf = preflight(registers, people=[person("1001", email="broken"), person("1003", email="")])
    pf.hr_employees = {"1003": hr}
    item = sw.check_emails(pf)
    assert item["status"] == "fail"
    assert item["offenders"] == ["1001 (broken)", "1003"]
    missing = sw.check_emails(preflight(registers, people=[person("1004", email="")]))
    assert missing["status"] == "warning"
    assert sw.check_emails(preflight(registers, people=[person()]))["status"] == "pass"


def test_position(registers):
    item = sw.check_position(
        preflight(registers, people=[person("1", position=""), person("2", position="Pilot")])
    )
    assert (item["status"], item["offenders"]) == ("warning", ["1", "Pilot"])
    item = sw.check_position(preflight(registers, people=[person(position="LAGERARBETARE")]))
    assert item["status"] == "pass"


def test_bank_accounts(registers):
    item = sw.check_bank_accounts(preflight(registers, people=[person(clearing_number="")]))
    assert (item["status"], item["offenders"]) == ("warning", ["1001"])
    assert sw.check_bank_accounts(preflight(registers, people=[person()]))["status"] == "pass"


def test_name_order(registers):
    assert sw.check_name_order(preflight(registers))["status"] == "pass"
    item = sw.check_name_order(preflight(registers, name_order="last_first"))
    assert item["status"] == "fail" and "Payroll uses Last name, first name" in item["message"]
    item = sw.check_name_order(preflight(registers, name_order="undefined"))
    assert item["status"] == "fail"
    assert sw.check_name_order(preflight(registers, StubFile()))["not_checkable"]
    registers.name_order = "undefined"
    assert sw.check_name_order(preflight(registers, StubFile()))["status"] == "fail"


def test_templates(registers):
    EmploymentTemplate.objects.filter(company=registers).delete()
    EmploymentTemplate.objects.create(company=registers, code="T1", name="Tjänsteman")
    EmploymentTemplate.objects.create(company=registers, code="T2", name="Arbetare")
    client = StubPayroll(
        templates=[{"code": "T1", "name": "Kollektivare"}, {"code": "T3", "name": "Chef"}]
    )
    item = sw.check_templates(preflight(registers, client))
    assert item["status"] == "fail"
    assert item["offenders"] == [
        "T1: HR 'Tjänsteman' / payroll 'Kollektivare'",
        "T2 (HR only)",
        "T3 (payroll only)",
    ]
    same = StubPayroll(
        templates=[{"code": "T1", "name": "TJÄNSTEMAN"}, {"code": "T2", "name": "arbetare"}]
    )
    assert sw.check_templates(preflight(registers, same))["status"] == "pass"
    assert sw.check_templates(preflight(registers, StubFile()))["not_checkable"]


def test_employment_rates(registers):
    item = sw.check_employment_rates(
        preflight(registers, people=[person(employment_rates=[{"rate": "100"}])])
    )
    assert (item["status"], item["offenders"]) == ("fail", ["1001"])
    employee = EmployeeFactory(company=registers)
    EmploymentRate.objects.create(
        employee=employee, valid_from=dt.date(2025, 1, 1), rate_percent=100
    )
    dated = person(employment_rates=[{"rate": "100", "start_date": "2025-01-01"}])
    assert sw.check_employment_rates(preflight(registers, people=[dated]))["status"] == "pass"


def test_onboarding_flows(registers, monkeypatch):
    assert sw.check_onboarding_flows(preflight(registers))["status"] == "pass"
    monkeypatch.setattr(
        sw.preflight, "ONBOARDING_FLOW_PROVIDERS", [lambda *, company: ["New hires"]]
    )
    item = sw.check_onboarding_flows(preflight(registers))
    assert (item["status"], item["offenders"]) == ("fail", ["New hires"])


def test_web_service(registers):
    assert sw.check_web_service(preflight(registers))["status"] == "pass"
    inactive = StubPayroll(users=[{"username": "FlexIntegrationHRM", "active": False}])
    item = sw.check_web_service(preflight(registers, inactive))
    assert item["status"] == "fail" and "not active" in item["message"]
    other = sw.check_web_service(preflight(registers, integration_username="api-user"))
    assert other["status"] == "fail" and "api-user does not exist" in other["message"]
    pf = preflight(registers)
    pf.settings.use_hr_web_service = False
    assert "is off in payroll" in sw.check_web_service(pf)["message"]
    assert sw.check_web_service(preflight(registers, StubFile()))["not_checkable"]


def test_accountings(registers):
    split = person(home_accounting=[{"cost_center": "1"}, {"cost_center": "2"}])
    item = sw.check_accountings(preflight(registers, people=[split], send_home_accounting=True))
    assert (item["status"], item["offenders"]) == ("warning", ["1001"])
    off = sw.check_accountings(preflight(registers, people=[split], send_home_accounting=False))
    assert (off["status"], off["offenders"]) == ("pass", [])
    file_item = sw.check_accountings(preflight(registers, StubFile(), send_home_accounting=True))
    assert file_item["not_checkable"]


def test_field_diff(registers):
    hr = EmployeeFactory(company=registers, employee_number="2001")
    pf = preflight(registers, people=[person("1001")])
    pf.hr_employees = {"2001": hr}
    item = sw.check_field_diff(pf)
    assert (
        item["status"] == "pass"
        and "0 employees differ, 1 only in payroll, 1 only in HR" in (item["message"])
    )
    assert [(d["employee_number"], d["change"]) for d in pf.diff] == [
        ("1001", "only_in_payroll"),
        ("2001", "only_in_hr"),
    ]


def test_termination_reason_is_a_reminder(registers):
    item = sw.check_termination_reason(preflight(registers))
    assert item["status"] == "pass" and "termination reason" in item["message"]
