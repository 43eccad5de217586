"""The one place that reads the clients' settings: every builder passes what it returns."""

import httpx
import pytest

from integrations.clients.config import client_options
from integrations.models import PayrollLink
from integrations.payroll_backend import payroll_client_for
from ledger.models import VismaLink
from ledger.services import visma_client_for
from payslips.models import KivraLink
from payslips.services import kivra_client_for


def test_defaults_are_the_declared_settings():
    payroll = client_options("payroll")
    assert payroll["timeout"] == httpx.Timeout(30.0, connect=5.0)
    assert (payroll["retry"].max_attempts, payroll["retry"].backoff_base) == (5, 0.5)
    kivra = client_options("kivra")
    assert (kivra["retry"].max_attempts, kivra["retry"].backoff_cap) == (6, 30.0)
    visma = client_options("visma")
    assert (visma["retry"].max_attempts, visma["timeout"].read) == (5, 30.0)


def test_unknown_system_is_refused():
    with pytest.raises(KeyError):
        client_options("fortnox")


@pytest.mark.django_db
def test_every_builder_reads_its_settings(settings, company):
    settings.PAYROLL_CLIENT_TIMEOUT, settings.PAYROLL_CLIENT_MAX_ATTEMPTS = 2.0, 3
    settings.KIVRA_TIMEOUT, settings.KIVRA_RETRY_ATTEMPTS = 4.0, 7
    settings.VISMA_CLIENT_TIMEOUT, settings.VISMA_CLIENT_MAX_ATTEMPTS = 6.0, 2
    payroll = payroll_client_for(
        link=PayrollLink(company=company, base_url="http://127.0.0.1:9150", api_token="t")
    )
    kivra = kivra_client_for(
        link=KivraLink(company=company, base_url="http://127.0.0.1:9151", tenant_key="t")
    )
    visma = visma_client_for(
        link=VismaLink(company=company, base_url="http://127.0.0.1:9152", tenant_id="1")
    )
    assert (payroll._http.timeout.read, payroll.retry.max_attempts) == (2.0, 3)
    assert (kivra._http.timeout.read, kivra.retry.max_attempts) == (4.0, 7)
    assert (visma._http.timeout.read, visma.retry.max_attempts) == (6.0, 2)
