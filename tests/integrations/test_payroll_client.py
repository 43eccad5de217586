"""The payroll client against the payroll sandbox over real HTTP (the contract in
docs/payroll-api.md)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from integrations.clients.base import OutsideSystemError, RetryPolicy, TransientError
from integrations.clients.payroll import PayrollClient
from integrations.sandboxes.payroll import PayrollSandbox


@pytest.fixture
def seeded():
    return PayrollSandbox()


@pytest.fixture
def client(seeded):
    with seeded.serving() as url:
        sleeps = []
        with PayrollClient(
            url,
            token="sandbox-token",
            timeout=httpx.Timeout(0.5, connect=0.5),
            retry=RetryPolicy(max_attempts=3, backoff_base=0.01),
            sleep=sleeps.append,
        ) as payroll:
            yield payroll


def test_wrong_token_is_refused_in_payrolls_words(seeded):
    with (
        seeded.serving() as url,
        PayrollClient(url, token="nope") as payroll,
        pytest.raises(OutsideSystemError) as info,
    ):
        payroll.settings_get()
    assert info.value.status == 401 and info.value.code == "UNAUTHORIZED"
    assert "bearer token" in str(info.value)


def test_seeded_differences(client):
    forms = {f["code"]: f for f in client.employment_forms_list()}
    assert forms["VIK"]["las_settings"] is None
    assert {"code": "120", "name": "Timlön", "kind": "hourly_wage", "in_use": True} in (
        client.salary_codes_list()
    )
    assert "KONS" not in {c["code"] for c in client.personnel_categories_list()}
    people = list(client.employees_iter(page_size=10))
    emails = [e.email for page in people for e in page.items]
    assert "" in emails and "erik.karlsson.example.se" in emails
    assert client.users_list() == [{"username": "FlexIntegrationHRM", "active": True}]


def test_employees_paged_with_ended(client):
    first = client.employees_page(page=1, page_size=10, include_ended=True)
    assert first.total == 24 and first.has_more and len(first.items) == 10
    active = client.employees_page(page=1, page_size=100, include_ended=False)
    assert active.total == 20


def test_upsert_notices_and_validation(client, seeded):
    result = client.employee_upsert(
        employee_number="7001",
        data={
            "first_name": "Ny",
            "personnel_category": "KONS",
            "employment_form": "SÄS",
            "person_template": "2",
        },
    )
    assert result.created
    assert [n["code"] for n in result.notices] == ["CATEGORY_FALLBACK", "EMPLOYMENT_FORM_CREATED"]
    assert seeded.employees["7001"]["personnel_category"] == "STD"
    with pytest.raises(OutsideSystemError) as info:
        client.employee_upsert(employee_number="7001", data={"email": "no-at-sign"})
    assert info.value.status == 422 and "email" in str(info.value)


def test_data_sent_wins_over_the_template(client, seeded):
    client.employee_upsert(
        employee_number="7002", data={"person_template": "2", "employment_form": "PRO"}
    )
    record = seeded.employees["7002"]
    assert record["person_template"] == "2" and record["employment_form"] == "PRO"
    assert record["personnel_category"] == "ARB"  # from the template


def test_settings_switches(client):
    after = client.settings_set(export_personal_data=False)
    assert after.export_personal_data is False and after.export_balances is True
    with pytest.raises(OutsideSystemError):
        client.settings_set(name_order="last_first")


def test_change_number(client):
    changed = client.employee_change_number(employee_number="1001", new_employee_number="2001")
    assert changed.employee_number == "2001"
    assert client.employee_get(employee_number="1001") is None
    with pytest.raises(OutsideSystemError) as info:
        client.employee_change_number(employee_number="1002", new_employee_number="2001")
    assert info.value.code == "NUMBER_TAKEN"


def test_change_number_after_lost_answer_looks_it_up(client, seeded):
    seeded.faults.drop_after_accept_next = 1
    changed = client.employee_change_number(employee_number="1003", new_employee_number="2003")
    assert changed.employee_number == "2003"


def test_transient_errors_after_retries(client, seeded):
    seeded.faults.fail_next = 5
    with pytest.raises(TransientError):
        client.settings_get()


def test_payroll_runs_for_payslips(client):
    runs = client.payroll_runs_list(payment_date=dt.date(2025, 9, 25))
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "final" and run["period_start"] == "2025-09-01"
    slip = run["payslips"][0]
    assert slip["lines"][0]["salary_type"] == "110"
    from decimal import Decimal

    assert Decimal(slip["gross"]) - Decimal(slip["tax"]) == Decimal(slip["net"])
    assert client.payroll_runs_list(payment_date=dt.date(2025, 9, 24)) == []
