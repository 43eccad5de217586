"""Roll-ups over the project tree: the tree with its sums, a project's budget and its
status tab.

Roll-ups run in SQL with a fixed number of queries whatever the size of the tree: a node's
``path`` is its ancestors' zero-padded ids, so "the ancestor at level k" of any row is the
first ``PATH_STEP * (k + 1)`` characters of its path and one ``GROUP BY`` per level sums
every subtree at that level (see :func:`project_rollups`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Q, Sum

from ..models import Project
from ..models.project import PATH_STEP
from .access import projects_mine_q, projects_visible_q
from .base import ZERO, _dec, _model, _model_employee, _registrations_of
from .tree import project_descendants


@dataclass
class Rollup:
    """Sums over a project and all its descendants."""

    worked_hours: Decimal = ZERO
    released_hours: Decimal = ZERO
    budget_hours: Decimal | None = None
    budget_amount: Decimal | None = None

    @property
    def over_budget(self) -> bool:
        return self.budget_hours is not None and self.worked_hours > self.budget_hours

    @property
    def color(self) -> str:
        """Red when the worked hours exceed the budget, green otherwise."""
        return "red" if self.over_budget else "green"

    @property
    def percent(self) -> int:
        if not self.budget_hours:
            return 100 if self.worked_hours else 0
        return int(self.worked_hours * 100 / self.budget_hours)


def project_rollups(
    *,
    company,
    root: Project | None = None,
    employee=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Rollup]:
    """``{path: Rollup}`` for every project of the company (or of ``root``'s subtree).

    Budgets: because a budget is set either on a parent or on its children, never both,
    the plain sum of the budgets in a subtree is the budget the node shows. Two queries.
    """
    projects = Project.objects.filter(company=company)
    if root is not None:
        projects = projects.filter(path__startswith=root.path)
    max_level = projects.aggregate(m=Max("level"))["m"]
    if max_level is None:
        return {}
    min_level = root.level if root is not None else 0

    project_table = Project._meta.db_table
    registration_table = _model("TimeRegistration")._meta.db_table
    reg_where = ["r.company_id = %s"]
    reg_params: list = [company.pk]
    if employee is not None:
        reg_where.append("r.employee_id = %s")
        reg_params.append(employee.pk)
    if date_from is not None:
        reg_where.append("r.date >= %s")
        reg_params.append(date_from)
    if date_to is not None:
        reg_where.append("r.date <= %s")
        reg_params.append(date_to)
    proj_where = ["p.company_id = %s"]
    proj_params: list = [company.pk]
    if root is not None:
        proj_where.append("p.path LIKE %s")
        proj_params.append(root.path + "%")
        reg_where.append(
            f"r.project_id IN (SELECT id FROM {project_table} "  # noqa: S608 (table name)
            "WHERE company_id = %s AND path LIKE %s)"
        )
        reg_params.extend([company.pk, root.path + "%"])

    # Only table names from the models' meta and integer widths go into the text; every
    # value is a parameter.
    per_project = f"""
        SELECT p.path AS path, p.budget_hours AS bh, p.budget_amount AS ba,
               COALESCE(r.worked, 0) AS worked, COALESCE(r.released, 0) AS released
        FROM {project_table} p
        LEFT JOIN (
            SELECT r.project_id AS project_id, SUM(r.hours) AS worked,
                   SUM(CASE WHEN r.released_for_billing THEN r.hours ELSE 0 END) AS released
            FROM {registration_table} r
            WHERE {" AND ".join(reg_where)}
            GROUP BY r.project_id
        ) r ON r.project_id = p.id
        WHERE {" AND ".join(proj_where)}
    """  # noqa: S608
    arms = []
    for level in range(min_level, max_level + 1):
        width = PATH_STEP * (level + 1)
        arms.append(
            f"SELECT SUBSTR(path, 1, {width}) AS anc"  # noqa: S608 (integer width)
            f", SUM(worked), SUM(released), SUM(bh), "
            f"SUM(ba) FROM per WHERE LENGTH(path) >= {width} GROUP BY SUBSTR(path, 1, {width})"
        )
    sql = f"WITH per AS ({per_project}) " + " UNION ALL ".join(arms)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*reg_params, *proj_params])
        rows = cursor.fetchall()
    return {
        anc: Rollup(
            worked_hours=_dec(worked) or ZERO,
            released_hours=_dec(released) or ZERO,
            budget_hours=_dec(bh),
            budget_amount=_dec(ba),
        )
        for anc, worked, released, bh, ba in rows
    }


@dataclass
class TreeNode:
    project: Project
    rollup: Rollup
    children: list[TreeNode] = field(default_factory=list)


def project_tree(*, company, user=None, show_all: bool = True) -> list[TreeNode]:
    """The company's projects as a tree with their roll-ups (three queries in all, plus
    the few that decide what ``user`` may see). With ``show_all`` false only the projects
    the user's employee takes part in, where the project dimension asks for that by
    default; a project whose parent is not shown is shown as a root."""
    projects = Project.objects.filter(company=company)
    if user is not None:
        projects = projects.for_user(user).filter(projects_visible_q(user=user))
        if not show_all:
            projects = projects.filter(projects_mine_q(user=user))
    projects = list(projects.order_by("path"))
    rollups = project_rollups(company=company)
    nodes = {p.pk: TreeNode(p, rollups.get(p.path, Rollup())) for p in projects}
    roots = []
    for project in projects:
        node = nodes[project.pk]
        parent = nodes.get(project.parent_id)
        (parent.children if parent else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.project.code)
    roots.sort(key=lambda n: n.project.code)
    return roots


def project_budget(*, project: Project) -> tuple[Decimal | None, Decimal | None, bool]:
    """(budget hours, budget amount, whether they are a sum of the children's)."""
    own = project.budget_hours is not None or project.budget_amount is not None
    sums = project_descendants(project=project, include_self=True).aggregate(
        h=Sum("budget_hours"), a=Sum("budget_amount")
    )
    return _dec(sums["h"]), _dec(sums["a"]), not own and (sums["h"] or sums["a"]) is not None


# --- Status tab -------------------------------------------------------------------------------


@dataclass
class EmployeeHours:
    employee_id: int
    employee: object
    worked_hours: Decimal
    released_hours: Decimal


@dataclass
class ProjectStatus:
    project: Project
    rollup: Rollup
    per_employee: list[EmployeeHours]


def project_status(
    *,
    project: Project,
    employee=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> ProjectStatus:
    """Worked, released and budget hours over the project and all its children, with the
    drill-down per employee; filterable by employee and date range."""
    rollups = project_rollups(
        company=project.company,
        root=project,
        employee=employee,
        date_from=date_from,
        date_to=date_to,
    )
    registrations = _model("TimeRegistration").objects.filter(
        company_id=project.company_id, project__path__startswith=project.path
    )
    registrations = _registrations_of(
        registrations, employee=employee, date_from=date_from, date_to=date_to
    )
    rows = (
        registrations.values("employee")
        .annotate(worked=Sum("hours"), released=Sum("hours", filter=Q(released_for_billing=True)))
        .order_by("employee")
    )
    employees = (
        _model_employee()
        .objects.select_related("company")
        .in_bulk([row["employee"] for row in rows])
    )
    per_employee = [
        EmployeeHours(
            employee_id=row["employee"],
            employee=employees.get(row["employee"]),
            worked_hours=_dec(row["worked"]) or ZERO,
            released_hours=_dec(row["released"]) or ZERO,
        )
        for row in rows
    ]
    per_employee.sort(key=lambda e: -e.worked_hours)
    return ProjectStatus(project, rollups.get(project.path, Rollup()), per_employee)
