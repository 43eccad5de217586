"""Steps 4 to 6: payroll off as master, HR on as master, and the verification
(for a file-based payroll system, the manual steps and the personnel file)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from employees.models import (
    Employee,
    EmploymentRate,
)
from employees.services import employee_update
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import FileHolds, Job
from paxml.personnel import personnel_queryset

from ..models import PayrollLink, PayrollSyncChange, Switchover
from ..payroll_backend import PaxmlFileBackend, payroll_client_for
from ..payroll_mapping import hr_employee_payload
from ..payroll_sync import (
    employee_in_transfer,
    payroll_deliveries_send,
    payroll_sync_coalesce,
    payroll_sync_enqueue,
)
from .export import count_check
from .states import _client, _file_based, _finish_step, _link

# --- 4. payroll off / 5. HR on ----------------------------------------------------------------


FILE_PAYROLL_OFF_STEPS = (
    gettext_lazy("In the payroll system: stop exporting personal data to HR."),
    gettext_lazy("In the payroll system: keep exporting balances."),
)
FILE_HR_ON_STEPS = (
    gettext_lazy(
        "Import the result file personnel.pax into the payroll system's personnel register."
    ),
    gettext_lazy("From now on personal data is changed in HR only; not in the payroll system."),
)
# The same steps by their message ids (``switchover.manual.*``), for the job's log.
FILE_PAYROLL_OFF_STEP_IDS = (
    "switchover.manual.stop_personal_data",
    "switchover.manual.keep_balances",
)
FILE_HR_ON_STEP_IDS = ("switchover.manual.import_personnel_file", "switchover.manual.hr_only")


def _manual_steps(*, job: Job, ctx: JobContext, step: str, steps, step_ids) -> None:
    """A file-based payroll system has no switches to set: the admin does them by hand and
    confirms (the approval is logged like the test export's)."""
    for step_id in step_ids:
        ctx.warning(JobMessage("switchover.manual_step", step=step_id), item="manual")
    _finish_step(
        job=job,
        step=step,
        outcome="awaiting_approval",
        report={"manual_steps": [str(t) for t in steps]},
        advance=False,
    )


def switchover_payroll_off_run(*, job: Job, ctx: JobContext) -> None:
    if _file_based(job.company):
        with _client(job) as backend:
            counts = count_check(company=job.company, client=backend)
        if counts["payroll"] != counts["hr"]:
            ctx.warning(
                JobMessage("switchover.count_mismatch_file", p=counts["payroll"], h=counts["hr"])
            )
        _manual_steps(
            job=job,
            ctx=ctx,
            step="payroll_off",
            steps=FILE_PAYROLL_OFF_STEPS,
            step_ids=FILE_PAYROLL_OFF_STEP_IDS,
        )
        return
    with _client(job) as client:
        before = client.settings_get()
        with transaction.atomic():
            switchover = Switchover.objects.select_for_update().get(pk=job.parameters["switchover"])
            if not switchover.payroll_settings_before:  # a re-run keeps the first snapshot
                switchover.payroll_settings_before = dict(before.__dict__)
                switchover.save(update_fields=["payroll_settings_before", "updated_at"])
        after = client.settings_set(export_personal_data=False, export_balances=True)
        counts = count_check(company=job.company, client=client)
    ok = not after.export_personal_data and after.export_balances
    if ok:
        ctx.info(JobMessage("switchover.payroll_switched"))
    else:
        ctx.error(JobMessage("switchover.switches_not_taken", s=dict(after.__dict__)))
    if counts["payroll"] != counts["hr"]:
        ctx.warning(JobMessage("switchover.count_mismatch", p=counts["payroll"], h=counts["hr"]))
    _finish_step(
        job=job,
        step="payroll_off",
        outcome="passed" if ok else "failed",
        report={"settings": after.__dict__, "count_check": counts},
    )


def switchover_hr_on_run(*, job: Job, ctx: JobContext) -> None:
    mode = job.parameters.get("transfer_employment_data", PayrollLink.TransferEmploymentData.ALL)
    if mode not in (
        PayrollLink.TransferEmploymentData.ALL,
        PayrollLink.TransferEmploymentData.SELECTION,
    ):
        raise ValidationError(_("Transfer employment data must be 'all' or 'selection'."))
    link = _link(job.company)
    link.master = "hr"
    link.transfer_employment_data = mode
    if mode == PayrollLink.TransferEmploymentData.SELECTION and "selection" in job.parameters:
        link.selection = job.parameters["selection"] or {}
    link._history_user = job.started_by
    link.save()
    ctx.info(JobMessage("switchover.hr_master", m=str(mode)))
    report = {"transfer_employment_data": mode}
    if link.variant == PayrollLink.Variant.PAXML_FILE:
        report["file_employees"] = _personnel_file_write(job=job, ctx=ctx, link=link)
        for step_id in FILE_HR_ON_STEP_IDS:
            ctx.warning(JobMessage("switchover.manual_step", step=step_id), item="manual")
        report["manual_steps"] = [str(t) for t in FILE_HR_ON_STEPS]
    _finish_step(job=job, step="hr_on", outcome="passed", report=report)


def _personnel_file_write(*, job: Job, ctx: JobContext, link: PayrollLink) -> int:
    """The employees in the transfer as one PAXml personnel file for the payroll system to
    import (the job's result file ``personnel.pax``)."""
    company = job.company
    rates: dict[int, list] = {}
    for rate in EmploymentRate.objects.filter(employee__company=company):
        rates.setdefault(rate.employee_id, []).append(rate)
    backend = PaxmlFileBackend()
    employees = personnel_queryset(Employee.objects.filter(company=company)).select_related(
        "template"
    )
    ctx.set_total(employees.count())
    for employee in employees.order_by("employee_number"):
        ctx.check_cancelled()
        if employee_in_transfer(link=link, employee=employee):
            backend.employee_upsert(
                employee_number=employee.employee_number,
                data=hr_employee_payload(employee, rates=rates.get(employee.pk, [])),
                employee=employee,  # the PAXml personnel writer: every Fortnox Lön field
            )
            ctx.count("written")
        else:
            ctx.count("skipped")
        ctx.advance()
    content = backend.render(
        company_name=company.name,
        organisation_number=getattr(company, "organisation_number", "") or "",
    )
    ctx.save_result_file("personnel.pax", content, holds=list(FileHolds))
    ctx.info(JobMessage("switchover.personnel_file", count=len(backend.pending)))
    return len(backend.pending)


# --- 6. verification --------------------------------------------------------------------------


def switchover_verify_run(*, job: Job, ctx: JobContext) -> None:
    """Change one employee's address in HR, see it in payroll, change it back."""
    company = job.company
    link = _link(company)
    if link.variant == PayrollLink.Variant.PAXML_FILE:
        _manual_steps(
            job=job,
            ctx=ctx,
            step="verify",
            steps=(
                _(
                    "In the payroll system: check that the employees imported from "
                    "personnel.pax show HR's data (for example one employee's address)."
                ),
            ),
            step_ids=("switchover.manual.check_import",),
        )
        return
    number = job.parameters.get("employee_number")
    candidates = Employee.objects.filter(company=company).select_related(
        "personnel_category", "employment_form"
    )
    if number:
        candidates = candidates.filter(employee_number=number)
    employee = next(
        (
            e
            for e in candidates.filter(employment_end_date__isnull=True)
            if employee_in_transfer(link=link, employee=e)
        ),
        None,
    )
    if employee is None:
        ctx.error(JobMessage("switchover.no_verify_employee"))
        _finish_step(job=job, step="verify", outcome="failed")
        return
    original = employee.street_address
    temporary = f"{original} (test {job.pk})".strip()[:200]
    ok = True
    with payroll_client_for(link=link) as client:
        for value in (temporary, original):
            employee_update(employee=employee, data={"street_address": value})
            if not PayrollSyncChange.objects.filter(
                employee=employee, delivery__isnull=True
            ).exists():
                payroll_sync_enqueue(employee=employee, fields=["street_address"])
            payroll_sync_coalesce(company=company)
            payroll_deliveries_send(company=company, job=job)
            seen = client.employee_get(employee_number=employee.employee_number)
            seen_value = seen.street_address if seen else None
            if seen_value == value:
                ctx.info(JobMessage("switchover.verify_ok", v=value), item=employee.employee_number)
            else:
                ctx.error(
                    JobMessage("switchover.verify_mismatch", s=seen_value, v=value),
                    item=employee.employee_number,
                )
                ok = False
    _finish_step(
        job=job,
        step="verify",
        outcome="passed" if ok else "failed",
        report={"employee_number": employee.employee_number},
    )
