"""Administration > Batch jobs > Send payslips to Kivra: the selection on the left, the log
of dispatches on the right (green or red mark, counts and selection, the log to download).
A notification confirms the start, and another the end (the page reloads when the job
finishes)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from employees.models import Employee
from jobs.models import Job

from . import selectors, services
from .forms import STATUS_CHOICES, KivraDispatchForm, dispatch_companies

SESSION_KEY = "payslips_kivra_jobs"
SELECTION_KEY = "payslips_kivra_selection"
COUNTER_KEYS = (
    "sent",
    "retained",
    "kivra_printing",
    "printed",
    "failed",
    "skipped",
    "already_sent",
)


def _counter_label(key: str) -> str:
    labels = {
        "sent": _("Sent"),
        "retained": _("Retained"),
        "printed": _("Printed"),
        "kivra_printing": _("To Kivra for printing"),
        "unconfirmed": _("Not confirmed by Kivra"),
        "failed": _("Failed"),
        "skipped": _("Not via Kivra"),
        "already_sent": _("Already sent"),
    }
    return labels.get(key, key)


def _selection(job: Job, employees: dict[int, Employee]) -> str:
    params = job.parameters or {}
    status = dict(STATUS_CHOICES).get(params.get("status", "final"), params.get("status"))
    parts = [
        _("Payment date %(date)s") % {"date": params.get("payment_date", "?")},
        str(status),
    ]
    ids = params.get("employees") or []
    if ids:
        names = [employees[i].employee_number for i in ids if i in employees]
        parts.append(_("employees %(list)s") % {"list": ", ".join(names) or "–"})
    else:
        parts.append(_("all employees"))
    return " · ".join(parts)


def _row(job: Job, employees: dict[int, Employee]) -> dict:
    summary = job.summary or {}
    ok = job.status == Job.Status.SUCCEEDED
    counts = [(_counter_label(k), summary.get(k, 0)) for k in ("sent", "retained", "printed")]
    if summary.get("kivra_printing"):
        counts.append((_counter_label("kivra_printing"), summary["kivra_printing"]))
    counts.append((_counter_label("failed"), summary.get("failed", 0)))
    counts += [(_counter_label(k), v) for k, v in summary.items() if k not in COUNTER_KEYS]
    counts += [
        (_counter_label(k), summary[k]) for k in ("skipped", "already_sent") if summary.get(k)
    ]
    return {
        "job": job,
        "ok": ok,
        # Succeeded, but the selection found nothing: not a green tick.
        "empty": ok and not job.progress_total,
        "finished": job.is_finished,
        "counts": counts,
        "selection": _selection(job, employees),
    }


def _confirm_finished(request) -> None:
    """The second confirmation: for each job started here that has finished since."""
    pending = request.session.get(SESSION_KEY, [])
    if not pending:
        return
    still = []
    for job in Job.objects.for_user(request.user).filter(pk__in=pending):
        if not job.is_finished:
            still.append(job.pk)
            continue
        log = reverse("jobs:log-csv", args=[job.pk])
        summary = job.summary or {}
        counts = _(
            "%(sent)s sent, %(retained)s retained, %(printed)s printed, %(failed)s failed."
        ) % {k: summary.get(k, 0) for k in ("sent", "retained", "printed", "failed")}
        if job.status == Job.Status.SUCCEEDED:
            messages.success(
                request,
                format_html(
                    '{} {} <a href="{}">{}</a>',
                    _("Sending payslips to Kivra has finished (job %(id)s).") % {"id": job.pk},
                    counts,
                    log,
                    _("Download the log"),
                ),
            )
        else:
            messages.error(
                request,
                format_html(
                    '{} {} {} <a href="{}">{}</a>',
                    _("Sending payslips to Kivra has finished with errors (job %(id)s).")
                    % {"id": job.pk},
                    counts,
                    job.message_text,
                    log,
                    _("Download the log with the details"),
                ),
            )
    request.session[SESSION_KEY] = still


@login_required
@require_http_methods(["GET", "POST"])
def kivra_dispatch(request):
    companies = dispatch_companies(request.user)
    if not companies.exists():
        raise PermissionDenied(_("You may not send payslips to Kivra."))
    form = KivraDispatchForm(
        request.POST or None, user=request.user, initial=request.session.get(SELECTION_KEY)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        employee_ids = [e.pk for e in data["employees"]] or None
        problem = (
            None
            if services.kivra_link_problems(company=data["company"])
            else selectors.dispatch_selection_problem(
                company=data["company"],
                payment_date=data["payment_date"],
                status=data["status"],
                employee_ids=employee_ids,
            )
        )
        if problem:
            form.add_error(None, _("Nothing to send: %(why)s") % {"why": problem})
            return _page(request, form, companies)
        try:
            job = services.kivra_dispatch_start(
                user=request.user,
                company=data["company"],
                payment_date=data["payment_date"],
                status=data["status"],
                employee_ids=employee_ids,
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), job.pk]
            # The form keeps the selection for the next dispatch.
            request.session[SELECTION_KEY] = {
                "company": data["company"].pk,
                "payment_date": data["payment_date"].isoformat(),
                "status": data["status"],
                "employees": employee_ids or [],
            }
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Sending payslips to Kivra has started (job %(id)s).") % {"id": job.pk},
                    reverse("jobs:detail", args=[job.pk]),
                    _("Follow the job"),
                ),
            )
            return redirect("payslips:kivra-dispatch")
    elif request.method == "GET":
        _confirm_finished(request)
    return _page(request, form, companies)


def _page(request, form, companies):
    jobs = list(
        Job.objects.for_user(request.user)
        .filter(kind="kivra_dispatch", company__in=companies)
        .select_related("company", "started_by")
        .order_by("-created_at", "-pk")[:25]
    )
    ids = {i for job in jobs for i in (job.parameters or {}).get("employees") or []}
    employees = {e.pk: e for e in Employee.objects.filter(pk__in=ids)}
    problems = {c: services.kivra_link_problems(company=c) for c in companies}
    print_modes = [
        (company, services.kivra_print_handling_text(company=company)) for company in companies
    ]
    return render(
        request,
        "payslips/kivra_dispatch.html",
        {
            "form": form,
            "rows": [_row(job, employees) for job in jobs],
            "problems": [(c, p) for c, p in problems.items() if p],
            # No company can send now: the button is off (the reasons are shown above).
            "blocked": all(problems.values()),
            "print_modes": [(c, text) for c, text in print_modes if text],
            "today": datetime.date.today(),
        },
    )
