"""The Visma.Net transfer's log lines are stored as message ids with parameters: written in
one language, read in the other."""

import pytest
from django.utils import translation

from .test_transfers import run_with_payslips, transfer

pytestmark = pytest.mark.django_db


def test_transfer_written_in_swedish_is_read_in_english(company, user, link, sandbox):
    run = run_with_payslips(company)
    with translation.override("sv"):
        job = transfer(user, company, payroll_run=run.pk)
    line = job.log_lines.get(level="info", message_id="ledger.visma.transferred")
    assert line.message.startswith(f"FB-acme-R{run.pk} överförd som batch 000001")
    with translation.override("en"):
        assert line.text == (
            f"Transferred FB-acme-R{run.pk} as batch 000001 (debit = credit = 39,426.00 SEK, "
            "period 202503)."
        )


def test_refusal_written_in_english_is_read_in_swedish(company, user, link, sandbox):
    run = run_with_payslips(company)
    transfer(user, company, payroll_run=run.pk)
    with translation.override("en"):
        again = transfer(user, company, payroll_run=run.pk)
    line = again.log_lines.get(level="error")
    assert line.message.startswith("Already transferred as batch 000001")
    with translation.override("sv"):
        text = line.text
    assert text != line.message and "000001" in text and f"FB-acme-R{run.pk}" in text


# --- the voucher builder's problems --------------------------------------------------------


def _sie_export(user, company, run, language: str):
    from jobs.runner import job_execute
    from jobs.services import job_start

    with translation.override(language):
        job = job_start(
            user=user, company=company, kind="sie_export", parameters={"payroll_run": run.pk}
        )
        return job_execute(job_id=job.pk)


def test_a_voucher_problem_written_in_swedish_is_read_in_english(company, user):
    from .factories import make_payslip, make_run

    run = make_run(company=company)
    make_payslip(run=run, lines=[("OKÄND", "100.00")], net_pay="100.00")
    job = _sie_export(user, company, run, "sv")
    line = job.log_lines.get(level="error")
    assert line.message_id == "ledger.voucher.unmapped"
    assert line.message_params == {"run": run.pk, "code": "OKÄND", "count": 1}
    assert line.message == f"Lönekörning {run.pk}: löneart ”OKÄND” saknar kontering (1 rad)."
    with translation.override("en"):
        assert line.text == f"Payroll run {run.pk}: salary type “OKÄND” has no accounting (1 line)."


def test_a_rounding_problem_written_in_english_is_read_in_swedish(company, user):
    from .factories import make_payslip, make_run

    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="50.00")
    job = _sie_export(user, company, run, "en")
    line = job.log_lines.get(level="error")
    assert line.message_id == "ledger.voucher.rounding_too_large"
    assert "leave 50.00 SEK" in line.message
    with translation.override("sv"):
        text = line.text
    assert text.startswith(f"Lönekörning {run.pk}, anställd ")
    assert "de utbetalda raderna (1 MÅNLÖN 100.00)" in text
    assert "lämnar 50,00 kr — mer än öresavrundning (högst 1,00 kr)." in text


def test_a_refused_transfer_keeps_its_reason_by_id(company, user, link, sandbox):
    run = run_with_payslips(company)
    company.license.visma_net_transfer = False
    company.license.save()
    with translation.override("sv"):
        job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed"
    assert job.message_id == "ledger.visma.no_licence"
    with translation.override("en"):
        assert job.message_text == "The company has no licence for Visma.Net direct transfer."
    with translation.override("sv"):
        assert job.message_text == (
            "Företagets licens omfattar inte direktöverföring till Visma.Net."
        )
