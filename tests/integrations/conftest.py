"""Fixtures of the payroll, switchover and sync tests: a payroll sandbox served over real
HTTP, a company whose HR registers match it, and its payroll link (web service or file);
and of the Kivra tests: a client for a Kivra sandbox."""

from __future__ import annotations

import httpx
import pytest

from integrations.clients.base import RetryPolicy
from integrations.clients.kivra import KivraClient
from integrations.models import PayrollLink
from integrations.sandboxes.kivra import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_KEY
from integrations.sandboxes.payroll import PayrollSandbox
from tests.integrations.helpers import match_hr_registers


@pytest.fixture
def fast_client(settings):
    settings.PAYROLL_CLIENT_BACKOFF = 0.01
    settings.PAYROLL_CLIENT_TIMEOUT = 1.0
    settings.PAYROLL_CLIENT_MAX_ATTEMPTS = 4


@pytest.fixture
def sandbox():
    return PayrollSandbox(differences=False, employees=12)


@pytest.fixture
def served(sandbox, fast_client):
    with sandbox.serving() as url:
        yield url


@pytest.fixture
def link(company, served, sandbox):
    match_hr_registers(company, sandbox)
    return PayrollLink.objects.create(
        company=company, base_url=served, api_token="sandbox-token", is_sandbox=True
    )


@pytest.fixture
def payroll():
    """What a file-based payroll system holds (rendered as its personnel export)."""
    return PayrollSandbox(differences=False, employees=5)


@pytest.fixture
def file_link(company, payroll):
    match_hr_registers(company, payroll)
    return PayrollLink.objects.create(company=company, variant=PayrollLink.Variant.PAXML_FILE)


@pytest.fixture
def kivra_client_for():
    """Builds a Kivra client for a sandbox at ``url``: the demo tenant and credentials, short
    timeouts, four attempts with a short backoff; keyword options (``sleep``,
    ``resend_safe`` ...) are the client's. The caller closes it."""

    def make(url: str, **options) -> KivraClient:
        return KivraClient(
            url,
            tenant_key=DEMO_TENANT_KEY,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            timeout=httpx.Timeout(2.0, connect=1.0),
            retry=RetryPolicy(max_attempts=4, backoff_base=0.01),
            **options,
        )

    return make
