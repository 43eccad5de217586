"""The Visma.Net client against the Visma sandbox over real HTTP: token, ledger choice,
periods, posting, lookup, rate limits and errors in Visma's words."""

import datetime
from decimal import Decimal

import httpx
import pytest

from integrations.clients.base import AnswerLost, OutsideSystemError, RetryPolicy
from integrations.clients.visma import VismaClient, VismaRefused
from integrations.sandboxes.visma import VismaSandbox
from ledger.vouchers import json_bytes


def body(period="202503", debit="100.00", credit="100.00", segments=None, key="K1"):
    line = {"operation": "Insert", "accountNumber": {"value": "7210"}}
    if segments is not None:
        line["subaccount"] = segments
    return json_bytes(
        {
            "transactionDate": {"value": "2025-03-25T00:00:00+01:00"},
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
        }
    )


@pytest.fixture
def sandbox():
    return VismaSandbox(clients={"cid": "s3cret"}, tenants=["t-1"])


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
    with pytest.raises(OutsideSystemError, match="invalid_client"):
        client.ledgers()


@pytest.mark.parametrize(
    "field,value,error",
    [
        ("client_id", "someone-else", "invalid_client"),
        ("tenant_id", "other-company", "tenant_id is missing or not a tenant"),
        ("scope", "vismanet_erp_service_api:everything", "invalid_scope"),
    ],
)
def test_unknown_client_tenant_or_scope_gets_no_token(sandbox, client, field, value, error):
    setattr(client, field, value)
    with pytest.raises(OutsideSystemError, match=error) as info:
        client.ledgers()
    assert info.value.status == 400
    assert sandbox.tokens == {}


def test_a_read_only_token_cannot_post(sandbox, client):
    client.scope = "vismanet_erp_service_api:read"
    assert client.ledgers()
    with pytest.raises(OutsideSystemError) as info:
        client.journal_transaction_create(body())
    assert info.value.status == 403 and sandbox.batches == []


def _raw_post(client, payload: bytes, content_type="application/json"):
    return client._http.post(
        "/v2/journaltransaction",
        content=payload,
        headers={**client.auth_headers(), "Content-Type": content_type},
    )


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize(
    "old,new,error",
    [
        (b"2025-03-25T00:00:00+01:00", b"2025-03-25T00:00:00", "is not a 'date-time'"),
        (b"2025-03-25T00:00:00+01:00", b"2025-03-25 and garbage", "is not a 'date-time'"),
        (b'{"value":100.00}', b'{"value":"100.00"}', "is not of type 'number'"),
        (b'"operation":"Insert",', b"", "operation must be Insert"),
        (b'"operation":"Insert",', b'"operation":"Upsert",', "is not one of"),
        (b'"7210"', b'"7211"', "account '7211' was not found"),
    ],
)
def test_sandbox_refuses_what_the_official_document_or_visma_refuses(
    sandbox, client, old, new, error
):
    payload = body()
    assert old in payload
    response = _raw_post(client, payload.replace(old, new, 1))
    assert response.status_code == 400
    assert error in response.json()["ExceptionMessage"]
    assert set(response.json()) >= {"ExceptionType", "ExceptionMessage", "ExceptionFaultCode"}
    assert sandbox.batches == []


@pytest.mark.contract_violations_expected
def test_sandbox_refuses_a_wrong_content_type(sandbox, client):
    response = _raw_post(client, body(), "text/plain")
    assert response.status_code == 400
    assert "text/plain" in response.json()["ExceptionMessage"]
    assert sandbox.batches == []


def test_created_answer_is_absolute_and_rate_limit_headers_are_there(sandbox, client):
    response = _raw_post(client, body())
    assert response.status_code == 201
    assert response.headers["Location"] == f"{client.base_url}/v2/journaltransaction/000001"
    assert response.headers["X-RateLimit-Limit"] == "1500"
    assert int(response.headers["X-RateLimit-Remaining"]) < 1500
    assert response.headers["X-RateLimit-Reset"].isdigit()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_the_post_is_answer_lost_and_never_retried(sandbox, client, status):
    client.posting_ledger()
    sandbox.options.update(fail_after_create_next=1, fail_after_create_status=status)
    with pytest.raises(AnswerLost) as info:
        client.journal_transaction_create(body(key="GW"))
    assert info.value.status == status
    assert len(sandbox.batches) == 1  # created once, never posted again by the client
    assert client.journal_transaction_find("202503", "GW").batch_number == "000001"


def test_5xx_before_anything_was_created_is_still_answer_lost(sandbox, client):
    client.posting_ledger()
    sandbox.faults.fail_next = 1
    with pytest.raises(AnswerLost):
        client.journal_transaction_create(body())
    assert sandbox.batches == [] and client.sleeps == []


def test_201_without_location_is_answer_lost(sandbox, client):
    sandbox.options["omit_location_next"] = 1
    with pytest.raises(AnswerLost, match="without a Location"):
        client.journal_transaction_create(body(key="NOLOC"))
    assert len(sandbox.batches) == 1


def test_lookup_reads_every_page_under_a_page_size_cap_and_only_gl(sandbox, client):
    sandbox.options["max_page_size"] = 50
    for n in range(120):
        client.journal_transaction_create(body(key=f"K{n}"))
    sandbox.batches.append({**sandbox.batches[0], "module": "ModuleAP", "description": "AP [AP-1]"})
    found = client.journal_transaction_find("202503", "K119")
    assert found is not None and found.batch_number == "000120"
    assert client.journal_transaction_find("202503", "AP-1") is None
    assert len(client.journal_transactions("202503")) == 120


def test_financial_period_is_vismas_own_in_a_broken_year(sandbox, client):
    sandbox.options["fiscal_year_start_month"] = 5
    period = client.financial_period_for(datetime.date(2026, 11, 25))
    assert period.period_id == "202607"
    assert period.start == datetime.date(2026, 11, 1) and period.end == datetime.date(2026, 11, 30)
    sandbox.options["missing_periods"] = ["202607"]
    with pytest.raises(VismaRefused, match="no financial period for 2026-11-25"):
        client.financial_period_for(datetime.date(2026, 11, 25))


def test_release_action(sandbox, client):
    batch = client.journal_transaction_create(body())
    client.journal_transaction_release(batch)
    assert sandbox.batches[0]["status"] == "Posted" and sandbox.releases == [batch]


def test_expired_token_is_refreshed_once(sandbox, client):
    client.ledgers()
    sandbox.tokens.clear()
    assert client.ledgers()[0].number == "L1"


def test_received_endpoint_counts_duplicates(sandbox, client):
    client.journal_transaction_create(body(key="A"))
    client.journal_transaction_create(body(key="A"))
    received = httpx.get(f"{client.base_url}/_sandbox/received").json()
    assert received["count"] == 2 and received["duplicates"] == 1
