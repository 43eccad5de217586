"""Starting, enqueueing and cancelling jobs (``jobs.services``)."""

import pytest
from django.core.exceptions import PermissionDenied

from jobs import runner, services
from jobs.models import Job
from tests.factories import JobFactory


def test_cancel_queued_job_is_immediate(company, user):
    job = JobFactory(company=company)
    job = services.job_cancel(job=job, user=user)
    assert job.status == Job.Status.CANCELLED
    assert runner.job_execute(job_id=job.pk).status == Job.Status.CANCELLED


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


def test_unfinished_jobs_are_queued_again(company, monkeypatch):
    from jobs import tasks

    queued, running = JobFactory(company=company), JobFactory(company=company)
    Job.objects.filter(pk=running.pk).update(status=Job.Status.RUNNING)
    runner.job_execute(job_id=JobFactory(company=company).pk)  # finished: left alone
    sent = []
    monkeypatch.setattr(tasks.run_job, "delay", lambda job_id: sent.append(job_id))
    assert services.jobs_requeue_unfinished() == [queued.pk, running.pk]
    assert sent == [queued.pk, running.pk]
