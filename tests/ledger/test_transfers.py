"""Direct transfer to Visma.Net through the outbox, against the Visma sandbox over real HTTP:
refusals, injected faults, lost answers, restarts and re-send after reversal — and never a
duplicate batch at the sandbox."""

import datetime
from decimal import Decimal

import httpx
import pytest

from jobs.models import Job
from jobs.runner import job_execute
from jobs.services import job_start
from ledger import services
from ledger.models import LedgerTransfer

from .factories import make_payslip, make_run

D = Decimal


def run_with_payslips(company, payment_date=datetime.date(2025, 3, 25)):
    run = make_run(company=company, payment_date=payment_date)
    make_payslip(
        run=run,
        lines=[("MÅNLÖN", "30000.00", "1", {"1": "100", "6": "P1"})],
        tax="9000.00",
        contributions="9426.00",
        net_pay="20999.60",
    )
    return run


def transfer(user, company, **parameters) -> Job:
    job = job_start(user=user, company=company, kind="visma_transfer", parameters=parameters)
    return job_execute(job_id=job.pk)


def received(sandbox) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/received").json()


@pytest.mark.django_db
def test_transfer_posts_one_balanced_batch(company, user, link, sandbox):
    run = run_with_payslips(company)
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded", list(job.log_lines.values_list("message", flat=True))
    assert job.summary == {"sent": 1}
    row = LedgerTransfer.objects.get(payroll_run=run)
    assert row.status == "sent" and row.batch_number == "000001"
    assert row.ledger_number == "L1" and row.financial_period == "202503"
    [batch] = sandbox.batches
    assert batch["description"].endswith(f"[FB-acme-R{run.pk}]")
    assert batch["debitTotal"] == batch["creditTotal"] == D("39426.00")
    lines = {
        (x["accountNumber"], x["debitAmountInCurrency"], x["creditAmountInCurrency"])
        for x in batch["journalTransactionLines"]
    }
    assert ("7210", D("30000.00"), D("0")) in lines
    assert ("3740", D("0"), D("0.40")) in lines
    salary = next(x for x in batch["journalTransactionLines"] if x["accountNumber"] == "7210")
    assert salary["subaccount"]["segments"] == [{"segmentId": 1, "segmentValue": "100"}]
    assert salary["project"] == {"id": "P1"}
    assert salary["quantity"] == D("1.00")
    assert received(sandbox)["duplicates"] == 0


@pytest.mark.django_db
def test_second_transfer_of_the_same_run_is_refused(company, user, link, sandbox):
    run = run_with_payslips(company)
    assert transfer(user, company, payroll_run=run.pk).status == "succeeded"
    again = transfer(user, company, payroll_run=run.pk)
    assert again.status == "failed"
    assert "Already transferred as batch 000001" in again.log_lines.get(level="error").message
    assert received(sandbox)["count"] == 1


@pytest.mark.django_db
def test_resend_after_reversal_is_explicit_and_logged(company, user, link, sandbox, caplog):
    run = run_with_payslips(company)
    transfer(user, company, payroll_run=run.pk)
    first = LedgerTransfer.objects.get(payroll_run=run)
    with pytest.raises(services.TransferRefused):
        services.ledger_transfer_resend(transfer=first, user=user, reason=" ")
    job = services.ledger_transfer_resend(
        transfer=first, user=user, reason="Batch 000001 reversed in Visma (wrong period)"
    )
    job = job_execute(job_id=job.pk)  # enqueued on commit; tests run it here
    assert job.status == "succeeded"
    first.refresh_from_db()
    assert first.status == "reversed" and first.reversed_by == user
    second = LedgerTransfer.objects.get(payroll_run=run, generation=2)
    assert second.voucher_key == f"FB-acme-R{run.pk}-G2" and second.batch_number == "000002"
    assert "Re-send after reversal" in job.log_lines.get(level="warning").message
    assert "marked reversed" in caplog.text
    assert [b["description"][-12:] for b in sandbox.batches][1].endswith("-G2]")
    assert received(sandbox)["duplicates"] == 0
    # A plain transfer job after that is refused again.
    assert transfer(user, company, payroll_run=run.pk).status == "failed"
    assert received(sandbox)["count"] == 2


@pytest.mark.django_db
def test_closed_period_is_refused_before_sending_then_sent_when_open(company, user, link, sandbox):
    run = run_with_payslips(company)
    sandbox.options["closed_periods"] = ["202503"]
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed"
    assert "202503 is closed" in job.log_lines.get(level="error").message
    assert LedgerTransfer.objects.get(payroll_run=run).status == "failed"
    assert sandbox.batches == []
    assert not [r for r in sandbox.requests if r["path"] == "/v2/journaltransaction"]
    sandbox.options["closed_periods"] = []
    assert transfer(user, company, payroll_run=run.pk).status == "succeeded"
    assert received(sandbox)["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ledgers,message",
    [
        (
            [{"number": "B", "balanceType": "Budget", "currencyId": "SEK"}],
            "no ledger with balance type Actual",
        ),
        ([{"number": "L1", "balanceType": "Actual", "currencyId": "NOK"}], "currency NOK"),
    ],
)
def test_ledger_refusals(company, user, link, sandbox, ledgers, message):
    run = run_with_payslips(company)
    sandbox.options["ledgers"] = ledgers
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed"
    assert message in job.log_lines.get(level="error").message
    assert sandbox.batches == []


@pytest.mark.django_db
def test_unbalanced_voucher_sends_nothing_and_leaves_no_outbox_row(company, user, link, sandbox):
    run = make_run(company=company)
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="90.00")
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed"
    assert "leave 10.00 SEK" in job.log_lines.get(level="error").message
    assert not LedgerTransfer.objects.exists()
    assert sandbox.requests == []


@pytest.mark.django_db
def test_preliminary_run_and_missing_licence_are_refused(company, user, link, sandbox):
    run = make_run(company=company, status="preliminary")
    make_payslip(run=run, lines=[("MÅNLÖN", "100.00")], net_pay="100.00")
    assert transfer(user, company, payroll_run=run.pk).status == "failed"
    company.license.visma_net_transfer = False
    company.license.save()
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed" and "licence" in job.message
    assert sandbox.batches == []


@pytest.mark.django_db
def test_lost_answer_is_looked_up_not_resent(company, user, link, sandbox):
    run = run_with_payslips(company)
    # The token POST is the first accepted write; drop the answer to the journal POST.
    sandbox.options["drop_journal_posts"] = 1
    original = sandbox.journal_create

    def dropping(request):
        response = original(request)
        if sandbox.options["drop_journal_posts"]:
            sandbox.options["drop_journal_posts"] -= 1
            response.drop = True
        return response

    sandbox._routes = [(m, r, dropping if h == original else h) for m, r, h in sandbox._routes]
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded"
    assert "looking the voucher up" in job.log_lines.get(level="warning").message
    assert "not sent again" in " ".join(job.log_lines.values_list("message", flat=True))
    assert LedgerTransfer.objects.get(payroll_run=run).attempts == 1
    assert received(sandbox) | {"batches": None} == {"count": 1, "duplicates": 0, "batches": None}


@pytest.mark.django_db
def test_restart_after_crash_while_sending_finds_the_batch(company, user, link, sandbox):
    """A worker killed after the POST but before saving the answer: the row says SENDING."""
    run = run_with_payslips(company)
    sandbox.faults.drop_after_accept_next = 0
    # Crash simulation: run the job with a POST that succeeds but whose result is never saved.
    real_send = services.ledger_transfer_send

    def crash_after_post(*, transfer, voucher, link, client, ctx):
        real_create = client.journal_transaction_create

        def create_then_die(body):
            real_create(body)
            raise SystemExit("worker killed")

        client.journal_transaction_create = create_then_die
        return real_send(transfer=transfer, voucher=voucher, link=link, client=client, ctx=ctx)

    services.visma.ledger_transfer_send = crash_after_post
    job = job_start(
        user=user, company=company, kind="visma_transfer", parameters={"payroll_run": run.pk}
    )
    try:
        with pytest.raises(SystemExit):
            job_execute(job_id=job.pk)
    finally:
        services.visma.ledger_transfer_send = real_send
    assert LedgerTransfer.objects.get(payroll_run=run).status == "sending"
    job = job_execute(job_id=job.pk)  # the redelivered task
    assert job.status == "succeeded"
    assert LedgerTransfer.objects.get(payroll_run=run).status == "sent"
    assert received(sandbox)["count"] == 1


@pytest.mark.django_db
def test_chaos_many_runs_with_faults_zero_duplicates(company, user, link, sandbox):
    runs = [run_with_payslips(company, datetime.date(2025, 1 + n % 12, 25)) for n in range(12)]
    sandbox.faults.fail_rate = 0.25
    sandbox.faults.fail_status = 503
    sandbox.faults.latency_ms = 2
    sandbox.faults.rate_limit_next = 3
    sandbox.faults.drop_after_accept_next = 4
    for _attempt in range(6):
        pending = [
            r
            for r in runs
            if not LedgerTransfer.objects.filter(payroll_run=r, status="sent").exists()
        ]
        if not pending:
            break
        for run in pending:
            transfer(user, company, payroll_run=run.pk)
    assert LedgerTransfer.objects.filter(status="sent").count() == 12
    state = received(sandbox)
    assert state["count"] == 12 and state["duplicates"] == 0


@pytest.mark.django_db
def test_rest_commands_answer_202_with_the_job(company, user, api, link, sandbox):
    run = run_with_payslips(company)
    response = api.post(
        "/api/v1/ledger/exports/", {"company": company.pk, "payroll_run": run.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "sie_export"
    assert response.json()["status"] == "queued"
    assert job_execute(job_id=response.json()["id"]).status == "succeeded"
    response = api.post(
        "/api/v1/ledger/transfers/",
        {"company": company.pk, "payment_date": "2025-03-25"},
        format="json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["parameters"] == {"payment_date": "2025-03-25"}
    assert job_execute(job_id=response.json()["id"]).status == "succeeded"
    assert received(sandbox)["count"] == 1
    bad = api.post("/api/v1/ledger/transfers/", {"company": company.pk}, format="json")
    assert bad.status_code == 400 and "payroll_run" in bad.json()["error"]["fields"]


@pytest.mark.django_db
def test_rest_commands_need_the_permission(company, make_user, api_client, link):
    run = run_with_payslips(company)
    viewer = make_user(company, role="viewer")
    api_client.force_authenticate(viewer)
    response = api_client.post(
        "/api/v1/ledger/transfers/", {"company": company.pk, "payroll_run": run.pk}, format="json"
    )
    assert response.status_code == 403


def log_text(job) -> str:
    return " ".join(job.log_lines.values_list("message", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault",
    [
        {"fail_after_create_next": 1, "fail_after_create_status": 500},
        {"fail_after_create_next": 1, "fail_after_create_status": 502},
        {"fail_after_create_next": 1, "fail_after_create_status": 503},
        {"fail_after_create_next": 1, "fail_after_create_status": 504},
        {"drop_after_create_next": 1},
        {"omit_location_next": 1},
    ],
    ids=["created-500", "created-502", "created-503", "created-504", "dropped", "no-location"],
)
def test_every_uncertain_outcome_is_looked_up_one_voucher(company, user, link, sandbox, fault):
    run = run_with_payslips(company)
    sandbox.options.update(fault)
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded", log_text(job)
    assert "looking the voucher up before sending again" in log_text(job)
    assert "Found in Visma.Net as batch 000001" in log_text(job)
    row = LedgerTransfer.objects.get(payroll_run=run)
    assert (row.status, row.batch_number, row.attempts) == ("sent", "000001", 1)
    assert received(sandbox)["count"] == 1 and received(sandbox)["duplicates"] == 0


@pytest.mark.django_db
def test_lookup_finds_the_voucher_past_a_page_size_cap(company, user, link, sandbox):
    """60 other GL batches in the period and a server cap of 50: ours is on page 2."""
    run = run_with_payslips(company)
    filler = {
        "module": "ModuleGL",
        "status": "Balanced",
        "financialPeriod": "202503",
        "description": "Other",
        "journalTransactionLines": [],
    }
    sandbox.batches.extend({**filler, "batchNumber": f"X{n:05d}"} for n in range(60))
    sandbox.options.update(max_page_size=50, fail_after_create_next=1, fail_after_create_status=504)
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded", log_text(job)
    assert LedgerTransfer.objects.get(payroll_run=run).batch_number == "000001"
    ours = [b for b in sandbox.batches if b["description"].endswith(f"[FB-acme-R{run.pk}]")]
    assert len(ours) == 1


@pytest.mark.django_db
def test_next_run_after_failed_looks_up_before_posting(company, user, link, sandbox):
    """A transfer that ended FAILED after its POST may have created the batch: the next run
    looks its key up and does not post again."""
    run = run_with_payslips(company)
    assert transfer(user, company, payroll_run=run.pk).status == "succeeded"
    LedgerTransfer.objects.filter(payroll_run=run).update(status="failed", batch_number="")
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded", log_text(job)
    assert "Found in Visma.Net as batch 000001" in log_text(job)
    assert received(sandbox)["count"] == 1


@pytest.mark.django_db
def test_lookup_that_fails_leaves_the_transfer_uncertain_never_reposted(
    company, user, link, sandbox
):
    run = run_with_payslips(company)
    sandbox.options.update(fail_after_create_next=1)
    real_list = sandbox.journal_list
    sandbox._routes = [
        (m, r, (lambda request: sandbox.server_error(request, 503)) if h == real_list else h)
        for m, r, h in sandbox._routes
    ]
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed"
    assert LedgerTransfer.objects.get(payroll_run=run).status == "uncertain"
    assert len(sandbox.batches) == 1
    sandbox._routes = [
        (m, r, real_list if r.pattern == "^/v2/journaltransaction$" and m == "GET" else h)
        for m, r, h in sandbox._routes
    ]
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded", log_text(job)
    assert received(sandbox)["count"] == 1


@pytest.mark.django_db
def test_transaction_date_has_an_offset_and_the_period_is_vismas(company, user, link, sandbox):
    """A financial year May–April: 2025-03-25 is period 11 of the year starting 2024."""
    sandbox.options["fiscal_year_start_month"] = 5
    run = run_with_payslips(company)
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "succeeded", log_text(job)
    [batch] = sandbox.batches
    assert batch["transactionDate"] == "2025-03-25T00:00:00+01:00"
    assert batch["financialPeriod"] == "202411"
    assert LedgerTransfer.objects.get(payroll_run=run).financial_period == "202411"


@pytest.mark.django_db
def test_missing_period_is_refused_before_sending(company, user, link, sandbox):
    run = run_with_payslips(company)
    sandbox.options["missing_periods"] = ["202503"]
    job = transfer(user, company, payroll_run=run.pk)
    assert job.status == "failed"
    assert "no financial period for 2025-03-25" in log_text(job)
    assert not [r for r in sandbox.requests if r["path"] == "/v2/journaltransaction"]


@pytest.mark.django_db
def test_release_after_post_is_a_link_setting_off_by_default(company, user, link, sandbox):
    first, second = (
        run_with_payslips(company),
        run_with_payslips(company, datetime.date(2025, 4, 25)),
    )
    assert transfer(user, company, payroll_run=first.pk).status == "succeeded"
    assert sandbox.batches[0]["status"] == "Balanced" and sandbox.releases == []
    link.release_after_post = True
    link.save()
    job = transfer(user, company, payroll_run=second.pk)
    assert job.status == "succeeded"
    assert "Released batch 000002 in Visma.Net." in log_text(job)
    assert sandbox.releases == ["000002"]
    assert LedgerTransfer.objects.get(payroll_run=second).released_at is not None
