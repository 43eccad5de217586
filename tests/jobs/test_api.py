"""Jobs over REST: list, detail with log, log pages and CSV, file, cancel, self-test."""

from django.core.files.base import ContentFile
from django.utils import timezone

from jobs import runner
from jobs.models import Job
from tests.factories import JobFactory


def test_selftest_command_answers_202_and_runs(api, company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/jobs/selftest/", {"company": company.pk, "items": 3}, format="json"
        )
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "selftest" and body["status"] == "queued"
    detail = api.get(f"/api/v1/jobs/{body['id']}/").json()
    assert detail["status"] == "succeeded"
    assert detail["progress_percent"] == 100
    assert [line["item"] for line in detail["log"]] == ["item 1", "item 2", "item 3"]


def test_job_list_is_paginated_and_filterable(api, company):
    for _ in range(3):
        JobFactory(company=company)
    done = JobFactory(company=company)
    runner.job_execute(job_id=done.pk)
    page = api.get("/api/v1/jobs/", {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    filtered = api.get("/api/v1/jobs/", {"status": "succeeded"}).json()
    assert [row["id"] for row in filtered["results"]] == [done.pk]


def test_log_endpoint_pages_and_csv(api, company):
    job = JobFactory(company=company, parameters={"items": 3})
    runner.job_execute(job_id=job.pk)
    page = api.get(f"/api/v1/jobs/{job.pk}/log/").json()
    assert page["count"] == 3
    assert page["results"][0]["message"] == "Done."
    response = api.get(f"/api/v1/jobs/{job.pk}/log/", {"download": "csv"})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig").splitlines()
    assert text[0] == "Time;Level;Item;Message"
    first = job.log_lines.order_by("pk").first()
    local = timezone.localtime(first.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert text[1] == f"{local};Info;item 1;Done."
    assert 'filename="system-self-test-' in response["Content-Disposition"]

    # The same log read in Swedish: the stored message id renders in the reader's language.
    swedish = api.get(
        f"/api/v1/jobs/{job.pk}/log/", {"download": "csv"}, HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode("utf-8-sig")
    assert swedish.splitlines()[1] == f"{local};Info;item 1;Klart."
    assert (
        api.get(f"/api/v1/jobs/{job.pk}/log/", HTTP_ACCEPT_LANGUAGE="sv").json()["results"][0][
            "message"
        ]
        == "Klart."
    )


def test_file_endpoint(api, company):
    job = JobFactory(company=company)
    assert api.get(f"/api/v1/jobs/{job.pk}/file/").status_code == 404
    job.result_file.save("export.xml", ContentFile(b"<paxml/>"))
    response = api.get(f"/api/v1/jobs/{job.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<paxml/>"


def test_cancel_endpoint(api, company):
    job = JobFactory(company=company)
    response = api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_jobs_are_read_only(api, company):
    job = JobFactory(company=company)
    response = api.patch(f"/api/v1/jobs/{job.pk}/", {"status": "succeeded"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
