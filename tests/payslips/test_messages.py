"""The Kivra dispatch's log lines are stored as message ids with parameters: a line written
while the job ran in one language reads in the reader's language."""

import datetime

import pytest
from django.utils import translation

from employees.models import Employee
from integrations.sandboxes.kivra import KivraSandbox
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.runner import job_execute
from jobs.services import job_create
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import KivraLinkFactory, make_run

PAYDAY = datetime.date(2026, 1, 25)


@pytest.fixture(autouse=True)
def fast(settings):
    settings.KIVRA_RETRY_BACKOFF = 0.005
    settings.KIVRA_RETRY_BACKOFF_CAP = 0.02
    settings.KIVRA_DISPATCH_CONCURRENCY = 2


@pytest.fixture
def employees(company):
    return [EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(3)]


def _dispatch(company, employees, language: str):
    """employees[0] is a Kivra user, employees[1] is not (retained), employees[2] has an
    invalid personal identity number (an error naming no one)."""
    pin = employees[2].personal_identity_number
    Employee.objects.filter(pk=employees[2].pk).update(
        personal_identity_number=pin[:-1] + str((int(pin[-1]) + 1) % 10)
    )
    sandbox = KivraSandbox(users=[employees[0].personal_identity_number])
    make_run(company, employees)
    with sandbox.serving() as url, translation.override(language):
        KivraLinkFactory(company=company, base_url=url)
        job = job_create(
            company=company,
            kind="kivra_dispatch",
            parameters={"payment_date": PAYDAY.isoformat(), "status": "final"},
        )
        job = job_execute(job_id=job.pk)
    return {line.message_id: line for line in job.log_lines.all()}


def test_a_dispatch_written_in_swedish_reads_in_english(company, employees):
    lines = _dispatch(company, employees, "sv")
    assert {"kivra.sent", "kivra.retained", "kivra.pin_invalid"} <= set(lines)
    assert lines["kivra.sent"].message == "Skickad till Kivra."  # stored as written
    with translation.override("en"):
        assert lines["kivra.sent"].text == "Sent to Kivra."
        assert lines["kivra.retained"].text == (
            "Retained by Kivra for 390 days (not a Kivra user yet)."
        )
        assert lines["kivra.pin_invalid"].text == "The personal identity number is not valid."


def test_a_dispatch_written_in_english_reads_in_swedish(company, employees):
    lines = _dispatch(company, employees, "en")
    assert lines["kivra.sent"].message == "Sent to Kivra."
    with translation.override("sv"):
        assert lines["kivra.sent"].text == "Skickad till Kivra."
        assert lines["kivra.retained"].text == (
            "Ligger kvar hos Kivra i 390 dagar (är inte Kivra-användare än)."
        )
        assert lines["kivra.pin_invalid"].text == "Personnumret är felaktigt."


def test_a_personal_identity_number_in_a_parameter_is_masked(company, employees):
    pin = employees[0].personal_identity_number
    job = job_create(company=company, kind="kivra_dispatch", parameters={})
    ctx = JobContext(job)
    ctx.error(JobMessage("kivra.refused", error=f"40009 SSN {pin} is not valid"), item="x")
    ctx.flush(force=True)
    line = job.log_lines.get()
    assert line.message_id == "kivra.refused"
    assert pin not in str(line.message_params) and pin not in line.message
    assert pin[-4:] not in line.message_params["error"]
