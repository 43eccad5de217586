"""The time registration week: registering and deleting time, and what the week view
shows when a project is picked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from companies.selectors import user_has_company_perm
from employees.selectors import employee_for_user

from .. import selectors, services
from ..models import Project, TimeCode
from .base import _company, _week, service_call_message

PERM_ADD_TIME = "projects.add_timeregistration"


class RegistrationForm(forms.Form):
    date = forms.TypedChoiceField(label=gettext_lazy("Day"), coerce=dt.date.fromisoformat)
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), label=gettext_lazy("Project"), required=False
    )
    time_code = forms.ModelChoiceField(
        queryset=TimeCode.objects.none(), label=gettext_lazy("Time code")
    )
    hours = forms.DecimalField(
        label=gettext_lazy("Hours"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("-24"),
        max_value=Decimal("24"),
    )
    internal_comment = forms.CharField(
        label=gettext_lazy("Internal comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    external_comment = forms.CharField(
        label=gettext_lazy("External comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    billable = forms.TypedChoiceField(
        label=gettext_lazy("Billable"),
        choices=[
            ("", gettext_lazy("As the project says")),
            ("yes", gettext_lazy("Yes")),
            ("no", gettext_lazy("No")),
        ],
        required=False,
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
    )

    def __init__(self, *args, week, projects, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].choices = [(d.isoformat(), d.strftime("%a %Y-%m-%d")) for d in week]
        self.fields["project"].queryset = Project.objects.filter(pk__in=[p.pk for p in projects])
        self.fields["project"].choices = [("", "–")] + [(p.pk, str(p)) for p in projects]
        self.fields["time_code"].queryset = TimeCode.objects.filter(company=company)


@login_required
def time_week(request):
    """The week view: the employee's registrations day by day against the work schedule,
    and a form that registers through ``time_registration_create`` — the service the API
    uses — so every rule, warning and stop is the same."""
    company, companies = _company(request)
    employees = selectors.employees_registrable_by(user=request.user, company=company)
    own = employee_for_user(user=request.user, company=company)
    wanted = request.GET.get("employee") or request.POST.get("employee")
    if wanted and str(wanted).isdigit():
        employee = employees.filter(pk=wanted).first()
    else:  # their own week; HR without an employee of their own start with the first
        employee = own or employees.first()
    if employee is None:
        if wanted:
            raise Http404
        return render(
            request,
            "projects/time_week.html",
            {"company": company, "companies": companies, "employee": None},
        )
    may_register = user_has_company_perm(user=request.user, perm=PERM_ADD_TIME, company=company)
    start = _week(request)
    week_days = [start + dt.timedelta(days=i) for i in range(7)]
    projects = selectors.registration_projects(
        employee=employee, user=request.user, date_from=start, date_to=week_days[-1]
    )
    form = RegistrationForm(
        request.POST or None,
        week=week_days,
        projects=projects,
        company=company,
        initial={
            "date": dt.date.today().isoformat(),
            "time_code": TimeCode.objects.filter(company=company, kind=TimeCode.Kind.ATTENDANCE)
            .order_by("code")
            .first(),
        },
    )
    here = (
        reverse("projects:time-week")
        + "?"
        + urlencode({"company": company.pk, "employee": employee.pk, "week": start.isoformat()})
    )
    if request.method == "POST":
        if not may_register:
            raise PermissionDenied
        if form.is_valid():
            try:
                # the form's fields are the service's: day, project, time code, hours,
                # comments, billable
                _registration, warnings = services.time_registration_create(
                    employee=employee, user=request.user, **form.cleaned_data
                )
            except services.TimeRegistrationRejected as exc:
                for error in exc.errors:
                    messages.error(
                        request, _("Not saved: %(message)s") % {"message": error.message}
                    )
            else:
                for warning in warnings:
                    messages.warning(request, warning.message)
                messages.success(request, _("The registration was saved."))
                return redirect(here)
    week = selectors.time_week(employee=employee, start=start)
    return render(
        request,
        "projects/time_week.html",
        {
            "company": company,
            "companies": companies,
            "employee": employee,
            "employees": employees if employees.exclude(pk=employee.pk).exists() else None,
            "week": week,
            "form": form,
            "may_register": may_register,
            "previous": (start - dt.timedelta(days=7)).isoformat(),
            "next": (start + dt.timedelta(days=7)).isoformat(),
            "here": here,
        },
    )


@login_required
@require_POST
def time_delete(request, pk: int):
    registration = get_object_or_404(
        apps.get_model("projects", "TimeRegistration")
        .objects.for_user(request.user)
        .filter(selectors.time_registrations_visible_q(user=request.user)),
        pk=pk,
    )
    own = registration.employee.user_id == request.user.pk
    if not own and not user_has_company_perm(
        user=request.user, perm=selectors.PERM_REGISTER_FOR_OTHERS, company=registration.company_id
    ):
        raise PermissionDenied
    service_call_message(
        request,
        lambda: services.time_registration_delete(registration=registration),
        success=_("The registration was deleted."),
    )
    return redirect(
        reverse("projects:time-week")
        + "?"
        + urlencode(
            {
                "company": registration.company_id,
                "employee": registration.employee_id,
                "week": selectors.week_start(registration.date).isoformat(),
            }
        )
    )


@login_required
def registration_info(request, pk: int):
    """What the week view shows when a project is picked: its internal comment and the
    attachments marked "show at registration" (downloaded through the permission-checked
    attachment view)."""
    project = get_object_or_404(
        Project.objects.for_user(request.user).filter(
            selectors.projects_visible_q(user=request.user)
        ),
        pk=pk,
    )
    info = selectors.project_registration_info(project=project)
    return JsonResponse(
        {
            "project": project.code,
            "internal_comment": info["internal_comment"],
            "internal_comment_required": info["internal_comment_required"],
            "attachments": [
                {
                    "name": a.original_name,
                    "description": a.description,
                    "url": reverse("projects:attachment-download", args=[a.pk]),
                }
                for a in info["attachments"]
            ],
        }
    )
