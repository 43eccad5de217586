"""The switchover page: ``/integrations/switchover/`` walks an admin through the steps."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm
from flexbridge.errors import REFUSALS, page_error
from jobs import selectors
from jobs.models import FileHolds, Job

from . import switchover as sw
from .clients.base import OutsideSystemError
from .models import PayrollLink, Switchover
from .payroll_links import ACCOUNTING_WARNING
from .payroll_mapping import payroll_field_label
from .switchover.messages import preflight_item_texts, rates_text

COLOURS = {"pass": "green", "warning": "yellow", "fail": "red"}
OUTCOME_COLOURS = {
    "passed": "green",
    "warning": "yellow",
    "awaiting_approval": "yellow",
    "running": "yellow",
    "failed": "red",
    "strong_warning": "red",
}

logger = logging.getLogger(__name__)


def _outcome_labels() -> dict[str, str]:
    return {
        "passed": _("Passed"),
        "warning": _("Passed with warnings"),
        "awaiting_approval": _("Awaiting approval"),
        "running": _("Running"),
        "failed": _("Failed"),
        "strong_warning": _("Switching is not recommended"),
    }


def _value_label(field: str, value):
    """A value of the test export's side by side as a person reads it (codes by name)."""
    if field == "name_order" and value:
        return dict(Company.NameOrder.choices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):  # employment rates
        return rates_text(value) or None
    return value


def _companies(user):
    return [
        c
        for c in Company.objects.for_user(user).select_related("license")
        if user_has_company_perm(user=user, perm=sw.PERMISSION, company=c)
    ]


@login_required
def personnel_file_download(request, pk: int):
    """The personnel file uploaded for a file-based switchover: it holds personal identity
    numbers, bank details and salaries, so it needs the switchover permission and the
    capability for each of them in the switchover's company (never a media URL)."""
    companies = {c.pk for c in _companies(request.user)}
    switchover = Switchover.objects.filter(pk=pk, company_id__in=companies).first()
    if switchover is None or not switchover.personnel_file:
        raise Http404
    missing = selectors.file_missing_permissions(
        user=request.user, company_id=switchover.company_id, holds=list(FileHolds)
    )
    if missing:
        raise PermissionDenied(
            _("This file holds data your role may not see: %(what)s.")
            % {"what": ", ".join(missing)}
        )
    return FileResponse(
        switchover.personnel_file.open("rb"),
        as_attachment=True,
        filename=f"switchover-{switchover.company.code}-{switchover.pk}-personnel.pax",
    )


@login_required
def switchover_page(request):
    companies = _companies(request.user)
    if not companies:
        raise PermissionDenied(_("You may not run the switchover in any company."))
    code = request.GET.get("company") or request.POST.get("company") or companies[0].code
    company = next((c for c in companies if c.code == code), None)
    if company is None:
        raise Http404
    if request.method == "POST":
        return _post(request, company)
    switchover = sw.switchover_current(company=company)
    link = PayrollLink.objects.filter(company=company).first()
    steps = []
    results = switchover.results if switchover else {}
    job_ids = [r.get("job") for r in results.values() if r.get("job")]
    jobs = Job.objects.in_bulk(job_ids)
    for step in sw.STEPS:
        result = results.get(step, {})
        refusal = sw.step_allowed(switchover=switchover, step=step) if switchover else None
        if switchover is None and step != "preflight":
            refusal = _("Run the preflight report first.")
        outcome = result.get("outcome", "")
        steps.append(
            {
                "name": step,
                "label": sw.STEP_LABELS[step],
                "outcome": _outcome_labels().get(outcome, outcome),
                "colour": "grey" if result.get("overridden") else OUTCOME_COLOURS.get(outcome, ""),
                "overridden": result.get("overridden"),
                "job": jobs.get(result.get("job")),
                "refusal": refusal,
            }
        )
    preflight = results.get("preflight", {})
    checklist = [
        {**preflight_item_texts(item), "colour": COLOURS[item["status"]]}
        for item in preflight.get("items", [])
    ]
    for item in checklist:
        if item["strong"]:
            item["colour"] = "red"
    nxt = sw.step_index(switchover.state) + 1 if switchover else 0
    return render(
        request,
        "integrations/switchover.html",
        {
            "companies": companies,
            "company": company,
            "link": link,
            "switchover": switchover,
            "steps": steps,
            "checklist": checklist,
            "test_export": _test_export(results.get("test_export", {})),
            "file_based": link is not None and link.variant == PayrollLink.Variant.PAXML_FILE,
            "manual_steps": [
                {
                    "label": sw.STEP_LABELS[step],
                    "steps": results[step]["manual_steps"],
                    "awaiting": results[step].get("outcome") == "awaiting_approval",
                    "job": jobs.get(results[step].get("job")),
                }
                for step in sw.STEPS
                if results.get(step, {}).get("manual_steps")
            ],
            "export_all": results.get("export_all", {}),
            "can_abort": switchover
            and not switchover.is_finished
            and sw.step_index(switchover.state) < sw.STEPS.index("hr_on"),
            "overridable": switchover
            and nxt < len(sw.STEPS)
            and results.get(sw.STEPS[nxt], {}).get("outcome") in ("failed", "strong_warning"),
            "next_step": sw.STEP_LABELS.get(sw.STEPS[nxt]) if nxt < len(sw.STEPS) else "",
            "accounting_warning": ACCOUNTING_WARNING,
            "events": [
                {"event": event, "step": sw.STEP_LABELS.get(event.step, event.step)}
                for event in switchover.events.select_related("user").order_by("-pk")[:30]
            ]
            if switchover
            else [],
        },
    )


def _test_export(result: dict) -> dict:
    rows = [
        {
            **row,
            "label": payroll_field_label(row["field"]),
            "payroll": _value_label(row["field"], row.get("payroll")),
            "hr": _value_label(row["field"], row.get("hr")),
        }
        for row in result.get("side_by_side", [])
    ]
    return {**result, "side_by_side": rows}


def _post(request, company: Company):
    action = request.POST.get("action", "")
    url = reverse("switchover:page") + f"?company={company.code}"
    try:
        if action in sw.STEPS:
            _post_step(request, company, action)
        elif action == "upload_file":
            _post_upload(request, company)
        else:
            _post_on_switchover(request, company, action)
    except (*REFUSALS, OutsideSystemError) as exc:  # a refusal, or an outside system's words
        page_error(request, exc)
    except Exception as exc:  # unexpected: logged with its traceback, and shown on the page
        logger.exception("Switchover action %r for company %s failed", action, company.pk)
        page_error(request, exc)
    return redirect(url)


def _post_step(request, company: Company, step: str) -> None:
    parameters = {}
    for name in ("employee_number", "template"):
        if request.POST.get(name):
            parameters[name] = request.POST[name].strip()
    if step == "hr_on":
        parameters["transfer_employment_data"] = request.POST.get("transfer", "all")
    job = sw.switchover_step_start(
        user=request.user, company=company, step=step, parameters=parameters
    )
    messages.info(request, _("Started: %(job)s") % {"job": job})


def _post_upload(request, company: Company) -> None:
    upload = request.FILES.get("personnel_file")
    if upload is None:
        raise sw.SwitchoverRefused(_("Choose the personnel PAXml file to upload."))
    sw.switchover_personnel_file_upload(
        user=request.user, company=company, content=upload.read(), name=upload.name
    )
    messages.success(request, _("The personnel file is uploaded; run the preflight."))


def _post_on_switchover(request, company: Company, action: str) -> None:
    """Approve, override or abort the current switchover."""
    switchover = sw.switchover_current(company=company)
    if switchover is None:
        raise sw.SwitchoverRefused(_("No switchover has started."))
    reason = request.POST.get("reason", "")
    if action == "approve":
        sw.switchover_approve(user=request.user, switchover=switchover)
        messages.success(request, _("Approved; the approval is logged."))
    elif action == "override":
        step = sw.STEPS[sw.step_index(switchover.state) + 1]
        sw.switchover_override(user=request.user, switchover=switchover, step=step, reason=reason)
        messages.warning(request, _("Overridden; the override is logged."))
    elif action == "abort":
        sw.switchover_abort(user=request.user, switchover=switchover, reason=reason)
        messages.warning(
            request,
            _("The switchover is aborted; HR and payroll's switches are back as they were."),
        )
    else:
        messages.error(request, _("Unknown action."))
