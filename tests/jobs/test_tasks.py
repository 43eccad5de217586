"""The Celery tasks: their names (and the names of before the move, for messages queued
under them), and the helpers a fanned-out job starts on other workers."""

import pytest

from flexbridge.celery import app
from jobs import context, registry, runner, tasks
from jobs.models import Job, JobChunk
from tests.factories import JobFactory


def _plan(*, job, ctx):
    return job.parameters["items"]


def _chunk(*, job, ctx, items):
    for _item in items:
        ctx.count("ok")
        ctx.advance()


registry.register_job_kind(
    "test_tasks_fanout",
    "Fan-out (tasks)",
    permission="jobs.add_job",
    fanout=registry.FanOut(plan=_plan, run_chunk=_chunk, chunk_size=("TEST_TASKS_CHUNK", 3)),
)


@pytest.fixture
def broker(monkeypatch):
    """As with a broker: tasks are sent, not run in-process; returns what was sent."""
    sent = []
    monkeypatch.setattr(tasks.run_job_chunks, "delay", lambda job_id: sent.append(job_id))
    app.conf.task_always_eager = False  # conftest puts it back
    yield sent
    runner._RUNNING_HERE.clear()


def fanout_job(company, **parameters):
    return JobFactory(
        company=company,
        kind="test_tasks_fanout",
        parameters={"items": list(range(1, 11)), **parameters},
    )


def test_the_tasks_are_named_for_the_jobs_app():
    assert tasks.run_job.name == "jobs.run_job"
    assert tasks.run_job_chunks.name == "jobs.run_job_chunks"


@pytest.mark.parametrize("name", ["integrations.run_job", "integrations.run_job_chunks"])
def test_the_names_of_before_the_move_are_still_registered(name):
    task = app.tasks[name]
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)


def test_a_message_queued_as_integrations_run_job_runs_the_job(company):
    job = JobFactory(company=company, parameters={"items": 3})
    app.tasks["integrations.run_job"].apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert (job.status, job.summary) == (Job.Status.SUCCEEDED, {"ok": 3})


def test_a_message_queued_as_integrations_run_job_chunks_runs_the_chunks(company):
    job = fanout_job(company)
    runner._job_fanout_plan(
        job=job, ctx=context.JobContext(job), fanout=registry.job_kind(job.kind).fanout
    )
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    app.tasks["integrations.run_job_chunks"].apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert (job.status, job.progress_done) == (Job.Status.SUCCEEDED, 10)
    assert set(job.chunks.values_list("status", flat=True)) == {JobChunk.Status.DONE}


def test_the_planner_hands_chunks_to_other_workers_after_commit(
    company, broker, django_capture_on_commit_callbacks
):
    job = fanout_job(company, parallel=3)
    with django_capture_on_commit_callbacks(execute=True):
        runner._job_fanout_plan(
            job=job,
            ctx=context.JobContext(job),
            fanout=registry.job_kind(job.kind).fanout,
            helpers=tasks.job_chunk_helpers_start,
        )
    assert broker == [job.pk, job.pk]  # parallel 3: this worker and two more
    job.refresh_from_db()
    assert job.progress_total == 10


def test_the_run_job_task_starts_the_helpers_and_runs_what_is_left(
    company, broker, django_capture_on_commit_callbacks
):
    job = fanout_job(company, parallel=2)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_job(job.pk)
    assert broker == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.progress_done) == (Job.Status.SUCCEEDED, 10)


def test_run_in_process_the_caller_runs_every_chunk_itself(company, broker):
    job = runner.job_execute(job_id=fanout_job(company, parallel=4).pk)
    assert broker == []
    assert (job.status, job.summary) == (Job.Status.SUCCEEDED, {"ok": 10})


def test_with_eager_celery_no_helper_is_started(company, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.run_job_chunks, "delay", lambda job_id: sent.append(job_id))
    tasks.job_chunk_helpers_start(1, 3)
    assert sent == []
