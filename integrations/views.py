from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from . import selectors


@login_required
def job_detail(request, pk: int):
    """A job's page: progress (refreshed while it runs), summary and log."""
    job = get_object_or_404(selectors.jobs_for_user(user=request.user), pk=pk)
    lines = selectors.job_log_lines(job=job)[:1000]
    return render(request, "integrations/job_detail.html", {"job": job, "lines": lines})


@login_required
def job_log_download(request, pk: int):
    job = get_object_or_404(selectors.jobs_for_user(user=request.user), pk=pk)
    response = HttpResponse(selectors.job_log_csv(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-log.csv"'
    return response
