"""Fixtures of the ledger tests: the Visma sandbox over real HTTP and the company's link to
it, with a client that gives up quickly."""

import httpx
import pytest

from integrations.clients.base import RetryPolicy
from integrations.clients.visma import VismaClient
from integrations.sandboxes.visma import VismaSandbox
from ledger import services
from ledger.models import VismaLink


@pytest.fixture
def sandbox():
    sandbox = VismaSandbox(clients={"cid": "s3cret"}, tenants=["tenant-1"])
    sandbox.faults.retry_after = 0.01
    with sandbox.serving() as url:
        sandbox.url = url
        yield sandbox


@pytest.fixture
def link(company, sandbox, monkeypatch):
    def fast_client(*, link):
        return VismaClient(
            link.base_url,
            client_id=link.client_id,
            client_secret=link.client_secret,
            tenant_id=link.tenant_id,
            token_url=link.token_url,
            timeout=httpx.Timeout(1.0, connect=1.0),
            retry=RetryPolicy(max_attempts=4, backoff_base=0.001, max_retry_after=0.05),
        )

    monkeypatch.setattr(services.visma, "visma_client_for", fast_client)
    return VismaLink.objects.create(
        company=company,
        base_url=sandbox.url,
        token_url=f"{sandbox.url}/connect/token",
        client_id="cid",
        client_secret="s3cret",
        tenant_id="tenant-1",
        is_sandbox=True,
    )
