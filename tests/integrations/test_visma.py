"""The Visma.Net client against the Visma sandbox over real HTTP: token, ledger choice,
periods, posting, lookup, rate limits and errors in Visma's words."""

import json
from decimal import Decimal

import httpx
import pytest

from integrations.clients.base import AnswerLost, OutsideSystemError, RetryPolicy
from integrations.clients.visma import VismaClient, VismaRefused
from integrations.sandboxes.visma import VismaSandbox


def body(period="202503", debit="100.00", credit="100.00", segments=None, key="K1"):
    line = {"operation": "Insert", "accountNumber": {"value": "7210"}}
    if segments is not None:
        line["subaccount"] = segments
    return (
        json.dumps(
            {
                "transactionDate": {"value": "2025-03-25T00:00:00"},
                "financialPeriod": {"value": period},
                "ledger": {"value": "L1"},
                "currencyId": {"value": "SEK"},
                "description": {"value": f"Lön [{key}]"},
                "journalTransactionLines": [
                    {**line, "debitAmountInCurrency": {"value": Decimal(debit)}},
                    {
                        "operation": "Insert",
                        "accountNumber": {"value": "1930"},
                        "creditAmountInCurrency": {"value": Decimal(credit)},
                    },
                ],
            },
            default=str,
        )
        .encode()
        .replace(b'"100.00"', b"100.00")
    )


@pytest.fixture
def sandbox():
    return VismaSandbox(client_secret="s3cret")


@pytest.fixture
def client(sandbox):
    with sandbox.serving() as url:
        sleeps = []
        c = VismaClient(
            url,
            client_id="cid",
            client_secret="s3cret",
            tenant_id="t-1",
            token_url=f"{url}/connect/token",
            timeout=httpx.Timeout(1.0, connect=1.0),
            retry=RetryPolicy(max_attempts=4, backoff_base=0.01),
            sleep=sleeps.append,
        )
        c.sleeps = sleeps
        yield c
        c.close()


def test_posting_ledger_is_the_actual_sek_one(client):
    ledger = client.posting_ledger()
    assert (ledger.number, ledger.balance_type, ledger.currency) == ("L1", "Actual", "SEK")


def test_no_actual_ledger_is_refused(sandbox, client):
    sandbox.options["ledgers"] = [
        {"number": "BUD", "balanceType": "Budget", "currencyId": "SEK", "description": "B"}
    ]
    with pytest.raises(VismaRefused, match="no ledger with balance type Actual"):
        client.posting_ledger()


def test_non_sek_ledger_is_refused(sandbox, client):
    sandbox.options["ledgers"] = [
        {"number": "L1", "balanceType": "Actual", "currencyId": "EUR", "description": "A"}
    ]
    with pytest.raises(VismaRefused, match="currency EUR"):
        client.posting_ledger()


def test_closed_and_inactive_periods_are_refused(sandbox, client):
    sandbox.options["closed_periods"] = ["202502"]
    sandbox.options["inactive_periods"] = ["202501"]
    assert client.check_period_open("202503").active
    with pytest.raises(VismaRefused, match="202502 is closed"):
        client.check_period_open("202502")
    with pytest.raises(VismaRefused, match="202501 is not active"):
        client.check_period_open("202501")


def test_post_returns_batch_from_location_and_lookup_finds_it(sandbox, client):
    batch = client.journal_transaction_create(body(key="FB-x-R1"))
    assert batch == "000001"
    found = client.journal_transaction_find("202503", "FB-x-R1")
    assert found.batch_number == "000001"
    assert client.journal_transaction_find("202503", "FB-x-R2") is None
    assert client.journal_transaction_find("202504", "FB-x-R1") is None
    assert sandbox.batches[0]["debitTotal"] == Decimal("100.00")


def test_unbalanced_batch_error_in_vismas_words(client):
    with pytest.raises(OutsideSystemError) as info:
        client.journal_transaction_create(body(credit="99.99"))
    assert info.value.status == 400
    assert info.value.code == "1011"
    assert "out of balance" in str(info.value)


def test_unknown_subaccount_segment_is_refused(sandbox, client):
    with pytest.raises(OutsideSystemError, match="segment 7 does not exist"):
        client.journal_transaction_create(body(segments=[{"segmentId": 7, "segmentValue": "1"}]))
    sandbox.options["segment_values"] = {"1": ["100"]}
    with pytest.raises(OutsideSystemError, match="has no value '200'"):
        client.journal_transaction_create(body(segments=[{"segmentId": 1, "segmentValue": "200"}]))
    client.journal_transaction_create(body(segments=[{"segmentId": 1, "segmentValue": "100"}]))


def test_closed_period_post_is_refused_by_the_sandbox_too(sandbox, client):
    sandbox.options["closed_periods"] = ["202503"]
    with pytest.raises(OutsideSystemError, match="closed in General Ledger"):
        client.journal_transaction_create(body())


def test_429_waits_for_x_ratelimit_reset(sandbox, client):
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = None
    sandbox.options["rate_limit_reset"] = 3
    client.posting_ledger()
    assert len(client.sleeps) == 1 and 3 <= client.sleeps[0] < 3.2


def test_429_honours_retry_after(sandbox, client):
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = 2
    client.journal_transaction_create(body())
    assert 2 <= client.sleeps[0] < 2.2
    assert len(sandbox.batches) == 1


def test_lost_answer_raises_answer_lost_and_the_batch_exists(sandbox, client):
    client.posting_ledger()  # token first: the drop applies to the next accepted write
    sandbox.faults.drop_after_accept_next = 1
    with pytest.raises(AnswerLost):
        client.journal_transaction_create(body(key="LOST"))
    assert client.journal_transaction_find("202503", "LOST") is not None


def test_bad_secret_is_an_error_in_visma_connect_words(sandbox, client):
    client.client_secret = "wrong"
    with pytest.raises(OutsideSystemError, match="Invalid client secret"):
        client.ledgers()


def test_expired_token_is_refreshed_once(sandbox, client):
    client.ledgers()
    sandbox.tokens.clear()
    assert client.ledgers()[0].number == "L1"


def test_received_endpoint_counts_duplicates(sandbox, client):
    client.journal_transaction_create(body(key="A"))
    client.journal_transaction_create(body(key="A"))
    received = httpx.get(f"{client.base_url}/_sandbox/received").json()
    assert received["count"] == 2 and received["duplicates"] == 1
