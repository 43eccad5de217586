"""The purpose-built pages: the project tree (``/projects/``) and a project's page with
its tabs."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from companies.selectors import companies_for_user, user_has_company_perm
from employees.selectors import employee_for_user

from . import selectors, services
from .models import Project, ProjectAttachment
from .pages.base import service_call_message

TABS = [
    ("general", gettext_lazy("General")),
    ("comments", gettext_lazy("Comments")),
    ("attachments", gettext_lazy("Attachments")),
    ("staffing", gettext_lazy("Staffing")),
    ("competences", gettext_lazy("Competences")),
    ("participants", gettext_lazy("Participants")),
    ("status", gettext_lazy("Status")),
    ("billing", gettext_lazy("Billing")),
    ("review", gettext_lazy("Review")),
    ("places", gettext_lazy("Places")),
    ("authorization", gettext_lazy("Authorization")),
]


class StatusFilterForm(forms.Form):
    employee = forms.ModelChoiceField(queryset=None, required=False, label=gettext_lazy("Employee"))
    date_from = forms.DateField(required=False, label=gettext_lazy("From"))
    date_to = forms.DateField(required=False, label=gettext_lazy("To"))

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        employee_model = apps.get_model("employees", "Employee")
        self.fields["employee"].queryset = employee_model.objects.filter(company=company)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    description = forms.CharField(max_length=255, required=False, label=gettext_lazy("Description"))
    show_at_registration = forms.BooleanField(
        required=False, label=gettext_lazy("Show at registration")
    )


def _perm(request, project, perm: str) -> bool:
    return user_has_company_perm(user=request.user, perm=perm, company=project)


@login_required
def project_tree(request):
    """Every company of the user, with its projects as an expandable tree."""
    companies = list(companies_for_user(user=request.user))
    show_all = request.GET.get("all") == "1"
    trees = [
        (company, selectors.project_tree(company=company, user=request.user, show_all=show_all))
        for company in companies
    ]
    mine_applies = any(_shows_only_mine(request.user, company) for company in companies)
    return render(
        request,
        "projects/tree.html",
        {"trees": trees, "show_all": show_all, "mine_applies": mine_applies},
    )


def _shows_only_mine(user, company) -> bool:
    dimension = selectors.project_dimension(company=company)
    return bool(
        dimension is not None
        and dimension.show_only_my_projects
        and employee_for_user(user=user, company=company) is not None
    )


def _visible_projects(request):
    return Project.objects.for_user(request.user).filter(
        selectors.projects_visible_q(user=request.user)
    )


@login_required
def project_detail(request, pk: int):
    project = get_object_or_404(
        _visible_projects(request).select_related("company", "parent", "time_code"), pk=pk
    )
    chain = selectors.project_chain(project=project)
    budget_hours, budget_amount, summed = selectors.project_budget(project=project)
    color, text_color = selectors.project_effective_color(project=project, chain=chain)
    status_form = StatusFilterForm(request.GET or None, company=project.company)
    filters = status_form.cleaned_data if status_form.is_valid() else {}
    status = selectors.project_status(project=project, **{k: v for k, v in filters.items() if v})
    may_see_authorization = _perm(request, project, "companies.view_project_authorization")
    hidden_tabs = set()
    if not may_see_authorization:
        hidden_tabs.add("authorization")
    if not selectors.staffing_dimension_used(company=project.company_id):
        hidden_tabs.add("staffing")  # the seed: only for the staffing dimension
    status_query = {"tab": "status"}
    status_query.update({k: v for k, v in request.GET.items() if k in StatusFilterForm.base_fields})
    context = {
        "project": project,
        "chain": chain[:-1],
        "tabs": [t for t in TABS if t[0] not in hidden_tabs],
        "bar": request.GET.get("bar") if request.GET.get("bar") in ("worked", "released") else "",
        "status_query": urlencode(status_query),
        "reviewers": selectors.project_reviewers(project=project),
        "tab": request.GET.get("tab")
        if request.GET.get("tab") in {t[0] for t in TABS} - hidden_tabs
        else "general",
        "budget_hours": budget_hours,
        "budget_amount": budget_amount,
        "budget_summed": summed,
        "color": color,
        "text_color": text_color,
        "staffing_comment": selectors.project_effective_staffing_comment(
            project=project, chain=chain
        ),
        "competences": sorted(
            selectors.project_effective_competences(project=project, chain=chain).items(),
            key=lambda item: item[0].name,
        ),
        "participants": selectors.project_effective_participants(project=project, chain=chain),
        "status": status,
        "status_form": status_form,
        "bar_max": max(status.rollup.worked_hours, status.rollup.budget_hours or 0, 1),
        "billing_basis": selectors.project_billing_basis(project=project),
        "attachments": project.attachments.all(),
        "attachment_form": AttachmentForm(),
        "may_change": _perm(request, project, "projects.change_project"),
        "new_child_refusal": selectors.project_new_child_refusal(project=project),
        "children": project.children.order_by("code"),
        "authorizations": (
            selectors.project_authorizations(project=project) if may_see_authorization else []
        ),
    }
    return render(request, "projects/detail.html", context)


@login_required
@require_POST
def attachment_upload(request, pk: int):
    project = get_object_or_404(_visible_projects(request), pk=pk)
    if not _perm(request, project, "projects.add_projectattachment"):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        service_call_message(
            request,
            lambda: services.project_attachment_create(project=project, **form.cleaned_data),
            success=_("The attachment was added."),
        )
    else:
        messages.error(request, _("Choose a file to upload."))
    return redirect(f"{project.get_absolute_url()}?tab=attachments")


def _attachment(request, pk: int) -> ProjectAttachment:
    return get_object_or_404(
        ProjectAttachment.objects.for_user(request.user)
        .filter(project__in=_visible_projects(request))
        .select_related("project"),
        pk=pk,
    )


@login_required
def attachment_download(request, pk: int):
    attachment = _attachment(request, pk)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
    )


@login_required
@require_POST
def attachment_delete(request, pk: int):
    attachment = _attachment(request, pk)
    if not _perm(request, attachment.project, "projects.delete_projectattachment"):
        raise PermissionDenied
    project = attachment.project
    services.project_attachment_delete(attachment=attachment)
    messages.success(request, _("The attachment was deleted."))
    return redirect(f"{project.get_absolute_url()}?tab=attachments")
