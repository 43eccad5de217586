"""The master switchover of personal data, payroll → HR, as the seed describes it.

Steps, in the seed's order, each a job (kind ``switchover_<step>``):

1. ``preflight`` — the checklist, pass / warning / fail per item with the offenders listed,
   and a field-level diff per employee of what the sync will change;
2. ``test_export`` — one employee from payroll into HR, side by side, for approval;
3. ``export_all`` — every employee, ended ones included, with the default template (or a
   chosen one and a selection, in rounds), then the count check;
4. ``payroll_off`` — payroll's "export personal data" off, "export balances" left on;
5. ``hr_on`` — HR master, "transfer employment data" all or a selection;
6. ``verify`` — a temporary address change in HR seen in payroll, then reverted.

Nothing advances past a failed check (or the strong warning about hourly/monthly wage
salary codes) without an explicit override, kept with who, when and why. Abort is possible
until step 5 and puts both systems' switches back. Every step can run again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.models import Company
from companies.selectors import user_has_company_perm
from employees.models import (
    Employee,
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    PersonnelCategory,
    Position,
)
from flexbridge.errors import DomainError

from .clients.payroll import PayrollClient, PayrollEmployee
from .messages import JobMessage
from .models import FileHolds, Job, PayrollLink, Switchover, SwitchoverEvent, SwitchoverHrChange
from .payroll_backend import PaxmlFileBackend, PayrollLinkMissing, payroll_client_for
from .payroll_mapping import (
    Registers,
    employees_import_page,
    field_diff,
    hr_employee_payload,
    payroll_view,
)
from .services import JobContext, job_start
from .switchover_messages import PREFLIGHT_LABELS, is_part, part, render

STEPS = ("preflight", "test_export", "export_all", "payroll_off", "hr_on", "verify")
STEP_LABELS = {
    "preflight": gettext_lazy("1. Preflight report"),
    "test_export": gettext_lazy("2. Test export of one employee"),
    "export_all": gettext_lazy("3. Export of all employees and count check"),
    "payroll_off": gettext_lazy("4. Turn payroll off as master"),
    "hr_on": gettext_lazy("5. Turn HR on as master"),
    "verify": gettext_lazy("6. Verification"),
}
PERMISSION = "companies.run_switchover"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASS, WARNING, FAIL = "pass", "warning", "fail"

# Other apps may report active onboarding flows: ``func(*, company) -> list[str]``.
ONBOARDING_FLOW_PROVIDERS: list[Callable[..., list[str]]] = []


class SwitchoverRefused(DomainError):
    """The step may not run now (order, a failed check without override, finished ...)."""

    code = "conflict"
    http_status = 409


# --- state ------------------------------------------------------------------------------------


def switchover_current(*, company: Company) -> Switchover | None:
    return (
        Switchover.objects.filter(company=company).exclude(state__in=Switchover.FINISHED).first()
    ) or Switchover.objects.filter(company=company).first()


def _link(company: Company) -> PayrollLink:
    link = PayrollLink.objects.filter(company=company).first()
    if link is None:
        raise SwitchoverRefused(_("Set up the payroll link first."))
    return link


def _check_perm(user, company: Company) -> None:
    if user is not None and not user_has_company_perm(user=user, perm=PERMISSION, company=company):
        raise PermissionDenied(_("You may not run the switchover in this company."))


def _open_switchover(*, company: Company, user) -> Switchover:
    switchover = (
        Switchover.objects.select_for_update()
        .filter(company=company)
        .exclude(state__in=Switchover.FINISHED)
        .first()
    )
    if switchover is None:
        link = _link(company)
        switchover = Switchover.objects.create(
            company=company,
            started_by=user,
            link_before={
                "master": link.master,
                "transfer_employment_data": link.transfer_employment_data,
                "selection": link.selection,
            },
        )
    return switchover


def step_index(state: str) -> int:
    return STEPS.index(state) if state in STEPS else -1


def step_allowed(*, switchover: Switchover, step: str) -> str | None:
    """Why the step may not start now, or None."""
    if step not in STEPS:
        return _("Unknown step %(step)s.") % {"step": step}
    if switchover.state == Switchover.State.ABORTED:
        return _("The switchover was aborted.")
    if switchover.state == Switchover.State.VERIFY and step != "verify":
        return _("The switchover is done.")
    wanted, reached = STEPS.index(step), step_index(switchover.state)
    if wanted > reached + 1:
        previous = STEPS[wanted - 1]
        outcome = switchover.results.get(previous, {}).get("outcome")
        if outcome == "failed" or outcome == "strong_warning":
            return _("%(step)s failed: fix it and run it again, or override it.") % {
                "step": STEP_LABELS[previous]
            }
        if outcome == "awaiting_approval":
            if previous == "test_export":
                return _("Approve the test export first.")
            return _("Confirm the manual steps of %(step)s first.") % {
                "step": STEP_LABELS[previous]
            }
        return _("Run %(step)s first.") % {"step": STEP_LABELS[previous]}
    if reached >= STEPS.index("hr_on") and wanted < STEPS.index("hr_on"):
        return _("HR is master now: the earlier steps cannot run again.")
    running = switchover.results.get(step, {}).get("job")
    if (
        running
        and Job.objects.filter(
            pk=running, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).exists()
    ):
        return _("This step is already running.")
    return None


def switchover_step_start(
    *, user, company: Company, step: str, parameters: dict | None = None
) -> Job:
    """Start a step as a job (after the checks of order and overrides)."""
    _check_perm(user, company)
    if not getattr(getattr(company, "license", None), "payroll_sync", False):
        raise SwitchoverRefused(_("The payroll web service add-on is not licensed."))
    with transaction.atomic():
        switchover = _open_switchover(company=company, user=user)
        refusal = step_allowed(switchover=switchover, step=step)
        if refusal:
            raise SwitchoverRefused(refusal)
        job = job_start(
            user=user,
            company=company,
            kind=f"switchover_{step}",
            parameters={**(parameters or {}), "switchover": switchover.pk},
        )
        switchover.results[step] = {"job": job.pk, "outcome": "running"}
        switchover.save(update_fields=["results", "updated_at"])
        SwitchoverEvent.objects.create(
            switchover=switchover,
            kind=SwitchoverEvent.Kind.STEP_STARTED,
            step=step,
            job=job,
            user=user,
            details=parameters or {},
        )
    return job


def switchover_override(*, user, switchover: Switchover, step: str, reason: str) -> Switchover:
    """Let the switchover past a failed step: explicit, with a reason, logged."""
    _check_perm(user, switchover.company)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the failed check may be overridden.")})
    with transaction.atomic():
        switchover = Switchover.objects.select_for_update().get(pk=switchover.pk)
        if switchover.is_finished:
            raise SwitchoverRefused(
                _("This switchover is %(state)s: nothing in it can be overridden.")
                % {"state": switchover.get_state_display().lower()}
            )
        result = switchover.results.get(step, {})
        if result.get("outcome") not in ("failed", "strong_warning"):
            raise SwitchoverRefused(_("Only a failed step can be overridden."))
        if STEPS.index(step) != step_index(switchover.state) + 1:
            raise SwitchoverRefused(_("Only the current step can be overridden."))
        result["overridden"] = {
            "by": getattr(user, "username", None),
            "at": timezone.now().isoformat(),
            "reason": reason,
        }
        switchover.results[step] = result
        switchover.state = step
        switchover.save(update_fields=["results", "state", "updated_at"])
        SwitchoverEvent.objects.create(
            switchover=switchover,
            kind=SwitchoverEvent.Kind.OVERRIDE,
            step=step,
            user=user,
            reason=reason,
            details={"failed": result.get("failed_items", [])},
        )
    return switchover


def switchover_approve(*, user, switchover: Switchover, step: str | None = None) -> Switchover:
    """Approve the test export after looking at it side by side, or confirm the manual
    steps of a file-based payroll system (the step awaiting approval, unless named)."""
    _check_perm(user, switchover.company)
    with transaction.atomic():
        switchover = Switchover.objects.select_for_update().get(pk=switchover.pk)
        if step is None:
            step = next(
                (
                    name
                    for name in STEPS
                    if switchover.results.get(name, {}).get("outcome") == "awaiting_approval"
                ),
                "test_export",
            )
        result = switchover.results.get(step, {})
        if result.get("outcome") != "awaiting_approval":
            raise SwitchoverRefused(_("There is nothing to approve."))
        result["outcome"] = "passed"
        result["approved_by"] = getattr(user, "username", None)
        switchover.results[step] = result
        switchover.state = step
        if step == "verify":
            switchover.finished_at = timezone.now()
        switchover.save(update_fields=["results", "state", "updated_at"])
        SwitchoverEvent.objects.create(
            switchover=switchover, kind=SwitchoverEvent.Kind.APPROVED, step=step, user=user
        )
    return switchover


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
            ctx.info(_("Payroll's switches are back: %(s)s.") % {"s": switches})
        if link.variant == PayrollLink.Variant.PAXML_FILE and "payroll_off" in switchover.results:
            ctx.warning(
                _(
                    "Manual step: in the payroll system, undo what you did by hand for step 4 "
                    "(export personal data back on)."
                ),
                item="manual",
            )
        for name, value in (switchover.link_before or {}).items():
            setattr(link, name, value)
        link.save()
        ctx.info(_("The payroll link is back: %(l)s.") % {"l": switchover.link_before})
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
    ctx.error(_("An abort runs from the switchover page, the command or the API."))


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


def _cascaded_rows(obj) -> list[str]:
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
            found.append(f"{count} {relation.related_model._meta.verbose_name_plural}")
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


def _undo_hr(*, switchover: Switchover, changes: list[SwitchoverHrChange], ctx) -> dict:  # noqa: C901
    """Put HR back as it was before this switchover's exports (see ``SwitchoverHrChange``)."""
    from django.apps import apps

    reason = f"switchover {switchover.pk}: abort"
    fields = {f.attname: f for f in Employee._meta.concrete_fields}
    counts = {"restored": 0, "deleted": 0, "registers_deleted": 0, "kept": 0}
    ctx.set_total(len(changes))
    for change in (c for c in changes if c.action == SwitchoverHrChange.Action.CHANGED):
        employee = change.employee
        if employee is None:
            ctx.warning(
                _("Changed by the export, deleted since: nothing to restore."),
                item=change.employee_number,
            )
            counts["kept"] += 1
            ctx.advance()
            continue
        before = change.before.get("fields", {})
        differing = []
        for attname, value in before.items():
            value = fields[attname].to_python(value)
            if getattr(employee, attname) != value:
                differing.append(fields[attname].name)
                setattr(employee, attname, value)
        if differing:
            employee._change_reason = reason
            employee.save()
        rates_before = {
            r["valid_from"]: Decimal(r["rate_percent"]) for r in change.before.get("rates", [])
        }
        rates_now = {
            r.valid_from.isoformat(): r for r in EmploymentRate.objects.filter(employee=employee)
        }
        for day, rate in rates_now.items():
            if day not in rates_before:
                rate.delete()
                differing.append(f"employment rate {day}")
            elif rate.rate_percent != rates_before[day]:
                rate.rate_percent = rates_before[day]
                rate.save()
                differing.append(f"employment rate {day}")
        for day, percent in rates_before.items():
            if day not in rates_now:
                EmploymentRate.objects.create(
                    employee=employee, valid_from=dt.date.fromisoformat(day), rate_percent=percent
                )
                differing.append(f"employment rate {day}")
        ctx.info(
            _("Restored as it was before the export: %(fields)s.")
            % {"fields": ", ".join(differing) or _("nothing had changed")},
            item=employee.employee_number,
        )
        counts["restored"] += 1
        ctx.advance()
    for change in (c for c in changes if c.action == SwitchoverHrChange.Action.CREATED):
        employee = change.employee
        if employee is None:
            ctx.info(_("Created by the export, already deleted."), item=change.employee_number)
            ctx.advance()
            continue
        rows = _cascaded_rows(employee)
        number = employee.employee_number
        employee._change_reason = reason
        employee.delete()
        ctx.info(
            _("Deleted (created by the export)%(rows)s.")
            % {"rows": _(", with %(rows)s") % {"rows": ", ".join(rows)} if rows else ""},
            item=number,
        )
        counts["deleted"] += 1
        ctx.advance()
    for change in (c for c in changes if c.action == SwitchoverHrChange.Action.REGISTER):
        model = apps.get_model(change.register)
        obj = model._base_manager.filter(pk=change.object_id).first()
        if obj is not None:
            if _any_reference(obj):
                ctx.warning(
                    _("%(what)s %(obj)s was created by the export and is in use now: kept.")
                    % {"what": model._meta.verbose_name, "obj": obj},
                    item=change.register,
                )
                counts["kept"] += 1
            else:
                obj.delete()
                ctx.info(
                    _("%(what)s %(obj)s deleted (created by the export).")
                    % {"what": model._meta.verbose_name, "obj": obj},
                    item=change.register,
                )
                counts["registers_deleted"] += 1
        ctx.advance()
    return counts


def _finish_step(
    *, job: Job, step: str, outcome: str, report: dict | None = None, advance: bool = True
) -> Switchover:
    """Record a step's outcome; a passed (or warned) step moves the state to it."""
    with transaction.atomic():
        switchover = Switchover.objects.select_for_update().get(pk=job.parameters["switchover"])
        result = {"job": job.pk, "outcome": outcome, "at": timezone.now().isoformat()}
        result.update(report or {})
        switchover.results[step] = result
        index = STEPS.index(step)
        if outcome in ("passed", "warning") and advance:
            switchover.state = step
            if step == "verify":
                switchover.finished_at = timezone.now()
        elif step_index(switchover.state) >= index:
            # A re-run that no longer passes takes the switchover back before this step.
            switchover.state = STEPS[index - 1] if index else Switchover.State.NEW
        switchover.save()
        SwitchoverEvent.objects.create(
            switchover=switchover,
            kind=SwitchoverEvent.Kind.STEP_FINISHED,
            step=step,
            job=job,
            details={"outcome": outcome},
        )
    return switchover


def _file_based(company: Company) -> bool:
    return _link(company).variant == PayrollLink.Variant.PAXML_FILE


def _client(job: Job) -> PayrollClient | PaxmlFileBackend:
    """The payroll system behind the one interface: the web service, or for a file-based
    payroll system the personnel PAXml file uploaded to the switchover."""
    link = _link(job.company)
    if link.variant != PayrollLink.Variant.PAXML_FILE:
        return payroll_client_for(link=link)
    switchover = Switchover.objects.get(pk=job.parameters["switchover"])
    if not switchover.personnel_file:
        raise SwitchoverRefused(
            _("Upload the personnel register exported from the payroll system (PAXml) first.")
        )
    with switchover.personnel_file.open("rb") as handle:
        return PaxmlFileBackend(content=handle.read())


def switchover_personnel_file_upload(
    *, user, company: Company, content: bytes, name: str = "personnel.pax"
) -> Switchover:
    """Keep the personnel PAXml file a file-based payroll system exported; the preflight
    and the exports read it. Refused when it cannot be read or holds no employees."""
    from django.core.files.base import ContentFile

    _check_perm(user, company)
    if _link(company).variant != PayrollLink.Variant.PAXML_FILE:
        raise SwitchoverRefused(_("This payroll link uses the web service, not files."))
    try:
        people = PaxmlFileBackend(content=content).employees_page(page=1, page_size=1)
    except PayrollLinkMissing as exc:
        raise ValidationError({"personnel_file": str(exc)}) from exc
    if not people.total:
        raise ValidationError({"personnel_file": _("The file holds no employees (<personal>).")})
    with transaction.atomic():
        switchover = _open_switchover(company=company, user=user)
        if step_index(switchover.state) >= STEPS.index("hr_on"):
            raise SwitchoverRefused(_("HR is master now: the earlier steps cannot run again."))
        switchover.personnel_file.save(name or "personnel.pax", ContentFile(content), save=False)
        switchover.save(update_fields=["personnel_file", "updated_at"])
    return switchover


# --- 1. preflight -----------------------------------------------------------------------------


def _item(
    key: str, status: str, parts: list[dict], offenders=None, strong=False, sep: str = " "
) -> dict:
    """A checklist item. The words are kept twice: as message ids with parameters
    (``parts``, ``offender_parts``: rendered in the reader's language) and as text in the
    language of whoever ran the preflight (``label``, ``message``, ``offenders``: for the
    preflight.json file and older readers)."""
    offenders = list(offenders or [])
    item = {
        "key": key,
        "label": str(PREFLIGHT_LABELS[key]),
        "status": status,
        "message": sep.join(render(p) for p in parts),
        "parts": parts,
        "sep": sep,
        "offenders": [render(o) for o in offenders[:200]],
        "offender_count": len(offenders),
        "strong": strong,
    }
    if any(is_part(o) for o in offenders):
        item["offender_parts"] = offenders[:200]
    return item


def _not_checkable(key: str, reason: dict) -> dict:
    """A check a PAXml personnel file cannot answer: yellow, with the reason."""
    item = _item(key, WARNING, [part("preflight.not_checkable", reason=reason)])
    item["not_checkable"] = True
    return item


def _file_wage_item(backend) -> dict:
    """Hourly/monthly wage from a personnel file: its ``timlon``/``manlon`` elements."""
    if backend.wages:
        offenders = [f"{n} ({', '.join(tags)})" for n, tags in sorted(backend.wages.items())]
        return _item(
            "salary_codes",
            WARNING,
            [part("preflight.wage.file_not_recommended")],
            offenders,
            strong=True,
        )
    return _not_checkable("salary_codes", part("preflight.wage.file_reason"))


def _payroll_employees(
    client: PayrollClient, ctx: JobContext | None = None
) -> list[PayrollEmployee]:
    people: list[PayrollEmployee] = []
    for page in client.employees_iter(page_size=1000, include_ended=True):
        if ctx:
            ctx.check_cancelled()
        people.extend(page.items)
    return people


@dataclass
class Preflight:
    """What every preflight check reads: the company and its link, the payroll system (a
    client, or a personnel file's backend) with its settings and employees, and HR's
    employees. Read once, before the first check."""

    company: Company
    link: PayrollLink
    client: PayrollClient
    file_based: bool
    settings: Any
    people: list[PayrollEmployee]
    hr_employees: dict[str, Employee]
    _diff: list[dict] | None = None

    @classmethod
    def load(
        cls, *, company: Company, client: PayrollClient, ctx: JobContext | None = None
    ) -> Preflight:
        link = _link(company)
        file_based = getattr(client, "file_based", False)
        settings = None if file_based else client.settings_get()
        people = _payroll_employees(client, ctx)
        hr_employees = {
            e.employee_number: e
            for e in Employee.objects.filter(company=company).select_related(
                "personnel_category", "employment_form", "template", "position"
            )
        }
        return cls(company, link, client, file_based, settings, people, hr_employees)

    @property
    def diff(self) -> list[dict]:
        """The field-level diff: what the sync would change in payroll, per employee."""
        if self._diff is None:
            self._diff = _preflight_diff(self)
        return self._diff


def _preflight_diff(pf: Preflight) -> list[dict]:
    rates: dict[int, list] = {}
    for rate in EmploymentRate.objects.filter(employee__company=pf.company):
        rates.setdefault(rate.employee_id, []).append(rate)
    diff = []
    for person in pf.people:
        employee = pf.hr_employees.get(person.employee_number)
        if employee is None:
            diff.append(
                {
                    "employee_number": person.employee_number,
                    "change": "only_in_payroll",
                    "fields": [],
                }
            )
            continue
        changes = field_diff(
            hr=hr_employee_payload(employee, rates=rates.get(employee.pk, [])),
            payroll=payroll_view(person),
        )
        if changes:
            diff.append(
                {"employee_number": person.employee_number, "change": "differs", "fields": changes}
            )
    payroll_numbers = {p.employee_number for p in pf.people}
    for number in sorted(set(pf.hr_employees) - payroll_numbers):
        diff.append({"employee_number": number, "change": "only_in_hr", "fields": []})
    return diff


# --- the checks: one per item of the seed's checklist, in the report's order -----------------


def check_salary_codes(pf: Preflight) -> dict:
    """The seed's "Observera!": salary codes for hourly or monthly wage are removed when the
    flow turns, so switching is not recommended while they are in use."""
    if pf.file_based:
        return _file_wage_item(pf.client)
    wage_codes = [
        f"{c['code']} {c['name']}"
        for c in pf.client.salary_codes_list()
        if c.get("kind") in ("hourly_wage", "monthly_wage") and c.get("in_use")
    ]
    return _item(
        "salary_codes",
        WARNING if wage_codes else PASS,
        [part("preflight.wage.not_recommended" if wage_codes else "preflight.wage.none")],
        wage_codes,
        strong=bool(wage_codes),
    )


def check_personnel_categories(pf: Preflight) -> dict:
    """The personnel category registers match (by code)."""
    hr_categories = set(
        PersonnelCategory.objects.filter(company=pf.company).values_list("code", flat=True)
    )
    payroll_categories = (
        hr_categories
        if pf.file_based
        else {c["code"] for c in pf.client.personnel_categories_list()}
    )
    missing_in_payroll = sorted(hr_categories - payroll_categories)
    missing_in_hr = sorted({p.personnel_category for p in pf.people} - hr_categories)
    parts = []
    if missing_in_hr:
        parts.append(part("preflight.missing_in_hr", codes=", ".join(missing_in_hr)))
    if missing_in_payroll:
        parts.append(
            part("preflight.categories.missing_in_payroll", codes=", ".join(missing_in_payroll))
        )
    if pf.file_based:
        parts.append(part("preflight.not_in_file_register"))
    return _item(
        "personnel_categories",
        FAIL if missing_in_hr else WARNING if missing_in_payroll else PASS,
        parts or [part("preflight.registers_match")],
        missing_in_hr + missing_in_payroll,
        sep="; ",
    )


def check_employment_forms(pf: Preflight) -> dict:
    """The employment form registers match, and payroll's forms have LAS settings."""
    hr_forms = set(EmploymentForm.objects.filter(company=pf.company).values_list("code", flat=True))
    payroll_forms = (
        [{"code": c, "las_settings": True} for c in hr_forms]
        if pf.file_based
        else pf.client.employment_forms_list()
    )
    forms_missing_payroll = sorted(hr_forms - {f["code"] for f in payroll_forms})
    forms_missing_hr = sorted(
        {p.employment_form for p in pf.people if p.employment_form} - hr_forms
    )
    without_las = sorted(f["code"] for f in payroll_forms if not f.get("las_settings"))
    problems = []
    if forms_missing_hr:
        problems.append(part("preflight.missing_in_hr", codes=", ".join(forms_missing_hr)))
    if forms_missing_payroll:
        problems.append(
            part("preflight.forms.missing_in_payroll", codes=", ".join(forms_missing_payroll))
        )
    if without_las:
        problems.append(part("preflight.forms.without_las", codes=", ".join(without_las)))
    if pf.file_based:
        problems.append(part("preflight.not_in_file_register"))
    return _item(
        "employment_forms",
        FAIL if forms_missing_hr else WARNING if forms_missing_payroll or without_las else PASS,
        problems or [part("preflight.registers_match")],
        forms_missing_hr + forms_missing_payroll + without_las,
    )


def check_emails(pf: Preflight) -> dict:
    """E-mail addresses are in payroll and well-formed (an address only in HR is overwritten
    by the last export; a malformed one fails it)."""
    malformed = [
        f"{p.employee_number} ({p.email})"
        for p in pf.people
        if p.email and not EMAIL_RE.match(p.email)
    ]
    missing_email = [p.employee_number for p in pf.people if not p.email]
    only_in_hr = [
        n for n in missing_email if n in pf.hr_employees and pf.hr_employees[n].work_email
    ]
    email_status = FAIL if malformed or only_in_hr else WARNING if missing_email else PASS
    parts = []
    if malformed:
        parts.append(part("preflight.emails.malformed", n=len(malformed)))
    if only_in_hr:
        parts.append(part("preflight.emails.only_in_hr", n=len(only_in_hr)))
    if missing_email and not only_in_hr:
        parts.append(part("preflight.emails.missing", n=len(missing_email)))
    return _item(
        "emails",
        email_status,
        parts or [part("preflight.emails.ok")],
        malformed + missing_email,
    )


def check_position(pf: Preflight) -> dict:
    """The position is present on both sides."""
    hr_positions = {
        t.casefold()
        for t in Position.objects.filter(company=pf.company).values_list("title", flat=True)
    }
    no_position = [p.employee_number for p in pf.people if not p.position]
    unknown_positions = sorted(
        {p.position for p in pf.people if p.position and p.position.casefold() not in hr_positions}
    )
    parts = []
    if no_position:
        parts.append(part("preflight.position.none", n=len(no_position)))
    if unknown_positions:
        parts.append(part("preflight.position.unknown", p=", ".join(unknown_positions)))
    return _item(
        "position",
        WARNING if no_position or unknown_positions else PASS,
        parts or [part("preflight.position.ok")],
        no_position + unknown_positions,
    )


def check_bank_accounts(pf: Preflight) -> dict:
    """Clearing and bank account numbers are present (exported from payroll into HR)."""
    no_bank = [
        p.employee_number for p in pf.people if not (p.clearing_number and p.bank_account_number)
    ]
    return _item(
        "bank_accounts",
        WARNING if no_bank else PASS,
        [part("preflight.bank.missing", n=len(no_bank)) if no_bank else part("preflight.bank.ok")],
        no_bank,
    )


def _name_order(code: str) -> dict:
    return part("preflight.name_order_label", code=code)


def check_name_order(pf: Preflight) -> dict:
    """The first/last name setting is set, and the same in payroll and HR."""
    if pf.file_based:
        if pf.company.name_order == Company.NameOrder.UNDEFINED:
            return _item("name_order", FAIL, [part("preflight.name_order.hr_undefined")])
        return _not_checkable("name_order", part("preflight.name_order.file_reason"))
    settings, company = pf.settings, pf.company
    problems = []
    if settings.name_order == "undefined":
        problems.append(part("preflight.name_order.payroll_undefined"))
    if company.name_order == Company.NameOrder.UNDEFINED:
        problems.append(part("preflight.name_order.hr_undefined"))
    elif settings.name_order not in ("undefined", company.name_order):
        problems.append(
            part(
                "preflight.name_order.differs",
                p=_name_order(settings.name_order),
                h=_name_order(company.name_order),
            )
        )
    return _item(
        "name_order",
        FAIL if problems else PASS,
        problems or [part("preflight.name_order.same", order=_name_order(settings.name_order))],
    )


def check_templates(pf: Preflight) -> dict:
    """Payroll's person templates have the same code and name as HR's employment templates."""
    if pf.file_based:
        return _not_checkable("templates", part("preflight.templates.file_reason"))
    hr_templates = {t.code: t.name for t in EmploymentTemplate.objects.filter(company=pf.company)}
    payroll_templates = {t["code"]: t["name"] for t in pf.client.person_templates_list()}
    template_mismatch = sorted(
        (
            part(
                "preflight.templates.differs",
                code=code,
                hr=name,
                payroll=payroll_templates[code],
            )
            for code, name in hr_templates.items()
            if code in payroll_templates and payroll_templates[code].casefold() != name.casefold()
        ),
        key=render,
    )
    template_missing = sorted(
        [
            part("preflight.templates.hr_only", code=c)
            for c in hr_templates
            if c not in payroll_templates
        ]
        + [
            part("preflight.templates.payroll_only", code=c)
            for c in payroll_templates
            if c not in hr_templates
        ],
        key=render,
    )
    return _item(
        "templates",
        FAIL if template_mismatch else WARNING if template_missing else PASS,
        [
            part("preflight.templates.summary", n=len(template_mismatch), m=len(template_missing))
            if template_mismatch or template_missing
            else part("preflight.templates.ok")
        ],
        template_mismatch + template_missing,
    )


def check_employment_rates(pf: Preflight) -> dict:
    """Every employment rate has a start date (payroll needs it), on both sides."""
    rates_without_start = [
        p.employee_number
        for p in pf.people
        if any(not r.get("start_date") for r in p.employment_rates)
    ]
    hr_without_start = list(
        EmploymentRate.objects.filter(
            employee__company=pf.company, valid_from__isnull=True
        ).values_list("employee__employee_number", flat=True)
    )
    missing = rates_without_start + hr_without_start
    return _item(
        "employment_rates",
        FAIL if missing else PASS,
        [
            part("preflight.rates.missing", n=len(missing))
            if missing
            else part("preflight.rates.ok")
        ],
        missing,
    )


def check_onboarding_flows(pf: Preflight) -> dict:
    """Onboarding flows are paused while data is exported from payroll."""
    flows = [
        name for provider in ONBOARDING_FLOW_PROVIDERS for name in provider(company=pf.company)
    ]
    return _item(
        "onboarding_flows",
        FAIL if flows else PASS,
        [part("preflight.onboarding.active" if flows else "preflight.onboarding.none")],
        flows,
    )


def check_web_service(pf: Preflight) -> dict:
    """'Use HR web service' is on in payroll and the integration user exists and is active."""
    if pf.file_based:
        return _not_checkable("web_service", part("preflight.web.file_reason"))
    settings = pf.settings
    users = {u["username"]: u for u in pf.client.users_list()}
    wanted_user = pf.link.integration_username or settings.integration_username
    problems = []
    if not settings.use_hr_web_service:
        problems.append(part("preflight.web.off"))
    if wanted_user not in users:
        problems.append(part("preflight.web.no_user", u=wanted_user))
    elif not users[wanted_user].get("active"):
        problems.append(part("preflight.web.inactive", u=wanted_user))
    return _item(
        "web_service",
        FAIL if problems else PASS,
        problems or [part("preflight.web.ok", u=wanted_user)],
    )


def check_accountings(pf: Preflight) -> dict:
    """Which accountings HR sends, and the accounting distributions that would overwrite."""
    send = pf.link.send_home_accounting
    if pf.file_based and send:
        return _not_checkable("accountings", part("preflight.accountings.file_reason"))
    split = [p.employee_number for p in pf.people if len(p.home_accounting) > 1]
    return _item(
        "accountings",
        WARNING if send and split else PASS,
        [
            part("preflight.accountings.overwrite", n=len(split))
            if send and split
            else part(
                "preflight.accountings.sent",
                on=part("preflight.yes" if send else "preflight.no"),
            )
        ],
        split if send else [],
    )


def check_field_diff(pf: Preflight) -> dict:
    """The fields the sync will change (the seed: go through the fields it may affect)."""
    diff = pf.diff
    differing = sum(1 for d in diff if d["change"] == "differs")
    return _item(
        "field_diff",
        WARNING if differing else PASS,
        [
            part(
                "preflight.diff",
                d=differing,
                p=sum(1 for d in diff if d["change"] == "only_in_payroll"),
                h=sum(1 for d in diff if d["change"] == "only_in_hr"),
            )
        ],
        [d["employee_number"] for d in diff if d["change"] == "differs"],
    )


def check_termination_reason(pf: Preflight) -> dict:
    """The reminder to enter the termination reason in payroll by hand."""
    return _item("termination_reason", PASS, [part("preflight.termination")])


# The preflight's checklist, in the order the report shows it (the seed's "Observera!" first).
PREFLIGHT_CHECKS: list[Callable[[Preflight], dict]] = [
    check_salary_codes,
    check_personnel_categories,
    check_employment_forms,
    check_emails,
    check_position,
    check_bank_accounts,
    check_name_order,
    check_templates,
    check_employment_rates,
    check_onboarding_flows,
    check_web_service,
    check_accountings,
    check_field_diff,
    check_termination_reason,
]


def preflight_report(
    *, company: Company, client: PayrollClient, ctx: JobContext | None = None
) -> dict:
    """The checklist (one item per check in :data:`PREFLIGHT_CHECKS`) and the field-level
    diff, as JSON-able data."""
    pf = Preflight.load(company=company, client=client, ctx=ctx)
    return {
        "items": [check(pf) for check in PREFLIGHT_CHECKS],
        "diff": pf.diff,
        "payroll_total": len(pf.people),
        "hr_total": len(pf.hr_employees),
    }


def report_outcome(items: list[dict]) -> str:
    if any(i["status"] == FAIL for i in items):
        return "failed"
    if any(i["strong"] for i in items):
        return "strong_warning"
    if any(i["status"] == WARNING for i in items):
        return "warning"
    return "passed"


def switchover_preflight_run(*, job: Job, ctx: JobContext) -> None:
    with _client(job) as client:
        report = preflight_report(company=job.company, client=client, ctx=ctx)
    ctx.set_total(len(report["items"]))
    for item in report["items"]:
        message = JobMessage(
            "switchover.preflight_item",
            key=item["key"],
            label=item["label"],
            message=item["message"],
            parts=item["parts"],
            sep=item["sep"],
            offenders=item["offenders"][:50],
            **({"offender_parts": item["offender_parts"][:50]} if "offender_parts" in item else {}),
        )
        if item["status"] == FAIL:
            ctx.error(message, item=item["key"])
        elif item["status"] == WARNING:
            ctx.warning(message, item=item["key"])
        else:
            ctx.info(message, item=item["key"])
        ctx.count(item["status"])
        ctx.advance()
    for entry in report["diff"][:500]:
        if entry["fields"]:
            ctx.info(
                "; ".join(f"{f['field']}: {f['hr']!r} → {f['payroll']!r}" for f in entry["fields"]),
                item=entry["employee_number"],
            )
    ctx.save_result_file(
        "preflight.json",
        json.dumps(report, indent=1, default=str).encode(),
        holds=list(FileHolds),
    )
    outcome = report_outcome(report["items"])
    _finish_step(
        job=job,
        step="preflight",
        outcome=outcome,
        report={
            "items": report["items"],
            "failed_items": [
                i["key"] for i in report["items"] if i["status"] == FAIL or i["strong"]
            ],
            "diff_count": len(report["diff"]),
        },
    )
    # A failed check is the report's answer, not a failed job: the job itself succeeded
    # unless it logged errors, which it did for each failed item.


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


# --- 2. test export ---------------------------------------------------------------------------


def switchover_test_export_run(*, job: Job, ctx: JobContext) -> None:
    company = job.company
    with _client(job) as client:
        number = job.parameters.get("employee_number")
        if not number:
            first = client.employees_page(page=1, page_size=1, include_ended=False).items
            if not first:
                raise SwitchoverRefused(_("The payroll system has no employees."))
            number = first[0].employee_number
        record = client.employee_get(employee_number=number)
    if record is None:
        ctx.error(_("The payroll system has no employee %(n)s.") % {"n": number}, item=number)
        _finish_step(job=job, step="test_export", outcome="failed")
        return
    ctx.set_total(1)
    registers = Registers.load(company)
    outcome = employees_import_page(
        company=company,
        records=[record],
        registers=registers,
        template=_template(company, job.parameters.get("template")),
        change_reason=f"switchover {job.parameters['switchover']}: test export",
        user=job.started_by,
        journal=_journal(job.parameters["switchover"]),
    )
    _journal_registers(job.parameters["switchover"], registers)
    for warning in outcome.warnings:
        ctx.warning(warning[1], item=warning[0])
    if outcome.failed:
        for failed in outcome.failed:
            ctx.error(failed[1], item=failed[0])
        _finish_step(
            job=job, step="test_export", outcome="failed", report={"employee_number": number}
        )
        return
    employee = Employee.objects.select_related(
        "personnel_category", "employment_form", "template", "position"
    ).get(company=company, employee_number=number)
    hr = hr_employee_payload(employee)
    payroll = payroll_view(record)
    side_by_side = [
        {
            "field": name,
            "payroll": payroll.get(name),
            "hr": hr.get(name),
            "same": (payroll.get(name) or None) == (hr.get(name) or None),
        }
        for name in hr
    ]
    for row in side_by_side:
        if row["field"] == "personal_identity_number":
            from flexbridge.masking import mask_personal_identity_number

            row["payroll"] = mask_personal_identity_number(row["payroll"] or "")
            row["hr"] = mask_personal_identity_number(row["hr"] or "")
    ctx.info(_("Imported; waiting for approval."), item=number)
    ctx.advance()
    _finish_step(
        job=job,
        step="test_export",
        outcome="awaiting_approval",
        report={"employee_number": number, "side_by_side": side_by_side},
        advance=False,
    )


def _template(company: Company, code: str | None) -> EmploymentTemplate | None:
    if not code:
        return None
    template = EmploymentTemplate.objects.filter(company=company, code=code).first()
    if template is None:
        raise SwitchoverRefused(_("There is no employment template %(code)s.") % {"code": code})
    return template


# --- 3. export all ----------------------------------------------------------------------------


def _selected(record: PayrollEmployee, selection: dict) -> bool:
    numbers = selection.get("employee_numbers")
    if numbers and record.employee_number not in numbers:
        return False
    forms = selection.get("employment_forms")
    if forms and record.employment_form not in forms:
        return False
    categories = selection.get("personnel_categories")
    return not (categories and record.personnel_category not in categories)


def count_check(*, company: Company, client: PayrollClient) -> dict:
    """The same number of employees on both sides, or the difference listed."""
    payroll_total = client.employees_page(page=1, page_size=1, include_ended=True).total
    hr_total = Employee.objects.filter(company=company).count()
    result = {"payroll": payroll_total, "hr": hr_total, "only_in_payroll": [], "only_in_hr": []}
    if payroll_total != hr_total:
        numbers = {p.employee_number for p in _payroll_employees(client)}
        hr_numbers = set(
            Employee.objects.filter(company=company).values_list("employee_number", flat=True)
        )
        result["only_in_payroll"] = sorted(numbers - hr_numbers)[:1000]
        result["only_in_hr"] = sorted(hr_numbers - numbers)[:1000]
    return result


def switchover_export_all_run(*, job: Job, ctx: JobContext) -> None:
    """Page by page, resumable: ``pages_done`` in the job's summary is where a restarted
    job carries on; each page's import is idempotent."""
    company = job.company
    page_size = int(job.parameters.get("page_size", 500))
    selection = job.parameters.get("selection") or {}
    template = _template(company, job.parameters.get("template"))
    registers = Registers.load(company)
    reason = f"switchover {job.parameters['switchover']}: export"
    with _client(job) as client:
        start = int(ctx.summary.get("pages_done", 0)) + 1
        for page in client.employees_iter(
            page_size=page_size, include_ended=True, start_page=start
        ):
            ctx.check_cancelled()
            if ctx.total != page.total:
                ctx.set_total(page.total)
            records = [r for r in page.items if _selected(r, selection)]
            outcome = employees_import_page(
                company=company,
                records=records,
                registers=registers,
                template=template,
                change_reason=reason,
                user=job.started_by,
                journal=_journal(job.parameters["switchover"]),
            )
            _journal_registers(job.parameters["switchover"], registers)
            for number, message in outcome.warnings:
                ctx.warning(message, item=number)
            for number, message in outcome.failed:
                ctx.error(message, item=number)
            ctx.count("created", outcome.created)
            ctx.count("updated", outcome.updated)
            ctx.count("unchanged", outcome.unchanged)
            ctx.count("failed", len(outcome.failed))
            ctx.count("skipped", len(page.items) - len(records))
            ctx.summary["pages_done"] = page.page
            ctx.advance(len(page.items))
            ctx.flush(force=True)
        for created in registers.created:
            ctx.warning(_("Created in HR: %(what)s.") % {"what": created})
        counts = count_check(company=company, client=client)
    ctx.summary["count_check"] = {k: counts[k] for k in ("payroll", "hr")}
    if counts["payroll"] != counts["hr"]:
        ctx.error(
            _("Count check: %(p)s employees in payroll, %(h)s in HR.")
            % {"p": counts["payroll"], "h": counts["hr"]},
            item="count",
        )
        for number in counts["only_in_payroll"][:200]:
            ctx.error(JobMessage("switchover.only_in_payroll"), item=number)
        for number in counts["only_in_hr"][:200]:
            ctx.error(JobMessage("switchover.only_in_hr"), item=number)
        outcome = "failed"
    else:
        ctx.info(JobMessage("switchover.count_check", count=counts["hr"]), item="count")
        outcome = "passed"
    _finish_step(
        job=job,
        step="export_all",
        outcome=outcome,
        report={
            "count_check": counts,
            "failed_items": ["count_check"] if outcome == "failed" else [],
        },
    )


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


def _manual_steps(*, job: Job, ctx: JobContext, step: str, steps) -> None:
    """A file-based payroll system has no switches to set: the admin does them by hand and
    confirms (the approval is logged like the test export's)."""
    for text in steps:
        ctx.warning(_("Manual step: %(step)s") % {"step": text}, item="manual")
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
                _("Count check: %(p)s employees in the file, %(h)s in HR.")
                % {"p": counts["payroll"], "h": counts["hr"]}
            )
        _manual_steps(job=job, ctx=ctx, step="payroll_off", steps=FILE_PAYROLL_OFF_STEPS)
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
        ctx.info(_("Payroll: 'export personal data' off, 'export balances' on."))
    else:
        ctx.error(_("Payroll did not take the switches: %(s)s") % {"s": after.__dict__})
    if counts["payroll"] != counts["hr"]:
        ctx.warning(
            _("Count check: %(p)s employees in payroll, %(h)s in HR.")
            % {"p": counts["payroll"], "h": counts["hr"]}
        )
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
    ctx.info(_("HR is master of personal data; transfer employment data: %(m)s.") % {"m": mode})
    report = {"transfer_employment_data": mode}
    if link.variant == PayrollLink.Variant.PAXML_FILE:
        report["file_employees"] = _personnel_file_write(job=job, ctx=ctx, link=link)
        for text in FILE_HR_ON_STEPS:
            ctx.warning(_("Manual step: %(step)s") % {"step": text}, item="manual")
        report["manual_steps"] = [str(t) for t in FILE_HR_ON_STEPS]
    _finish_step(job=job, step="hr_on", outcome="passed", report=report)


def _personnel_file_write(*, job: Job, ctx: JobContext, link: PayrollLink) -> int:
    """The employees in the transfer as one PAXml personnel file for the payroll system to
    import (the job's result file ``personnel.pax``)."""
    from .payroll_sync import employee_in_transfer

    company = job.company
    rates: dict[int, list] = {}
    for rate in EmploymentRate.objects.filter(employee__company=company):
        rates.setdefault(rate.employee_id, []).append(rate)
    backend = PaxmlFileBackend()
    from paxml.personnel import personnel_queryset

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
    from employees.services import employee_update

    from .models import PayrollSyncChange
    from .payroll_sync import (
        employee_in_transfer,
        payroll_deliveries_send,
        payroll_sync_coalesce,
        payroll_sync_enqueue,
    )

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
        ctx.error(_("No employee in the transfer to verify with."))
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
                ctx.info(
                    _("Payroll shows the address %(v)r.") % {"v": value},
                    item=employee.employee_number,
                )
            else:
                ctx.error(
                    _("Payroll shows %(s)r, expected %(v)r.") % {"s": seen_value, "v": value},
                    item=employee.employee_number,
                )
                ok = False
    _finish_step(
        job=job,
        step="verify",
        outcome="passed" if ok else "failed",
        report={"employee_number": employee.employee_number},
    )


HANDLERS = {
    "preflight": switchover_preflight_run,
    "test_export": switchover_test_export_run,
    "export_all": switchover_export_all_run,
    "payroll_off": switchover_payroll_off_run,
    "hr_on": switchover_hr_on_run,
    "verify": switchover_verify_run,
}
