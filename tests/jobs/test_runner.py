"""The job runner: outcome, progress, log, cancel, resume, and fan-out over chunks."""

import datetime

import pytest
from django.utils import timezone

from jobs import context, registry, runner
from jobs.models import Job, JobChunk, JobLogLine
from jobs.registry import FanOut, register_job_kind
from tests.factories import JobFactory


def test_selftest_job_succeeds_with_progress_and_log(company):
    job = JobFactory(company=company, parameters={"items": 5})
    job = runner.job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.progress_percent) == (5, 5, 100)
    assert job.summary == {"ok": 5}
    assert job.started_at and job.finished_at and job.attempts == 1
    assert list(job.log_lines.values_list("item", flat=True)) == [f"item {n}" for n in range(1, 6)]


def test_errors_on_some_items_give_partly_failed(company):
    job = JobFactory(company=company, parameters={"items": 4, "fail_at": 2})
    job = runner.job_execute(job_id=job.pk)
    assert job.status == Job.Status.PARTLY_FAILED
    assert job.summary == {"ok": 3, "failed": 1}
    error = job.log_lines.get(level=JobLogLine.Level.ERROR)
    assert (error.item, error.message) == ("item 2", "Failed on purpose.")


def test_all_items_failing_gives_failed(company):
    job = JobFactory(company=company, parameters={"items": 1, "fail_at": 1})
    assert runner.job_execute(job_id=job.pk).status == Job.Status.FAILED


def _boom(*, job, ctx):
    ctx.set_total(2)
    ctx.advance()
    raise RuntimeError("payroll said no for 19800101-1234")


register_job_kind("test_boom", "Boom", handler=_boom, permission="jobs.add_job")


def test_exception_becomes_failed_job_with_masked_message(company):
    job = JobFactory(company=company, kind="test_boom")
    job = runner.job_execute(job_id=job.pk)
    assert job.status == Job.Status.FAILED
    assert job.message == "payroll said no for 19800101-****"
    assert job.progress_done == 1
    assert job.log_lines.get().message == "payroll said no for 19800101-****"


def test_finished_job_is_not_run_again(company):
    job = JobFactory(company=company, parameters={"items": 2})
    runner.job_execute(job_id=job.pk)
    again = runner.job_execute(job_id=job.pk)
    assert again.attempts == 1
    assert again.log_lines.count() == 2


def test_interrupted_job_resumes_where_it_stopped(company):
    job = JobFactory(company=company, parameters={"items": 5})
    # A worker died after three items: the row still says running.
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, progress_done=3, progress_total=5, attempts=1
    )
    job = runner.job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert list(job.log_lines.filter(level="info").values_list("item", flat=True)) == [
        "item 4",
        "item 5",
    ]
    assert job.log_lines.filter(level="warning", message__startswith="Resumed").exists()


def _cancel_midway(*, job, ctx):
    ctx.set_total(10)
    for number in range(10):
        if number == 3:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            ctx._last_cancel_check = 0
        ctx.check_cancelled()
        ctx.advance()


register_job_kind("test_cancel", "Cancel", handler=_cancel_midway, permission="jobs.add_job")


def test_running_job_stops_at_next_item_when_cancelled(company):
    job = JobFactory(company=company, kind="test_cancel")
    job = runner.job_execute(job_id=job.pk)
    assert job.status == Job.Status.CANCELLED
    assert job.progress_done == 3


def test_log_is_capped(company, settings):
    settings.JOB_LOG_MAX_LINES = 3
    job = JobFactory(company=company, parameters={"items": 5})
    job = runner.job_execute(job_id=job.pk)
    assert job.log_lines.count() == 3
    assert job.summary["log_lines_dropped"] == 2


# --- fan-out: one job, many chunks ------------------------------------------------------------

FANOUT_CALLS: dict[str, list] = {"chunks": [], "finish": []}


def _fanout_plan(*, job, ctx):
    ctx.set_total(len(job.parameters["items"]))
    ctx.info("Planned.")
    return job.parameters["items"]


def _fanout_chunk(*, job, ctx, items):
    FANOUT_CALLS["chunks"].append(list(items))
    for item in items:
        ctx.check_cancelled()
        if item in job.parameters.get("boom", []):
            raise RuntimeError(f"chunk with {item} broke for 19800101-1234")
        if item in job.parameters.get("cancel_at", []):
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            ctx._last_cancel_check = 0
        if item in job.parameters.get("fail", []):
            ctx.error("Failed.", item=f"item {item}")
            ctx.count("failed")
        else:
            ctx.info("Done.", item=f"item {item}")
            ctx.count("ok")
        ctx.advance()
    ctx.output["seen"] = list(items)


def _fanout_finish(*, job, ctx, outputs):
    FANOUT_CALLS["finish"].append(outputs)
    ctx.info("Finished.")
    ctx.count("finished")


register_job_kind(
    "test_fanout",
    "Fan-out",
    permission="jobs.add_job",
    fanout=FanOut(
        plan=_fanout_plan,
        run_chunk=_fanout_chunk,
        finish=_fanout_finish,
        chunk_size=("TEST_FANOUT_CHUNK", 3),
        parallel=("TEST_FANOUT_PARALLEL", 4),
    ),
)


@pytest.fixture
def fanout_calls():
    FANOUT_CALLS["chunks"].clear()
    FANOUT_CALLS["finish"].clear()
    yield FANOUT_CALLS
    runner._RUNNING_HERE.clear()  # chunks the tests claimed by hand and never ran


def fanout_job(company, **parameters):
    return JobFactory(
        company=company, kind="test_fanout", parameters={"items": list(range(1, 11)), **parameters}
    )


def test_fanout_job_runs_its_chunks_and_shows_one_job(company, fanout_calls):
    job = runner.job_execute(job_id=fanout_job(company).pk)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert fanout_calls["chunks"] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]
    assert fanout_calls["finish"] == [
        [{"seen": [1, 2, 3]}, {"seen": [4, 5, 6]}, {"seen": [7, 8, 9]}, {"seen": [10]}]
    ]
    assert (job.progress_done, job.progress_total, job.progress_percent) == (10, 10, 100)
    assert job.summary == {"ok": 10, "finished": 1}
    messages = list(job.log_lines.values_list("message", flat=True))
    assert messages[0] == "Planned." and messages[-1] == "Finished."
    assert sorted(job.log_lines.filter(message="Done.").values_list("item", flat=True)) == sorted(
        f"item {n}" for n in range(1, 11)
    )
    assert list(job.chunks.values_list("number", "status")) == [
        (n, JobChunk.Status.DONE) for n in range(5)
    ]
    # Run again (a redelivered task): nothing runs twice.
    assert runner.job_execute(job_id=job.pk).attempts == 1
    assert len(fanout_calls["chunks"]) == 4


def test_fanout_chunk_size_from_parameters_and_setting(company, fanout_calls, settings):
    settings.TEST_FANOUT_CHUNK = 5
    runner.job_execute(job_id=fanout_job(company).pk)
    runner.job_execute(job_id=fanout_job(company, chunk_size=4).pk)
    assert [len(c) for c in fanout_calls["chunks"]] == [5, 5, 4, 4, 2]


def test_fanout_errors_in_chunks_give_partly_failed(company, fanout_calls):
    job = runner.job_execute(job_id=fanout_job(company, fail=[2, 8]).pk)
    assert job.status == Job.Status.PARTLY_FAILED
    assert job.message == "2 errors."
    assert job.summary == {"ok": 8, "failed": 2, "finished": 1}


def test_fanout_exception_in_a_chunk_fails_the_job_and_the_others_still_run(company, fanout_calls):
    job = runner.job_execute(job_id=fanout_job(company, boom=[5]).pk)
    assert job.status == Job.Status.FAILED
    assert job.message == "chunk with 5 broke for 19800101-****"
    assert job.summary == {"ok": 8, "finished": 1}  # 4 of chunk 2 never ran, the rest did
    assert job.chunks.get(number=2).status == JobChunk.Status.FAILED


def test_fanout_cancel_stops_the_chunk_and_the_ones_not_started(company, fanout_calls):
    job = runner.job_execute(job_id=fanout_job(company, cancel_at=[5]).pk)
    assert job.status == Job.Status.CANCELLED
    assert fanout_calls["chunks"] == [[1, 2, 3], [4, 5, 6]]
    assert fanout_calls["finish"] == []
    assert job.summary == {"ok": 5}
    assert set(job.chunks.values_list("status", flat=True)) == {JobChunk.Status.DONE, "cancelled"}
    assert job.log_lines.filter(message="Cancelled on request.").count() == 1


def test_fanout_without_items_finishes_at_once(company, fanout_calls):
    job = runner.job_execute(job_id=fanout_job(company, items=[]).pk)
    assert job.status == Job.Status.SUCCEEDED
    assert fanout_calls["finish"] == [[]]


def test_fanout_chunk_of_a_dead_worker_is_taken_over_a_live_ones_is_not(
    company, fanout_calls, settings
):
    settings.JOB_CHUNK_POLL_SECONDS = 0.01
    job = fanout_job(company, items=[1, 2, 3, 4])
    runner._job_fanout_plan(
        job=job, ctx=context.JobContext(job), fanout=registry.job_kind("test_fanout").fanout
    )
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    now = timezone.now()
    # Chunk 1 is being run by a live worker elsewhere; chunk 2's worker died long ago.
    JobChunk.objects.filter(job=job, number=1).update(
        status="running", worker="elsewhere:1", heartbeat_at=now, attempts=1
    )
    JobChunk.objects.filter(job=job, number=2).update(
        status="running",
        worker="elsewhere:2",
        heartbeat_at=now - datetime.timedelta(seconds=settings.JOB_CHUNK_STALE_SECONDS + 1),
        attempts=1,
    )
    claimed = runner._chunk_claim(job=job, worker="me:1")
    assert (claimed.number, claimed.attempts, claimed.worker) == (2, 2, "me:1")
    # Chunk 1 is alive, chunk 2 now too (claimed just now): nothing for a third worker.
    assert runner._chunk_claim(job=job, worker="third:1") is None
    # The live one's worker finishes it; then the dead one's is run here and the job ends.
    JobChunk.objects.filter(job=job, number=1).update(status="done", done=3, summary={"ok": 3})
    JobChunk.objects.filter(job=job, number=2).update(
        heartbeat_at=now - datetime.timedelta(hours=1)
    )
    job = runner.job_chunks_drain(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert fanout_calls["chunks"] == [[4]]
    assert job.summary == {"ok": 4, "finished": 1}
    assert job.log_lines.filter(message__contains="Part 2 taken over").count() == 1


def test_fanout_worker_whose_chunk_was_taken_over_stops(company, fanout_calls):
    job = fanout_job(company, items=[1, 2])
    runner._job_fanout_plan(
        job=job, ctx=context.JobContext(job), fanout=registry.job_kind("test_fanout").fanout
    )
    chunk = runner._chunk_claim(job=job, worker="slow:1")
    ctx = context.ChunkContext(job, chunk)
    JobChunk.objects.filter(pk=chunk.pk).update(attempts=2, worker="other:1")  # taken over
    with pytest.raises(context.ChunkLost):
        ctx.advance()
    assert JobChunk.objects.get(pk=chunk.pk).done == 0


def test_fanout_chunk_of_another_thread_of_this_process_is_not_taken(company, fanout_calls):
    """Thread-pool workers share the process's name: a chunk claimed by another thread is
    left alone while it runs; once that thread is gone (an exception escaped), it is not."""
    job = fanout_job(company, items=[1, 2])
    runner._job_fanout_plan(
        job=job, ctx=context.JobContext(job), fanout=registry.job_kind("test_fanout").fanout
    )
    me = runner._worker_name()
    first = runner._chunk_claim(job=job, worker=me)
    assert first.number == 1
    assert runner._chunk_claim(job=job, worker=me) is None
    runner._RUNNING_HERE.discard(first.pk)  # its thread died without finishing it
    again = runner._chunk_claim(job=job, worker=me)
    assert (again.pk, again.attempts) == (first.pk, 2)
