"""``seed_demo``'s payslip part: idempotent, and a dispatch works against the sandbox's
default users (some demo employees are Kivra users, some are not)."""

from __future__ import annotations

import collections
import datetime
import io

import pytest

from employees import demo as employees_demo
from employees.models import Employee
from integrations.sandboxes.kivra import KivraSandbox
from jobs.models import Job
from jobs.runner import job_execute
from jobs.services import job_create
from payslips import demo
from payslips.models import KivraLink, PayrollRun, Payslip, PayslipDelivery, PayslipLine
from payslips.services import kivra_link_problems


@pytest.fixture(autouse=True)
def fast(settings):
    settings.KIVRA_RETRY_BACKOFF = 0.005
    settings.KIVRA_RETRY_BACKOFF_CAP = 0.02
    settings.KIVRA_TIMEOUT = 3.0
    settings.KIVRA_DISPATCH_CONCURRENCY = 4


def seed(company, user):
    out = io.StringIO()
    employees_demo.seed(company=company, admin=user, stdout=out)
    demo.seed(company=company, admin=user, stdout=out)
    return out.getvalue()


def rows(company):
    return (
        list(KivraLink.objects.filter(company=company).values()),
        list(PayrollRun.objects.filter(company=company).values()),
        list(Payslip.objects.filter(company=company).values().order_by("pk")),
        list(PayslipLine.objects.filter(payslip__company=company).values().order_by("pk")),
        sorted(
            Employee.objects.filter(company=company).values_list(
                "employee_number", "kivra_send_payslips", "kivra_allow_print"
            )
        ),
    )


def test_seed_twice_gives_the_same_rows(company, user):
    output = seed(company, user)
    assert "Kivra link" in output and "Payroll run" in output
    first = rows(company)
    assert seed(company, user).count("Payroll run") == 0
    assert rows(company) == first
    run = PayrollRun.objects.get(company=company)
    assert run.status == PayrollRun.Status.FINAL
    assert run.payment_date == demo.demo_payment_date()
    # employee 1008 ended in March 2025: not in the run
    assert not run.payslips.filter(employee__employee_number="1008").exists()
    texts = set(PayslipLine.objects.filter(payslip__payroll_run=run).values_list("text", flat=True))
    assert {"Månadslön", "Timlön", "OB-tillägg kväll", "Fackavgift"} <= texts
    flagged = Employee.objects.filter(company=company, kivra_send_payslips=True).count()
    assert flagged > Employee.objects.filter(company=company).count() * 3 // 4
    assert kivra_link_problems(company=company) == []


def test_payment_date_is_the_latest_25th():
    assert demo.demo_payment_date(datetime.date(2026, 3, 25)) == datetime.date(2026, 3, 25)
    assert demo.demo_payment_date(datetime.date(2026, 3, 24)) == datetime.date(2026, 2, 25)
    assert demo.demo_payment_date(datetime.date(2026, 1, 2)) == datetime.date(2025, 12, 25)


def test_a_dispatch_of_the_demo_run_works_against_the_default_sandbox(company, user):
    seed(company, user)
    sandbox = KivraSandbox()  # its default users, as `make run` starts it
    with sandbox.serving() as url:
        KivraLink.objects.filter(company=company).update(base_url=url)
        job = job_create(
            company=company,
            kind="kivra_dispatch",
            parameters={"payment_date": demo.demo_payment_date().isoformat()},
        )
        job = job_execute(job_id=job.pk)
    summary = job.summary
    # The demo link has Kivra's print add-on: 1004/1014 (no mailbox, print allowed) go to
    # Kivra for printing.
    assert summary["sent"] > 0 and summary["retained"] > 0, summary
    assert summary["kivra_printing"] >= 1, summary
    assert summary["failed"] == 1  # 1025 has no personal identity number
    assert summary["skipped"] == len(demo.NO_KIVRA - {"1008"})
    per_recipient = collections.Counter(r["ssn"] for r in sandbox.received)
    assert per_recipient and set(per_recipient.values()) == {1}
    assert PayslipDelivery.objects.filter(status="kivra_printing").exists()
    assert any(r["printed"] for r in sandbox.received)
    assert job.status == Job.Status.PARTLY_FAILED  # the one error above
