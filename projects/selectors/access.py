"""Who sees and registers on which projects: the permissions the pages and services
check, accounting-based authorization and the "only my projects" selection."""

from __future__ import annotations

from django.db.models import Q

from companies.selectors import company_ids_for_user, user_has_company_perm
from employees.selectors import employee_for_user

from ..models import AccountingDimension, Project
from ..models.accounting import SIE_PROJECT
from .base import _model
from .inherited import projects_for_participant
from .tree import project_chain

# The permissions the project pages, API and services check.
PERM_MANAGE_PROJECTS = "projects.change_project"
PERM_REGISTER_TIME = "projects.add_timeregistration"
PERM_VIEW_OTHERS_TIME = "companies.view_others_time"
PERM_REGISTER_FOR_OTHERS = "companies.register_time_for_others"
PERM_REVIEW_TIME = "companies.review_time"
PERM_RELEASE_BILLING = "companies.release_billing"


def project_authorized_paths(*, user, company, perm: str | None = None) -> list[str] | None:
    """The paths of the projects through which ``user`` reaches ``company``'s projects when
    the project dimension is "used for authorization and selection"; each reaches its
    whole branch. ``None`` means not restricted: the dimension is not used for
    authorization, or the user administers the project register (``projects.change_project``
    in the company). With ``perm`` only the rows whose role carries it count.
    """
    company_id = company if isinstance(company, int) else company.pk
    dimension = AccountingDimension.objects.filter(
        company_id=company_id, sie_number=SIE_PROJECT
    ).first()
    if dimension is None or not dimension.used_for_authorization:
        return None
    if user is None:
        return None
    if user_has_company_perm(user=user, perm=PERM_MANAGE_PROJECTS, company=company_id):
        return None
    rows = _model("ProjectAuthorization").objects.filter(
        user_id=user.pk, project__company_id=company_id
    )
    if perm:
        app_label, codename = perm.split(".", 1)
        rows = rows.filter(
            role__permissions__content_type__app_label=app_label,
            role__permissions__codename=codename,
        )
    return sorted(set(rows.values_list("project__path", flat=True)))


def projects_on_branches_q(*, paths: list[str], prefix: str = "") -> Q:
    """Rows on any of the branches ``paths`` (``prefix`` reaches the project's path from
    another model, e.g. ``"project__"``)."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def projects_visible_q(*, user) -> Q:
    """Which projects ``user`` may see, per company: all of them, or (where the project
    dimension is used for authorization) the branches reached through a project
    authorization."""
    q = Q(pk__in=[])
    for company_id in company_ids_for_user(user=user):
        paths = project_authorized_paths(user=user, company=company_id)
        company_q = Q(company_id=company_id)
        q |= company_q if paths is None else company_q & projects_on_branches_q(paths=paths)
    return q


def projects_mine_q(*, user) -> Q:
    """The default selection of "by default show only projects I take part in": in each
    company whose project dimension says so and where the user is linked to an employee,
    the projects that employee takes part in (own, inherited, all employees). A user
    without an employee there (an administrator) sees every project of that company."""
    q = Q(pk__in=[])
    for company_id in company_ids_for_user(user=user):
        company_q = Q(company_id=company_id)
        dimension = AccountingDimension.objects.filter(
            company_id=company_id, sie_number=SIE_PROJECT
        ).first()
        employee = (
            employee_for_user(user=user, company=company_id)
            if dimension is not None and dimension.show_only_my_projects
            else None
        )
        if employee is None:
            q |= company_q
        else:
            q |= company_q & Q(pk__in=projects_for_participant(employee=employee))
    return q


def project_user_may_register(*, user, project: Project) -> bool:
    """Whether ``user`` may register on ``project`` as far as accounting-based
    authorization goes (a role that carries ``projects.add_timeregistration`` on the
    project or an ancestor, where the project dimension is used for authorization)."""
    paths = project_authorized_paths(user=user, company=project.company_id, perm=PERM_REGISTER_TIME)
    return paths is None or any(project.path.startswith(path) for path in paths)


def project_authorizations(*, project: Project):
    """Who reaches the project, and through which role: its own rows and its ancestors'."""
    chain = project_chain(project=project)
    return (
        _model("ProjectAuthorization")
        .objects.filter(project__in=chain)
        .select_related("user", "role", "project")
        .order_by("user__username")
    )
