"""Capabilities are enforced as named: licences by the system owner only, program links
by "manage program links", job cancel by the role, scoped models by their company."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import Job
from tests.factories import JobFactory, UserFactory
from tests.projects.factories import make_project
from tests.projects.test_events import event


def test_company_admin_sees_the_licence_read_only(client, company, make_user):
    client.force_login(make_user(company, role="admin"))
    page = client.get(reverse("admin:companies_company_change", args=[company.pk]))
    assert page.status_code == 200
    assert 'name="license-0-kivra_payslips"' not in page.content.decode()
    client.post(
        reverse("admin:companies_company_change", args=[company.pk]),
        {"code": company.code, "name": company.name, "license-0-kivra_payslips": ""},
    )
    company.license.refresh_from_db()
    assert company.license.kivra_payslips is True


def test_superuser_changes_the_licence(client, company):
    client.force_login(UserFactory(is_superuser=True))
    page = client.get(reverse("admin:companies_company_change", args=[company.pk]))
    assert 'name="license-0-kivra_payslips"' in page.content.decode()


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:payslips_kivralink_add",
        "admin:ledger_vismalink_add",
        "admin:integrations_payrolllink_add",
    ],
)
def test_program_links_need_manage_program_links(client, company, make_user, url_name):
    # The payroll administrator may change payslips and ledger rows, but not program links.
    client.force_login(make_user(company, role="payroll"))
    assert client.get(reverse(url_name)).status_code == 403
    client.force_login(make_user(company, role="admin"))
    assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        ("hr_admin", "payroll_sync", True),
        ("hr_admin", "switchover_preflight", True),
        ("hr_admin", "kivra_dispatch", False),
        ("payroll", "kivra_dispatch", True),
        ("payroll", "sie_export", True),
        ("payroll", "switchover_preflight", False),
        ("viewer", "payroll_sync", False),
        ("admin", "kivra_dispatch", True),
    ],
)
def test_job_cancel_follows_the_role(api_client, company, make_user, role, kind, allowed):
    job = JobFactory(company=company, kind=kind, parameters={})
    api_client.force_authenticate(make_user(company, role=role))
    response = api_client.post(f"/api/v1/jobs/{job.pk}/cancel/")
    job.refresh_from_db()
    if allowed:
        assert response.status_code == 200, response.json()
        assert job.status == Job.Status.CANCELLED
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert job.status == Job.Status.QUEUED


def test_company_admin_changes_and_deletes_project_events(api, company):
    row = event(make_project(company, "B"))
    url = f"/api/v1/project-events/{row.pk}/"
    response = api.patch(url, {"name": "OB"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "OB"
    assert api.delete(url).status_code == 204


def test_viewer_may_not_change_project_events(api_client, company, make_user):
    row = event(make_project(company, "B"))
    api_client.force_authenticate(make_user(company, role="viewer"))
    response = api_client.patch(f"/api/v1/project-events/{row.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403


def test_admin_cancel_action_follows_the_role(client, company, make_user):
    allowed = JobFactory(company=company, kind="payroll_sync", parameters={})
    refused = JobFactory(company=company, kind="kivra_dispatch", parameters={})
    client.force_login(make_user(company, role="hr_admin"))
    response = client.post(
        reverse("admin:jobs_job_changelist"),
        {"action": "cancel_jobs", "_selected_action": [allowed.pk, refused.pk]},
        follow=True,
    )
    assert response.status_code == 200
    allowed.refresh_from_db()
    refused.refresh_from_db()
    assert (allowed.status, refused.status) == (Job.Status.CANCELLED, Job.Status.QUEUED)
    assert "may not cancel" in response.content.decode()
