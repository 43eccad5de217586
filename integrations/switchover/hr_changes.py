"""What the exports did to HR (the journal, ``SwitchoverHrChange``) and the abort that
undoes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from employees.history_reasons import history_reason
from employees.models import (
    Employee,
    EmploymentRate,
)
from jobs.context import JobContext
from jobs.messages import JobMessage
from jobs.models import Job

from ..models import PayrollLink, Switchover, SwitchoverEvent, SwitchoverHrChange
from ..payroll_backend import payroll_client_for
from ..payroll_import import Registers
from .states import STEPS, SwitchoverRefused, _check_perm, _link, step_index


def switchover_abort(*, user, switchover: Switchover, reason: str = "") -> Switchover:
    """Abort before HR is master and leave both systems as they were: the HR rows the
    export created are deleted and the ones it changed restored (one log line each, in a
    ``switchover_abort`` job), payroll's switches and the link go back to how they were.

    Refused, with nothing changed, while an undo is impossible (an employee the export
    created already has payslips, time registrations or salary transactions).
    """
    _check_perm(user, switchover.company)
    with transaction.atomic():
        switchover = Switchover.objects.select_for_update().get(pk=switchover.pk)
        if switchover.is_finished:
            raise SwitchoverRefused(_("The switchover is already finished."))
        if step_index(switchover.state) >= STEPS.index("hr_on"):
            raise SwitchoverRefused(_("HR is master already: the switchover cannot be aborted."))
        link = _link(switchover.company)
        changes = list(switchover.hr_changes.select_related("employee").order_by("pk"))
        blockers = _undo_blockers(changes)
        if blockers:
            raise SwitchoverRefused(
                _(
                    "The abort cannot leave HR as it was, so nothing was changed: "
                    "employees created by the export are already in use (%(what)s). "
                    "Remove those first, or carry on with the switchover."
                )
                % {"what": "; ".join(blockers[:20])}
            )
        now = timezone.now()
        job = Job.objects.create(
            company=switchover.company,
            kind="switchover_abort",
            started_by=user,
            parameters={"switchover": switchover.pk, "reason": reason},
            status=Job.Status.RUNNING,
            started_at=now,
        )
        ctx = JobContext(job)
        undone = _undo_hr(switchover=switchover, changes=changes, ctx=ctx)
        restored = {}
        if switchover.payroll_settings_before and link.variant == PayrollLink.Variant.WEB_SERVICE:
            before = switchover.payroll_settings_before
            switches = {k: before[k] for k in ("export_personal_data", "export_balances")}
            with payroll_client_for(link=link) as client:
                restored = client.settings_set(**switches).__dict__
            ctx.info(JobMessage("switchover.switches_back", s=switches))
        if link.variant == PayrollLink.Variant.PAXML_FILE and "payroll_off" in switchover.results:
            ctx.warning(JobMessage("switchover.manual_undo_payroll_off"), item="manual")
        for name, value in (switchover.link_before or {}).items():
            setattr(link, name, value)
        link.save()
        ctx.info(JobMessage("switchover.link_back", l=dict(switchover.link_before or {})))
        ctx.flush(force=True)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.SUCCEEDED, finished_at=timezone.now()
        )
        switchover.state = Switchover.State.ABORTED
        switchover.finished_at = timezone.now()
        switchover.save(update_fields=["state", "finished_at", "updated_at"])
        SwitchoverEvent.objects.create(
            switchover=switchover,
            kind=SwitchoverEvent.Kind.ABORTED,
            user=user,
            reason=reason,
            job=job,
            details={"payroll_settings": restored, "link": switchover.link_before, "hr": undone},
        )
    return switchover


def switchover_abort_run(*, job: Job, ctx: JobContext) -> None:
    """The ``switchover_abort`` kind only names the abort's log; the abort itself runs at
    once from :func:`switchover_abort`, never from the queue."""
    ctx.error(JobMessage("switchover.abort_elsewhere"))


# Rows that are part of an employee and go with it (dated rows and the like); anything
# else that points at an employee the export created (payslips, time registrations,
# salary transactions: all PROTECTed) makes the undo impossible.
def _protected_references(obj) -> list[str]:
    found = []
    for relation in obj._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many or relation.one_to_one) or not relation.auto_created:
            continue
        if relation.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: obj}).count()
        if count:
            found.append(f"{count} {relation.related_model._meta.verbose_name_plural}")
    return found


def _cascaded_rows(obj) -> list[dict]:
    """The rows deleted with ``obj``: ``{"model": "app.Model", "count": n}`` per model."""
    found = []
    for relation in obj._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many or relation.one_to_one) or not relation.auto_created:
            continue
        if relation.on_delete is not models.CASCADE:
            continue
        if relation.related_model._meta.label.startswith("employees.Historical"):
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: obj}).count()
        if count:
            found.append({"model": relation.related_model._meta.label, "count": count})
    return found


def _any_reference(obj) -> bool:
    for relation in obj._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many or relation.one_to_one) or not relation.auto_created:
            continue
        if relation.related_model._meta.label.split(".")[1].startswith("Historical"):
            continue
        if relation.related_model._base_manager.filter(**{relation.field.name: obj}).exists():
            return True
    return False


def _undo_blockers(changes: list[SwitchoverHrChange]) -> list[str]:
    blockers = []
    for change in changes:
        if change.action == SwitchoverHrChange.Action.CREATED and change.employee is not None:
            found = _protected_references(change.employee)
            if found:
                blockers.append(f"{change.employee.employee_number}: {', '.join(found)}")
    return blockers


def _undo_hr(*, switchover: Switchover, changes: list[SwitchoverHrChange], ctx) -> dict:
    """Put HR back as it was before this switchover's exports (see ``SwitchoverHrChange``):
    the changed employees restored, then the created ones deleted, then the register rows
    the exports created deleted unless in use."""
    reason = history_reason("switchover_abort", switchover=switchover.pk)
    counts = {"restored": 0, "deleted": 0, "registers_deleted": 0, "kept": 0}
    ctx.set_total(len(changes))
    steps = (
        (SwitchoverHrChange.Action.CHANGED, _undo_changed),
        (SwitchoverHrChange.Action.CREATED, _undo_created),
        (SwitchoverHrChange.Action.REGISTER, _undo_register),
    )
    for action, undo in steps:
        for change in (c for c in changes if c.action == action):
            counted = undo(change=change, reason=reason, ctx=ctx)
            if counted:
                counts[counted] += 1
            ctx.advance()
    return counts


def _undo_changed(*, change: SwitchoverHrChange, reason: str, ctx) -> str | None:
    """Restore an employee the export changed: its fields and employment rates."""
    employee = change.employee
    if employee is None:
        ctx.warning(JobMessage("switchover.changed_deleted_since"), item=change.employee_number)
        return "kept"
    differing = _restore_fields(employee, change.before.get("fields", {}))
    if differing:
        employee._change_reason = reason
        employee.save()
    rates = _restore_rates(employee, change.before.get("rates", []))
    ctx.info(
        JobMessage("switchover.restored", fields=differing, rates=rates),
        item=employee.employee_number,
    )
    return "restored"


def _restore_fields(employee: Employee, before: dict) -> list[str]:
    """Set the snapshot's fields on the employee (not saved); the names that differed."""
    fields = {f.attname: f for f in Employee._meta.concrete_fields}
    differing = []
    for attname, value in before.items():
        value = fields[attname].to_python(value)
        if getattr(employee, attname) != value:
            differing.append(fields[attname].name)
            setattr(employee, attname, value)
    return differing


def _restore_rates(employee: Employee, before: list[dict]) -> list[str]:
    """Put the employment rates back as in the snapshot; the days changed (ISO dates)."""
    rates_before = {r["valid_from"]: Decimal(r["rate_percent"]) for r in before}
    rates_now = {
        r.valid_from.isoformat(): r for r in EmploymentRate.objects.filter(employee=employee)
    }
    differing = []
    for day, rate in rates_now.items():
        if day not in rates_before:
            rate.delete()
            differing.append(day)
        elif rate.rate_percent != rates_before[day]:
            rate.rate_percent = rates_before[day]
            rate.save()
            differing.append(day)
    for day, percent in rates_before.items():
        if day not in rates_now:
            EmploymentRate.objects.create(
                employee=employee, valid_from=dt.date.fromisoformat(day), rate_percent=percent
            )
            differing.append(day)
    return differing


def _undo_created(*, change: SwitchoverHrChange, reason: str, ctx) -> str | None:
    """Delete an employee the export created, with its own rows."""
    employee = change.employee
    if employee is None:
        ctx.info(JobMessage("switchover.created_already_deleted"), item=change.employee_number)
        return None
    rows = _cascaded_rows(employee)
    number = employee.employee_number
    employee._change_reason = reason
    employee.delete()
    ctx.info(JobMessage("switchover.deleted_created", rows=rows), item=number)
    return "deleted"


def _undo_register(*, change: SwitchoverHrChange, reason: str, ctx) -> str | None:
    """Delete a register row (position, employment form) the export created, unless used."""
    model = apps.get_model(change.register)
    obj = model._base_manager.filter(pk=change.object_id).first()
    if obj is None:
        return None
    if _any_reference(obj):
        ctx.warning(
            JobMessage("switchover.register_in_use", what=change.register, obj=str(obj)),
            item=change.register,
        )
        return "kept"
    obj.delete()
    ctx.info(
        JobMessage("switchover.register_deleted", what=change.register, obj=str(obj)),
        item=change.register,
    )
    return "registers_deleted"


# --- what the export did to HR (for the abort) --------------------------------------------------


def _journal(switchover_id: int):
    """The ``journal`` callback of ``employees_import_page`` for one switchover: the first
    row per employee wins, so a re-run keeps the snapshot of how HR was before."""

    def journal(*, created: list[Employee], changed: dict[int, dict]) -> None:
        # Only the changed employees can have a row already (the created ones are new);
        # asking for this page's ids keeps each page's cost independent of the export's size.
        known = (
            set(
                SwitchoverHrChange.objects.filter(
                    switchover_id=switchover_id, employee_id__in=sorted(changed)
                ).values_list("employee_id", flat=True)
            )
            if changed
            else set()
        )
        _journal_created(switchover_id, [e.pk for e in created])
        numbers = dict(
            Employee.objects.filter(pk__in=[pk for pk in changed if pk not in known]).values_list(
                "pk", "employee_number"
            )
        )
        rows = [
            SwitchoverHrChange(
                switchover_id=switchover_id,
                action=SwitchoverHrChange.Action.CHANGED,
                employee_id=pk,
                employee_number=numbers[pk],
                before=before,
            )
            for pk, before in changed.items()
            if pk in numbers
        ]
        SwitchoverHrChange.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)

    return journal


def _journal_created(switchover_id: int, employee_ids: list[int]) -> None:
    """A ``created`` row per new employee, copied from the employee table in the database
    (``INSERT … SELECT``): the employees are new, so none has a row yet."""
    if not employee_ids:
        return
    meta = SwitchoverHrChange._meta
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in meta.concrete_fields}
    employee_pk = quote(Employee._meta.pk.column)
    number = quote(Employee._meta.get_field("employee_number").column)
    before = meta.get_field("before").get_db_prep_value({}, connection)
    now = meta.get_field("created_at").get_db_prep_value(timezone.now(), connection)
    for start in range(0, len(employee_ids), 1000):
        chunk = employee_ids[start : start + 1000]
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({column['switchover']}, {column['action']}, "  # noqa: S608 - names from _meta, values as parameters
            f"{column['employee']}, {column['employee_number']}, {column['register']}, "
            f"{column['before']}, {column['created_at']}) "
            f"SELECT %s, %s, {employee_pk}, {number}, '', %s, %s "
            f"FROM {quote(Employee._meta.db_table)} "
            f"WHERE {employee_pk} IN ({', '.join(['%s'] * len(chunk))}) ORDER BY {employee_pk}"
        )
        params = [switchover_id, SwitchoverHrChange.Action.CREATED.value, before, now, *chunk]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _journal_registers(switchover_id: int, registers: Registers) -> None:
    SwitchoverHrChange.objects.bulk_create(
        [
            SwitchoverHrChange(
                switchover_id=switchover_id,
                action=SwitchoverHrChange.Action.REGISTER,
                register=label,
                object_id=pk,
            )
            for label, pk in registers.created_objects
        ],
        ignore_conflicts=True,
    )
