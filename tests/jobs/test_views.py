"""The job pages: a job's selection, summary, message and log read as sentences and
labelled values, in the reader's language, whatever language the job was written in."""

import pytest
from django.utils import translation

from jobs import context, runner
from jobs.messages import JobMessage
from jobs.models import Job
from jobs.registry import register_job_kind
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def _run(company, **parameters):
    job = JobFactory(company=company, parameters=parameters)
    # Written by a worker whose language is Swedish.
    with translation.override("sv"):
        runner.job_execute(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_job_page_reads_in_the_readers_language(web, company):
    job = _run(company, items=2, fail_at=2)
    assert job.status == Job.Status.PARTLY_FAILED
    assert job.message == "1 fel."  # stored text: the writer's language ...
    assert (job.message_id, job.message_params) == ("job.errors", {"count": 1})

    english = web.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # ... shown in the reader's: a sentence with the right plural, labelled values.
    assert "1 error." in english and "1 errors." not in english
    assert "Items: <strong>2</strong>" in english
    assert "Fails at item: <strong>2</strong>" in english
    assert "OK: <strong>1</strong>" in english and "Failed: <strong>1</strong>" in english
    assert "Failed on purpose." in english and "Done." in english
    assert "{" not in english.split("<main>")[1]  # no raw dict anywhere on the page

    swedish = web.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "1 fel." in swedish
    assert "Poster: <strong>2</strong>" in swedish
    assert "Misslyckades med avsikt." in swedish and "Klart." in swedish
    assert "Failed on purpose." not in swedish


def test_plural_of_errors(web, company):
    job = _run(company, items=3, fail_at=5)
    assert job.status == Job.Status.SUCCEEDED and job.message == ""
    many = JobFactory(company=company, parameters={"items": 1})
    runner.job_execute(job_id=many.pk)
    many.refresh_from_db()
    many.message_id, many.message_params = "job.errors", {"count": 3}
    with translation.override("en"):
        assert many.message_text == "3 errors."
    with translation.override("sv"):
        assert many.message_text == "3 fel."


def test_plain_text_messages_still_show_as_written(web, company):
    job = JobFactory(company=company)
    ctx = context.JobContext(job)
    ctx.info("A caller that logs plain text.", item="x")
    ctx.flush(force=True)
    page = web.get(f"/jobs/{job.pk}/").content.decode()
    assert "A caller that logs plain text." in page


def test_job_list_filters_by_kind_name(web, company):
    _run(company, items=1)
    page = web.get("/jobs/", {"kind": "selftest"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<option value="selftest" selected>System self-test</option>' in page
    assert ">kivra_dispatch<" not in page


class _Refused(Exception):
    def __init__(self):
        self.message = JobMessage("job.errors", count=2)
        super().__init__(str(self.message))


def _refusing_handler(*, job, ctx):
    raise _Refused


def test_an_exception_carrying_a_message_id_reads_in_the_readers_language(company):
    register_job_kind(
        "test_refused", "Refused", handler=_refusing_handler, permission="jobs.add_job"
    )
    job = JobFactory(company=company, kind="test_refused")
    with translation.override("sv"):
        runner.job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.message_id == "job.errors"
    with translation.override("en"):
        assert job.message_text == "2 errors."
        assert job.log_lines.get().text == "2 errors."
    with translation.override("sv"):
        assert job.message_text == "2 fel."


def test_the_admin_pages_of_before_the_move_lead_to_the_new_ones(web, company):
    job = JobFactory(company=company)
    response = web.get(f"/admin/integrations/job/{job.pk}/change/?_changelist_filters=x")
    assert response.status_code == 301
    assert response["Location"] == f"/admin/jobs/job/{job.pk}/change/?_changelist_filters=x"
