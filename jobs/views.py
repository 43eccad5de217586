from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from . import selectors
from .models import Job
from .registry import job_kinds


@login_required
def job_list(request):
    """The user's jobs, newest first, filtered by kind (by name) and status."""
    jobs = selectors.jobs_for_user(user=request.user)
    kind, status = request.GET.get("kind", ""), request.GET.get("status", "")
    if kind:
        jobs = jobs.filter(kind=kind)
    if status:
        jobs = jobs.filter(status=status)
    kinds = sorted(((k.kind, str(k.label)) for k in job_kinds()), key=lambda item: item[1])
    return render(
        request,
        "jobs/job_list.html",
        {
            "jobs": jobs[:200],
            "kinds": kinds,
            "kind": kind,
            "statuses": Job.Status.choices,
            "status": status,
        },
    )


@login_required
def job_detail(request, pk: int):
    """A job's page: progress (refreshed while it runs), summary and log."""
    job = get_object_or_404(selectors.jobs_for_user(user=request.user), pk=pk)
    lines = selectors.job_log_lines(job=job)[:1000]
    return render(
        request,
        "jobs/job_detail.html",
        {
            "job": job,
            "lines": lines,
            "may_download_file": selectors.job_file_may_download(user=request.user, job=job),
            "selection": selectors.job_parameters_display(job=job),
            "summary": selectors.job_summary_display(job=job),
        },
    )


@login_required
def job_file_download(request, pk: int):
    """The job's file, for a user whose role covers every kind of personal data in it."""
    job = get_object_or_404(selectors.jobs_for_user(user=request.user), pk=pk)
    if not job.result_file:
        raise Http404
    missing = selectors.job_file_missing_permissions(user=request.user, job=job)
    if missing:
        raise PermissionDenied(
            _("This file holds data your role may not see: %(what)s.")
            % {"what": ", ".join(missing)}
        )
    return selectors.job_file_response(job=job)


@login_required
def job_log_download(request, pk: int):
    job = get_object_or_404(selectors.jobs_for_user(user=request.user), pk=pk)
    response = HttpResponse(selectors.job_log_csv(job=job), content_type="text/csv; charset=utf-8")
    name = selectors.job_download_name(job=job, suffix="log.csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
