"""Payroll > Accounting: create the accounting file or transfer it directly to Visma.Net,
with the same selection, and the outcome as a notification."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from flexbridge.forms import form_add_refusal
from jobs.models import Job
from jobs.selectors import job_parameters_display
from jobs.services import job_start

from .forms import SelectionForm
from .models import LedgerTransfer

KINDS = {"file": "sie_export", "transfer": "visma_transfer"}


SESSION_KEY = "ledger_jobs"


def _notify(request, job: Job) -> None:
    """The seed's notice for a finished job: success, or failure with the log link."""
    log_url = reverse("jobs:log-csv", args=[job.pk])
    if job.status == Job.Status.SUCCEEDED:
        if job.kind == "sie_export":
            messages.success(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("The accounting file is ready."),
                    reverse("jobs:file", args=[job.pk]),
                    _("Download the file"),
                ),
            )
        else:
            messages.success(
                request,
                format_html(
                    '{} {} <a href="{}">{}</a>',
                    _("The accounting was transferred to Visma.Net."),
                    _selection_text(job),
                    reverse("jobs:detail", args=[job.pk]),
                    _("Show the job"),
                ),
            )
    else:
        messages.error(
            request,
            format_html(
                '{} {} {} <a href="{}">{}</a>',
                _("Something went wrong."),
                _selection_text(job),
                job.message_text,
                log_url,
                _("Download the log file with the details"),
            ),
        )


def _selection_text(job: Job) -> str:
    rows = job_parameters_display(job=job)
    return "(" + ", ".join(f"{label}: {value}" for label, value in rows) + ")" if rows else ""


def _notify_finished(request) -> set[int]:
    """Notices for the jobs this user started here that have finished since; returns the
    ids still running (their rows reload the page when they finish)."""
    pending = request.session.get(SESSION_KEY, [])
    if not pending:
        return set()
    still = []
    for job in Job.objects.for_user(request.user).filter(pk__in=pending).order_by("pk"):
        if job.is_finished:
            _notify(request, job)
        else:
            still.append(job.pk)
    request.session[SESSION_KEY] = still
    return set(still)


@login_required
@require_http_methods(["GET", "POST"])
def accounting(request):
    form = SelectionForm(request.POST or None, user=request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action in KINDS and form.is_valid() and form.allows(action):
            try:
                job = job_start(
                    user=request.user,
                    company=form.cleaned_data["company"],
                    kind=KINDS[action],
                    parameters=form.parameters(),
                )
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            except ValidationError as exc:
                form_add_refusal(form, exc)
            else:
                request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), job.pk]
                job.refresh_from_db()
                if not job.is_finished:
                    messages.info(
                        request,
                        format_html(
                            '{} <a href="{}">{}</a>',
                            _("Started. You get a notice here when it has finished."),
                            reverse("jobs:detail", args=[job.pk]),
                            _("Follow the job"),
                        ),
                    )
                return redirect("ledger:accounting")
    watching = _notify_finished(request)
    jobs = list(
        Job.objects.for_user(request.user)
        .filter(kind__in=KINDS.values())
        .select_related("company", "started_by")[:20]
    )
    for job in jobs:
        job.selection = job_parameters_display(job=job)
    transfers = LedgerTransfer.objects.for_user(request.user).select_related(
        "payroll_run", "company"
    )[:20]
    return render(
        request,
        "ledger/accounting.html",
        {"form": form, "jobs": jobs, "transfers": transfers, "watching": watching},
    )
