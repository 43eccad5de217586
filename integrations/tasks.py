from celery import shared_task

from . import services


@shared_task(name="integrations.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    services.job_execute(job_id=job_id)
