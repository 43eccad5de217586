"""The pages people use every day: the time registration week, review (partial
approval), the billing basis and its release, staffing, the personal schedule and the
places. Every write goes through the services; every read is scoped to the user's
companies (``for_user``) and to what their role allows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from companies.selectors import companies_for_user, user_has_company_perm
from employees.selectors import employee_for_user

from . import selectors, services
from .exports import billing_basis_csv_response
from .models import (
    Place,
    Project,
    ProjectShift,
    ReviewStatus,
    Shift,
    ShiftAssignment,
    TimeCode,
)

PERM_ADD_TIME = "projects.add_timeregistration"


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


def _next(request) -> str:
    """Where to go back to: the posted ``next`` when it is a path on this site."""
    back = request.POST.get("next") or ""
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return reverse("projects:staffing")


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- Time registration ----------------------------------------------------------------------


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
            data = form.cleaned_data
            try:
                _registration, warnings = services.time_registration_create(
                    employee=employee,
                    date=data["date"],
                    time_code=data["time_code"],
                    hours=data["hours"],
                    project=data["project"],
                    internal_comment=data["internal_comment"],
                    external_comment=data["external_comment"],
                    billable=data["billable"],
                    user=request.user,
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
    try:
        services.time_registration_delete(registration=registration)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The registration was deleted."))
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


# --- Review (partial approval) ----------------------------------------------------------------


class ReviewFilterForm(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(),
        required=False,
        label=gettext_lazy("Project (with sub projects)"),
    )
    employee = forms.ModelChoiceField(queryset=None, required=False, label=gettext_lazy("Employee"))
    date_from = forms.DateField(required=False, label=gettext_lazy("From"))
    date_to = forms.DateField(required=False, label=gettext_lazy("To"))
    status = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Review"),
        choices=[("", gettext_lazy("All")), *ReviewStatus.choices],
    )

    def __init__(self, *args, company, reviewer_paths, **kwargs):
        super().__init__(*args, **kwargs)
        branches = Project.objects.filter(company=company).filter(
            selectors._branches_q(reviewer_paths)
        )
        self.fields["project"].queryset = branches.order_by("code")
        self.fields["employee"].queryset = (
            _employee_model()
            .objects.filter(company=company)
            .select_related("company")
            .order_by("last_name", "first_name")
        )


@login_required
def review(request):
    """Reviewers approve or reject the registrations on the projects they review, filtered
    by project subtree, employee, period and status. The service enforces who may."""
    company, companies = _company(request)
    if not user_has_company_perm(
        user=request.user, perm=selectors.PERM_REVIEW_TIME, company=company
    ):
        raise PermissionDenied
    paths = selectors.project_reviewer_paths(user=request.user, company=company)
    form = ReviewFilterForm(request.GET or None, company=company, reviewer_paths=paths)
    filters = form.cleaned_data if form.is_valid() else {}
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("registration") if i.isdigit()]
        approve = request.POST.get("decision") == "approve"
        registrations = apps.get_model("projects", "TimeRegistration").objects.filter(
            company=company, pk__in=ids
        )
        if not ids:
            messages.error(request, _("Choose the registrations first."))
        else:
            try:
                count = services.time_registrations_review(
                    user=request.user, registrations=registrations, approve=approve
                )
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(
                    request,
                    (
                        ngettext(
                            "%(n)s registration approved.", "%(n)s registrations approved.", count
                        )
                        if approve
                        else ngettext(
                            "%(n)s registration rejected.", "%(n)s registrations rejected.", count
                        )
                    )
                    % {"n": count},
                )
        return redirect(request.get_full_path())
    registrations = list(
        selectors.review_registrations(
            user=request.user,
            company=company,
            root=filters.get("project"),
            employee=filters.get("employee"),
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
            status=filters.get("status") or None,
        )[:2000]
    )
    return render(
        request,
        "projects/review.html",
        {
            "company": company,
            "companies": companies,
            "form": form,
            "registrations": registrations,
            "total": sum((r.hours for r in registrations), Decimal(0)),
            "reviews_anything": bool(paths),
        },
    )


# --- Billing ---------------------------------------------------------------------------------


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


# --- Staffing ----------------------------------------------------------------------------------


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
        try:
            services.shift_create(project=project, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The shift was added."))
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
    try:
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
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(employee)s was staffed.") % {"employee": employee.display_name}
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


# --- Places ------------------------------------------------------------------------------------


class PlaceImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


class PlaceForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ["name", "address", "latitude", "longitude", "radius_m"]


@login_required
def places(request):
    """The company's places, their import from CSV (line-level errors, nothing saved when
    a line is wrong) and a link to edit each."""
    company, companies = _company(request)
    if not user_has_company_perm(user=request.user, perm="projects.view_place", company=company):
        raise PermissionDenied
    may_change = user_has_company_perm(
        user=request.user, perm="projects.add_place", company=company
    )
    form = PlaceImportForm()
    errors: list[str] = []
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = PlaceImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                saved = services.places_import(
                    company=company, content=form.cleaned_data["file"].read()
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    ngettext("%(n)s place imported.", "%(n)s places imported.", len(saved))
                    % {"n": len(saved)},
                )
                return redirect(reverse("projects:places") + f"?company={company.pk}")
    return render(
        request,
        "projects/places.html",
        {
            "company": company,
            "companies": companies,
            "places": Place.objects.filter(company=company).order_by("name"),
            "form": form,
            "errors": errors,
            "may_change": may_change,
        },
    )


@login_required
def place_edit(request, pk: int | None = None):
    company, _companies = _company(request)
    place = None
    if pk is not None:
        place = get_object_or_404(Place.objects.for_user(request.user), pk=pk)
        company = place.company
    perm = "projects.change_place" if place else "projects.add_place"
    if not user_has_company_perm(user=request.user, perm=perm, company=company):
        raise PermissionDenied
    form = PlaceForm(request.POST or None, instance=place or Place(company=company))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The place was saved."))
        return redirect(reverse("projects:places") + f"?company={company.pk}")
    return render(
        request, "projects/place_form.html", {"form": form, "place": place, "company": company}
    )
