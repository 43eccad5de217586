from celery import shared_task

from .payroll_sync import payroll_accounting_nightly as accounting_nightly_start
from .payroll_sync import payroll_sync_retry_due


@shared_task(name="integrations.payroll_sync_retry")
def payroll_sync_retry() -> int:
    """Beat: pick up outbox rows whose retry is due (and any a lost task left behind)."""
    return payroll_sync_retry_due()


@shared_task(name="integrations.payroll_accounting_nightly")
def payroll_accounting_nightly() -> int:
    """Beat, nightly: send the home accounting in force today (payroll has no dating)."""
    return len(accounting_nightly_start())
