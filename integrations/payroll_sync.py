"""The sync when HR is master: every change to a synced employee field reaches payroll.

* :func:`payroll_sync_enqueue` writes an outbox row (:class:`PayrollSyncChange`) in the
  caller's transaction and, after commit, schedules the ``payroll_sync`` job.
* The job (:func:`payroll_sync_run`) coalesces an employee's pending changes into one
  :class:`PayrollSyncDelivery` holding the exact bytes to send, then sends the due
  deliveries. Transient failures are retried later with backoff (by the next job or the
  beat task); refusals are kept as REJECTED with payroll's own words.
* A delivery is claimed with a conditional UPDATE, so two workers never send the same one;
  a worker killed mid-send leaves it SENDING until its claim expires, then it is resent
  with identical bytes (the upsert is idempotent).
* Nightly, :func:`payroll_accounting_send_run` sends the home accounting in force that day
  (payroll has no dating), once per employee and day.
* A file-based payroll system (PAXml only) gets no calls: the same deliveries are written
  as one PAXml personnel file, the job's result file, for the admin to import
  (:func:`_deliveries_write_file`); a written delivery is SENT, so it is written once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.models import Company
from employees.models import Employee, EmploymentRate
from employees.services import employee_change_number
from jobs.context import JobContext
from jobs.messages import JobMessage, register_job_messages
from jobs.models import FileHolds, Job
from jobs.services import job_create
from paxml.personnel import personnel_queryset
from paxml.records import COST_CENTRE_DIM, PROJECT_DIM
from projects.models import HomeAccounting

from .clients.base import OutsideSystemError, TransientError
from .models import PayrollLink, PayrollSyncChange, PayrollSyncDelivery
from .payroll_backend import PaxmlFileBackend, PayrollLinkMissing, payroll_client_for
from .payroll_mapping import SYNCED_FIELDS, hr_employee_payload, payload_bytes

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 600
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 3600
# Payroll's notice codes in our words (the reader's language); payroll's own words follow.
NOTICE_MESSAGES = {
    "CATEGORY_FALLBACK": gettext_lazy(
        "Payroll lacks the personnel category; the employee got STD."
    ),
    "EMPLOYMENT_FORM_CREATED": gettext_lazy(
        "Payroll created the employment form: LAS settings missing."
    ),
}


class _Notice:
    """Payroll's notice on a sent employee: our words for its code, in the reader's
    language, then payroll's own words quoted. A code we do not know is not shown."""

    def __mod__(self, params) -> str:
        explained = NOTICE_MESSAGES.get(params.get("code"))
        theirs = str(params.get("message") or "").strip()
        if explained is None:
            return _("Payroll's notice: “%(message)s”") % {"message": theirs}
        if not theirs:
            return str(explained)
        return _("%(explained)s Payroll's words: “%(message)s”") % {
            "explained": explained,
            "message": theirs,
        }


register_job_messages(
    {
        "payroll_sync.nothing_new": gettext_lazy(
            "Nothing new for the payroll system: no file written."
        ),
        "payroll_sync.no_accounting_unit": gettext_lazy(
            "No cost centre or project in force: a PAXml file cannot clear "
            "payroll's accounting, change it in the payroll system by hand."
        ),
        "payroll_sync.accounting_written": gettext_lazy(
            "Home accounting written to the file: %(units)s"
        ),
        "payroll_sync.personnel_written": gettext_lazy(
            "Written to the personnel file for payroll."
        ),
        "payroll_sync.number_changed": gettext_lazy(
            "Employee number changed from %(old)s to %(new)s: sent under the new one."
        ),
        "payroll_sync.retry": gettext_lazy("Not sent yet, will retry: %(error)s"),
        "payroll_sync.refused": gettext_lazy("Refused by payroll: %(error)s"),
        "payroll_sync.notice": _Notice(),
        "payroll_sync.sent": gettext_lazy("Sent to payroll."),
        "payroll_sync.no_home_accounting": gettext_lazy(
            "Home accountings are not sent for this company."
        ),
    }
)


def payroll_link_for(*, company: Company | int) -> PayrollLink | None:
    company_id = company if isinstance(company, int) else company.pk
    return PayrollLink.objects.filter(company_id=company_id).first()


def employee_in_transfer(*, link: PayrollLink, employee: Employee) -> bool:
    """Whether HR sends this employee to payroll ("transfer employment data")."""
    mode = link.transfer_employment_data
    if mode == PayrollLink.TransferEmploymentData.ALL:
        return True
    if mode != PayrollLink.TransferEmploymentData.SELECTION:
        return False
    selection = link.selection or {}
    forms = selection.get("employment_forms")
    categories = selection.get("personnel_categories")
    if forms and (employee.employment_form is None or employee.employment_form.code not in forms):
        return False
    return not (categories and employee.personnel_category.code not in categories)


def payroll_sync_fields_changed(*, previous: Employee | None, employee: Employee) -> list[str]:
    """The synced fields that differ between two versions of an employee (all on create)."""
    if previous is None:
        return sorted(SYNCED_FIELDS)
    changed = []
    for name in SYNCED_FIELDS:
        if name == "employment_rates":
            continue
        attname = Employee._meta.get_field(name).attname
        if getattr(previous, attname) != getattr(employee, attname):
            changed.append(name)
    return changed


def payroll_sync_enqueue(*, employee: Employee, fields: Iterable[str]) -> PayrollSyncChange | None:
    """Record a change for the payroll sync; the job runs after the transaction commits.

    Nothing is recorded when payroll is master, the employee is outside the transfer
    selection, or no synced field changed.
    """
    fields = sorted(set(fields) & set(SYNCED_FIELDS))
    if not fields:
        return None
    link = payroll_link_for(company=employee.company_id)
    if link is None or not link.hr_is_master:
        return None
    if not employee_in_transfer(link=link, employee=employee):
        return None
    change = PayrollSyncChange.objects.create(
        company_id=employee.company_id, employee=employee, fields=fields
    )
    company_id = employee.company_id
    transaction.on_commit(lambda: payroll_sync_schedule(company_id=company_id))
    return change


def payroll_sync_on_employee_saved(sender, *, employee: Employee, previous, **kwargs) -> None:
    """Receiver of ``employees.events.employee_saved``: record the synced fields that changed."""
    payroll_sync_enqueue(
        employee=employee,
        fields=payroll_sync_fields_changed(previous=previous, employee=employee),
    )


def payroll_sync_on_dated_value_changed(
    sender, *, employee: Employee, field: str, **kwargs
) -> None:
    """Receiver of ``employees.events.employee_dated_value_changed`` (employment rates)."""
    payroll_sync_enqueue(employee=employee, fields=[field])


def payroll_sync_schedule(*, company_id: int) -> Job | None:
    """Start a ``payroll_sync`` job for the company unless one is already waiting."""
    if Job.objects.filter(
        company_id=company_id, kind="payroll_sync", status=Job.Status.QUEUED
    ).exists():
        return None
    return job_create(company=Company.objects.get(pk=company_id), kind="payroll_sync")


def _retry_delay(attempts: int) -> dt.timedelta:
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def payroll_sync_coalesce(*, company: Company) -> int:
    """Turn pending change rows into deliveries: one per employee, built from the
    employee's current data. A delivery not yet attempted absorbs newer changes; one that
    was attempted keeps its bytes and the newer changes get a delivery after it."""
    made = 0
    with transaction.atomic():
        changes = list(
            PayrollSyncChange.objects.select_for_update()
            .filter(company=company, delivery__isnull=True)
            .order_by("pk")
        )
        by_employee: dict[int, list[PayrollSyncChange]] = defaultdict(list)
        for change in changes:
            by_employee[change.employee_id].append(change)
        employees = Employee.objects.select_related(
            "personnel_category", "employment_form", "template", "position"
        ).in_bulk(list(by_employee))
        rates: dict[int, list[EmploymentRate]] = defaultdict(list)
        for rate in EmploymentRate.objects.filter(employee_id__in=list(by_employee)):
            rates[rate.employee_id].append(rate)
        for employee_id, rows in by_employee.items():
            employee = employees.get(employee_id)
            if employee is None:
                continue
            body = payload_bytes(hr_employee_payload(employee, rates=rates[employee_id]))
            delivery = (
                PayrollSyncDelivery.objects.select_for_update()
                .filter(
                    company=company,
                    kind=PayrollSyncDelivery.Kind.EMPLOYEE,
                    employee=employee,
                    status=PayrollSyncDelivery.Status.PENDING,
                    attempts=0,
                )
                .first()
            )
            if delivery is None:
                delivery = PayrollSyncDelivery.objects.create(
                    company=company,
                    employee=employee,
                    employee_number=employee.employee_number,
                    request_body=body,
                )
                made += 1
            else:
                delivery.request_body = body
                delivery.employee_number = employee.employee_number
                delivery.save(update_fields=["request_body", "employee_number"])
            PayrollSyncChange.objects.filter(pk__in=[r.pk for r in rows]).update(delivery=delivery)
    return made


def _due(company: Company, kind: str, now: dt.datetime):
    return PayrollSyncDelivery.objects.filter(
        company=company,
        kind=kind,
        status__in=[
            PayrollSyncDelivery.Status.PENDING,
            PayrollSyncDelivery.Status.FAILED,
            PayrollSyncDelivery.Status.SENDING,
        ],
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


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
                status__in=[
                    PayrollSyncDelivery.Status.PENDING,
                    PayrollSyncDelivery.Status.FAILED,
                    PayrollSyncDelivery.Status.SENDING,
                ],
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


def _resolve_number(delivery: PayrollSyncDelivery, ctx: JobContext | None) -> None:
    """Send under the employee's number of now, not the one of when the row was queued.

    The payload carries no employee number, so a delivery queued (or failed) before a
    number change keeps its exact bytes and only its address moves to the new number;
    sending to the old one would create a duplicate in payroll (the seed: payroll first,
    then HR, so payroll has the new number by the time HR does).
    """
    current = (
        Employee.objects.filter(pk=delivery.employee_id)
        .values_list("employee_number", flat=True)
        .first()
    )
    if current and current != delivery.employee_number:
        if ctx:
            ctx.info(
                JobMessage(
                    "payroll_sync.number_changed", old=delivery.employee_number, new=current
                ),
                item=current,
            )
        PayrollSyncDelivery.objects.filter(pk=delivery.pk).update(employee_number=current)
        delivery.employee_number = current


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


def payroll_sync_retry_due() -> int:
    """Beat task: schedule a sync job for every company with due or unbatched changes."""
    now = timezone.now()
    company_ids = set(
        PayrollSyncChange.objects.filter(delivery__isnull=True).values_list("company_id", flat=True)
    )
    company_ids |= set(
        PayrollSyncDelivery.objects.filter(
            status__in=[
                PayrollSyncDelivery.Status.PENDING,
                PayrollSyncDelivery.Status.FAILED,
                PayrollSyncDelivery.Status.SENDING,
            ]
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("company_id", flat=True)
    )
    scheduled = 0
    for company_id in company_ids:
        if payroll_sync_schedule(company_id=company_id):
            scheduled += 1
    return scheduled


# --- nightly home accounting -------------------------------------------------------------------


def home_accounting_in_force(*, employee_ids: list[int], on: dt.date) -> dict[int, dict]:
    """The home accounting in force on a day per employee: ``{"cost_center", "project"}``."""
    rows = (
        HomeAccounting.objects.filter(employee_id__in=employee_ids, valid_from__lte=on)
        .select_related("cost_center", "project")
        .order_by("employee_id", "-valid_from")
    )
    found: dict[int, dict] = {}
    for row in rows:
        if row.employee_id in found:
            continue
        found[row.employee_id] = {
            "cost_center": row.cost_center.code if row.cost_center_id else "",
            "project": row.project.code if row.project_id else "",
        }
    return found


def payroll_accounting_send_run(*, job: Job, ctx: JobContext) -> None:
    """Job handler ``payroll_accounting_send``: the value in force on ``on`` (default today)
    to payroll, for every employee in the transfer whose value differs from the last one
    sent. One delivery per employee and day: a rerun sends nothing twice."""
    company = job.company
    link = payroll_link_for(company=company)
    if link is None or not link.hr_is_master or not link.send_home_accounting:
        ctx.info(JobMessage("payroll_sync.no_home_accounting"))
        return
    on = dt.date.fromisoformat(job.parameters.get("on") or timezone.localdate().isoformat())
    employees = [
        e
        for e in Employee.objects.filter(company=company)
        .filter(Q(employment_end_date__isnull=True) | Q(employment_end_date__gte=on))
        .select_related("personnel_category", "employment_form")
        if employee_in_transfer(link=link, employee=e)
    ]
    values = home_accounting_in_force(employee_ids=[e.pk for e in employees], on=on)
    last_sent: dict[int, bytes] = {}
    for delivery in PayrollSyncDelivery.objects.filter(
        company=company, kind=PayrollSyncDelivery.Kind.ACCOUNTING, status="sent"
    ).order_by("pk"):
        last_sent[delivery.employee_id] = bytes(delivery.request_body)
    key = on.isoformat()
    for employee in employees:
        value = values.get(employee.pk)
        if value is None:
            continue
        previous = last_sent.get(employee.pk)
        if previous is not None:
            old = json.loads(previous)
            if (old["cost_center"], old["project"]) == (value["cost_center"], value["project"]):
                ctx.count("unchanged")
                continue
        body = payload_bytes({**value, "valid_on": key})
        PayrollSyncDelivery.objects.get_or_create(
            company=company,
            kind=PayrollSyncDelivery.Kind.ACCOUNTING,
            employee=employee,
            key=key,
            defaults={"employee_number": employee.employee_number, "request_body": body},
        )
    payroll_deliveries_send(
        company=company, ctx=ctx, job=job, kind=PayrollSyncDelivery.Kind.ACCOUNTING
    )


def payroll_accounting_nightly() -> list[Job]:
    """Beat task: one ``payroll_accounting_send`` job per company that sends accountings
    (for a file-based link the job writes them as the persons' ``<resenheter>``)."""
    jobs = []
    today = timezone.localdate().isoformat()
    for link in PayrollLink.objects.filter(master="hr", send_home_accounting=True).select_related(
        "company"
    ):
        jobs.append(
            job_create(
                company=link.company, kind="payroll_accounting_send", parameters={"on": today}
            )
        )
    return jobs


# --- employee numbers: payroll first, then HR --------------------------------------------------


def payroll_number_check(*, employee: Employee, new_number: str) -> str | None:
    """Registered with ``employees.services.payroll_number_check_register``: refuse the HR
    change while payroll does not have the new number yet (the seed: payroll first)."""
    link = payroll_link_for(company=employee.company_id)
    if link is None or not link.hr_is_master or link.variant != PayrollLink.Variant.WEB_SERVICE:
        return None
    try:
        with payroll_client_for(link=link) as client:
            found = client.employee_get(employee_number=new_number)
    except (OutsideSystemError, PayrollLinkMissing) as exc:
        return _("The payroll system could not be asked about the new number: %(error)s") % {
            "error": exc
        }
    if found is None:
        return _(
            "Change the number in the payroll system first: it has no employee %(number)s yet."
        ) % {"number": new_number}
    return None


def payroll_employee_change_number(*, employee: Employee, new_number: str, user=None) -> Employee:
    """The seed's order in one call: change the number in payroll, then in HR."""
    link = payroll_link_for(company=employee.company_id)
    if link is not None and link.variant == PayrollLink.Variant.WEB_SERVICE and link.base_url:
        with payroll_client_for(link=link) as client:
            if client.employee_get(employee_number=new_number) is None:
                client.employee_change_number(
                    employee_number=employee.employee_number, new_employee_number=new_number
                )
    return employee_change_number(employee=employee, new_number=new_number, user=user)
