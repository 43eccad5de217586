"""Sending to a payroll web service: claim each due delivery, send it, record the
outcome; transient failures are retried later with backoff, refusals kept as REJECTED
with payroll's own words. A file-based link is written instead (:mod:`.file`)."""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import Job

from ..clients.base import OutsideSystemError, TransientError
from ..models import PayrollLink, PayrollSyncDelivery
from ..payroll_backend import PayrollLinkMissing, payroll_client_for
from .file import _deliveries_write_file
from .outbox import _due, _resolve_number, payroll_sync_coalesce
from .selection import payroll_link_for

CLAIM_SECONDS = 600
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 3600


def _retry_delay(attempts: int) -> dt.timedelta:
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def payroll_deliveries_send(
    *,
    company: Company,
    ctx: JobContext | None = None,
    job: Job | None = None,
    kind: str = "employee",
) -> dict[str, int]:
    """Send the due deliveries, oldest first, one at a time per employee."""
    link = payroll_link_for(company=company)
    if link is None:
        raise PayrollLinkMissing(_("The company has no payroll link."))
    if link.variant == PayrollLink.Variant.PAXML_FILE:
        if ctx is None:
            raise PayrollLinkMissing(_("A file-based payroll link is written by a job."))
        return _deliveries_write_file(company=company, ctx=ctx, job=job, kind=kind)
    counts = {"sent": 0, "failed": 0, "rejected": 0}
    now = timezone.now()
    due = list(_due(company, kind, now).order_by("pk"))
    if ctx:
        ctx.set_total(ctx.done + len(due))
    blocked: set[int] = set()
    with payroll_client_for(link=link) as client:
        for delivery in due:
            if ctx:
                ctx.check_cancelled()
            if delivery.employee_id in blocked:
                continue
            # An older unsent delivery of the same employee goes first.
            if (
                PayrollSyncDelivery.objects.filter(
                    company=company, kind=kind, employee_id=delivery.employee_id, pk__lt=delivery.pk
                )
                .exclude(status=PayrollSyncDelivery.Status.SENT)
                .exclude(status=PayrollSyncDelivery.Status.REJECTED)
                .exists()
            ):
                blocked.add(delivery.employee_id)
                continue
            claimed = PayrollSyncDelivery.objects.filter(
                pk=delivery.pk, status=delivery.status, attempts=delivery.attempts
            ).update(
                status=PayrollSyncDelivery.Status.SENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=timezone.now() + dt.timedelta(seconds=CLAIM_SECONDS),
                job=job,
            )
            if not claimed:
                continue  # another worker has it
            delivery.refresh_from_db()
            _resolve_number(delivery, ctx)
            outcome = _send_one(client=client, delivery=delivery, ctx=ctx)
            counts[outcome] += 1
            if outcome != "sent":
                blocked.add(delivery.employee_id)
            if ctx:
                ctx.count(outcome)
                ctx.advance()
    return counts


def _send_one(*, client, delivery: PayrollSyncDelivery, ctx: JobContext | None) -> str:
    number = delivery.employee_number
    body = bytes(delivery.request_body)
    try:
        if delivery.kind == PayrollSyncDelivery.Kind.ACCOUNTING:
            client.request(
                "PUT",
                f"/v1/employees/{number}/home-accounting",
                content=body,
                headers={"Content-Type": "application/json"},
                idempotent=True,
            )
            notices: list[dict] = []
        else:
            notices = client.employee_upsert_raw(employee_number=number, body=body).notices
    except TransientError as exc:
        PayrollSyncDelivery.objects.filter(pk=delivery.pk).update(
            status=PayrollSyncDelivery.Status.FAILED,
            next_attempt_at=timezone.now() + _retry_delay(delivery.attempts),
            error_message=str(exc),
        )
        if ctx:
            ctx.warning(JobMessage("payroll_sync.retry", error=str(exc)), item=number)
        return "failed"
    except OutsideSystemError as exc:
        PayrollSyncDelivery.objects.filter(pk=delivery.pk).update(
            status=PayrollSyncDelivery.Status.REJECTED, error_message=str(exc), next_attempt_at=None
        )
        if ctx:
            ctx.error(JobMessage("payroll_sync.refused", error=str(exc)), item=number)
        return "rejected"
    PayrollSyncDelivery.objects.filter(pk=delivery.pk).update(
        status=PayrollSyncDelivery.Status.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        error_message="",
        notices=notices,
    )
    if ctx:
        for notice in notices:
            ctx.warning(
                JobMessage(
                    "payroll_sync.notice",
                    code=str(notice.get("code", "")),
                    message=str(notice.get("message", "")),
                ),
                item=number,
            )
        ctx.info(JobMessage("payroll_sync.sent"), item=number)
    return "sent"


def payroll_sync_run(*, job: Job, ctx: JobContext) -> None:
    """Job handler ``payroll_sync``: coalesce the outbox, send what is due."""
    company = job.company
    payroll_sync_coalesce(company=company)
    payroll_deliveries_send(company=company, ctx=ctx, job=job)
