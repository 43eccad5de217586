"""Kivra's answers recorded: final statuses, reroutes (40105, a refused retained
content), unconfirmed sends and the local print batch."""

from __future__ import annotations

from django.db import transaction

from integrations.clients.base import OutsideSystemError
from integrations.clients.kivra import ContentResult, KivraContentInvalid, KivraError
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import FileHolds, Job

from ..models import KivraLink, PayslipDelivery
from ..pdf import print_batch_render
from . import deliveries
from .deliveries import Channel, Status, payslip_delivery_note_unconfirmed
from .planning import KivraNotDeliverable, _Item, _plan, _print_handling_item

# Log lines are stored as message ids with parameters (registered in ``payslips.jobs``), so
# each reader sees them in their own language.
UNCONFIRMED = "kivra.unconfirmed"
UNCONFIRMED_NO_DUPLICATE_CONTROL = "kivra.unconfirmed_no_duplicate_control"


def _no_longer_reachable(
    *,
    item: _Item,
    error: KivraError,
    ctx: JobContext,
    link: KivraLink,
    print_allowed: bool,
    created,
    job: Job,
) -> _Item | None:
    """Kivra answered 40105 (the recipient is no longer a Kivra user): the row fails, and
    the payslip is planned again as for a non-user (retained or print), unless it already
    was a retain request."""
    deliveries.payslip_delivery_finish(
        delivery_id=item.delivery.pk,
        status=Status.FAILED,
        correlation_id=error.correlation_id or "",
        error_code="40105",
        error_message=str(error)[:2000],
    )
    item.delivery.refresh_from_db()
    if item.delivery.retain:  # already a retain request: nothing else to try
        ctx.error(JobMessage("kivra.refused", error=str(error)), item=item.label)
        ctx.count("failed")
        ctx.advance()
        return None
    ctx.warning(JobMessage("kivra.no_longer_reachable"), item=item.label)
    try:
        return _plan(
            payslip=item.payslip,
            deliveries={Channel.KIVRA: item.delivery},
            users=set(),
            link=link,
            print_allowed=print_allowed,
            created=created,
            job=job,
            label=item.label,
        )
    except KivraContentInvalid as exc:
        ctx.error(JobMessage("kivra.content_invalid", error=str(exc)), item=item.label)
        ctx.count("failed")
        ctx.advance()
        return None


def _record_result(
    *,
    item: _Item,
    result: ContentResult | None,
    error: Exception | None,
    ctx: JobContext,
    link: KivraLink,
    print_allowed: bool,
    created,
    job: Job,
    finishes: list[dict] | None = None,
) -> _Item | None:
    """Log one answer. Final statuses go to ``finishes`` (written together by the caller)
    or, without it, straight to the row."""
    delivery_id = item.delivery.pk

    def finish(**kwargs) -> None:
        if finishes is None:
            deliveries.payslip_delivery_finish(delivery_id=delivery_id, **kwargs)
        else:
            finishes.append({"delivery_id": delivery_id, **kwargs})

    try:
        if error is not None:
            raise error
    except KivraError as error:
        if error.code == "40105":
            return _no_longer_reachable(
                item=item,
                error=error,
                ctx=ctx,
                link=link,
                print_allowed=print_allowed,
                created=created,
                job=job,
            )
        if error.status == 422 and item.delivery.channel == Channel.KIVRA and item.delivery.retain:
            return _retain_refused(item=item, error=error, ctx=ctx, link=link, job=job)
        finish(
            status=Status.FAILED,
            correlation_id=error.correlation_id or "",
            error_code=error.code or "",
            error_message=str(error)[:2000],
        )
        ctx.error(JobMessage("kivra.refused", error=str(error)), item=item.label)
        ctx.count("failed")
    except OutsideSystemError as error:  # TransientError / AnswerLost: retries ran out
        return _unconfirmed(
            item=item, error=error, ctx=ctx, resend_safe=link.relies_on_duplicate_control
        )
    else:
        if item.delivery.channel == Channel.KIVRA_PRINT:
            finish(
                status=Status.KIVRA_PRINTING,
                objkey=result.objkey,
                correlation_id=result.correlation_id,
            )
            ctx.info(JobMessage("kivra.sent_for_printing"), item=item.label)
            ctx.count("kivra_printing")
            ctx.advance()
            return None
        status = Status.RETAINED if result.retained else Status.SENT
        finish(status=status, objkey=result.objkey, correlation_id=result.correlation_id)
        if result.retained:
            ctx.info(
                JobMessage("kivra.retained", days=link.retroactive_delivery_days), item=item.label
            )
            ctx.count("retained")
        else:
            ctx.info(JobMessage("kivra.sent"), item=item.label)
            ctx.count("sent")
    ctx.advance()
    return None


def _retain_refused(*, item: _Item, error: KivraError, ctx: JobContext, link: KivraLink, job: Job):
    """Kivra would not keep the payslip as retained content (422): the Kivra delivery ends
    RETAIN_REFUSED, final — never rebuilt or resent to Kivra — and the payslip goes to print
    handling as the link says. Returns the print item."""
    deliveries.payslip_delivery_finish(
        delivery_id=item.delivery.pk,
        status=Status.RETAIN_REFUSED,
        correlation_id=error.correlation_id or "",
        error_code=error.code or "",
        error_message=str(error)[:2000],
    )
    item.delivery.refresh_from_db()
    try:
        rerouted = _print_handling_item(
            payslip=item.payslip, link=link, job=job, label=item.label, created=None
        )
    except KivraNotDeliverable:
        ctx.error(
            JobMessage("kivra.retain_refused_not_deliverable", error=str(error)), item=item.label
        )
        ctx.count("failed")
        ctx.advance()
        return None
    ctx.warning(
        JobMessage(
            "kivra.retain_refused_to_kivra_print"
            if rerouted.delivery.channel == Channel.KIVRA_PRINT
            else "kivra.retain_refused_to_print_batch",
            error=str(error),
        ),
        item=item.label,
    )
    return rerouted


def _log_unconfirmed_not_resent(*, ctx: JobContext, label: str, error: str) -> None:
    ctx.error(JobMessage(UNCONFIRMED_NO_DUPLICATE_CONTROL, error=error or "-"), item=label)
    ctx.count("unconfirmed")
    ctx.advance()


def _unconfirmed(
    *, item: _Item, error: OutsideSystemError, ctx: JobContext, resend_safe: bool = True
) -> None:
    payslip_delivery_note_unconfirmed(delivery_id=item.delivery.pk, error=error)
    message = UNCONFIRMED if resend_safe else UNCONFIRMED_NO_DUPLICATE_CONTROL
    ctx.error(JobMessage(message, error=str(error)), item=item.label)
    ctx.count("failed")
    ctx.advance()
    return None


def _print_batch(*, items: list[_Item], job: Job, ctx: JobContext) -> None:
    """One PDF with every payslip for posting, kept as the job's file; the deliveries become
    PRINTED in the same transaction that stores it."""
    ready = []
    for item in items:
        employee = item.payslip.employee
        if not (employee.street_address and employee.postal_code and employee.city):
            deliveries.payslip_delivery_finish(
                delivery_id=item.delivery.pk,
                status=Status.FAILED,
                error_code="no_address",
                error_message="No postal address",
            )
            ctx.error(JobMessage("kivra.no_postal_address"), item=item.label)
            ctx.count("failed")
            ctx.advance()
            continue
        if PayslipDelivery.objects.filter(pk=item.delivery.pk, status=Status.READY).exists():
            ready.append(item)
        else:
            ctx.info(JobMessage("kivra.already_printed"), item=item.label)
            ctx.count("already_sent")
            ctx.advance()
    if not ready:
        return
    content = print_batch_render([item.payslip for item in ready])
    with transaction.atomic():
        for item in ready:
            deliveries.payslip_delivery_finish(delivery_id=item.delivery.pk, status=Status.PRINTED)
        ctx.save_result_file(
            f"kivra-print-batch-{job.pk}.pdf",
            content,
            holds=[FileHolds.PERSONAL_IDENTITY_NUMBERS, FileHolds.SALARIES],
        )
    for item in ready:
        ctx.info(JobMessage("kivra.print_batch"), item=item.label)
        ctx.count("printed")
        ctx.advance()
