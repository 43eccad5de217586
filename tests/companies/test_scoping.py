"""Company scoping: the API and the admin never show or change another company's rows."""

import pytest
from django.urls import reverse

from companies.models import Company
from companies.selectors import user_has_company_perm
from jobs.models import Job
from tests.factories import JobFactory


@pytest.fixture
def jobs(company, other_company):
    return JobFactory(company=company), JobFactory(company=other_company)


def test_api_job_list_shows_only_own_company(api, jobs):
    mine, _theirs = jobs
    response = api.get("/api/v1/jobs/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_api_other_company_job_is_not_found(api, jobs):
    _mine, theirs = jobs
    response = api.get(f"/api/v1/jobs/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/jobs/{theirs.pk}/log/").status_code == 404
    assert api.post(f"/api/v1/jobs/{theirs.pk}/cancel/").status_code == 404
    assert Job.objects.get(pk=theirs.pk).cancel_requested is False


def test_api_companies_lists_only_memberships(api, company, other_company):
    response = api.get("/api/v1/companies/")
    assert [row["code"] for row in response.json()["results"]] == ["acme"]
    assert response.json()["results"][0]["role"] == "admin"


def test_api_selftest_refuses_other_company(api, other_company):
    response = api.post("/api/v1/jobs/selftest/", {"company": other_company.pk}, format="json")
    assert response.status_code == 400
    assert "company" in response.json()["error"]["fields"]
    assert not Job.objects.filter(company=other_company).exists()


def test_user_in_two_companies_sees_both(make_user, company, other_company, api_client):
    user = make_user(company, role="viewer")
    from companies.services import membership_set

    membership_set(user=user, company=other_company, role_code="admin")
    JobFactory(company=company)
    JobFactory(company=other_company)
    api_client.force_authenticate(user)
    response = api_client.get("/api/v1/jobs/")
    assert {row["company"] for row in response.json()["results"]} == {
        company.pk,
        other_company.pk,
    }


def test_role_permissions_are_per_company(make_user, company, other_company):
    user = make_user(company, role="viewer")
    from companies.services import membership_set

    membership_set(user=user, company=other_company, role_code="payroll")
    assert not user_has_company_perm(
        user=user, perm="companies.run_kivra_dispatch", company=company
    )
    assert user_has_company_perm(
        user=user, perm="companies.run_kivra_dispatch", company=other_company
    )
    # Django's own API answers the same through the company role backend.
    assert user.has_perm("companies.run_kivra_dispatch")
    assert not user.has_perm("companies.run_kivra_dispatch", company)
    assert user.has_perm("companies.run_kivra_dispatch", other_company)


def test_admin_job_changelist_is_scoped(client, user, jobs):
    mine, _theirs = jobs
    client.force_login(user)
    response = client.get(reverse("admin:jobs_job_changelist"))
    assert response.status_code == 200
    ids = [job.pk for job in response.context["cl"].result_list]
    assert ids == [mine.pk]


def test_admin_other_company_job_page_is_not_reachable(client, user, jobs):
    _mine, theirs = jobs
    client.force_login(user)
    response = client.get(reverse("admin:jobs_job_change", args=[theirs.pk]))
    # The admin redirects to its index with "doesn't exist" for rows outside the queryset.
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert client.get(reverse("admin:jobs_job_log", args=[theirs.pk])).status_code == 404


def test_admin_company_list_and_change_are_scoped(client, user, company, other_company):
    client.force_login(user)
    response = client.get(reverse("admin:companies_company_changelist"))
    assert [c.pk for c in response.context["cl"].result_list] == [company.pk]
    response = client.post(
        reverse("admin:companies_company_change", args=[other_company.pk]),
        {"name": "Hijacked", "code": "other", "organisation_number": "556100-0013"},
    )
    assert response.status_code == 302
    assert Company.objects.get(pk=other_company.pk).name == "Other AB"


def test_admin_viewer_cannot_change_company(client, make_user, company):
    viewer = make_user(company, role="viewer")
    client.force_login(viewer)
    url = reverse("admin:companies_company_change", args=[company.pk])
    assert client.get(url).status_code == 200  # read-only view
    client.post(url, {"name": "Renamed", "code": company.code})
    company.refresh_from_db()
    assert company.name == "Acme AB"
