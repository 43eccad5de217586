"""Payroll > Accounting: create the accounting file or transfer it directly to Visma.Net,
with the same selection, and the outcome as a notification."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from integrations.models import Job
from integrations.services import job_start

from .forms import SelectionForm
from .models import LedgerTransfer

KINDS = {"file": "sie_export", "transfer": "visma_transfer"}


def _notify(request, job: Job) -> None:
    job.refresh_from_db()
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
            messages.success(request, _("The accounting was transferred to Visma.Net."))
    elif job.is_finished:
        messages.error(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Something went wrong."),
                log_url,
                _("Download the log file with the details"),
            ),
        )
    else:
        messages.info(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Started."),
                reverse("jobs:detail", args=[job.pk]),
                _("Follow the job"),
            ),
        )


@login_required
@require_http_methods(["GET", "POST"])
def accounting(request):
    form = SelectionForm(request.POST or None, user=request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action in KINDS and form.is_valid():
            try:
                job = job_start(
                    user=request.user,
                    company=form.cleaned_data["company"],
                    kind=KINDS[action],
                    parameters=form.parameters(),
                )
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            else:
                request.session["ledger_last_job"] = job.pk
                return redirect("ledger:accounting")
    last = request.session.pop("ledger_last_job", None)
    if last:
        job = Job.objects.for_user(request.user).filter(pk=last).first()
        if job is not None:
            _notify(request, job)
    jobs = (
        Job.objects.for_user(request.user)
        .filter(kind__in=KINDS.values())
        .select_related("company", "started_by")[:20]
    )
    transfers = LedgerTransfer.objects.for_user(request.user).select_related(
        "payroll_run", "company"
    )[:20]
    return render(
        request,
        "ledger/accounting.html",
        {"form": form, "jobs": jobs, "transfers": transfers},
    )
