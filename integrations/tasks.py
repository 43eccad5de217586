from celery import shared_task

from . import services


@shared_task(name="integrations.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    services.job_execute(job_id=job_id)


@shared_task(name="integrations.run_job_chunks", acks_late=True, reject_on_worker_lost=True)
def run_job_chunks(job_id: int) -> None:
    """Another worker's hands on a fanned-out job: runs its chunks until none is left."""
    services.job_chunks_drain(job_id=job_id)


@shared_task(name="integrations.payroll_sync_retry")
def payroll_sync_retry() -> int:
    """Beat: pick up outbox rows whose retry is due (and any a lost task left behind)."""
    from .payroll_sync import payroll_sync_retry_due

    return payroll_sync_retry_due()


@shared_task(name="integrations.payroll_accounting_nightly")
def payroll_accounting_nightly() -> int:
    """Beat, nightly: send the home accounting in force today (payroll has no dating)."""
    from .payroll_sync import payroll_accounting_nightly as start

    return len(start())
