"""Writes for jobs: start (after the kind's permission check), enqueue, requeue, cancel."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm

from .messages import JobMessage
from .models import Job
from .registry import job_kind
from .runner import job_finish
from .tasks import run_job


def job_create(
    *, company: Company, kind: str, started_by=None, parameters: dict | None = None
) -> Job:
    """Create a queued job and enqueue it once the surrounding transaction commits."""
    job_kind(kind)  # unknown kinds fail here, not in the worker
    job = Job.objects.create(
        company=company, kind=kind, started_by=started_by, parameters=parameters or {}
    )
    job_enqueue(job=job)
    return job


def job_start_check(*, user, company: Company, kind: str) -> None:
    """Raise PermissionDenied unless ``user`` may start ``kind`` jobs in ``company`` (call
    it before storing anything a job will read, e.g. an upload)."""
    registered = job_kind(kind)
    if not user_has_company_perm(user=user, perm=registered.permission, company=company):
        raise PermissionDenied(
            _("You may not start '%(job)s' in %(company)s.")
            % {"job": registered.label, "company": company.name}
        )


def job_start(*, user, company: Company, kind: str, parameters: dict | None = None) -> Job:
    """Start a job on behalf of a user, who needs the kind's permission in that company."""
    job_start_check(user=user, company=company, kind=kind)
    return job_create(company=company, kind=kind, started_by=user, parameters=parameters)


def job_enqueue(*, job: Job) -> None:
    job_id = job.pk
    transaction.on_commit(lambda: run_job.delay(job_id))


def jobs_requeue_unfinished() -> list[int]:
    """Enqueue every job that is queued or was left running; returns their ids.

    The embedded run calls it when it starts, before its worker: a job queued while no
    worker ran, or interrupted by a stop, runs (or resumes) again. ``job_execute`` leaves
    finished jobs alone and handlers skip items already done, so this never does an item
    twice.
    """
    ids = list(
        Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for job_id in ids:
        run_job.delay(job_id)
    return ids


def job_may_cancel(*, user, job: Job) -> bool:
    """Cancelling follows the role: "cancel a running job" and the permission to start jobs
    of that kind, both in the job's company."""
    try:
        kind_perm = job_kind(job.kind).permission
    except LookupError:
        kind_perm = "jobs.add_job"
    return all(
        user_has_company_perm(user=user, perm=perm, company=job.company_id)
        for perm in ("companies.cancel_job", kind_perm)
    )


def job_cancel(*, job: Job, user=None) -> Job:
    """Ask a job to stop. A queued job is cancelled at once; a running one at its next item."""
    if user is not None and not job_may_cancel(user=user, job=job):
        raise PermissionDenied(_("You may not cancel this job in this company."))
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
        if job.status == Job.Status.QUEUED:
            return job_finish(
                job=job, status=Job.Status.CANCELLED, message=JobMessage("job.cancelled")
            )
    return job
