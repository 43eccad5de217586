"""``python manage.py switchover --company CODE --step preflight``: a switchover step from
the shell.

Runs the step as a job (in this process), prints its log (the preflight prints its
checklist) and exits 1 when the step fails. ``--step approve`` approves the test export,
``--step override --reason ...`` overrides the current failed step, ``--step abort`` aborts,
``--step status`` prints where the switchover stands. ``--file PATH`` (a file-based payroll
system) stores the personnel PAXml file on the switchover before the step runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from integrations import switchover as sw
from integrations.switchover.messages import preflight_item_texts
from jobs.models import Job
from jobs.runner import job_execute
from jobs.selectors import job_log_lines

FILE_STEPS = ("preflight", "test_export", "export_all")
MARK = {"pass": "[ OK ]", "warning": "[WARN]", "fail": "[FAIL]"}


def _parameters(step: str, options: dict) -> dict:
    """The step's parameters from the command line."""
    parameters = {}
    if options.get("employee_number"):
        parameters["employee_number"] = options["employee_number"]
    if options.get("template"):
        parameters["template"] = options["template"]
    if options.get("selection"):
        parameters["selection"] = json.loads(options["selection"])
    if step == "hr_on":
        parameters["transfer_employment_data"] = options["transfer"]
    return parameters


class Command(BaseCommand):
    help = "Run a step of the master switchover (payroll → HR) for a company."

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="company code")
        parser.add_argument(
            "--step",
            required=True,
            choices=[*sw.STEPS, "approve", "override", "abort", "status"],
        )
        parser.add_argument("--user", help="username acting (default: the first superuser)")
        parser.add_argument("--reason", default="", help="why (override, abort)")
        parser.add_argument("--employee-number", help="test_export / verify: which employee")
        parser.add_argument("--template", help="export_all: employment template code")
        parser.add_argument(
            "--selection", help='export_all / hr_on: JSON, e.g. {"employment_forms": ["TV"]}'
        )
        parser.add_argument(
            "--file",
            dest="personnel_file",
            help="preflight / test_export / export_all: the personnel PAXml file exported "
            "from a file-based payroll system, stored on the switchover before the step",
        )
        parser.add_argument("--transfer", choices=["all", "selection"], default="all", help="hr_on")

    def handle(self, *args, company, step, user, reason, **options):
        try:
            company_obj = Company.objects.select_related("license").get(code=company)
        except Company.DoesNotExist as exc:
            raise CommandError(f"No company {company!r}.") from exc
        users = get_user_model().objects
        actor = users.get(username=user) if user else users.filter(is_superuser=True).first()
        current = sw.switchover_current(company=company_obj)
        try:
            if step == "status":
                self._status(current)
                return
            if step in ("approve", "override", "abort"):
                self._decide(actor, current, step, reason)
                return
            if options.get("personnel_file"):
                self._upload(actor, company_obj, step, options["personnel_file"])
            job = sw.switchover_step_start(
                user=actor, company=company_obj, step=step, parameters=_parameters(step, options)
            )
        except (sw.SwitchoverRefused, Exception) as exc:
            if isinstance(exc, CommandError):
                raise
            raise CommandError(str(exc)) from exc
        job = Job.objects.get(pk=job.pk)
        if not job.is_finished:  # no broker or eager: run it here
            job = job_execute(job_id=job.pk)
        current = sw.switchover_current(company=company_obj)
        result = current.results.get(step, {}) if current else {}
        self._report(step, result, job)
        outcome = result.get("outcome", job.status)
        self.stdout.write(f"Step {step}: {outcome} (job #{job.pk}, {job.status})")
        if outcome in ("failed", "strong_warning") or job.status == Job.Status.FAILED:
            raise SystemExit(1)

    def _decide(self, actor, current, step: str, reason: str) -> None:
        """Approve, abort or override the current switchover, then print where it stands."""
        if current is None:
            raise CommandError("No switchover has started for this company.")
        if step == "approve":
            sw.switchover_approve(user=actor, switchover=current)
        elif step == "abort":
            sw.switchover_abort(user=actor, switchover=current, reason=reason)
        else:
            nxt = sw.STEPS[sw.step_index(current.state) + 1]
            sw.switchover_override(user=actor, switchover=current, step=nxt, reason=reason)
        current.refresh_from_db()
        self._status(current)

    def _report(self, step: str, result: dict, job: Job) -> None:
        """The preflight's checklist, in the reader's language; for other steps the log."""
        if step != "preflight":
            for line in job_log_lines(job=job)[:200]:
                self.stdout.write(f"{line.level:<7} {line.item:<12} {line.text}")
            return
        for item in map(preflight_item_texts, result.get("items", [])):
            strong = " (STRONG WARNING)" if item["strong"] else ""
            self.stdout.write(f"{MARK[item['status']]} {item['label']}{strong}: {item['message']}")
            if item["offenders"]:
                self.stdout.write("       " + ", ".join(map(str, item["offenders"][:30])))

    def _upload(self, actor, company, step: str, path: str) -> None:
        if step not in FILE_STEPS:
            raise CommandError(f"--file goes with --step {', '.join(FILE_STEPS)}.")
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            sw.switchover_personnel_file_upload(
                user=actor, company=company, content=content, name=Path(path).name
            )
        except ValidationError as exc:
            messages = (
                [m for ms in exc.message_dict.values() for m in ms]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            raise CommandError(f"{path}: {' '.join(messages)}") from exc
        self.stdout.write(f"Personnel file {Path(path).name} stored on the switchover.")

    def _status(self, current) -> None:
        if current is None:
            self.stdout.write("No switchover yet.")
            return
        self.stdout.write(f"Switchover #{current.pk}: {current.get_state_display()}")
        for step in sw.STEPS:
            result = current.results.get(step, {})
            self.stdout.write(f"  {step:<12} {result.get('outcome', '-')}")
