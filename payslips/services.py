"""Writes for payroll runs, payslip PDFs, the Kivra link and the dispatch to Kivra.

The dispatch is exactly-once by construction:

* one :class:`~payslips.models.PayslipDelivery` per payslip and channel (a unique
  constraint), created with the exact request bytes before anything is sent;
* its status moves only here, under ``select_for_update``: READY → SENDING (claimed by a
  job) → SENT / RETAINED / KIVRA_PRINTING / RETAIN_REFUSED / PRINTED / FAILED;
* a SENDING row whose answer never arrived (lost answer, killed worker, retries ran out) is
  sent again with the *same stored bytes* only on a link that relies on Kivra's production
  duplicate control (an identical payload is delivered once); on a test-environment or
  sandbox link it is never sent again and is reported as unconfirmed;
* a retained content Kivra refuses (422) ends RETAIN_REFUSED and goes to print handling:
  Kivra's print add-on (channel ``kivra_print``) or the local print batch (``print``);
* a payslip with a finished delivery is never sent again, whichever job asks.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
import itertools
import json
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from employees.models import Employee
from integrations.clients.base import OutsideSystemError
from integrations.clients.config import client_options
from integrations.clients.kivra import ContentResult, KivraClient, KivraContentInvalid, KivraError
from integrations.clients.outbound import OutboundPolicy, private_addresses_allowed
from integrations.messages import JobMessage
from integrations.models import FileHolds, Job
from integrations.ratelimit import LocalWindowLimiter, window_limiter
from integrations.services import JobCancelled, JobContext

from . import selectors
from .content import payslip_salaryslip, payslip_subject
from .models import KivraLink, PayrollRun, Payslip, PayslipDelivery, PayslipLine
from .pdf import payslip_pdf_render, print_batch_render

CENT = Decimal("0.01")
Status = PayslipDelivery.Status
Channel = PayslipDelivery.Channel
# Log lines are stored as message ids with parameters (registered in ``payslips.jobs``), so
# each reader sees them in their own language.
UNCONFIRMED = "kivra.unconfirmed"
UNCONFIRMED_NO_DUPLICATE_CONTROL = "kivra.unconfirmed_no_duplicate_control"


class KivraUnconfirmed(Exception):
    """A payslip sent earlier whose outcome is unknown, on a link without Kivra's duplicate
    control: sending it again could deliver it twice, so it is not sent again."""


# Channels whose deliveries are sent to Kivra (READY → SENDING → final).
SENT_CHANNELS = (Channel.KIVRA, Channel.KIVRA_PRINT)
DONE_COUNTERS = {
    Status.SENT: "sent",
    Status.RETAINED: "retained",
    Status.PRINTED: "printed",
    Status.KIVRA_PRINTING: "kivra_printing",
}
# A SENDING row claimed by another job that has not moved for this long is taken over.
STALE_CLAIM = datetime.timedelta(minutes=10)
# Payslips planned together: their new delivery rows are written with one INSERT.
PLAN_BATCH = 32
# A dispatch reads its payslips this many at a time (and matches their recipients in Kivra
# with one call), so sending starts at once and memory stays flat.
LOAD_BATCH = 256


# --- payroll runs ----------------------------------------------------------------------------


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def payroll_run_create(
    *,
    company: Company,
    payment_date: datetime.date,
    period_start: datetime.date,
    period_end: datetime.date,
    status: str = PayrollRun.Status.PRELIMINARY,
    payslips: list[dict],
    external_id: str = "",
    description: str = "",
    source: str = PayrollRun.Source.API,
) -> PayrollRun:
    """Create a run with its payslips and lines, after checking that every employee is known
    and every payslip's totals add up. Raises ``ValidationError`` with per-payslip messages.

    ``payslips``: dicts with ``employee_number``, ``gross_pay``, ``tax``, ``net_pay``,
    optional ``employer_contributions``, ``ytd_gross_pay``, ``ytd_tax``,
    ``vacation_days_paid|saved|used`` and ``lines`` (``salary_type``, ``text``, ``kind``,
    ``quantity``, ``unit``, ``unit_price``, ``amount``, ``account``, ``dimensions``).
    """
    errors: dict[str, list[str]] = {}
    if period_start > period_end:
        errors["period_end"] = [_("The period ends before it starts.")]
    if external_id and PayrollRun.objects.filter(company=company, external_id=external_id).exists():
        errors["external_id"] = [_("This payroll run has already been imported.")]
    numbers = [str(p.get("employee_number", "")) for p in payslips]
    employees = {
        e.employee_number: e
        for e in Employee.objects.filter(company=company, employee_number__in=numbers)
    }
    seen: set[str] = set()
    for index, data in enumerate(payslips):
        key = f"payslips[{index}]"
        number = numbers[index]
        problems = []
        if number not in employees:
            problems.append(_("Unknown employee number %(number)s.") % {"number": number})
        if number in seen:
            problems.append(_("Employee %(number)s has two payslips.") % {"number": number})
        seen.add(number)
        problems += _payslip_total_errors(data)
        if problems:
            errors[key] = problems
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        run = PayrollRun.objects.create(
            company=company,
            payment_date=payment_date,
            period_start=period_start,
            period_end=period_end,
            status=status,
            external_id=external_id,
            description=description,
            source=source,
        )
        slips = Payslip.objects.bulk_create(
            [
                Payslip(
                    company=company,
                    payroll_run=run,
                    employee=employees[numbers[i]],
                    gross_pay=_dec(d["gross_pay"]),
                    tax=_dec(d.get("tax")) or Decimal("0.00"),
                    net_pay=_dec(d["net_pay"]),
                    employer_contributions=_dec(d.get("employer_contributions")) or Decimal(0),
                    ytd_gross_pay=_dec(d.get("ytd_gross_pay")) or Decimal(0),
                    ytd_tax=_dec(d.get("ytd_tax")) or Decimal(0),
                    vacation_days_paid=_dec(d.get("vacation_days_paid")),
                    vacation_days_saved=_dec(d.get("vacation_days_saved")),
                    vacation_days_used=_dec(d.get("vacation_days_used")),
                )
                for i, d in enumerate(payslips)
            ],
            batch_size=500,
        )
        PayslipLine.objects.bulk_create(
            [
                PayslipLine(
                    payslip=slip,
                    line_number=n,
                    salary_type=str(line["salary_type"]),
                    text=line.get("text", ""),
                    kind=line.get("kind", PayslipLine.Kind.GROSS),
                    quantity=_dec(line.get("quantity")),
                    unit=line.get("unit", ""),
                    unit_price=_dec(line.get("unit_price")),
                    amount=_dec(line["amount"]),
                    account=line.get("account", ""),
                    dimensions={str(k): str(v) for k, v in (line.get("dimensions") or {}).items()},
                    period_start=line.get("period_start"),
                    period_end=line.get("period_end"),
                )
                for slip, data in zip(slips, payslips, strict=True)
                for n, line in enumerate(data.get("lines") or [], start=1)
            ],
            batch_size=1000,
        )
    return run


def _payslip_total_errors(data: dict) -> list[str]:
    """Gross = sum of gross lines; net = gross - tax + after-tax lines; amount = qty × price."""
    problems = []
    try:
        gross, net = _dec(data["gross_pay"]), _dec(data["net_pay"])
        tax = _dec(data.get("tax")) or Decimal(0)
        lines = data.get("lines") or []
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for n, line in enumerate(lines, start=1):
            amount = _dec(line["amount"])
            sums[line.get("kind", PayslipLine.Kind.GROSS)] += amount
            qty, price = _dec(line.get("quantity")), _dec(line.get("unit_price"))
            if qty is not None and price is not None and (qty * price).quantize(CENT) != amount:
                problems.append(
                    _("Line %(n)s: %(qty)s × %(price)s is not %(amount)s.")
                    % {"n": n, "qty": qty, "price": price, "amount": amount}
                )
    except (KeyError, ArithmeticError, ValueError, TypeError) as exc:
        return [_("Missing or invalid amount: %(error)s") % {"error": exc}]
    if lines and sums[PayslipLine.Kind.GROSS] != gross:
        problems.append(
            _("Gross pay %(gross)s is not the sum of the gross lines %(sum)s.")
            % {"gross": gross, "sum": sums[PayslipLine.Kind.GROSS]}
        )
    expected_net = gross - tax + sums[PayslipLine.Kind.NET]
    if net != expected_net:
        problems.append(
            _("Net pay %(net)s is not gross - tax + after-tax lines = %(expected)s.")
            % {"net": net, "expected": expected_net}
        )
    return problems


def payroll_run_from_payroll_system(data: dict) -> dict:
    """The keyword arguments of :func:`payroll_run_create` for a run as the payroll system's
    ``GET /v1/payroll-runs`` gives it (docs/payroll-api.md)."""
    return {
        "payment_date": datetime.date.fromisoformat(data["payment_date"]),
        "period_start": datetime.date.fromisoformat(data["period_start"]),
        "period_end": datetime.date.fromisoformat(data["period_end"]),
        "status": data.get("status") or PayrollRun.Status.PRELIMINARY,
        "external_id": str(data["id"]),
        "description": str(data.get("description") or "")[:200],
        "source": PayrollRun.Source.PAYROLL_SYSTEM,
        "payslips": [
            {
                "employee_number": str(slip["employee_number"]),
                "gross_pay": slip["gross"],
                "tax": slip.get("tax") or "0.00",
                "net_pay": slip["net"],
                "lines": [
                    {
                        "salary_type": line["salary_type"],
                        "text": line.get("description") or line.get("text") or "",
                        "kind": line.get("kind") or PayslipLine.Kind.GROSS,
                        "quantity": line.get("quantity"),
                        "unit_price": line.get("unit_price"),
                        "amount": line["amount"],
                    }
                    for line in slip.get("lines") or []
                ],
            }
            for slip in data.get("payslips") or []
        ],
    }


def payroll_run_fetch(*, job: Job, ctx: JobContext) -> None:
    """The handler of job kind ``payroll_run_fetch``: the payroll system's runs for
    ``job.parameters["payment_date"]`` stored through :func:`payroll_run_create`.

    Idempotent: a run whose payroll-system id is already stored is left exactly as it is.
    """
    from integrations.models import PayrollLink
    from integrations.payroll_backend import payroll_client_for

    company = job.company
    payment_date = datetime.date.fromisoformat(job.parameters["payment_date"])
    link = PayrollLink.objects.filter(company=company).first()
    if link is None:
        raise RuntimeError(_("The company has no payroll link."))
    with payroll_client_for(link=link) as client:
        runs = client.payroll_runs_list(payment_date=payment_date)
    ctx.set_total(len(runs))
    if not runs:
        ctx.warning(JobMessage("payroll_run.none_on_date", date=payment_date.isoformat()))
        return
    for data in runs:
        ctx.check_cancelled()
        label = _("payroll run %(id)s (%(date)s)") % {
            "id": data.get("id", "?"),
            "date": data.get("payment_date", payment_date),
        }
        try:
            kwargs = payroll_run_from_payroll_system(data)
        except (KeyError, TypeError, ValueError) as exc:
            ctx.error(JobMessage("payroll_run.unreadable", error=str(exc)))
            ctx.count("failed")
            ctx.advance()
            continue
        if PayrollRun.objects.filter(company=company, external_id=kwargs["external_id"]).exists():
            ctx.info(JobMessage("payroll_run.already_fetched"), item=label)
            ctx.count("unchanged")
            ctx.advance()
            continue
        try:
            with transaction.atomic():
                run = payroll_run_create(company=company, **kwargs)
        except IntegrityError:  # fetched by a parallel job a moment ago
            ctx.info(JobMessage("payroll_run.already_fetched"), item=label)
            ctx.count("unchanged")
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    ctx.error(f"{field}: {message}", item=label)
            ctx.count("failed")
        else:
            ctx.info(
                JobMessage(f"payroll_run.stored_{run.status}", count=len(kwargs["payslips"])),
                item=label,
            )
            ctx.count("fetched")
        ctx.advance()


def payroll_run_fetch_start(*, user, company: Company, payment_date: datetime.date) -> Job:
    """Start "Fetch payroll run" (checks the permission to add payroll runs)."""
    from integrations.services import job_start

    return job_start(
        user=user,
        company=company,
        kind="payroll_run_fetch",
        parameters={"payment_date": payment_date.isoformat()},
    )


# --- PDFs ------------------------------------------------------------------------------------


def payslip_render_pdf(*, payslip: Payslip) -> bytes:
    """The payslip's PDF: rendered the first time, then always the stored bytes."""
    if payslip.pdf_sha256:
        if payslip.pdf is None or "pdf" in payslip.get_deferred_fields():
            payslip.refresh_from_db(fields=["pdf", "pdf_sha256"])
        return bytes(payslip.pdf)
    content = payslip_pdf_render(payslip)
    digest = hashlib.sha256(content).hexdigest()
    stored = Payslip.objects.filter(pk=payslip.pk, pdf_sha256="").update(
        pdf=content, pdf_sha256=digest, pdf_rendered_at=timezone.now()
    )
    if not stored:  # someone else rendered it first: theirs is the one
        payslip.refresh_from_db(fields=["pdf", "pdf_sha256", "pdf_rendered_at"])
        return bytes(payslip.pdf)
    payslip.pdf, payslip.pdf_sha256 = content, digest
    return content


# Payslips rendered before their PDFs are stored together (one transaction).
RENDER_BATCH = 50


def _pdfs_store(rendered: list[tuple[int, bytes]]) -> int:
    """Store rendered PDFs where none is stored yet (``pdf_sha256`` empty): one
    parametrised UPDATE run by ``executemany`` in one transaction. Returns how many were
    stored; the others had been rendered meanwhile and keep theirs."""
    if not rendered:
        return 0
    meta = Payslip._meta
    quote = connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in ("pdf", "pdf_sha256")}
    rendered_at = meta.get_field("pdf_rendered_at")
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {column['pdf']} = %s, {column['pdf_sha256']} = %s, "  # noqa: S608 - names from _meta
        f"{quote(rendered_at.column)} = %s WHERE {quote(meta.pk.column)} = %s "
        f"AND {column['pdf_sha256']} = ''"
    )
    stamp = rendered_at.get_db_prep_save(timezone.now(), connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(content, hashlib.sha256(content).hexdigest(), stamp, pk) for pk, content in rendered],
        )
        return max(cursor.rowcount, 0)


def payslip_render_plan(*, job: Job, ctx: JobContext) -> list[int]:
    """Job kind ``payslip_render``, first step: the payslips whose PDFs to render, split by
    the framework into chunks (``PAYSLIP_RENDER_CHUNK_SIZE``) that workers render in
    parallel (:func:`payslip_render_chunk`).

    ``job.parameters``: ``payroll_run`` (id) and/or ``payment_date`` (ISO date) with
    ``status`` as for the dispatch.
    """
    params = job.parameters
    queryset = Payslip.objects.filter(company=job.company)
    if params.get("payroll_run"):
        queryset = queryset.filter(payroll_run_id=int(params["payroll_run"]))
    if params.get("payment_date"):
        queryset = queryset.filter(
            payroll_run__payment_date=datetime.date.fromisoformat(params["payment_date"])
        )
        if params.get("status", "any") in ("final", "preliminary"):
            queryset = queryset.filter(payroll_run__status=params["status"])
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    ctx.set_total(len(ids))
    if not ids:
        ctx.warning(JobMessage("payslips.none_selected"))
    return ids


def payslip_render_chunk(*, job: Job, ctx: JobContext, items: list[int]) -> None:
    """Render and store the PDFs of payslips ``items`` (ids), each once: a payslip that
    has its PDF already (another worker, an earlier run) keeps it."""
    company = job.company
    for start in range(0, len(items), RENDER_BATCH):
        ctx.check_cancelled()
        payslips = list(
            Payslip.objects.filter(company=company, pk__in=items[start : start + RENDER_BATCH])
            .select_related("employee", "payroll_run")
            .prefetch_related("lines")
            .defer("pdf")
            .order_by("pk")
        )
        for payslip in payslips:  # one company object, not one query per employee's name
            payslip.company = payslip.employee.company = company
        rendered = [
            (payslip.pk, payslip_pdf_render(payslip))
            for payslip in payslips
            if not payslip.pdf_sha256
        ]
        stored = _pdfs_store(rendered)
        ctx.count("rendered", stored)
        ctx.count("already_rendered", len(payslips) - stored)
        ctx.advance(len(payslips))
    ctx.info(JobMessage("payslips.rendered", count=ctx.summary.get("rendered", 0)))


# --- the Kivra link --------------------------------------------------------------------------


def kivra_link_apply_to_employees(*, link: KivraLink, field: str, value: bool, user=None) -> int:
    """After switching "send payslips" / "print handling" on the link, switch the matching
    flag on every employee of the company too (the seed asks the user). Returns the count."""
    from companies.selectors import user_has_company_perm

    flags = {
        "send_payslips": ("kivra_send_payslips", "companies.change_employee_kivra_send"),
        "print_handling": ("kivra_allow_print", "companies.change_employee_kivra_print"),
    }
    employee_field, perm = flags[field]
    if user is not None and not user_has_company_perm(user=user, perm=perm, company=link.company):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("You may not change this flag on employees."))
    from employees.services import employees_bulk_set

    label = str(KivraLink._meta.get_field(field).verbose_name)
    return employees_bulk_set(
        employees=Employee.objects.filter(company=link.company_id),
        values={employee_field: value},
        user=user,
        reason=_("Kivra link: %(flag)s switched for all employees") % {"flag": label},
    )


def kivra_link_problems(*, company: Company) -> list[str]:
    """Why the company cannot send payslips to Kivra now (empty: it can)."""
    problems = []
    license = getattr(company, "license", None)
    if license is None or not license.kivra_payslips:
        problems.append(_("The company's license does not include Kivra payslips."))
    link = KivraLink.objects.filter(company=company).first()
    if link is None:
        problems.append(_("The company has no Kivra link."))
    else:
        if not link.active:
            problems.append(_("The Kivra link is not active."))
        if not link.send_payslips:
            problems.append(_("'Send payslips' is off in the Kivra link."))
    return problems


def kivra_print_handling_text(*, company: Company) -> str:
    """What happens to a payslip Kivra cannot deliver, for the dispatch page."""
    link = KivraLink.objects.filter(company=company).first()
    if link is None:
        return ""
    if link.print_handling:
        return _(
            "Kivra's print add-on is on: Kivra posts the payslips of employees without a Kivra "
            "mailbox who allow print handling. No local print batch."
        )
    return _(
        "No Kivra print add-on: a payslip Kivra can neither deliver nor keep goes into a print "
        "batch (a PDF on the job) for you to post."
    )


def kivra_client_for(*, link: KivraLink) -> KivraClient:
    return KivraClient(
        link.url,
        tenant_key=link.tenant_key,
        client_id=link.client_id,
        client_secret=link.client_secret,
        **client_options("kivra"),
        max_connections=max(16, settings.KIVRA_DISPATCH_CONCURRENCY * 2),
        resend_safe=link.relies_on_duplicate_control,
        outbound=OutboundPolicy(allow_private=private_addresses_allowed(link=link)),
    )


# --- deliveries: the status machine ----------------------------------------------------------


def payslip_delivery_create(
    *, payslip: Payslip, channel: str, body: bytes, retain: bool = False, job: Job | None = None
) -> PayslipDelivery:
    """The READY outbox row with the exact bytes to send; the existing row if there is one."""
    with transaction.atomic():
        delivery, _created = PayslipDelivery.objects.get_or_create(
            payslip=payslip,
            channel=channel,
            defaults={
                "company_id": payslip.company_id,
                "request_body": body,
                "request_sha256": hashlib.sha256(body).hexdigest(),
                "retain": retain,
                "job": job,
            },
        )
    return delivery


def payslip_deliveries_create(
    *, rows: list[tuple[Payslip, bytes, bool]], job: Job | None = None
) -> dict[int, PayslipDelivery]:
    """:func:`payslip_delivery_create` on the Kivra channel for a batch of ``(payslip,
    body, retain)``: one INSERT that leaves alone the rows that exist already (the unique
    key; e.g. another job was first: its row and bytes are the ones used) and one SELECT.
    Returns ``{payslip_id: delivery}`` (``request_body`` deferred)."""
    if not rows:
        return {}
    with transaction.atomic():
        PayslipDelivery.objects.bulk_create(
            [
                PayslipDelivery(
                    company_id=payslip.company_id,
                    payslip=payslip,
                    channel=Channel.KIVRA,
                    request_body=body,
                    request_sha256=hashlib.sha256(body).hexdigest(),
                    retain=retain,
                    job=job,
                )
                for payslip, body, retain in rows
            ],
            ignore_conflicts=True,
        )
        return {
            d.payslip_id: d
            for d in PayslipDelivery.objects.filter(
                payslip_id__in=[payslip.pk for payslip, _body, _retain in rows],
                channel=Channel.KIVRA,
            ).defer("request_body")
        }


def payslip_delivery_rebuild(
    *, delivery: PayslipDelivery, body: bytes, retain: bool
) -> PayslipDelivery | None:
    """New bytes for a delivery Kivra definitely refused (FAILED): back to READY."""
    with transaction.atomic():
        locked = PayslipDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != Status.FAILED:
            return None
        locked.request_body = body
        locked.request_sha256 = hashlib.sha256(body).hexdigest()
        locked.retain = retain
        locked.status = Status.READY
        locked.save(
            update_fields=["request_body", "request_sha256", "retain", "status", "updated_at"]
        )
    return locked


def payslip_delivery_claim(*, delivery_id: int, job: Job) -> bytes | None:
    """READY/SENDING → SENDING for ``job``; the bytes to send, or None if it must not be sent
    (finished, or being sent right now by another live job)."""
    with transaction.atomic():
        delivery = PayslipDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status not in (Status.READY, Status.SENDING):
            return None
        if (
            delivery.status == Status.SENDING
            and delivery.job_id not in (None, job.pk)
            and delivery.updated_at > timezone.now() - STALE_CLAIM
            and Job.objects.filter(pk=delivery.job_id, status=Job.Status.RUNNING).exists()
        ):
            return None
        delivery.status = Status.SENDING
        delivery.attempts += 1
        delivery.job = job
        delivery.save(update_fields=["status", "attempts", "job", "updated_at"])
        return bytes(delivery.request_body)


def payslip_delivery_finish(
    *,
    delivery_id: int,
    status: str,
    objkey: str = "",
    correlation_id: str = "",
    error_code: str = "",
    error_message: str = "",
) -> bool:
    """SENDING/READY → a final status. False if the row had already moved on."""
    with transaction.atomic():
        delivery = PayslipDelivery.objects.select_for_update().get(pk=delivery_id)
        # Kivra: READY → SENDING → final. Print: READY → PRINTED/FAILED (no call to make).
        allowed = Status.SENDING if delivery.channel in SENT_CHANNELS else Status.READY
        if delivery.status != allowed:
            return False
        delivery.status = status
        delivery.kivra_objkey = objkey
        delivery.correlation_id = correlation_id
        delivery.error_code = error_code
        delivery.error_message = error_message
        delivery.finished_at = timezone.now()
        delivery.save(
            update_fields=[
                "status",
                "kivra_objkey",
                "correlation_id",
                "error_code",
                "error_message",
                "finished_at",
                "updated_at",
            ]
        )
    return True


def payslip_delivery_note_unconfirmed(*, delivery_id: int, error: OutsideSystemError) -> None:
    """Kivra never confirmed the send: it stays SENDING so the next run resends its bytes."""
    PayslipDelivery.objects.filter(pk=delivery_id, status=Status.SENDING).update(
        error_code=error.code or "",
        error_message=str(error)[:2000],
        correlation_id=error.correlation_id or "",
        updated_at=timezone.now(),
    )


def payslip_delivery_resolve_unconfirmed(
    *, delivery: PayslipDelivery, user, delivered: bool
) -> PayslipDelivery:
    """An unconfirmed Kivra delivery (sent, no answer, no duplicate control to resend on)
    after someone looked in Kivra: ``delivered`` → SENT; not there → READY, so the next
    dispatch sends the stored bytes once more. Who decided is kept in the error text."""
    from companies.selectors import user_has_company_perm

    if not user_has_company_perm(
        user=user, perm="companies.run_kivra_dispatch", company=delivery.company
    ):
        raise PermissionDenied(_("You may not send payslips to Kivra."))
    with transaction.atomic():
        locked = PayslipDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.channel not in SENT_CHANNELS or locked.status != Status.SENDING:
            raise ValidationError(
                _("Only a Kivra delivery that was not confirmed can be resolved.")
            )
        note = (
            _("Confirmed delivered in Kivra by %(user)s.")
            if delivered
            else _("Not found in Kivra by %(user)s: sent again by the next dispatch.")
        ) % {"user": user}
        locked.status = Status.SENT if delivered else Status.READY
        locked.error_message = note
        locked.finished_at = timezone.now() if delivered else None
        locked.save(update_fields=["status", "error_message", "finished_at", "updated_at"])
    return locked


def payslip_deliveries_claim(*, delivery_ids: list[int], job: Job) -> dict[int, bytes]:
    """:func:`payslip_delivery_claim` for a chunk in one transaction: the rows locked
    together, the claims written with one bulk update. Returns ``{id: bytes to send}`` for
    the rows claimed; the others must not be sent now."""
    if not delivery_ids:
        return {}
    now = timezone.now()
    ids = sorted(set(delivery_ids))
    meta = PayslipDelivery._meta
    quote = connection.ops.quote_name
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("status", "job", "updated_at", "request_body", "attempts")
    }
    pk, table = quote(meta.pk.column), quote(meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    lock = (
        " " + connection.ops.for_update_sql() if connection.features.has_select_for_update else ""
    )
    updated_at = meta.get_field("updated_at")
    # select_for_update and a plain UPDATE, as plain SQL (run once per chunk; the ORM's
    # query compilation was most of its CPU).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column['status']}, {column['job']}, {column['updated_at']}, "  # noqa: S608
                f"{column['request_body']} FROM {table} WHERE {pk} IN ({marks}) "
                f"AND {column['status']} IN (%s, %s) ORDER BY {pk}{lock}",
                [*ids, Status.READY, Status.SENDING],
            )
            rows = [
                (row_pk, status, job_id, _aware(stamp), body)
                for row_pk, status, job_id, stamp, body in cursor.fetchall()
            ]
        others = {
            job_id
            for _pk, status, job_id, stamp, _body in rows
            if status == Status.SENDING
            and job_id not in (None, job.pk)
            and stamp > now - STALE_CLAIM
        }
        live = (
            set(
                Job.objects.filter(pk__in=others, status=Job.Status.RUNNING).values_list(
                    "pk", flat=True
                )
            )
            if others
            else set()
        )
        claimed = [
            (row_pk, body)
            for row_pk, status, job_id, stamp, body in rows
            if not (status == Status.SENDING and job_id in live and stamp > now - STALE_CLAIM)
        ]
        if claimed:
            # Every claimed row gets the same values: one plain UPDATE (under the row lock).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {column['status']} = %s, "  # noqa: S608
                    f"{column['attempts']} = {column['attempts']} + 1, {column['job']} = %s, "
                    f"{column['updated_at']} = %s WHERE {pk} IN "
                    f"({', '.join(['%s'] * len(claimed))})",
                    [
                        Status.SENDING,
                        job.pk,
                        updated_at.get_db_prep_save(now, connection),
                        *(row_pk for row_pk, _body in claimed),
                    ],
                )
    return {row_pk: bytes(body) for row_pk, body in claimed}


def _aware(stamp):
    """A timestamp read by plain SQL as the ORM would return it (SQLite gives strings)."""
    if isinstance(stamp, str):
        stamp = datetime.datetime.fromisoformat(stamp)
    if settings.USE_TZ and timezone.is_naive(stamp):
        stamp = timezone.make_aware(stamp, datetime.UTC)
    return stamp


def payslip_deliveries_finish(*, results: list[dict]) -> set[int]:
    """:func:`payslip_delivery_finish` for a chunk (dicts of its keyword arguments) in one
    transaction, under one row lock, with one bulk update. Returns the ids that moved."""
    if not results:
        return set()
    now = timezone.now()
    by_id = {r["delivery_id"]: r for r in results}
    ids = sorted(by_id)
    meta = PayslipDelivery._meta
    quote = connection.ops.quote_name
    # The row lock as select_for_update takes it (ids in order), written as plain SQL: this
    # runs once per handful of answers, and the ORM's query compilation cost more CPU than
    # the statement. No savepoint: an error propagates and the caller's transaction (or
    # this one) rolls back.
    lock = (
        " " + connection.ops.for_update_sql() if connection.features.has_select_for_update else ""
    )
    sql = "SELECT {pk}, {channel}, {status} FROM {table} WHERE {pk} IN ({ids}) ORDER BY {pk}{lock}".format(  # noqa: S608,E501 - names from _meta, ids as parameters
        pk=quote(meta.pk.column),
        channel=quote(meta.get_field("channel").column),
        status=quote(meta.get_field("status").column),
        table=quote(meta.db_table),
        ids=", ".join(["%s"] * len(ids)),
        lock=lock,
    )
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(sql, ids)
            locked = cursor.fetchall()
        moved = []
        for pk, channel, status in locked:
            allowed = Status.SENDING if channel in SENT_CHANNELS else Status.READY
            if status != allowed:
                continue
            result = by_id[pk]
            moved.append(
                (
                    result["status"],
                    result.get("objkey", ""),
                    result.get("correlation_id", ""),
                    result.get("error_code", ""),
                    result.get("error_message", ""),
                    pk,
                )
            )
        _update_finished(moved, now)
    return {row[-1] for row in moved}


FINISH_FIELDS = (
    "status",
    "kivra_objkey",
    "correlation_id",
    "error_code",
    "error_message",
    "finished_at",
    "updated_at",
)


def _update_finished(rows: list[tuple], now) -> None:
    """Write the finish of ``rows`` (``(status, objkey, correlation_id, error_code,
    error_message, pk)``) with one parametrised ``UPDATE ... WHERE id = %s`` run by
    ``executemany``: what ``bulk_update`` does, without building a ``CASE`` per field
    (which cost more than the round trip for the few rows a finish writes)."""
    if not rows:
        return
    meta = PayslipDelivery._meta
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from _meta
        quote(meta.db_table),
        ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in FINISH_FIELDS),
        quote(meta.pk.column),
    )
    stamp = meta.get_field("finished_at").get_db_prep_save(now, connection)
    params = [(*row[:5], stamp, stamp, row[5]) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# --- the dispatch ----------------------------------------------------------------------------


# Kivra's limit per recipient; the dispatch takes a shared one (Redis) from
# ``integrations.ratelimit.window_limiter``.
RecipientRateLimiter = LocalWindowLimiter


@dataclass
class _Item:
    payslip: Payslip
    delivery: PayslipDelivery | None  # None only while its batch is being planned
    label: str

    @property
    def ssn(self) -> str:
        return self.payslip.employee.personal_identity_number


def _label(payslip: Payslip) -> str:
    employee, run = payslip.employee, payslip.payroll_run
    # no words: the item reads the same in every language
    return f"{employee.employee_number} {employee.display_name} ({run.payment_date}, #{run.pk})"


def _pin_problem(employee: Employee) -> JobMessage | None:
    from employees.validators import validate_personal_identity_number

    pin = employee.personal_identity_number
    if not pin:
        return JobMessage("kivra.no_pin")
    try:
        validate_personal_identity_number(pin)
    except ValidationError:
        return JobMessage("kivra.pin_invalid")
    if len(pin) != 12 or not pin.isdigit():
        return JobMessage("kivra.pin_invalid")
    return None


def _kivra_body(*, payslip: Payslip, link: KivraLink, retain: bool, created) -> bytes:
    """The content's bytes, built once. ``generated_at`` is now: when the content was
    generated (Kivra sorts by it; its duplicate control ignores it)."""
    return KivraClient.content_build(
        ssn=payslip.employee.personal_identity_number,
        subject=payslip_subject(payslip),
        generated_at=timezone.localtime().isoformat(timespec="seconds"),
        salaryslip=payslip_salaryslip(payslip=payslip, link=link, created=payslip.created_at),
        pdf=payslip_render_pdf(payslip=payslip),
        pdf_name=f"lonespecifikation-{payslip.payroll_run.payment_date}.pdf",
        retain=retain,
        retention_time=str(link.retroactive_delivery_days) if retain else None,
    )


def _print_body(payslip: Payslip) -> bytes:
    employee = payslip.employee
    address = {
        "name": employee.display_name,
        "care_of": employee.care_of,
        "street_address": employee.street_address,
        "postal_code": employee.postal_code,
        "city": employee.city,
        "country": employee.country,
        "pdf_sha256": hashlib.sha256(payslip_render_pdf(payslip=payslip)).hexdigest(),
    }
    return json.dumps(address, sort_keys=True).encode()


def kivra_dispatch_plan(*, job: Job, ctx: JobContext) -> list[int]:
    """Job kind ``kivra_dispatch``, first step: the payslips of the selection, in sending
    order. The framework splits them into chunks (``KIVRA_DISPATCH_CHUNK_SIZE``) that any
    worker sends with :func:`kivra_dispatch_chunk`; :func:`kivra_dispatch_finish` prints
    the print batch once at the end.

    ``job.parameters``: ``payment_date`` (ISO date), ``status`` (``final`` default,
    ``preliminary`` or ``any``), ``employees`` (ids; all when empty).
    """
    company = job.company
    params = job.parameters
    problems = kivra_link_problems(company=company)
    if problems:
        raise RuntimeError(" ".join(problems))
    ids = selectors.payslip_ids_for_dispatch(
        company=company,
        payment_date=datetime.date.fromisoformat(params["payment_date"]),
        status=params.get("status", "final"),
        employee_ids=params.get("employees") or None,
    )
    ctx.set_total(len(ids))
    if not ids:
        ctx.warning(JobMessage("payslips.none_selected"))
    return ids


def kivra_dispatch_chunk(*, job: Job, ctx: JobContext, items: list[int]) -> None:  # noqa: C901
    """Send one chunk of a dispatch (payslip ids ``items``), on whichever worker claimed
    it. Run again from the top after a killed worker: finished payslips are counted, not
    sent; claimed ones are resent with their stored bytes. Payslips that go to print are
    handed to the finishing step in ``ctx.output["print"]`` (delivery ids)."""
    company = job.company
    problems = kivra_link_problems(company=company)
    if problems:
        raise RuntimeError(" ".join(problems))
    link = KivraLink.objects.get(company=company)
    ids = list(items)
    print_allowed = link.print_handling
    created = job.created_at

    def sendable(payslips: list[Payslip]) -> list[Payslip]:
        """The payslips still to send; the others are counted and logged."""
        todo = []
        for payslip in payslips:
            label = _label(payslip)
            finished = [d for d in payslip.deliveries.all() if d.is_done]
            if finished:
                if finished[0].job_id == job.pk:  # done by this job before it was interrupted
                    ctx.count(DONE_COUNTERS[finished[0].status])
                else:
                    ctx.info(JobMessage("kivra.already_delivered"), item=label)
                    ctx.count("already_sent")
                ctx.advance()
                continue
            if not payslip.employee.kivra_send_payslips:
                ctx.warning(JobMessage("kivra.employee_not_via_kivra"), item=label)
                ctx.count("skipped")
                ctx.advance()
                continue
            problem = _pin_problem(payslip.employee)
            if problem:
                ctx.error(problem, item=label)
                ctx.count("failed")
                ctx.advance()
                continue
            todo.append(payslip)
        return todo

    client = kivra_client_for(link=link)
    try:
        print_items: list[_Item] = []

        def planned():
            """Kivra items as a pipeline that the senders start on at once: the selection is
            read LOAD_BATCH payslips at a time, each batch's recipients matched in Kivra,
            and its items built PLAN_BATCH at a time while earlier ones are in flight; a
            plan batch's new delivery rows are written with one INSERT."""
            for load_start in range(0, len(ids), LOAD_BATCH):
                todo = sendable(
                    selectors.payslips_for_dispatch(
                        company=company, ids=ids[load_start : load_start + LOAD_BATCH]
                    )
                )
                if not todo:
                    continue
                users = client.usermatch_ssn([p.employee.personal_identity_number for p in todo])
                for start in range(0, len(todo), PLAN_BATCH):
                    new_rows: list[tuple[Payslip, bytes, bool]] = []
                    items = [
                        _plan_or_log(p, new_rows, users) for p in todo[start : start + PLAN_BATCH]
                    ]
                    created_rows = payslip_deliveries_create(rows=new_rows, job=job)
                    for item in items:
                        if item is None:
                            continue
                        if item.delivery is None:
                            item.delivery = created_rows[item.payslip.pk]
                        if item.delivery.channel == Channel.PRINT:
                            print_items.append(item)
                        else:
                            yield item

        def _plan_or_log(payslip, new_rows, users):
            label = _label(payslip)
            deliveries = {d.channel: d for d in payslip.deliveries.all()}
            try:
                return _plan(
                    payslip=payslip,
                    deliveries=deliveries,
                    users=users,
                    link=link,
                    print_allowed=print_allowed,
                    created=created,
                    job=job,
                    label=label,
                    new_rows=new_rows,
                )
            except KivraContentInvalid as exc:
                ctx.error(JobMessage("kivra.content_invalid", error=str(exc)), item=label)
                ctx.count("failed")
                ctx.advance()
                return None
            except KivraUnconfirmed as exc:
                _log_unconfirmed_not_resent(ctx=ctx, label=label, error=str(exc))
                return None
            except KivraNotDeliverable:
                ctx.error(JobMessage("kivra.not_deliverable"), item=label)
                ctx.count("failed")
                ctx.advance()
                return None

        rerouted = _send_all(
            items=planned(),
            client=client,
            job=job,
            ctx=ctx,
            link=link,
            print_allowed=print_allowed,
            created=created,
        )
        print_items += rerouted
    finally:
        client.close()
    if print_items:
        ctx.output["print"] = [item.delivery.pk for item in print_items]


def kivra_dispatch_finish(*, job: Job, ctx: JobContext, outputs: list[dict]) -> None:
    """The dispatch's last step, run once: one print batch with every payslip the chunks
    routed to print."""
    delivery_ids = [pk for output in outputs for pk in output.get("print", [])]
    if not delivery_ids:
        return
    deliveries = {
        d.pk: d
        for d in PayslipDelivery.objects.filter(pk__in=delivery_ids, company=job.company).defer(
            "request_body"
        )
    }
    payslips = {
        p.pk: p
        for p in selectors.payslips_for_dispatch(
            company=job.company, ids=[d.payslip_id for d in deliveries.values()]
        )
    }
    items = [
        _Item(payslips[delivery.payslip_id], delivery, _label(payslips[delivery.payslip_id]))
        for delivery in (deliveries[pk] for pk in delivery_ids if pk in deliveries)
        if delivery.payslip_id in payslips
    ]
    _print_batch(items=items, job=job, ctx=ctx)


def _plan(
    *,
    payslip: Payslip,
    deliveries: dict[str, PayslipDelivery],
    users: set[str],
    link: KivraLink,
    print_allowed: bool,
    created,
    job: Job,
    label: str,
    new_rows: list[tuple[Payslip, bytes, bool]] | None = None,
) -> _Item:
    """The delivery a payslip goes out on: the existing one (same bytes) or a new one.

    With ``new_rows``, a new Kivra delivery is not written here: ``(payslip, body, retain)``
    is added to it and the item's ``delivery`` is None until the caller has written the
    batch (:func:`payslip_deliveries_create`)."""
    if Channel.PRINT in deliveries:
        printed = deliveries[Channel.PRINT]
        if printed.status == Status.FAILED:  # e.g. the address was missing: try again
            printed = payslip_delivery_rebuild(
                delivery=printed, body=_print_body(payslip), retain=False
            ) or PayslipDelivery.objects.get(pk=printed.pk)
        return _Item(payslip, printed, label)
    if Channel.KIVRA_PRINT in deliveries:
        kivra_print = deliveries[Channel.KIVRA_PRINT]
        if kivra_print.status == Status.FAILED:  # refused by Kivra: nothing was posted
            kivra_print = payslip_delivery_rebuild(
                delivery=kivra_print,
                body=_kivra_body(payslip=payslip, link=link, retain=False, created=created),
                retain=False,
            ) or PayslipDelivery.objects.get(pk=kivra_print.pk)
        return _Item(payslip, kivra_print, label)
    existing = deliveries.get(Channel.KIVRA)
    if existing is not None and existing.status == Status.RETAIN_REFUSED:
        # Final for Kivra: never rebuilt or sent to Kivra as retained content again.
        return _print_handling_item(
            payslip=payslip, link=link, job=job, label=label, created=created
        )
    if (
        existing is not None
        and existing.status == Status.SENDING
        and existing.attempts > 0
        and not link.relies_on_duplicate_control
        and not _claimed_by_other_live_job(existing, job)
    ):
        raise KivraUnconfirmed(existing.error_message or existing.error_code)
    if existing is not None and existing.status != Status.FAILED:
        return _Item(payslip, existing, label)  # READY or SENDING: the stored bytes again
    # New, or refused by Kivra (nothing was delivered): decide and build afresh.
    non_user = payslip.employee.personal_identity_number not in users or (
        existing is not None and existing.error_code == "40105"
    )
    if non_user and print_allowed and payslip.employee.kivra_allow_print:
        return _print_handling_item(
            payslip=payslip, link=link, job=job, label=label, created=created
        )
    body = _kivra_body(payslip=payslip, link=link, retain=non_user, created=created)
    if existing is None and new_rows is not None:
        new_rows.append((payslip, body, non_user))
        return _Item(payslip, None, label)
    if existing is None:
        delivery = payslip_delivery_create(
            payslip=payslip, channel=Channel.KIVRA, body=body, retain=non_user, job=job
        )
    else:
        delivery = payslip_delivery_rebuild(delivery=existing, body=body, retain=non_user)
        delivery = delivery or PayslipDelivery.objects.get(pk=existing.pk)
    return _Item(payslip, delivery, label)


def _claimed_by_other_live_job(delivery: PayslipDelivery, job: Job) -> bool:
    return (
        delivery.job_id not in (None, job.pk)
        and delivery.updated_at > timezone.now() - STALE_CLAIM
        and Job.objects.filter(pk=delivery.job_id, status=Job.Status.RUNNING).exists()
    )


class KivraNotDeliverable(Exception):
    """Neither Kivra nor print handling can take the payslip (the message says why)."""


def _print_handling_item(*, payslip: Payslip, link: KivraLink, job: Job, label: str, created):
    """Print handling as the link says: with Kivra's print add-on (``print_handling``) and
    the employee allowing it, the payslip goes to Kivra marked for print (Kivra posts it);
    a link without the add-on puts it into the local print batch for the employer to post.
    With the add-on but not allowed for the employee there is no print route."""
    if link.print_handling and not payslip.employee.kivra_allow_print:
        raise KivraNotDeliverable(str(JobMessage("kivra.not_deliverable")))
    if link.print_handling:
        body = _kivra_body(payslip=payslip, link=link, retain=False, created=created)
        delivery = payslip_delivery_create(
            payslip=payslip, channel=Channel.KIVRA_PRINT, body=body, job=job
        )
    else:
        delivery = payslip_delivery_create(
            payslip=payslip, channel=Channel.PRINT, body=_print_body(payslip), job=job
        )
    return _Item(payslip, delivery, label)


class _Senders:
    """``count`` threads that take ``(item, body)`` from ``work`` and send it to Kivra, each
    on its own as soon as it is free, and put ``(item, result, error)`` on ``answers``. The
    dispatching thread only keeps ``work`` stocked and writes the answers, so a sender never
    waits for it between two requests."""

    def __init__(self, *, client: KivraClient, count: int) -> None:
        self.client = client
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self.outstanding = 0  # put on ``work`` and not answered yet
        self.threads = [
            threading.Thread(target=self._run, name=f"kivra-{n}", daemon=True) for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while (task := self.work.get()) is not None:
            item, body = task
            try:
                for_print = item.delivery.channel == Channel.KIVRA_PRINT
                self.answers.put((item, self.client.content_send(body, for_print=for_print), None))
            except Exception as error:  # the dispatching thread logs or raises it
                self.answers.put((item, None, error))

    def put(self, item: _Item, body: bytes) -> None:
        self.outstanding += 1
        self.work.put((item, body))

    def take_back(self) -> int:
        """Take the bodies no sender has started (claimed, not sent: the next dispatch sends
        their stored bytes). Returns how many."""
        taken = 0
        while True:
            try:
                self.work.get_nowait()
            except queue.Empty:
                break
            taken += 1
        self.outstanding -= taken
        return taken

    def answered(self, *, timeout: float) -> list[tuple]:
        """The answers that have arrived: waits up to ``timeout`` for the first."""
        try:
            answers = [self.answers.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                answers.append(self.answers.get_nowait())
            except queue.Empty:
                break
        self.outstanding -= len(answers)
        return answers

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def stop(self) -> None:
        self.take_back()
        for _thread in self.threads:
            self.work.put(None)
        for thread in self.threads:
            thread.join()


def _send_all(  # noqa: C901
    *,
    items: Iterator[_Item],
    client: KivraClient,
    job: Job,
    ctx: JobContext,
    link: KivraLink,
    print_allowed: bool,
    created,
) -> list[_Item]:
    """Send in parallel: sender threads call Kivra (:class:`_Senders`); this thread plans and
    claims the deliveries a chunk ahead and writes every answer. Returns the items Kivra
    refused with 40105 that go to print instead."""
    concurrency = max(
        1, int(job.parameters.get("concurrency") or 0) or settings.KIVRA_DISPATCH_CONCURRENCY
    )
    # Kivra counts per recipient whichever worker sends: the window is shared (Redis).
    limiter = window_limiter(
        namespace=f"kivra:{link.url}:{link.tenant_key}",
        limit=settings.KIVRA_RECIPIENT_LIMIT,
        window=settings.KIVRA_RECIPIENT_WINDOW,
    )
    source = iter(items)
    exhausted = False
    pending: deque[_Item] = deque()
    deferred: list[tuple[float, int, _Item]] = []
    order = itertools.count()
    to_print: list[_Item] = []
    # Claimed (SENDING) ahead: a chunk is planned and claimed while the senders still have
    # a chunk waiting, so they never run dry while this thread reads the next payslips and
    # matches them in Kivra (10 000-payslip bench: each sender idle 1.5 s with half this,
    # 0.3 s with it). Claimed bodies that are never sent go out with the next dispatch.
    chunk = max(8, concurrency * 4)
    cancelled = False
    senders = _Senders(client=client, count=concurrency)
    try:
        while pending or deferred or senders.outstanding or not exhausted:
            try:
                ctx.check_cancelled()
            except JobCancelled:
                cancelled = True
                exhausted = True
                pending.clear()
                deferred.clear()
                senders.take_back()
            now = time.monotonic()
            while deferred and deferred[0][0] <= now:
                pending.appendleft(heapq.heappop(deferred)[2])
            if senders.outstanding < concurrency + chunk and (pending or not exhausted):
                # Plan a chunk (its new delivery rows in one transaction), claim it (bulk),
                # log the ones another job has, hand the rest to the senders.
                candidates: list[_Item] = []
                with transaction.atomic():
                    while len(candidates) < chunk and (pending or not exhausted):
                        if pending:
                            candidates.append(pending.popleft())
                        else:
                            item = next(source, None)
                            if item is None:
                                exhausted = True
                                break
                            candidates.append(item)
                # One reservation for the chunk (one Redis call when shared).
                batch: list[_Item] = []
                waits = limiter.reserve_many([item.ssn for item in candidates])
                for item, delay in zip(candidates, waits, strict=True):
                    if delay > 0:
                        heapq.heappush(deferred, (now + delay, next(order), item))
                    else:
                        batch.append(item)
                if batch:
                    bodies = payslip_deliveries_claim(
                        delivery_ids=[item.delivery.pk for item in batch], job=job
                    )
                    with transaction.atomic():
                        for item in batch:
                            body = bodies.get(item.delivery.pk)
                            if body is None:
                                ctx.info(JobMessage("kivra.claimed_elsewhere"), item=item.label)
                                ctx.count("already_sent")
                                ctx.advance()
                            else:
                                senders.put(item, body)
                continue  # top up again before waiting for answers
            wait_for = 1.0
            if deferred:
                wait_for = max(0.0, min(deferred[0][0] - time.monotonic(), 1.0))
            if not senders.outstanding:
                time.sleep(wait_for)  # only rate-limited items left: wait for the first
                continue
            answers = senders.answered(timeout=wait_for)
            if not answers and not senders.alive():
                raise RuntimeError(_("The Kivra sender threads stopped with requests unanswered."))
            # Every answer that arrived is written in one transaction: the statuses with one
            # bulk update under the row lock, the log lines with them.
            with transaction.atomic():
                finishes: list[dict] = []
                for item, result, error in answers:
                    rerouted = _record_result(
                        item=item,
                        result=result,
                        error=error,
                        ctx=ctx,
                        link=link,
                        print_allowed=print_allowed,
                        created=created,
                        job=job,
                        finishes=finishes,
                    )
                    if rerouted is not None:
                        if rerouted.delivery.channel == Channel.PRINT:
                            to_print.append(rerouted)
                        else:
                            pending.append(rerouted)
                payslip_deliveries_finish(results=finishes)
    finally:
        senders.stop()
    if cancelled:
        raise JobCancelled
    return to_print


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
    payslip_delivery_finish(
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
            payslip_delivery_finish(delivery_id=delivery_id, **kwargs)
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
    payslip_delivery_finish(
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
            payslip_delivery_finish(
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
            payslip_delivery_finish(delivery_id=item.delivery.pk, status=Status.PRINTED)
        ctx.save_result_file(
            f"kivra-print-batch-{job.pk}.pdf",
            content,
            holds=[FileHolds.PERSONAL_IDENTITY_NUMBERS, FileHolds.SALARIES],
        )
    for item in ready:
        ctx.info(JobMessage("kivra.print_batch"), item=item.label)
        ctx.count("printed")
        ctx.advance()


def kivra_dispatch_start(
    *,
    user,
    company: Company,
    payment_date: datetime.date,
    status: str = "final",
    employee_ids: list[int] | None = None,
) -> Job:
    """Start "Send payslips to Kivra" for a selection (checks permission, license, link)."""
    from integrations.services import job_start

    problems = kivra_link_problems(company=company)
    if problems:
        raise ValidationError(problems)
    parameters = {"payment_date": payment_date.isoformat(), "status": status}
    if employee_ids:
        parameters["employees"] = sorted(employee_ids)
    return job_start(user=user, company=company, kind="kivra_dispatch", parameters=parameters)
