"""Staffing: the week's shifts per project or per employee, one-off shifts, staffing
and the personal schedule."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from companies.selectors import user_has_company_perm
from employees.selectors import employee_for_user

from .. import selectors, services
from ..models import Project, ProjectShift, Shift, ShiftAssignment
from .base import _company, _date, _employee_model, _week, service_call_message


def _next(request) -> str:
    """Where to go back to: the posted ``next`` when it is a path on this site."""
    back = request.POST.get("next") or ""
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return reverse("projects:staffing")


@login_required
def staffing(request):
    """The staffing overview of a week, per project (shifts with who is staffed) or per
    employee; staffing an employee checks the project's competences."""
    company, companies = _company(request)
    if not user_has_company_perm(user=request.user, perm="projects.view_shift", company=company):
        raise PermissionDenied
    start = _week(request)
    root = None
    if (request.GET.get("project") or "").isdigit():
        root = get_object_or_404(
            Project.objects.for_user(request.user).filter(company=company),
            pk=request.GET["project"],
        )
    slots = selectors.staffing_week(company=company, start=start, root=root)
    per_employee = request.GET.get("view") == "employees"
    employees = list(
        _employee_model()
        .objects.filter(company=company)
        .select_related("company")
        .order_by("last_name", "first_name")
    )
    rows = []
    if per_employee:
        days = [start + dt.timedelta(days=i) for i in range(7)]
        by_employee: dict[int, dict] = {}
        for slot in slots:
            for assignment in slot.assignments:
                by_employee.setdefault(assignment.employee_id, {}).setdefault(slot.date, []).append(
                    (slot, assignment)
                )
        rows = [
            (employee, [by_employee.get(employee.pk, {}).get(day, []) for day in days])
            for employee in employees
        ]
    return render(
        request,
        "projects/staffing.html",
        {
            "company": company,
            "companies": companies,
            "slots": slots,
            "employees": employees,
            "root": root,
            "start": start,
            "days": [start + dt.timedelta(days=i) for i in range(7)],
            "per_employee": per_employee,
            "rows": rows,
            "previous": (start - dt.timedelta(days=7)).isoformat(),
            "next": (start + dt.timedelta(days=7)).isoformat(),
            "staffing_used": selectors.staffing_dimension_used(company=company),
            "may_staff": user_has_company_perm(
                user=request.user, perm="projects.add_shiftassignment", company=company
            ),
            "may_add_shift": root is not None
            and user_has_company_perm(
                user=request.user, perm="projects.add_shift", company=company
            ),
            "shift_form": ShiftForm(initial={"date": start}),
        },
    )


class ShiftForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(
        label=gettext_lazy("Start"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(
        label=gettext_lazy("End"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    people = forms.IntegerField(label=gettext_lazy("Number of people"), min_value=1, initial=1)
    comment = forms.CharField(label=gettext_lazy("Comment"), max_length=255, required=False)


@login_required
@require_POST
def staffing_shift_create(request, pk: int):
    """A one-off shift on a project (recurring ones are on the project's Staffing tab)."""
    project = get_object_or_404(
        Project.objects.for_user(request.user).filter(
            selectors.projects_visible_q(user=request.user)
        ),
        pk=pk,
    )
    if not user_has_company_perm(user=request.user, perm="projects.add_shift", company=project):
        raise PermissionDenied
    form = ShiftForm(request.POST)
    if form.is_valid():
        service_call_message(
            request,
            lambda: services.shift_create(project=project, **form.cleaned_data),
            success=_("The shift was added."),
        )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(
        reverse("projects:staffing")
        + "?"
        + urlencode(
            {
                "company": project.company_id,
                "project": project.pk,
                "week": (form.cleaned_data.get("date") if form.is_valid() else None)
                or request.POST.get("week", ""),
            }
        )
    )


@login_required
@require_POST
def staffing_assign(request):
    company, _companies = _company(request)
    if not user_has_company_perm(
        user=request.user, perm="projects.add_shiftassignment", company=company
    ):
        raise PermissionDenied
    employee = get_object_or_404(
        _employee_model().objects.filter(company=company), pk=request.POST.get("employee") or 0
    )
    back = _next(request)

    def assign() -> None:
        if (request.POST.get("shift") or "").isdigit():
            shift = get_object_or_404(
                Shift.objects.filter(project__company=company), pk=request.POST["shift"]
            )
        else:
            recurring = get_object_or_404(
                ProjectShift.objects.filter(project__company=company),
                pk=request.POST.get("recurring") or 0,
            )
            day = _date(request.POST.get("date"))
            if day is None:
                raise ValidationError(_("Give the day of the shift."))
            shift = services.shift_for_occurrence(recurring=recurring, date=day)
        services.shift_assign(
            shift=shift, employee=employee, comment=request.POST.get("comment", "").strip()
        )

    service_call_message(
        request,
        assign,
        success=_("%(employee)s was staffed.") % {"employee": employee.display_name},
    )
    return redirect(back)


@login_required
@require_POST
def staffing_assignment(request, pk: int):
    """Change the comment for the employee on the shift, or take them off it."""
    assignment = get_object_or_404(
        ShiftAssignment.objects.for_user(request.user).select_related("shift__project"), pk=pk
    )
    company = assignment.shift.project.company_id
    back = _next(request)
    if request.POST.get("remove"):
        if not user_has_company_perm(
            user=request.user, perm="projects.delete_shiftassignment", company=company
        ):
            raise PermissionDenied
        services.shift_unassign(assignment=assignment)
        messages.success(request, _("Taken off the shift."))
    else:
        if not user_has_company_perm(
            user=request.user, perm="projects.change_shiftassignment", company=company
        ):
            raise PermissionDenied
        services.shift_assignment_set_comment(
            assignment=assignment, comment=request.POST.get("comment", "").strip()
        )
        messages.success(request, _("The comment was saved."))
    return redirect(back)


@login_required
def my_schedule(request):
    """The employee's own schedule: their shifts of the week, with the shift's comment,
    the project's staffing comment and the comment for them."""
    company, companies = _company(request)
    employee = employee_for_user(user=request.user, company=company)
    start = _week(request)
    assignments = selectors.employee_schedule(employee=employee, start=start) if employee else []
    return render(
        request,
        "projects/my_schedule.html",
        {
            "company": company,
            "companies": companies,
            "employee": employee,
            "assignments": assignments,
            "start": start,
            "previous": (start - dt.timedelta(days=7)).isoformat(),
            "next": (start + dt.timedelta(days=7)).isoformat(),
        },
    )
