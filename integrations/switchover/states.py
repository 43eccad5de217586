"""The switchover's state: which step may run, starting steps, override, approval,
and what every step shares (the link, the payroll client, recording a step's outcome)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.models import Company
from companies.selectors import user_has_company_perm
from flexbridge.errors import DomainError
from jobs.models import Job
from jobs.services import job_start

from ..clients.payroll import PayrollClient
from ..models import PayrollLink, Switchover, SwitchoverEvent
from ..payroll_backend import PaxmlFileBackend, PayrollLinkMissing, payroll_client_for

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
