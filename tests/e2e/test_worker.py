"""A job enqueued through the API is run by a real Celery worker process over Redis."""

import pytest
from rest_framework.test import APIClient

from jobs.models import Job
from tests.factories import CompanyFactory, MembershipFactory
from tests.workers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_worker_runs_job_enqueued_through_api(celery_worker_process):
    membership = MembershipFactory(company=CompanyFactory(code="e2e"))
    client = APIClient()
    client.force_authenticate(membership.user)

    response = client.post(
        "/api/v1/jobs/selftest/",
        {"company": membership.company_id, "items": 5, "delay": 0.05},
        format="json",
    )
    assert response.status_code == 202
    job_id = response.json()["id"]

    def finished():
        job = Job.objects.get(pk=job_id)
        return job if job.is_finished else None

    job = wait_for(finished, timeout=90)
    assert job.status == Job.Status.SUCCEEDED
    assert job.progress_done == job.progress_total == 5
    assert job.attempts == 1
    detail = client.get(f"/api/v1/jobs/{job_id}/").json()
    assert [line["item"] for line in detail["log"]] == [f"item {n}" for n in range(1, 6)]
    assert celery_worker_process.poll() is None  # the worker is still alive
