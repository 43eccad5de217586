"""The Kivra client against the Kivra sandbox over real HTTP."""

import base64
import json

import httpx
import pytest

from integrations.clients.base import AnswerLost, TransientError
from integrations.clients.kivra import (
    KivraClient,
    KivraContentInvalid,
    KivraError,
    salaryslip_errors,
)
from integrations.sandboxes.kivra import (
    DEMO_TENANT_KEY,
    KivraSandbox,
    ssn_is_valid,
)
from tests.integrations.helpers import damage_apply, kivra_salaryslip, kivra_ssn, single_damages

PDF = b"%PDF-1.4\n% test\n"


USER, NON_USER = kivra_ssn(1), kivra_ssn(2)


def body_for(recipient: str, *, retain=False, net="27690.00") -> bytes:
    return KivraClient.content_build(
        ssn=recipient,
        subject="Lönespecifikation 2026-01-25",
        generated_at="2026-01-25",
        salaryslip=kivra_salaryslip(net),
        pdf=PDF,
        pdf_name="payslip.pdf",
        retain=retain,
        retention_time="390" if retain else None,
    )


@pytest.fixture
def sandbox():
    """Like Kivra's production: with duplicate control (the sandbox's default is off, as in
    Kivra's test environment)."""
    return KivraSandbox(users=[USER], duplicate_control=True)


@pytest.fixture
def client(sandbox, kivra_client_for):
    with sandbox.serving() as url:
        sleeps = []
        kivra = kivra_client_for(url, sleep=sleeps.append, resend_safe=True)
        kivra.sleeps = sleeps
        yield kivra
        kivra.close()


def test_ssn_validation_in_sandbox():
    assert ssn_is_valid(USER)
    assert not ssn_is_valid(USER[:-1] + str((int(USER[-1]) + 1) % 10))
    assert not ssn_is_valid("19851301" + USER[8:])


def test_token_is_fetched_once_and_reused(sandbox, client):
    client.usermatch_ssn([USER])
    client.usermatch_ssn([NON_USER])
    auths = [r for r in sandbox.requests if r["path"] == "/v1/auth"]
    assert len(auths) == 1


def test_token_renewed_shortly_before_expiry(sandbox, client):
    sandbox.options["token_ttl"] = 100  # shorter than the client's 300 s margin
    client.usermatch_ssn([USER])
    client.usermatch_ssn([USER])
    assert len([r for r in sandbox.requests if r["path"] == "/v1/auth"]) == 2


def test_bad_credentials_keep_kivras_code(sandbox):
    with sandbox.serving() as url:
        kivra = KivraClient(url, tenant_key=DEMO_TENANT_KEY, client_id="x", client_secret="y")
        with pytest.raises(KivraError) as caught:
            kivra.usermatch_ssn([USER])
    assert caught.value.code == "40104"
    assert caught.value.status == 401
    assert caught.value.correlation_id


def test_usermatch_in_batches(sandbox, client):
    many = [kivra_ssn(n) for n in range(1, 26)]
    sandbox.users = set(many[::2])
    assert client.usermatch_ssn(many, batch_size=10) == set(many[::2])
    matches = [r for r in sandbox.requests if r["path"].endswith("/usermatch/ssn")]
    assert len(matches) == 3


def test_content_to_user_is_delivered(sandbox, client):
    result = client.content_send(body_for(USER))
    assert result.status == 201 and result.objkey and not result.retained
    assert result.correlation_id
    assert [r["ssn"] for r in sandbox.received] == [USER]


def test_non_user_retained_or_refused(sandbox, client):
    with pytest.raises(KivraError) as caught:
        client.content_send(body_for(NON_USER))
    assert caught.value.code == "40105"
    assert "Sendrequest" in caught.value.message
    # 40105 is about the recipient, not the token: no second token, no retry.
    assert len([r for r in sandbox.requests if r["path"] == "/v1/auth"]) == 1
    result = client.content_send(body_for(NON_USER, retain=True))
    assert result.retained
    assert sandbox.received[-1]["retention_time"] == "390"


def test_build_validates_salaryslip_before_sending():
    broken = kivra_salaryslip()
    del broken["pay_period"]["net_pay"]
    assert any("net_pay" in e for e in salaryslip_errors(broken))
    with pytest.raises(KivraContentInvalid, match="net_pay"):
        KivraClient.content_build(
            ssn=USER,
            subject="x",
            generated_at="2026-01-25",
            salaryslip=broken,
            pdf=PDF,
            pdf_name="p.pdf",
        )
    with pytest.raises(KivraContentInvalid):
        body_for("12345")


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p.update(ssn="198501010000"), "40009"),
        (lambda p: p.update(type="letter.nonsense"), "40012"),
        (lambda p: p.update(type="letter", retain=True), "42221"),
        (lambda p: p.update(retention_time="60"), "40000"),
        (lambda p: p["salaryslip"]["pay_period"].pop("gross_pay"), "40000"),
        (lambda p: p.update(parts=[]), "40019"),
        (lambda p: p["parts"][0].update(content_type="application/zip"), "40028"),
        (lambda p: p.pop("ssn"), "40024"),
    ],
)
def test_sandbox_rejects_invalid_content_in_kivras_words(sandbox, client, mutate, code):
    payload = json.loads(body_for(USER))
    mutate(payload)
    with pytest.raises(KivraError) as caught:
        client.content_send(json.dumps(payload).encode())
    assert caught.value.code == code
    assert caught.value.status == int(code[:3])
    assert sandbox.received == []


@pytest.mark.contract_violations_expected
def test_malformed_json_and_oversize(sandbox, client):
    with pytest.raises(KivraError) as caught:
        client.content_send(b"{not json")
    assert caught.value.code == "40008"
    big = json.loads(body_for(USER))
    big["parts"][0]["data"] = base64.b64encode(b"%PDF" + b"x" * 1_100_000).decode()
    with pytest.raises(KivraError) as caught:
        client.content_send(json.dumps(big).encode())
    assert caught.value.code == "41300"


def test_42900_and_5xx_are_retried_with_backoff(sandbox, client):
    sandbox.faults.rate_limit_next = 2
    sandbox.faults.fail_next = 1
    result = client.content_send(body_for(USER))
    assert result.status == 201
    assert len(client.sleeps) == 3
    assert all(0 <= s <= 0.04 for s in client.sleeps)  # jittered, no Retry-After from Kivra
    assert len(sandbox.received) == 1


def test_persistent_5xx_gives_transient_error_with_kivras_code(sandbox, client):
    sandbox.faults.fail_next = 10
    with pytest.raises(TransientError) as caught:
        client.content_send(body_for(USER))
    assert caught.value.code == "50300"
    assert sandbox.received == []


def test_per_recipient_limit(sandbox, client):
    sandbox.options.update(per_recipient_limit=2, per_recipient_window=60)
    client.content_send(body_for(USER, net="1.00"))
    client.content_send(body_for(USER, net="2.00"))
    client.retry.max_attempts = 1
    with pytest.raises(TransientError) as caught:
        client.content_send(body_for(USER, net="3.00"))
    assert caught.value.code == "42900"


def test_dropped_answer_resent_once_delivered_once(sandbox, client):
    sandbox.options["drop_content_next"] = 1
    body = body_for(USER)
    result = client.content_send(body)  # the client resends the same bytes itself
    assert result.status == 201
    assert len(sandbox.received) == 1
    assert sandbox.duplicates == 1
    assert sandbox.content_requests == 2


def test_dropped_answers_beyond_retries_raise_answer_lost_or_transient(sandbox, client):
    sandbox.options["drop_content_next"] = 10
    with pytest.raises(TransientError) as caught:
        client.content_send(body_for(USER))
    assert not isinstance(caught.value, AnswerLost) or caught.value.status is None
    assert len(sandbox.received) == 1  # delivered once despite four sends


def test_duplicate_control_ignores_generated_at(sandbox, client):
    payload = json.loads(body_for(USER))
    client.content_send(json.dumps(payload).encode())
    payload["generated_at"] = "2026-02-01"
    client.content_send(json.dumps(payload).encode())
    assert len(sandbox.received) == 1 and sandbox.duplicates == 1


def test_received_endpoint(sandbox, client):
    client.content_send(body_for(USER))
    answer = httpx.get(client.base_url + "/_sandbox/received").json()
    assert answer["count"] == 1
    assert answer["received"][0]["ssn"] == USER


# The damages to a salaryslip: values of other types, each string emptied or given an odd
# character.
REPLACEMENTS = (None, 1, 1.5, True, "x", "", "12,50", {}, [])


def test_fast_schema_check_agrees_with_jsonschema_on_every_single_damage():
    """The compiled check (fastjsonschema) says yes exactly where jsonschema says yes."""
    from integrations.clients.kivra import salaryslip_is_valid, salaryslip_validator

    fast, reference = salaryslip_is_valid(), salaryslip_validator().is_valid
    document = kivra_salaryslip()
    assert fast(document) and reference(document)
    checked = 0
    for path, change in single_damages(document, REPLACEMENTS):
        damaged = damage_apply(document, path, change)
        assert fast(damaged) == reference(damaged), (path, change)
        checked += 1
    assert checked > 200


@pytest.fixture
def test_environment(kivra_client_for):
    """Kivra's test environment: no duplicate control; a client that knows it."""
    sandbox = KivraSandbox(users=[USER])
    with sandbox.serving() as url:
        kivra = kivra_client_for(url, sleep=lambda _s: None)
        yield sandbox, kivra
        kivra.close()


@pytest.mark.parametrize(
    "fault",
    [
        {"fail_content_after_accept_next": 1, "fail_content_after_accept_status": 504},
        {"fail_content_after_accept_next": 1, "fail_content_after_accept_status": 500},
        {"drop_content_next": 1},
    ],
)
def test_without_duplicate_control_an_uncertain_send_is_never_repeated(test_environment, fault):
    sandbox, kivra = test_environment
    sandbox.options.update(fault)
    with pytest.raises(AnswerLost):
        kivra.content_send(body_for(USER))
    assert len(sandbox.received) == 1 and sandbox.content_requests == 1


def test_without_duplicate_control_a_429_is_still_retried(test_environment):
    sandbox, kivra = test_environment
    sandbox.options["rate_limit_content_next"] = 1
    assert kivra.content_send(body_for(USER)).status == 201
    assert len(sandbox.received) == 1


def test_sandbox_duplicate_control_is_off_by_default(test_environment):
    sandbox, kivra = test_environment
    kivra.content_send(body_for(USER))
    kivra.content_send(body_for(USER))
    assert len(sandbox.received) == 2 and sandbox.duplicates == 0


def test_created_answer_looks_like_kivras(test_environment):
    _sandbox, kivra = test_environment
    result = kivra.content_send(body_for(NON_USER, retain=True))
    assert result.retained and len(result.objkey) == 24
    path = f"/v1/tenant/{DEMO_TENANT_KEY}/content/{result.objkey}"
    assert result.location == kivra.base_url + path
    assert result.correlation_id


def _post(kivra, content: bytes, content_type="application/json"):
    return kivra._http.post(
        f"/v2/tenant/{DEMO_TENANT_KEY}/content",
        content=content,
        headers={**kivra.auth_headers(), "Content-Type": content_type},
    )


@pytest.mark.contract_violations_expected
def test_sandbox_checks_the_official_document_not_the_clients_schema(test_environment):
    sandbox, kivra = test_environment
    wrong_type = _post(kivra, body_for(USER), "text/plain")
    assert wrong_type.status_code == 415 and wrong_type.json()["code"] == 41500
    payload = json.loads(body_for(USER))
    payload["salaryslip"]["document_metadata"]["creation_timestamp"] = "31 January 2026"
    bad_format = _post(kivra, json.dumps(payload).encode())
    assert bad_format.status_code == 400 and bad_format.json()["code"] == 40000
    assert "is not a 'date-time'" in bad_format.json()["long_message"]
    payload = json.loads(body_for(USER))
    payload["retention_time"] = "60"
    assert _post(kivra, json.dumps(payload).encode()).json()["code"] == 40000
    assert sandbox.received == [] and len(sandbox.contract_errors) == 3


def test_deprecated_letter_salary_is_refused(test_environment):
    sandbox, kivra = test_environment
    payload = json.loads(body_for(USER))
    payload["type"] = "letter.salary"
    del payload["salaryslip"]
    sandbox.options["today"] = "2026-11-28"
    answer = _post(kivra, json.dumps(payload).encode())
    assert answer.status_code == 400 and answer.json()["code"] == 40012
    sandbox.options["today"] = "2026-09-30"
    assert _post(kivra, json.dumps(payload).encode()).status_code == 201


def test_print_marker_is_recorded_and_needs_the_add_on(test_environment):
    sandbox, kivra = test_environment
    sandbox.options["print_integration"] = False
    with pytest.raises(KivraError) as caught:
        kivra.content_send(body_for(NON_USER), for_print=True)
    assert caught.value.code == "40110"
    sandbox.options["print_integration"] = True
    result = kivra.content_send(body_for(NON_USER), for_print=True)
    assert result.status == 201 and not result.retained
    [entry] = sandbox.received
    assert entry["printed"] and entry["print_marked"]
