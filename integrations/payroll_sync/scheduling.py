"""When the sync runs: a job after the change commits, and the beat task that retries
what is due."""

from __future__ import annotations

from django.utils import timezone

from companies.models import Company
from jobs.models import Job
from jobs.services import job_create

from ..models import PayrollSyncChange
from .outbox import payroll_deliveries_due


def payroll_sync_schedule(*, company_id: int) -> Job | None:
    """Start a ``payroll_sync`` job for the company unless one is already waiting."""
    if Job.objects.filter(
        company_id=company_id, kind="payroll_sync", status=Job.Status.QUEUED
    ).exists():
        return None
    return job_create(company=Company.objects.get(pk=company_id), kind="payroll_sync")


def payroll_sync_retry_due() -> int:
    """Beat task: schedule a sync job for every company with due or unbatched changes."""
    now = timezone.now()
    company_ids = set(
        PayrollSyncChange.objects.filter(delivery__isnull=True).values_list("company_id", flat=True)
    )
    company_ids |= set(payroll_deliveries_due(now=now).values_list("company_id", flat=True))
    scheduled = 0
    for company_id in company_ids:
        if payroll_sync_schedule(company_id=company_id):
            scheduled += 1
    return scheduled
