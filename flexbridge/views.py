from axes.helpers import get_cool_off
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from companies.selectors import companies_for_user, tasks_open_for_user
from jobs.selectors import jobs_recent_for_user


@login_required
def dashboard(request):
    """The start page: the user's companies, open tasks and recent jobs."""
    return render(
        request,
        "dashboard.html",
        {
            "companies": companies_for_user(user=request.user),
            "tasks": tasks_open_for_user(user=request.user),
            "jobs": jobs_recent_for_user(user=request.user, limit=10),
        },
    )


def login_locked_out(request, credentials=None, *args, **kwargs):
    """django-axes' answer to a locked-out login: 429 and a page that says why, how long,
    and that an administrator can lift the lock."""
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def server_error(request):
    """The 500 page in the reader's language (Django's default has no request context)."""
    try:
        return HttpResponseServerError(loader.get_template("500.html").render({}, request))
    except Exception:  # the page itself must never fail
        return HttpResponseServerError("Server error / Serverfel", content_type="text/plain")
