"""The Celery tasks that run jobs (thin: the work is in ``jobs.runner``).

The tasks were called ``integrations.run_job`` and ``integrations.run_job_chunks`` while the
job framework lived in ``integrations``; those names stay registered, so messages already
queued under them when a deployment upgrades still run.
"""

from celery import current_app, shared_task

from . import runner


def job_chunk_helpers_start(job_id: int, count: int) -> None:
    """Start ``count`` more workers on a fanned-out job's chunks. With eager Celery (no
    broker) a task enqueued runs right here, so helpers would add nothing: none starts."""
    if current_app.conf.task_always_eager:
        return
    for _ in range(count):
        run_job_chunks.delay(job_id)


@shared_task(name="jobs.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    runner.job_execute(job_id=job_id, helpers=job_chunk_helpers_start)


@shared_task(name="jobs.run_job_chunks", acks_late=True, reject_on_worker_lost=True)
def run_job_chunks(job_id: int) -> None:
    """Another worker's hands on a fanned-out job: runs its chunks until none is left."""
    runner.job_chunks_drain(job_id=job_id)


# The names of before the move, for messages queued under them (see the module's doc).
@shared_task(name="integrations.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job_queued_before_the_move(job_id: int) -> None:
    run_job(job_id)


@shared_task(name="integrations.run_job_chunks", acks_late=True, reject_on_worker_lost=True)
def run_job_chunks_queued_before_the_move(job_id: int) -> None:
    run_job_chunks(job_id)
