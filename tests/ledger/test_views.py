"""Payroll > Accounting page, browser-free: both buttons share one selection popup; each
posts the selection, the job runs (eagerly, on commit) and the outcome comes back as a
notification — success with the file or the transfer, failure with a link to the log."""

import datetime
import re

import httpx
import pytest
from django.test import Client

from companies.models import Membership, Role
from jobs.models import Job
from ledger.demo import seed
from ledger.models import Account, LedgerSettings, LedgerTransfer, SalaryTypeAccounting, VismaLink
from ledger.sie import sie_read

from .factories import make_payslip, make_run

PAGE = "/payroll/accounting/"


@pytest.fixture
def browser(user, settings):
    settings.LANGUAGE_CODE = "en"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def run_with_payslip(company, payment_date=datetime.date(2025, 3, 25)):
    run = make_run(company=company, payment_date=payment_date)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", "1", {"1": "100", "6": "P1"})],
        tax="9000.00",
        contributions="9426.00",
        net_pay="21000.00",
    )
    return run


def notification(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.django_db
def test_page_has_both_buttons_sharing_one_selection_popup(browser, company):
    run = run_with_payslip(company)
    text = browser.get(PAGE).content.decode()
    assert "Create accounting file" in text and "Direct transfer" in text
    # One dialog, one form: the selection fields and a submit button per action.
    assert text.count("<dialog") == 1
    dialog = text[text.index("<dialog") : text.index("</dialog>")]
    assert dialog.count("<form") == 1
    for field in ('name="company"', 'name="payroll_run"', 'name="payment_date"'):
        assert field in dialog
    assert 'name="action" value="file"' in dialog
    assert 'name="action" value="transfer"' in dialog
    assert f'<option value="{run.pk}">' in dialog
    assert "openSelection('file')" in text and "openSelection('transfer')" in text


@pytest.mark.django_db(transaction=True)
def test_create_accounting_file_notifies_with_download_that_reads_back(browser, company):
    run = run_with_payslip(company)
    response = browser.post(
        PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "file"}, follow=True
    )
    job = Job.objects.get(kind="sie_export")
    assert job.status == "succeeded"  # eager: runs on commit
    assert job.parameters == {"payroll_run": run.pk}
    assert response.redirect_chain == [(PAGE, 302)]
    assert "The accounting file is ready." in notification(response)
    link = re.search(rf'href="([^"]*/jobs/{job.pk}/file/)"', response.content.decode())
    assert link, response.content.decode()
    download = browser.get(link.group(1))
    assert download.status_code == 200
    [voucher] = sie_read(b"".join(download.streaming_content)).vouchers
    assert voucher.balanced
    # The notification is shown once.
    assert "The accounting file is ready." not in notification(browser.get(PAGE))


@pytest.mark.django_db(transaction=True)
def test_create_accounting_file_for_a_payment_date(browser, company):
    day = datetime.date(2025, 4, 25)
    run_with_payslip(company, payment_date=day)
    run_with_payslip(company, payment_date=day)
    response = browser.post(
        PAGE, {"company": company.pk, "payment_date": "2025-04-25", "action": "file"}, follow=True
    )
    job = Job.objects.get(kind="sie_export")
    assert job.parameters == {"payment_date": "2025-04-25"}
    assert job.status == "succeeded"
    assert job.summary == {"vouchers": 2}
    assert "The accounting file is ready." in notification(response)


@pytest.mark.django_db(transaction=True)
def test_accounting_file_that_cannot_be_built_notifies_with_log_link(browser, company):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="50.00")
    response = browser.post(
        PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "file"}, follow=True
    )
    job = Job.objects.get(kind="sie_export")
    assert job.status == "failed"
    assert "Something went wrong." in notification(response)
    assert f"/jobs/{job.pk}/log.csv" in response.content.decode()
    log = browser.get(f"/jobs/{job.pk}/log.csv")
    assert log.status_code == 200
    body = b"".join(log.streaming_content) if log.streaming else log.content
    assert "leave 50.00 SEK" in body.decode("utf-8-sig")


@pytest.mark.django_db(transaction=True)
def test_direct_transfer_notifies_success_and_lists_the_transfer(browser, company, link, sandbox):
    run = run_with_payslip(company)
    response = browser.post(
        PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "transfer"}, follow=True
    )
    job = Job.objects.get(kind="visma_transfer")
    assert job.status == "succeeded", list(job.log_lines.values_list("message", flat=True))
    assert "The accounting was transferred to Visma.Net." in notification(response)
    # The notice is shown once, then the page is calm again.
    assert "transferred to Visma.Net" not in notification(browser.get(PAGE))
    response = browser.get(PAGE)
    transfer = LedgerTransfer.objects.get(payroll_run=run)
    assert transfer.status == "sent"
    assert transfer.voucher_key in response.content.decode()
    assert httpx.get(f"{sandbox.url}/_sandbox/received").json()["count"] == 1
    # The dialog marks the run (the transfer button hides it) ...
    page = response.content.decode()
    assert f'<option value="{run.pk}" data-transferred="1">' in page
    assert "already transferred" in page
    # ... and the same selection again is refused on the field, before any job starts.
    response = browser.post(
        PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "transfer"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["payroll_run"] == [
        f"{run} is already transferred to Visma.Net."
    ]
    assert Job.objects.filter(kind="visma_transfer").count() == 1
    assert httpx.get(f"{sandbox.url}/_sandbox/received").json()["count"] == 1
    # The file can still be made from it.
    browser.post(PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "file"})
    assert Job.objects.get(kind="sie_export").status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_failed_transfer_notifies_with_log_link(browser, company):
    run = run_with_payslip(company)
    # No Visma link: the job fails and the page links the log.
    response = browser.post(
        PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "transfer"}, follow=True
    )
    job = Job.objects.get(kind="visma_transfer")
    assert job.status == "failed"
    assert "Something went wrong." in notification(response)
    assert f"/jobs/{job.pk}/log.csv" in response.content.decode()


@pytest.mark.django_db
def test_selection_needs_run_or_date_and_reopens_the_popup(browser, company):
    response = browser.post(PAGE, {"company": company.pk, "action": "file"})
    text = response.content.decode()
    assert "Choose a payroll run or a payment date." in text
    assert '<dialog id="selection" open>' in text
    both = browser.post(
        PAGE,
        {
            "company": company.pk,
            "payroll_run": run_with_payslip(company).pk,
            "payment_date": "2025-03-25",
            "action": "transfer",
        },
    )
    assert "Choose a payroll run or a payment date." in both.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_run_of_another_company_and_unknown_action_start_nothing(
    browser, company, other_company, user
):
    Membership.objects.create(user=user, company=other_company, role=Role.objects.get(code="admin"))
    foreign = run_with_payslip(other_company)
    response = browser.post(
        PAGE, {"company": company.pk, "payroll_run": foreign.pk, "action": "file"}
    )
    assert "The payroll run belongs to another company." in response.content.decode()
    run = run_with_payslip(company)
    browser.post(PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "delete"})
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_user_without_the_permission_gets_an_error_and_no_job(company, make_user, settings):
    settings.LANGUAGE_CODE = "en"
    viewer = make_user(company, role="viewer")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(viewer)
    run = run_with_payslip(company)
    for action in ("file", "transfer"):
        response = client.post(
            PAGE, {"company": company.pk, "payroll_run": run.pk, "action": action}
        )
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_company_defaults_and_demo_link(company, user):
    assert Account.objects.get(company=company, number="7210").name == "Löner till tjänstemän"
    assert Account.objects.filter(company=company, number="3740").exists()
    settings = LedgerSettings.objects.get(company=company)
    assert settings.net_pay_account.number == "1930"
    assert settings.benefit_credit_account.number == "7399"
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


@pytest.mark.django_db
def test_notice_waits_for_the_job_and_shows_when_the_user_comes_back(
    browser, company, django_capture_on_commit_callbacks
):
    """With a worker the job is still queued when the page comes back: "started", a bar
    that reloads the page when the job finishes, and the notice then (or on a later visit)."""
    run = run_with_payslip(company)
    with django_capture_on_commit_callbacks(execute=False):  # a worker would run it later
        response = browser.post(
            PAGE, {"company": company.pk, "payroll_run": run.pk, "action": "transfer"}, follow=True
        )
    job = Job.objects.get(kind="visma_transfer")
    assert job.status == "queued"
    assert "Started. You get a notice here when it has finished." in notification(response)
    assert f'data-job-id="{job.pk}"' in response.content.decode()
    assert 'data-reload-on-finish="1"' in response.content.decode()

    # Still running on a later visit: no notice yet, and none lost.
    assert notification(browser.get(PAGE)) == ""
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED, message="Visma.Net answered 500."
    )
    back = browser.get(PAGE)
    text = notification(back)
    assert "Something went wrong." in text and "Visma.Net answered 500." in text
    assert f"/jobs/{job.pk}/log.csv" in text
    assert notification(browser.get(PAGE)) == ""  # shown once
