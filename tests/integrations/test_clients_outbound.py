"""Program links reach public HTTPS addresses only, checked on the address connected to;
sandbox links (and the explicit setting) may use private ones."""

import socket
import ssl

import httpx
import pytest
from django.core.exceptions import ValidationError

from integrations.clients.base import AddressRefused
from integrations.clients.kivra import KivraClient
from integrations.clients.outbound import (
    OutboundPolicy,
    address_is_public,
    shared_ssl_context,
    url_problems,
)
from integrations.clients.visma import VismaClient
from integrations.sandboxes.visma import VismaSandbox
from jobs.runner import job_execute
from jobs.services import job_start
from ledger.models import VismaLink
from tests.ledger.test_transfers import run_with_payslips


@pytest.mark.parametrize(
    "url",
    [
        "http://api.finance.visma.net",
        "https://127.0.0.1/",
        "https://127.0.0.1:8443/connect/token",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",
        "https://[::1]/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:127.0.0.1]/",
        "https://localhost/",
        "https://metadata.google.internal/",
    ],
)
def test_non_public_or_plain_http_addresses_are_refused(url):
    assert url_problems(url, allow_private=False)
    assert url_problems(url, allow_private=True) == []


def test_public_https_addresses_pass():
    assert url_problems("https://api.finance.visma.net", allow_private=False) == []
    assert url_problems("https://93.184.216.34/x", allow_private=False) == []
    assert address_is_public("93.184.216.34")
    assert not address_is_public("169.254.169.254")


def _resolve_to(monkeypatch, address):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == "api.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.1.2.3"])
def test_a_name_resolving_to_a_private_address_is_refused_when_connecting(monkeypatch, address):
    """The name passes the URL check; the address it resolves to is refused at connect time,
    before anything (the client secret) is sent, and it is not retried."""
    _resolve_to(monkeypatch, address)
    client = VismaClient(
        "https://api.example.com",
        client_id="cid",
        client_secret="top-secret",
        tenant_id="t",
        token_url="https://api.example.com/connect/token",
        outbound=OutboundPolicy(allow_private=False),
    )
    with pytest.raises(AddressRefused, match=f"resolves to {address}") as info:
        client.ledgers()
    assert not info.value.retryable
    assert client.last_call is None  # no request ever went out


def test_private_address_client_without_policy_flag_is_refused_before_sending():
    sandbox = VismaSandbox()
    with sandbox.serving() as url:
        client = VismaClient(
            url,
            client_id="demo-client",
            client_secret="demo-secret",
            tenant_id="demo-tenant",
            token_url=f"{url}/connect/token",
            outbound=OutboundPolicy(allow_private=False),
        )
        with pytest.raises(AddressRefused, match="https"):
            client.ledgers()
        assert sandbox.tokens == {}
        allowed = VismaClient(
            url,
            client_id="demo-client",
            client_secret="demo-secret",
            tenant_id="demo-tenant",
            token_url=f"{url}/connect/token",
            outbound=OutboundPolicy(allow_private=True),
        )
        assert allowed.ledgers()[0].number == "L1"


@pytest.mark.django_db
def test_transfer_over_a_link_to_an_internal_address_sends_nothing(company, user, settings):
    sandbox = VismaSandbox(clients={"cid": "s3cret"}, tenants=["t"])
    with sandbox.serving() as url:
        link = VismaLink(
            company=company,
            base_url=url,
            token_url=f"{url}/connect/token",
            client_id="cid",
            client_secret="s3cret",
            tenant_id="t",
        )
        with pytest.raises(ValidationError) as info:
            link.full_clean()
        assert set(info.value.message_dict) == {"base_url", "token_url"}
        link.save()
        run = run_with_payslips(company)
        job = job_start(
            user=user, company=company, kind="visma_transfer", parameters={"payroll_run": run.pk}
        )
        job = job_execute(job_id=job.pk)
        assert job.status == "failed"
        assert "https" in " ".join(job.log_lines.values_list("message", flat=True))
        assert sandbox.tokens == {} and sandbox.batches == []
        # The explicit setting lifts the rule for every link.
        settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
        link.full_clean()
        job = job_start(
            user=user, company=company, kind="visma_transfer", parameters={"payroll_run": run.pk}
        )
        assert job_execute(job_id=job.pk).status == "succeeded"
        assert len(sandbox.batches) == 1


def test_httpx_still_uses_the_checked_backend():
    """Guards the one private attribute integrations.outbound relies on."""
    transport = OutboundPolicy(allow_private=False).transport()
    assert type(transport._pool._network_backend).__name__ == "PublicOnlyBackend"
    assert isinstance(transport, httpx.HTTPTransport)


@pytest.mark.django_db
def test_payroll_link_to_an_internal_address_is_refused(company):
    from integrations.models import PayrollLink
    from integrations.payroll_backend import payroll_client_for

    link = PayrollLink(company=company, base_url="http://10.0.0.7:8080", api_token="t")
    with pytest.raises(ValidationError) as info:
        link.full_clean()
    assert "base_url" in info.value.message_dict
    client = payroll_client_for(link=link)
    with pytest.raises(AddressRefused):
        client.request("GET", "/employees")
    link.is_sandbox = True
    link.full_clean()


def test_the_suites_contract_hook_catches_a_request_that_breaks_the_document():
    from tests.conftest import official_document_violations

    def request(body: bytes, user_agent="flexbridge/1"):
        return httpx.Request(
            "POST",
            "https://api.finance.visma.net/v2/journaltransaction",
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": user_agent},
        )

    bad = b'{"transactionDate": {"value": "2026-11-25T00:00:00"}}'
    good = b'{"transactionDate": {"value": "2026-11-25T00:00:00+01:00"}}'
    assert any("is not a 'date-time'" in v for v in official_document_violations(request(bad)))
    assert official_document_violations(request(good)) == []
    assert official_document_violations(request(bad, user_agent="curl")) == []


def test_every_client_and_sender_shares_one_verifying_tls_context(monkeypatch):
    """Building a TLS context loads the whole CA bundle: the dispatch's sender threads each
    built one per chunk. Now every transport of the process uses the one context, which
    still verifies certificates and host names."""
    built = []
    create = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *a, **k: built.append(1) or create())
    shared_ssl_context.cache_clear()
    try:
        kivra = KivraClient(
            "https://kivra.example", tenant_key="t", client_id="c", client_secret="s"
        )
        senders = [kivra.with_own_pool() for _n in range(16)]
        guarded = OutboundPolicy(allow_private=False).transport()
        contexts = {id(client._http._transport._pool._ssl_context) for client in senders}
        contexts.add(id(kivra._http._transport._pool._ssl_context))
        contexts.add(id(guarded._pool._ssl_context))
        assert contexts == {id(shared_ssl_context())}
        assert len(built) == 1
        context = shared_ssl_context()
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    finally:
        shared_ssl_context.cache_clear()
