"""Payroll > Accounting page: both buttons share the selection; success and failure come
back as notifications, the failure with a link to the log file."""

import pytest
from django.test import Client

from integrations.models import Job
from ledger.demo import seed
from ledger.models import Account, LedgerSettings, SalaryTypeAccounting, VismaLink

from .factories import make_payslip, make_run


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_create_accounting_file_notifies_with_download(browser, company, user):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="100.00")
    page = browser.get("/payroll/accounting/")
    assert page.status_code == 200
    assert "Create accounting file" in page.content.decode()
    assert "Direct transfer" in page.content.decode()
    response = browser.post(
        "/payroll/accounting/",
        {"company": company.pk, "payroll_run": run.pk, "action": "file"},
        follow=True,
    )
    job = Job.objects.get(kind="sie_export")
    assert job.status == "succeeded"  # eager: runs on commit
    text = response.content.decode()
    assert "The accounting file is ready." in text
    assert f"/api/v1/jobs/{job.pk}/file/" in text


@pytest.mark.django_db(transaction=True)
def test_failed_transfer_notifies_with_log_link(browser, company):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="100.00")
    # No Visma link: the job fails and the page links the log.
    response = browser.post(
        "/payroll/accounting/",
        {"company": company.pk, "payroll_run": run.pk, "action": "transfer"},
        follow=True,
    )
    job = Job.objects.get(kind="visma_transfer")
    assert job.status == "failed"
    text = response.content.decode()
    assert "Something went wrong." in text
    assert f"/jobs/{job.pk}/log.csv" in text


@pytest.mark.django_db
def test_selection_needs_run_or_date(browser, company):
    response = browser.post("/payroll/accounting/", {"company": company.pk, "action": "file"})
    assert "Choose a payroll run or a payment date." in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_company_defaults_and_demo_link(company, user):
    assert Account.objects.get(company=company, number="7210").name == "Löner till tjänstemän"
    assert Account.objects.filter(company=company, number="3740").exists()
    assert LedgerSettings.objects.get(company=company).net_pay_account.number == "1930"
    assert (
        SalaryTypeAccounting.objects.get(
            company=company, salary_type_code="FÖRMBIL"
        ).credit_account.number
        == "7399"
    )
    seed(company=company, admin=user, stdout=type("W", (), {"write": lambda self, s: None})())
    seed(company=company, admin=user, stdout=type("W", (), {"write": lambda self, s: None})())
    link = VismaLink.objects.get(company=company)
    assert link.base_url == "http://127.0.0.1:8702" and link.client_secret == "demo-secret"
