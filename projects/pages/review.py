"""Review (partial approval): reviewers approve or reject registrations."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from companies.selectors import user_has_company_perm

from .. import selectors, services
from ..models import Project, ReviewStatus
from .base import _company, _employee_model


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
            selectors.projects_on_branches_q(paths=reviewer_paths)
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
