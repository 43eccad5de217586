"""A file-based payroll system (PAXml only) gets no calls: the due deliveries are written
as one PAXml personnel file, the job's result file, for the admin to import; a written
delivery is SENT, so it is written once."""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from companies.models import Company
from employees.models import Employee
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import FileHolds, Job
from paxml.personnel import personnel_queryset
from paxml.records import COST_CENTRE_DIM, PROJECT_DIM

from ..models import PayrollSyncDelivery
from ..payroll_backend import PaxmlFileBackend
from .outbox import UNSENT, _resolve_number

FILE_NAMES = {
    PayrollSyncDelivery.Kind.EMPLOYEE: "personnel.pax",
    PayrollSyncDelivery.Kind.ACCOUNTING: "home-accounting.pax",
}


def _accounting_units(payload: dict) -> list[tuple[int, str]]:
    """Home accounting as the person's ``<resenheter>``: dim 1 cost centre, dim 6 project."""
    return [
        (dim, payload[name])
        for dim, name in ((COST_CENTRE_DIM, "cost_center"), (PROJECT_DIM, "project"))
        if payload.get(name)
    ]


def _deliveries_write_file(
    *, company: Company, ctx: JobContext, job: Job | None, kind: str
) -> dict[str, int]:
    """A file-based payroll system: the due deliveries as one PAXml personnel file (the
    job's result file) instead of calls. Employee data as ``<person>`` posts (an element
    left out leaves payroll's value as it is); home accounting as the person's
    ``<resenheter>``. The deliveries are locked, written and marked SENT in one
    transaction, so a re-run (or a second worker) writes nothing twice."""
    counts = {"sent": 0, "rejected": 0}
    with transaction.atomic():
        due = list(
            PayrollSyncDelivery.objects.select_for_update()
            .filter(
                company=company,
                kind=kind,
                status__in=UNSENT,
            )
            .order_by("pk")
        )
        if not due:
            ctx.info(JobMessage("payroll_sync.nothing_new"))
            return counts
        ctx.set_total(ctx.done + len(due))
        # Every delivery carries the employee's whole data: the newest one per employee wins.
        latest: dict[int, PayrollSyncDelivery] = {}
        for delivery in due:
            latest[delivery.employee_id] = delivery
        backend = PaxmlFileBackend()
        people = {}
        if kind == PayrollSyncDelivery.Kind.EMPLOYEE:
            # the PAXml personnel writer: every field Fortnox Lön reads, as of now
            people = {
                e.pk: e
                for e in personnel_queryset(
                    Employee.objects.filter(pk__in=[d.employee_id for d in due])
                )
            }
        written: list[int] = []
        rejected: list[int] = []
        for delivery in due:
            ctx.check_cancelled()
            if latest[delivery.employee_id] is not delivery:
                written.append(delivery.pk)  # superseded by a newer one in the same file
                ctx.advance()
                continue
            _resolve_number(delivery, ctx)
            number = delivery.employee_number
            payload = json.loads(bytes(delivery.request_body))
            if kind == PayrollSyncDelivery.Kind.ACCOUNTING:
                units = _accounting_units(payload)
                if not units:
                    rejected.append(delivery.pk)
                    ctx.count("rejected")
                    ctx.error(JobMessage("payroll_sync.no_accounting_unit"), item=number)
                    ctx.advance()
                    continue
                backend.employee_upsert(employee_number=number, data={"resenheter": units})
                ctx.info(
                    JobMessage(
                        "payroll_sync.accounting_written",
                        units=", ".join(f"dim {d} = {v}" for d, v in units),
                    ),
                    item=number,
                )
            else:
                backend.employee_upsert(
                    employee_number=number,
                    data=payload,
                    employee=people.get(delivery.employee_id),
                )
                ctx.info(JobMessage("payroll_sync.personnel_written"), item=number)
            written.append(delivery.pk)
            ctx.count("sent")
            ctx.advance()
        if backend.pending:
            name = FILE_NAMES[kind]
            ctx.save_result_file(
                name,
                backend.render(
                    company_name=company.name,
                    organisation_number=getattr(company, "organisation_number", "") or "",
                ),
                holds=list(FileHolds),
            )
            ctx.info(JobMessage("payroll_sync.file_written", name=name, count=len(backend.pending)))
        now = timezone.now()
        PayrollSyncDelivery.objects.filter(pk__in=written).update(
            status=PayrollSyncDelivery.Status.SENT,
            attempts=F("attempts") + 1,
            sent_at=now,
            next_attempt_at=None,
            error_message="",
            job=job,
        )
        PayrollSyncDelivery.objects.filter(pk__in=rejected).update(
            status=PayrollSyncDelivery.Status.REJECTED,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            error_message="No cost centre or project in force: not expressible in a PAXml file.",
            job=job,
        )
    counts["sent"] = len(backend.pending)
    counts["rejected"] = len(rejected)
    return counts
