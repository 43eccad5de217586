"""The outbox: pending changes coalesced into deliveries that hold the exact bytes to
send, which deliveries are due, and the employee number a delivery goes to."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Q

from companies.models import Company
from employees.models import Employee, EmploymentRate
from jobs.context import JobContext
from jobs.messages import JobMessage

from ..models import PayrollSyncChange, PayrollSyncDelivery
from ..payroll_mapping import hr_employee_payload, payload_bytes

# The states of a delivery still to send (a SENDING one whose claim expired is sent again).
UNSENT = (
    PayrollSyncDelivery.Status.PENDING,
    PayrollSyncDelivery.Status.FAILED,
    PayrollSyncDelivery.Status.SENDING,
)


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


def payroll_deliveries_due(*, now: dt.datetime):
    """The deliveries to send at ``now``: unsent, and no retry or live claim to wait for."""
    return PayrollSyncDelivery.objects.filter(status__in=UNSENT).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def _due(company: Company, kind: str, now: dt.datetime):
    return payroll_deliveries_due(now=now).filter(company=company, kind=kind)


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
