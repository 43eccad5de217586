"""The billing basis of a period (page and CSV) and its release to billing."""

from __future__ import annotations

from decimal import Decimal

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import ngettext

from companies.selectors import user_has_company_perm

from .. import selectors, services
from ..exports import billing_basis_csv_response
from ..models import Project
from .base import _company, _date


@login_required
def billing(request):
    """The billing basis of a period (page and CSV) and the release of approved billable
    time to billing."""
    company, companies = _company(request)
    if not user_has_company_perm(
        user=request.user, perm=selectors.PERM_RELEASE_BILLING, company=company
    ):
        raise PermissionDenied
    date_from = _date(request.GET.get("date_from") or request.POST.get("date_from"))
    date_to = _date(request.GET.get("date_to") or request.POST.get("date_to"))
    if request.method == "POST":
        registrations = apps.get_model("projects", "TimeRegistration").objects.filter(
            company=company, billable=True, released_for_billing=False
        )
        root = request.POST.get("project")
        if root and root.isdigit():
            project = get_object_or_404(Project.objects.filter(company=company), pk=root)
            registrations = registrations.filter(project__path__startswith=project.path)
        if date_from:
            registrations = registrations.filter(date__gte=date_from)
        if date_to:
            registrations = registrations.filter(date__lte=date_to)
        try:
            count = services.time_registrations_release(
                registrations=registrations, user=request.user
            )
        except services.TimeRegistrationRejected as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)s approved registration released for billing.",
                    "%(n)s approved registrations released for billing.",
                    count,
                )
                % {"n": count},
            )
        return redirect(request.get_full_path())
    lines = selectors.billing_basis(company=company, date_from=date_from, date_to=date_to)
    if request.GET.get("output") == "csv":
        return billing_basis_csv_response(
            lines=lines, company=company, date_from=date_from, date_to=date_to
        )
    return render(
        request,
        "projects/billing.html",
        {
            "company": company,
            "companies": companies,
            "lines": lines,
            "total_hours": sum((line.hours for line in lines), Decimal(0)),
            "total_amount": sum((line.amount for line in lines), Decimal(0)),
            "date_from": date_from,
            "date_to": date_to,
            "billing_used": services.billing_of_time_used(company=company),
            "projects": Project.objects.filter(company=company).order_by("code"),
            "csv_query": urlencode(
                {
                    "company": company.pk,
                    "date_from": date_from or "",
                    "date_to": date_to or "",
                    "output": "csv",
                }
            ),
        },
    )
