"""Fixtures shared by every app's tests."""

import pytest
from rest_framework.test import APIClient

from companies.models import Membership, Role
from tests.factories import CompanyFactory, UserFactory


def pytest_configure(config):
    """A fast password hasher: every test user would otherwise cost a production PBKDF2 hash
    (hundreds of thousands of iterations). The product's hashers are untouched."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def company(db):
    return CompanyFactory(name="Acme AB", code="acme")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Other AB", code="other")


@pytest.fixture
def make_user(db):
    """``make_user(company, role="admin", **fields)`` → a user with that role in the company."""

    def make(company=None, role: str = "admin", **fields):
        user = UserFactory(**fields)
        if company is not None:
            Membership.objects.create(user=user, company=company, role=Role.objects.get(code=role))
        return user

    return make


@pytest.fixture
def user(company, make_user):
    return make_user(company, role="admin")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api(user, api_client):
    """An API client logged in as ``user`` (admin of ``company``)."""
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tests run Celery tasks in-process unless they are end-to-end tests with a worker.

    CI sets ``REDIS_URL`` (so the e2e tests find a broker); without this, every other test
    that commits a job would only push it to Redis.
    """
    from flexbridge.celery import app

    if request.node.get_closest_marker("e2e"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _login_throttling_only_where_tested(request, settings):
    """django-axes counts failed logins per username and address; tests that are not about
    it run without it, so no test is ever locked out by another (mark ``axes`` to keep it)."""
    if not request.node.get_closest_marker("axes"):
        settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Files written by tests (job results, PDFs, attachments) go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """The product defaults to Swedish; tests read English unless they ask for Swedish
    (``settings.LANGUAGE_CODE = "sv"`` or an ``Accept-Language`` header)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def official_document_violations(http_request) -> list[str]:
    """How a request our clients send breaks Visma.Net's or Kivra's official OpenAPI
    document (empty: it conforms, or it is not one of their operations)."""
    from integrations.sandboxes.contract import kivra_contract, visma_contract

    if not http_request.headers.get("user-agent", "").startswith("flexbridge/"):
        return []
    path = http_request.url.path
    for contract in (visma_contract(), kivra_contract()):
        if contract.covers(http_request.method, path):
            query: dict[str, list[str]] = {}
            for key, value in http_request.url.params.multi_items():
                query.setdefault(key, []).append(value)
            errors = contract.check_request(
                method=http_request.method,
                path=path,
                query=query,
                headers=dict(http_request.headers),
                body=http_request.read(),
            )
            return [f"{http_request.method} {path}: {e}" for e in errors]
    return []


@pytest.fixture(autouse=True)
def _client_requests_follow_the_official_documents(request, monkeypatch):
    """Every request our clients send to Visma.Net's or Kivra's operations is checked against
    the vendor's official OpenAPI document (integrations/sandboxes/contract.py), whatever
    server answers it; a test fails when one breaks it. Tests that break the documents on
    purpose carry ``@pytest.mark.contract_violations_expected``."""
    import httpx

    if request.node.get_closest_marker("contract_violations_expected"):
        yield
        return
    violations: list[str] = []
    real_send = httpx.Client.send

    def checked_send(self, http_request, *args, **kwargs):
        violations.extend(official_document_violations(http_request))
        return real_send(self, http_request, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", checked_send)
    yield
    assert not violations, "client requests break the vendor's document:\n" + "\n".join(
        violations[:10]
    )
