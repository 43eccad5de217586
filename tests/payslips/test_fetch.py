"""The "fetch payroll run" job against the payroll sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from integrations.models import PayrollLink
from integrations.sandboxes.payroll import PayrollSandbox
from jobs.models import Job
from jobs.runner import job_execute
from jobs.services import job_create
from payslips import services
from payslips.models import PayrollRun, Payslip, PayslipLine
from tests.employees.factories import EmployeeFactory

PAYDAY = dt.date(2025, 9, 25)


@pytest.fixture(autouse=True)
def fast_client(settings):
    settings.PAYROLL_CLIENT_TIMEOUT = 2.0
    settings.PAYROLL_CLIENT_MAX_ATTEMPTS = 3
    settings.PAYROLL_CLIENT_BACKOFF = 0.01


@pytest.fixture
def sandbox():
    return PayrollSandbox(employees=8)


@pytest.fixture
def link(company, sandbox):
    with sandbox.serving() as url:
        yield PayrollLink.objects.create(
            company=company, base_url=url, api_token="sandbox-token", is_sandbox=True
        )


@pytest.fixture
def employees(company, sandbox):
    return [
        EmployeeFactory(company=company, employee_number=number)
        for number in sorted(sandbox.employees)
    ]


def fetch(company, day=PAYDAY) -> Job:
    job = job_create(
        company=company, kind="payroll_run_fetch", parameters={"payment_date": day.isoformat()}
    )
    return job_execute(job_id=job.pk)


def snapshot(company):
    return (
        list(PayrollRun.objects.filter(company=company).values()),
        list(Payslip.objects.filter(company=company).values().order_by("pk")),
        list(PayslipLine.objects.filter(payslip__company=company).values().order_by("pk")),
    )


def test_fetches_the_run_and_stores_it_once_after_a_503(company, link, employees, sandbox):
    sandbox.faults.fail_next = 1  # retried by the client
    job = fetch(company)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.summary == {"fetched": 1}
    run = PayrollRun.objects.get(company=company)
    expected = sandbox.payroll_runs[PAYDAY.isoformat()][0]
    assert run.external_id == expected["id"]
    assert run.source == PayrollRun.Source.PAYROLL_SYSTEM
    assert run.status == PayrollRun.Status.FINAL
    assert (run.period_start, run.period_end) == (dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    assert run.payslips.count() == len(expected["payslips"]) > 0
    first = expected["payslips"][0]
    slip = run.payslips.get(employee__employee_number=first["employee_number"])
    assert str(slip.gross_pay) == first["gross"] and str(slip.net_pay) == first["net"]
    assert slip.lines.first().text == "Månadslön"

    before = snapshot(company)
    again = fetch(company)
    assert again.status == Job.Status.SUCCEEDED, again.message
    assert again.summary == {"unchanged": 1}
    assert snapshot(company) == before


def test_no_run_on_that_date_is_a_warning(company, link, employees):
    job = fetch(company, dt.date(2025, 9, 24))
    assert job.status == Job.Status.SUCCEEDED
    assert PayrollRun.objects.count() == 0
    assert job.log_lines.filter(level="warning").exists()


def test_unknown_employees_are_errors_and_nothing_is_stored(company, link, sandbox):
    EmployeeFactory(company=company, employee_number=sorted(sandbox.employees)[0])
    job = fetch(company)
    assert job.summary == {"failed": 1}
    assert PayrollRun.objects.count() == 0
    messages = list(job.log_lines.filter(level="error").values_list("message", flat=True))
    assert any("Unknown employee number" in m for m in messages)


def test_a_refused_payslip_written_in_swedish_reads_in_english(company, link, sandbox):
    """The refusal is stored as message parts: the payslip by its employee, the message by
    its msgid and parameters — never a key like payslips[3] or the writer's language."""
    numbers = sorted(sandbox.employees)
    EmployeeFactory(company=company, employee_number=numbers[0])
    with translation.override("sv"):
        job = fetch(company)
    errors = list(job.log_lines.filter(level="error").order_by("pk"))
    assert {line.message_id for line in errors} == {"payroll_run.invalid"}
    first = next(line for line in errors if numbers[1] in line.message)
    assert first.message == (
        f"Sparades inte: Lönespecifikation för anställd {numbers[1]}: "
        f"Okänt anställningsnummer {numbers[1]}."
    )
    assert "payslips[" not in first.message
    with translation.override("en"):
        assert first.text == (
            f"Not stored: Payslip of employee {numbers[1]}: Unknown employee number {numbers[1]}."
        )


def test_payroll_system_down_fails_the_job(company, link, employees, sandbox):
    sandbox.faults.fail_rate = 1.0
    job = fetch(company)
    assert job.status == Job.Status.FAILED
    assert PayrollRun.objects.count() == 0


def test_without_a_payroll_link_the_job_fails(company):
    job = fetch(company)
    assert job.status == Job.Status.FAILED
    assert "payroll link" in job.message
    assert job.message_id == "payroll_run.no_link"
    with translation.override("sv"):
        assert job.message_text == "Företaget har ingen programlänk till lönesystemet."


def test_start_needs_the_permission_to_add_payroll_runs(company, make_user):
    viewer = make_user(company, role="viewer")
    with pytest.raises(PermissionDenied):
        services.payroll_run_fetch_start(user=viewer, company=company, payment_date=PAYDAY)
