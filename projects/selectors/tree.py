"""The project tree: ancestors, chain, descendants, whether a node may get children,
the project dimension and the code-length warning."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import AccountingDimension, Project
from ..models.accounting import SIE_PROJECT


def project_ancestors(*, project: Project) -> list[Project]:
    """The ancestors of ``project``, main project first (one query)."""
    if not project.level:
        return []
    ancestors = Project.objects.filter(
        company_id=project.company_id, path__in=project.ancestor_paths
    )
    return sorted(ancestors, key=lambda p: p.level)


def project_chain(*, project: Project) -> list[Project]:
    """The ancestors and the project itself, main project first."""
    return [*project_ancestors(project=project), project]


def project_descendants(*, project: Project, include_self: bool = False):
    queryset = Project.objects.filter(company_id=project.company_id, path__startswith=project.path)
    return queryset if include_self else queryset.exclude(pk=project.pk)


def project_new_child_refusal(*, project: Project) -> str | None:
    """Why ``project`` cannot get a sub project, or None when it can.

    A registrable project with registrations keeps them on itself; the registrations would
    otherwise end up on a project that is no longer registrable.
    """
    if project.registrable and project.time_registrations.exists():
        return _("%(code)s is registrable and has registrations; it cannot get sub projects.") % {
            "code": project.code
        }
    return None


def project_dimension(*, company) -> AccountingDimension | None:
    return AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).first()


# resenhet/@id: what a PAXml file carries of a cost-centre or project code. The register
# owns the warning (data flows one way: the register imports no PAXml code); the PAXml
# export reads the same limit.
PAXML_UNIT_ID_MAX = 10


def code_fit_warning(*, company, code: str, kind: str) -> str:
    """A warning when the company uses PAXml and ``code`` (a project or cost-centre code)
    is longer than a PAXml file carries; empty when it fits or PAXml is not in use. The
    export leaves out (and names) the rows that use such a code."""
    if not getattr(getattr(company, "license", None), "paxml", False):
        return ""
    if len(code or "") <= PAXML_UNIT_ID_MAX:
        return ""
    return _(
        "The %(kind)s code %(code)s is %(n)s characters; PAXml carries at most %(max)s, so "
        "PAXml exports will leave out the rows that use it."
    ) % {"kind": kind, "code": code, "n": len(code), "max": PAXML_UNIT_ID_MAX}
