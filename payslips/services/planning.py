"""Which delivery a payslip goes out on (the existing one with its bytes, or a new one),
and the request bytes built once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from employees.models import Employee
from employees.validators import validate_personal_identity_number
from integrations.clients.kivra import KivraClient
from jobs.messages import JobMessage
from jobs.models import Job

from ..content import payslip_salaryslip, payslip_subject
from ..models import KivraLink, Payslip, PayslipDelivery
from .deliveries import (
    STALE_CLAIM,
    Channel,
    Status,
    payslip_delivery_create,
    payslip_delivery_rebuild,
)
from .pdfs import payslip_render_pdf


class KivraUnconfirmed(Exception):
    """A payslip sent earlier whose outcome is unknown, on a link without Kivra's duplicate
    control: sending it again could deliver it twice, so it is not sent again."""


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
