"""Program-link secrets are write-only in the admin for every role: "Set"/"Not set" and a
field to replace them, never the value."""

import pytest
from django.test import Client

from ledger.models import VismaLink
from tests.payslips.factories import KivraLinkFactory

SECRET = "visma-very-secret-value"


@pytest.fixture
def visma_link(company):
    return VismaLink.objects.create(
        company=company,
        base_url="https://api.finance.visma.net",
        token_url="https://connect.visma.com/connect/token",
        client_id="cid",
        client_secret=SECRET,
        tenant_id="tenant-1",
    )


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_read_only_role_sees_set_not_the_secret(company, make_user, visma_link):
    viewer = _login(make_user(company, role="viewer", is_staff=True))
    kivra = KivraLinkFactory(company=company, client_secret="kivra-secret-value")
    page = viewer.get(f"/admin/ledger/vismalink/{visma_link.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert SECRET not in html and "Set" in html
    page = viewer.get(f"/admin/payslips/kivralink/{kivra.pk}/change/").content.decode()
    assert "kivra-secret-value" not in page and "Set" in page


@pytest.mark.django_db
def test_admin_can_replace_or_keep_but_never_read_the_secret(company, make_user, visma_link):
    admin = _login(make_user(company, role="admin", is_staff=True, is_superuser=True))
    url = f"/admin/ledger/vismalink/{visma_link.pk}/change/"
    html = admin.get(url).content.decode()
    assert SECRET not in html
    assert 'type="password"' in html and "leave empty to keep it" in html
    form = {
        "company": company.pk,
        "tenant_id": "tenant-1",
        "target_company_name": "",
        "client_id": "cid",
        "client_secret": "",
        "base_url": "https://api.finance.visma.net",
        "token_url": "https://connect.visma.com/connect/token",
        "cost_center_segment": "1",
        "project_segment": "",
        "is_active": "on",
    }
    response = admin.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    visma_link.refresh_from_db()
    assert visma_link.client_secret == SECRET
    admin.post(url, {**form, "client_secret": "a-new-secret"})
    visma_link.refresh_from_db()
    assert visma_link.client_secret == "a-new-secret"
    # A private address is refused with a clear message unless the link is a sandbox link.
    response = admin.post(url, {**form, "token_url": "https://169.254.169.254/token"})
    assert response.status_code == 200
    assert "must be a public one" in response.content.decode()


@pytest.mark.django_db
def test_the_api_never_returns_a_secret(api):
    schema = api.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "client_secret" not in text and "api_token" not in text
