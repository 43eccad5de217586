"""Direct transfer of the vouchers to Visma.Net through the :class:`LedgerTransfer`
outbox (the job ``visma_transfer``), exactly once."""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm
from flexbridge.errors import DomainError
from integrations.clients.base import AnswerLost, OutsideSystemError, TransientError
from integrations.clients.config import client_options
from integrations.clients.outbound import OutboundPolicy, private_addresses_allowed
from integrations.clients.visma import VismaClient, VismaRefused
from jobs.messages import JobMessage
from jobs.services import job_start

from .. import selectors
from ..models import LedgerTransfer, VismaLink
from ..vouchers import (
    ZERO,
    Voucher,
    VoucherError,
    json_bytes,
    visma_payload,
    voucher_key,
)
from .voucher import _selection, voucher_build

logger = logging.getLogger(__name__)

# --- Visma.Net --------------------------------------------------------------------------------


def visma_client_for(*, link: VismaLink) -> VismaClient:
    return VismaClient(
        link.base_url,
        client_id=link.client_id,
        client_secret=link.client_secret,
        tenant_id=link.tenant_id,
        token_url=link.token_url,
        outbound=OutboundPolicy(allow_private=private_addresses_allowed(link=link)),
        **client_options("visma"),
    )


class TransferRefused(DomainError):
    """A transfer that must not happen (licence, link, already transferred ...)."""

    code = "transfer_refused"
    http_status = 409


def _body_for(
    *, voucher: Voucher, link: VismaLink, ledger_number: str, financial_period: str
) -> bytes:
    return json_bytes(
        visma_payload(
            voucher=voucher,
            ledger_number=ledger_number,
            financial_period=financial_period,
            cost_center_segment=link.cost_center_segment,
            project_segment=link.project_segment,
        )
    )


def _transfer_save(transfer: LedgerTransfer, **fields) -> None:
    for name, value in fields.items():
        setattr(transfer, name, value)
    transfer.save(update_fields=[*fields])


def ledger_transfer_prepare(
    *, company: Company, run_id: int, job=None, user=None, resend: bool = False
) -> LedgerTransfer | None:
    """The outbox row of a run's voucher: the live one, or a new one. ``None`` when the
    run was already transferred (refused unless ``resend`` after a reversal)."""
    with transaction.atomic():
        transfers = list(
            LedgerTransfer.objects.select_for_update()
            .filter(company=company, payroll_run_id=run_id, target=LedgerTransfer.Target.VISMA)
            .order_by("generation")
        )
        live = [t for t in transfers if t.status != LedgerTransfer.Status.REVERSED]
        if live:
            return live[0]
        if transfers and not resend:
            raise TransferRefused(
                JobMessage(
                    "ledger.visma.reversed_before",
                    run=run_id,
                    batch=transfers[-1].batch_number or "–",
                )
            )
        generation = len(transfers) + 1
        return LedgerTransfer.objects.create(
            company=company,
            payroll_run_id=run_id,
            target=LedgerTransfer.Target.VISMA,
            generation=generation,
            voucher_key=voucher_key(
                company_code=company.code, payroll_run_id=run_id, generation=generation
            ),
            financial_period="",
            debit_total=ZERO,
            job=job,
            created_by=user,
            resend_reason=transfers[-1].resend_reason if transfers else "",
        )


def _transfer_look_up(*, transfer: LedgerTransfer, client: VismaClient, ctx, item: str) -> bool:
    """Look the transfer's key up in Visma; when found, the transfer is SENT (not posted
    again)."""
    found = client.journal_transaction_find(transfer.financial_period, transfer.voucher_key)
    if found is None:
        return False
    ctx.info(
        JobMessage("ledger.visma.found", batch=found.batch_number, key=transfer.voucher_key),
        item=item,
    )
    transfer.mark_sent(batch_number=found.batch_number)
    return True


def _transfer_release(*, transfer: LedgerTransfer, link: VismaLink, client: VismaClient, ctx):
    """Release the posted batch when the link says so (the spec's release action); logged.
    A failed release leaves the batch posted (unreleased) and says so: it is never posted
    again for that."""
    if not link.release_after_post or transfer.released_at or not transfer.batch_number:
        return
    item = transfer.voucher_key
    try:
        client.journal_transaction_release(transfer.batch_number)
    except OutsideSystemError as exc:
        ctx.warning(
            JobMessage("ledger.visma.not_released", batch=transfer.batch_number, error=str(exc)),
            item=item,
        )
        return
    _transfer_save(transfer, released_at=timezone.now())
    ctx.info(JobMessage("ledger.visma.released", batch=transfer.batch_number), item=item)


def ledger_transfer_send(
    *, transfer: LedgerTransfer, voucher: Voucher, link: VismaLink, client: VismaClient, ctx
) -> LedgerTransfer:
    """Post one voucher exactly once.

    Whenever anything was ever sent for this transfer (``attempts`` > 0: an unconfirmed
    POST, a crash while sending, a run that ended FAILED), its key is looked up in Visma
    before anything is posted again. Uncertain outcomes of the POST (timeout, dropped
    answer, 5xx, ``201`` without ``Location``) are :class:`AnswerLost` from the client and
    lead to that lookup; the client itself never repeats the POST.
    """
    item = transfer.voucher_key
    if transfer.status == LedgerTransfer.Status.SENT:
        return transfer
    if (
        transfer.attempts > 0
        and transfer.financial_period
        and _transfer_look_up(transfer=transfer, client=client, ctx=ctx, item=item)
    ):
        return transfer
    if transfer.status in (LedgerTransfer.Status.PENDING, LedgerTransfer.Status.FAILED):
        # Nothing of it is in Visma: (re)build the request from today's data. Visma's own
        # period for the date; a missing or closed one is refused here, before sending.
        ledger = client.posting_ledger()
        period = client.open_period_for(voucher.date)
        body = _body_for(
            voucher=voucher,
            link=link,
            ledger_number=ledger.number,
            financial_period=period.period_id,
        )
        _transfer_save(
            transfer,
            status=LedgerTransfer.Status.PENDING,
            ledger_number=ledger.number,
            financial_period=period.period_id,
            request_body=body,
            request_sha256=hashlib.sha256(body).hexdigest(),
            debit_total=voucher.debit_total,
            error_code="",
            error_message="",
        )
    else:
        client.check_period_open(transfer.financial_period)
    body = bytes(transfer.request_body)
    for round_ in range(2):
        if round_ and _transfer_look_up(transfer=transfer, client=client, ctx=ctx, item=item):
            return transfer
        transfer.mark_sending()
        try:
            batch = client.journal_transaction_create(body)
        except AnswerLost as exc:
            # It may exist: look it up before anything is posted again.
            _transfer_save(
                transfer,
                status=LedgerTransfer.Status.UNCERTAIN,
                error_code=exc.code or str(exc.status or ""),
                error_message=str(exc),
            )
            ctx.warning(JobMessage("ledger.visma.not_confirmed", error=str(exc)), item=item)
            continue
        except OutsideSystemError as exc:
            # Refused (4xx) or never reached Visma (connect errors, 429 after retries).
            transfer.mark_failed(error=str(exc), code=exc.code or str(exc.status or ""))
            raise
        transfer.mark_sent(batch_number=batch)
        return transfer
    if _transfer_look_up(transfer=transfer, client=client, ctx=ctx, item=item):
        return transfer
    raise TransientError(
        _("Visma.Net did not confirm the transfer; the next run looks it up before sending."),
        system="Visma.Net",
    )


def _transfers_and_vouchers(*, company, runs, selection, job, resend):
    transfers = {
        run.pk: ledger_transfer_prepare(
            company=company, run_id=run.pk, job=job, user=job.started_by, resend=resend
        )
        for run in runs
    }
    vouchers = voucher_build(
        company=company,
        **selection,
        generations={run_id: t.generation for run_id, t in transfers.items()},
    )
    return transfers, vouchers


def visma_transfer_run(*, job, ctx) -> None:
    """Job ``visma_transfer``: post the selection's vouchers to Visma.Net."""
    link = _visma_link(job.company)
    try:
        transfers, vouchers = _visma_transfer_prepare(job=job)
    except (VoucherError, TransferRefused) as exc:
        for problem in getattr(exc, "problems", None) or [exc.args[0] if exc.args else str(exc)]:
            ctx.error(problem if isinstance(problem, JobMessage) else str(problem))
        ctx.count("failed")
        return
    ctx.set_total(len(vouchers))
    with visma_client_for(link=link) as client:
        for voucher in vouchers:
            ctx.check_cancelled()
            _visma_transfer_one(
                job=job,
                ctx=ctx,
                transfer=transfers[voucher.payroll_run_id],
                voucher=voucher,
                link=link,
                client=client,
            )
            ctx.advance()


def _visma_link(company) -> VismaLink:
    """The company's active link, if its licence allows the transfer."""
    if not company.license.visma_net_transfer:
        raise TransferRefused(JobMessage("ledger.visma.no_licence"))
    link = VismaLink.objects.filter(company=company, is_active=True).first()
    if link is None:
        raise TransferRefused(JobMessage("ledger.visma.no_link"))
    return link


def _visma_transfer_prepare(*, job):
    """The outbox rows and the vouchers of the job's selection (final runs only); a voucher
    that cannot be built leaves no outbox rows."""
    company, parameters = job.company, job.parameters
    selection = _selection(parameters)
    runs = list(selectors.payroll_runs_for_selection(company=company, **selection))
    preliminary = [r for r in runs if r.status != r.Status.FINAL]
    if preliminary:
        raise VoucherError(
            [
                JobMessage("ledger.visma.preliminary", run=r.pk, date=str(r.payment_date))
                for r in preliminary
            ]
        )
    resend = bool(parameters.get("resend"))
    with transaction.atomic():
        return _transfers_and_vouchers(
            company=company, runs=runs, selection=selection, job=job, resend=resend
        )


def _visma_transfer_one(*, job, ctx, transfer: LedgerTransfer, voucher: Voucher, link, client):
    """Post one run's voucher (unless it was sent already), log and count the outcome."""
    item = voucher.key
    if transfer.status == LedgerTransfer.Status.SENT:
        _visma_already_sent(job=job, ctx=ctx, transfer=transfer, item=item)
        return
    if transfer.generation > 1 and transfer.attempts == 0:
        ctx.warning(_visma_resend_message(job=job, transfer=transfer), item=item)
    _transfer_save(transfer, job=job)
    try:
        ledger_transfer_send(transfer=transfer, voucher=voucher, link=link, client=client, ctx=ctx)
    except VismaRefused as exc:
        transfer.mark_failed(error=str(exc))
        ctx.error(str(exc), item=item)
        ctx.count("failed")
        return
    except OutsideSystemError as exc:
        ctx.error(str(exc), item=item)
        ctx.count("failed")
        return
    ctx.info(
        JobMessage(
            "ledger.visma.transferred",
            key=voucher.key,
            batch=transfer.batch_number,
            debit=str(voucher.debit_total),
            period=transfer.financial_period,
        ),
        item=item,
    )
    ctx.count("sent")
    _transfer_release(transfer=transfer, link=link, client=client, ctx=ctx)


def _visma_already_sent(*, job, ctx, transfer: LedgerTransfer, item: str) -> None:
    """Sent by this job (a restarted one): counted; sent by another: refused."""
    if transfer.job_id == job.pk:
        ctx.count("sent")
        return
    ctx.error(
        JobMessage(
            "ledger.visma.already_transferred",
            batch=transfer.batch_number,
            key=transfer.voucher_key,
        ),
        item=item,
    )
    ctx.count("failed")


def _visma_resend_message(*, job, transfer: LedgerTransfer) -> JobMessage:
    if job.started_by:
        return JobMessage(
            "ledger.visma.resend",
            key=transfer.voucher_key,
            user=str(job.started_by),
            reason=transfer.resend_reason,
        )
    return JobMessage(
        "ledger.visma.resend_by_system", key=transfer.voucher_key, reason=transfer.resend_reason
    )


def ledger_transfer_mark_reversed(*, transfer: LedgerTransfer, user, reason: str) -> LedgerTransfer:
    """An admin states that the batch was reversed in Visma.Net, which allows one re-send
    of the run (with a new key). Who, when and why are kept on the row and logged."""
    if not user_has_company_perm(
        user=user, perm="companies.run_visma_transfer", company=transfer.company
    ):
        raise PermissionDenied(_("You may not re-send accounting to Visma.Net."))
    if not reason.strip():
        raise TransferRefused(_("Say why the transfer is sent again (the reversal)."))
    with transaction.atomic():
        transfer = LedgerTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status != LedgerTransfer.Status.SENT:
            raise TransferRefused(_("Only a sent transfer can be marked reversed."))
        _transfer_save(
            transfer,
            status=LedgerTransfer.Status.REVERSED,
            reversed_by=user,
            reversed_at=timezone.now(),
            resend_reason=reason.strip(),
        )
    logger.warning(
        "Ledger transfer %s (batch %s) marked reversed by %s: %s",
        transfer.voucher_key,
        transfer.batch_number,
        user,
        reason,
    )
    return transfer


def ledger_transfer_resend(*, transfer: LedgerTransfer, user, reason: str):
    """Mark the transfer reversed and start a job that sends the run again."""
    transfer = ledger_transfer_mark_reversed(transfer=transfer, user=user, reason=reason)
    return job_start(
        user=user,
        company=transfer.company,
        kind="visma_transfer",
        parameters={"payroll_run": transfer.payroll_run_id, "resend": True},
    )
