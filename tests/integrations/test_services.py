"""The job runner: outcome, progress, log, cancel, resume, after-commit enqueue."""

import pytest
from django.core.exceptions import PermissionDenied

from integrations import services
from integrations.jobs_registry import register_job_kind
from integrations.models import Job, JobLogLine
from tests.factories import JobFactory


def test_selftest_job_succeeds_with_progress_and_log(company):
    job = JobFactory(company=company, parameters={"items": 5})
    job = services.job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.progress_percent) == (5, 5, 100)
    assert job.summary == {"ok": 5}
    assert job.started_at and job.finished_at and job.attempts == 1
    assert list(job.log_lines.values_list("item", flat=True)) == [f"item {n}" for n in range(1, 6)]


def test_errors_on_some_items_give_partly_failed(company):
    job = JobFactory(company=company, parameters={"items": 4, "fail_at": 2})
    job = services.job_execute(job_id=job.pk)
    assert job.status == Job.Status.PARTLY_FAILED
    assert job.summary == {"ok": 3, "failed": 1}
    error = job.log_lines.get(level=JobLogLine.Level.ERROR)
    assert (error.item, error.message) == ("item 2", "Failed on purpose.")


def test_all_items_failing_gives_failed(company):
    job = JobFactory(company=company, parameters={"items": 1, "fail_at": 1})
    assert services.job_execute(job_id=job.pk).status == Job.Status.FAILED


def _boom(*, job, ctx):
    ctx.set_total(2)
    ctx.advance()
    raise RuntimeError("payroll said no for 19800101-1234")


register_job_kind("test_boom", "Boom", handler=_boom, permission="integrations.add_job")


def test_exception_becomes_failed_job_with_masked_message(company):
    job = JobFactory(company=company, kind="test_boom")
    job = services.job_execute(job_id=job.pk)
    assert job.status == Job.Status.FAILED
    assert job.message == "payroll said no for 19800101-****"
    assert job.progress_done == 1
    assert job.log_lines.get().message == "payroll said no for 19800101-****"


def test_finished_job_is_not_run_again(company):
    job = JobFactory(company=company, parameters={"items": 2})
    services.job_execute(job_id=job.pk)
    again = services.job_execute(job_id=job.pk)
    assert again.attempts == 1
    assert again.log_lines.count() == 2


def test_interrupted_job_resumes_where_it_stopped(company):
    job = JobFactory(company=company, parameters={"items": 5})
    # A worker died after three items: the row still says running.
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, progress_done=3, progress_total=5, attempts=1
    )
    job = services.job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert list(job.log_lines.filter(level="info").values_list("item", flat=True)) == [
        "item 4",
        "item 5",
    ]
    assert job.log_lines.filter(level="warning", message__startswith="Resumed").exists()


def test_cancel_queued_job_is_immediate(company, user):
    job = JobFactory(company=company)
    job = services.job_cancel(job=job, user=user)
    assert job.status == Job.Status.CANCELLED
    assert services.job_execute(job_id=job.pk).status == Job.Status.CANCELLED


def _cancel_midway(*, job, ctx):
    ctx.set_total(10)
    for number in range(10):
        if number == 3:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            ctx._last_cancel_check = 0
        ctx.check_cancelled()
        ctx.advance()


register_job_kind(
    "test_cancel", "Cancel", handler=_cancel_midway, permission="integrations.add_job"
)


def test_running_job_stops_at_next_item_when_cancelled(company):
    job = JobFactory(company=company, kind="test_cancel")
    job = services.job_execute(job_id=job.pk)
    assert job.status == Job.Status.CANCELLED
    assert job.progress_done == 3


def test_cancel_needs_permission(company, make_user):
    viewer = make_user(company, role="viewer")
    with pytest.raises(PermissionDenied):
        services.job_cancel(job=JobFactory(company=company), user=viewer)


def test_job_start_checks_kind_permission(company, make_user):
    viewer = make_user(company, role="viewer")
    with pytest.raises(PermissionDenied):
        services.job_start(user=viewer, company=company, kind="selftest")
    assert not Job.objects.exists()


def test_job_is_enqueued_only_after_commit(company, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_start(user=user, company=company, kind="selftest", parameters={})
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED  # nothing ran inside the transaction
    callbacks[0]()  # commit: in the embedded default the task runs in-process
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_unknown_kind_is_refused(company):
    with pytest.raises(LookupError):
        services.job_create(company=company, kind="nope")


def test_log_is_capped(company, settings):
    settings.JOB_LOG_MAX_LINES = 3
    job = JobFactory(company=company, parameters={"items": 5})
    job = services.job_execute(job_id=job.pk)
    assert job.log_lines.count() == 3
    assert job.summary["log_lines_dropped"] == 2
