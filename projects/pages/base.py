"""What the pages share: the company and week a page is about, the employee model,
reading a date from a form, and a service call with its outcome as a message (the project
pages in ``views.py`` use it too)."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404

from companies.selectors import companies_for_user
from employees.selectors import employee_for_user

from .. import selectors


def _employee_model():
    return apps.get_model("employees", "Employee")


def _company(request):
    """The company the page is about: ``?company=`` among the user's, else the first one
    where the user is linked to an employee, else the first."""
    companies = list(companies_for_user(user=request.user))
    if not companies:
        raise Http404
    wanted = request.GET.get("company") or request.POST.get("company")
    for company in companies:
        if str(company.pk) == str(wanted):
            return company, companies
    for company in companies:
        if employee_for_user(user=request.user, company=company) is not None:
            return company, companies
    return companies[0], companies


def _week(request) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.GET.get("week") or request.POST.get("week") or "")
    except ValueError:
        day = dt.date.today()
    return selectors.week_start(day)


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def service_call_message(request, call, *, success: str) -> bool:
    """Run ``call`` (a service call); its refusal (``ValidationError``) becomes the error
    message on the next page, else ``success`` does. Whether it succeeded."""
    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, success)
    return True
