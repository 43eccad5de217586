"""Fixtures of the payroll, switchover and sync tests: a payroll sandbox served over real
HTTP, a company whose HR registers match it, and its payroll link (web service or file)."""

from __future__ import annotations

import pytest

from integrations.models import PayrollLink
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
