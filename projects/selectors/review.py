"""Review (partial approval): who reviews which branch, and the registrations to review."""

from __future__ import annotations

import datetime as dt

from companies.selectors import user_has_company_perm

from ..models import Project
from .access import PERM_REVIEW_TIME, projects_on_branches_q
from .base import _model, _registrations_of


def project_reviewer_paths(*, user, company) -> list[str]:
    """The paths of the projects ``user`` is a reviewer of in ``company``. A reviewer of a
    main or sub project reviews its whole branch (inherited down the tree)."""
    company_id = company if isinstance(company, int) else company.pk
    return sorted(
        set(
            _model("ProjectReviewer")
            .objects.filter(user_id=user.pk, project__company_id=company_id)
            .values_list("project__path", flat=True)
        )
    )


def project_reviewers(*, project: Project):
    """Who reviews the project: its own reviewers and those of its ancestors."""
    chain_paths = [*project.ancestor_paths, project.path]
    return (
        _model("ProjectReviewer")
        .objects.filter(project__company_id=project.company_id, project__path__in=chain_paths)
        .select_related("user", "project")
        .order_by("user__username", "project__path")
    )


def user_reviews_project(*, user, project: Project) -> bool:
    if not user_has_company_perm(user=user, perm=PERM_REVIEW_TIME, company=project.company_id):
        return False
    paths = project_reviewer_paths(user=user, company=project.company_id)
    return any(project.path.startswith(path) for path in paths)


def review_registrations(
    *,
    user,
    company,
    root: Project | None = None,
    employee=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    status: str | None = None,
):
    """The registrations ``user`` may review in ``company`` (the branches they are a
    reviewer of), filtered by project subtree, employee, period and review status.
    A queryset: evaluated it is one query, plus one for the reviewer paths."""
    paths = project_reviewer_paths(user=user, company=company)
    registrations = (
        _model("TimeRegistration")
        .objects.filter(company=company)
        .filter(projects_on_branches_q(paths=paths, prefix="project__"))
    )
    if root is not None:
        registrations = registrations.filter(project__path__startswith=root.path)
    registrations = _registrations_of(
        registrations, employee=employee, date_from=date_from, date_to=date_to
    )
    if status:
        registrations = registrations.filter(review_status=status)
    return registrations.select_related(
        "employee__company", "time_code", "project", "reviewed_by"
    ).order_by("project__code", "date", "employee__last_name", "pk")
