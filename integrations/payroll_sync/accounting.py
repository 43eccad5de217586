"""Nightly home accounting: the value in force that day goes to payroll (payroll has no
dating), once per employee and day."""

from __future__ import annotations

import datetime as dt
import json

from django.db.models import Q
from django.utils import timezone

from employees.models import Employee
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import Job
from jobs.services import job_create
from projects.models import HomeAccounting

from ..models import PayrollLink, PayrollSyncDelivery
from ..payroll_mapping import payload_bytes
from .selection import employee_in_transfer, payroll_link_for
from .sending import payroll_deliveries_send


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
