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
            f"Transferred FB-acme-R{run.pk} as batch 000001 (debit = credit = 39426.00 SEK, "
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
