"""Job files that hold personal data: tagged, and downloadable only with the capability
for each kind of data they hold, in the API, the pages and the admin alike; never served
from a public media URL."""

from __future__ import annotations

import importlib

import pytest
from django.urls import Resolver404, clear_url_caches, resolve, reverse

from jobs.context import JobContext
from jobs.models import FileHolds
from tests.factories import JobFactory

PAX = b'<paxml><personal persnr="191212121212"/></paxml>'


def _job_with_file(company, holds, name="personnel.pax"):
    job = JobFactory(company=company, kind="selftest")
    JobContext(job).save_result_file(name, PAX, holds=holds)
    job.refresh_from_db()
    return job


def _urls(job):
    return (
        f"/api/v1/jobs/{job.pk}/file/",
        reverse("jobs:file", args=[job.pk]),
        reverse("admin:jobs_job_file", args=[job.pk]),
    )


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_the_file_is_tagged_with_what_it_holds(company):
    job = _job_with_file(company, list(FileHolds))
    assert job.result_file_holds == ["bank_details", "personal_identity_numbers", "salaries"]


@pytest.mark.parametrize("role", ["viewer", "payroll"])
def test_a_role_without_the_pin_capability_cannot_download_a_file_with_pins(
    client, company, make_user, role
):
    job = _job_with_file(company, [FileHolds.PERSONAL_IDENTITY_NUMBERS])
    user = make_user(company, role=role)
    for url in _urls(job):
        response = _get(client, user, url)
        assert response.status_code == 403, url
        assert b"191212121212" not in b"".join(getattr(response, "streaming_content", [b""]))
    api = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert api["has_file"] is True and api["may_download_file"] is False
    assert api["result_file_holds"] == ["personal_identity_numbers"]
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert reverse("jobs:file", args=[job.pk]) not in page.content.decode()


@pytest.mark.parametrize("role", ["admin", "hr_admin"])
def test_a_role_with_every_capability_downloads_it(client, company, make_user, role):
    job = _job_with_file(company, list(FileHolds))
    user = make_user(company, role=role)
    for url in _urls(job)[:2]:
        response = _get(client, user, url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content) == PAX
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert reverse("jobs:file", args=[job.pk]) in page.content.decode()


def test_payroll_downloads_a_salary_file_but_not_one_with_pins(client, company, make_user):
    user = make_user(company, role="payroll")
    salaries = _job_with_file(company, [FileHolds.SALARIES], name="acme.SI")
    pins = _job_with_file(company, [FileHolds.SALARIES, FileHolds.PERSONAL_IDENTITY_NUMBERS])
    assert _get(client, user, f"/api/v1/jobs/{salaries.pk}/file/").status_code == 200
    refused = _get(client, user, f"/api/v1/jobs/{pins.pk}/file/")
    assert refused.status_code == 403
    assert "Personal identity numbers" in refused.json()["error"]["message"]


def test_a_file_without_personal_data_is_open_to_every_role(client, company, make_user):
    job = _job_with_file(company, [], name="report.json")
    assert _get(client, make_user(company, role="viewer"), _urls(job)[0]).status_code == 200


def test_no_media_url_is_served_even_with_debug(settings, company):
    job = _job_with_file(company, list(FileHolds))
    import flexbridge.urls

    settings.DEBUG = True
    try:
        importlib.reload(flexbridge.urls)
        clear_url_caches()
        with pytest.raises(Resolver404):
            resolve(f"/media/{job.result_file.name}")
    finally:
        settings.DEBUG = False
        importlib.reload(flexbridge.urls)
        clear_url_caches()
