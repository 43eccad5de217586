"""Reads of the project register: the tree with its roll-ups, inherited values (colour,
staffing comment, competences, participants), status and prices.

Roll-ups run in SQL with a fixed number of queries whatever the size of the tree: a node's
``path`` is its ancestors' zero-padded ids, so "the ancestor at level k" of any row is the
first ``PATH_STEP * (k + 1)`` characters of its path and one ``GROUP BY`` per level sums
every subtree at that level (see :func:`project_rollups`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.db import connection
from django.db.models import Max, Q, Sum
from django.utils.translation import gettext as _

from companies.selectors import company_ids_for_user, user_has_company_perm
from employees.selectors import employee_for_user

from .models import (
    AccountingDimension,
    Project,
    ProjectCompetence,
    ProjectPrice,
)
from .models.accounting import SIE_PROJECT
from .models.project import PATH_STEP

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _model(name: str):
    return apps.get_model("projects", name)


def _dec(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)


# --- The tree ------------------------------------------------------------------------------


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
    if employee is not None:
        registrations = registrations.filter(employee=employee)
    if date_from is not None:
        registrations = registrations.filter(date__gte=date_from)
    if date_to is not None:
        registrations = registrations.filter(date__lte=date_to)
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


def _model_employee():
    return apps.get_model("employees", "Employee")


# --- Inherited values ---------------------------------------------------------------------------


def text_color_for(color: str) -> str:
    """Black or white, whichever contrasts better with ``color`` (#RRGGBB), by the WCAG
    relative luminance."""
    if not color:
        return "#000000"
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#FFFFFF"


def _inherited(chain: list[Project], flag: str) -> list[Project]:
    """The projects whose value counts for the last of ``chain``: itself, and upwards as
    long as each asks to inherit from its parent. Nearest first."""
    result = []
    for project in reversed(chain):
        result.append(project)
        if not getattr(project, flag):
            break
    return result


def project_effective_color(*, project: Project, chain: list[Project] | None = None):
    """(colour, text colour) after "inherit colour"; text colour automatic when empty."""
    chain = chain or project_chain(project=project)
    source = _inherited(chain, "inherit_color")[-1]
    color = source.color
    text = source.text_color or text_color_for(color) if color else source.text_color
    return color, text or ""


def project_effective_staffing_comment(*, project: Project, chain=None) -> str:
    """A staffing comment applies to all children unless one of them has its own."""
    chain = chain or project_chain(project=project)
    for node in reversed(chain):
        if node.staffing_comment:
            return node.staffing_comment
    return ""


def project_effective_competences(*, project: Project, chain=None) -> dict:
    """``{competence: required level}``: its own, plus the parent's when it inherits."""
    chain = chain or project_chain(project=project)
    sources = _inherited(chain, "inherit_competences")
    rows = ProjectCompetence.objects.filter(project__in=sources).select_related("competence__group")
    required: dict = {}
    for row in rows:
        required[row.competence] = max(required.get(row.competence, 0), row.level)
    return required


@dataclass
class EffectiveParticipant:
    participant: object
    inherited: bool


@dataclass
class EffectiveParticipants:
    all_employees: bool
    participants: list[EffectiveParticipant]

    def includes(self, employee) -> bool:
        return self.all_employees or any(
            p.participant.employee_id == employee.pk for p in self.participants
        )


def project_effective_participants(*, project: Project, chain=None) -> EffectiveParticipants:
    """Own participants and, with "inherit participants", those of the parent (read-only)."""
    chain = chain or project_chain(project=project)
    sources = _inherited(chain, "inherit_participants")
    rows = (
        _model("ProjectParticipant")
        .objects.filter(project__in=sources)
        .select_related("employee")
        .order_by("employee__last_name", "employee__first_name")
    )
    seen: dict[int, EffectiveParticipant] = {}
    for row in rows:
        inherited = row.project_id != project.pk
        current = seen.get(row.employee_id)
        if current is None or (current.inherited and not inherited):
            seen[row.employee_id] = EffectiveParticipant(row, inherited)
    return EffectiveParticipants(
        all_employees=any(p.all_employees_participate for p in sources),
        participants=list(seen.values()),
    )


def employee_may_staff_project(*, employee, project: Project) -> bool:
    """Whether the employee has every competence the project requires, at its level
    (:func:`employee_missing_competences` names what is missing)."""
    return not employee_missing_competences(employee=employee, project=project)


def projects_for_participant(*, employee):
    """Ids of the projects the employee takes part in (own, all-employees, inherited)."""
    projects = list(
        Project.objects.filter(company_id=employee.company_id).only(
            "pk", "path", "level", "all_employees_participate", "inherit_participants"
        )
    )
    direct = set(
        _model("ProjectParticipant")
        .objects.filter(employee=employee)
        .values_list("project__path", flat=True)
    )
    by_path = {p.path: p for p in projects}
    result = set()
    for project in projects:
        node = project
        while node is not None:
            if node.path in direct or node.all_employees_participate:
                result.add(project.pk)
                break
            if not node.inherit_participants or not node.level:
                break
            node = by_path.get(node.path[: PATH_STEP * node.level])
    return result


# --- Billing ---------------------------------------------------------------------------------


def project_billing_price(*, project: Project, values=(), chain=None) -> Decimal | None:
    """The hourly price: an override for one of ``values`` on the project (or the nearest
    ancestor that has one), else the project's price, else the nearest ancestor's."""
    chain = chain or project_chain(project=project)
    value_ids = [v.pk for v in values]
    if value_ids:
        overrides = {
            (row.project_id): row.hourly_price
            for row in ProjectPrice.objects.filter(
                project__in=chain, value_id__in=value_ids
            ).order_by("hourly_price")
        }
        for node in reversed(chain):
            if node.pk in overrides:
                return overrides[node.pk]
    for node in reversed(chain):
        if node.hourly_price is not None:
            return node.hourly_price
    return None


def project_billing_basis(*, project: Project) -> dict:
    """What is released for billing on the project (and its children). The external
    comment travels with it only on a fixed-price project."""
    registrations = _model("TimeRegistration").objects.filter(
        company_id=project.company_id,
        project__path__startswith=project.path,
        released_for_billing=True,
        billable=True,
    )
    totals = registrations.aggregate(hours=Sum("hours"))
    fixed = project.billing_model == Project.BillingModel.FIXED_PRICE
    amount = (
        project.fixed_price
        if fixed
        else sum(
            (
                (r.hours * (r.billing_price or ZERO))
                for r in registrations.only("hours", "billing_price")
            ),
            ZERO,
        ).quantize(CENT)
    )
    return {
        "project": project.code,
        "hours": _dec(totals["hours"]) or ZERO,
        "amount": amount,
        "external_comment": project.external_comment if fixed else "",
    }


# --- Registration helpers ------------------------------------------------------------------------


def project_registration_info(*, project: Project) -> dict:
    """What a registration form shows when the project is picked: the internal comment and
    the attachments marked "show at registration"."""
    return {
        "internal_comment": project.internal_comment,
        "internal_comment_required": project.internal_comment_required,
        "attachments": list(project.attachments.filter(show_at_registration=True)),
    }


def home_accounting_on(*, employee, day: dt.date):
    """The home accounting in force on ``day`` (latest ``valid_from`` on or before it)."""
    return (
        _model("HomeAccounting")
        .objects.filter(employee=employee, valid_from__lte=day)
        .select_related("cost_center", "project")
        .order_by("-valid_from")
        .first()
    )


def work_schedule_on(*, employee, day: dt.date):
    return (
        _model("WorkSchedule")
        .objects.filter(employee=employee, valid_from__lte=day)
        .order_by("-valid_from")
        .first()
    )


def project_authorizations(*, project: Project):
    """Who reaches the project, and through which role: its own rows and its ancestors'."""
    chain = project_chain(project=project)
    return (
        _model("ProjectAuthorization")
        .objects.filter(project__in=chain)
        .select_related("user", "role", "project")
        .order_by("user__username")
    )


# --- Who sees and registers on which projects ---------------------------------------------------

PERM_MANAGE_PROJECTS = "projects.change_project"
PERM_REGISTER_TIME = "projects.add_timeregistration"


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


def _branches_q(paths: list[str], prefix: str = "") -> Q:
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
        q |= company_q if paths is None else company_q & _branches_q(paths)
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


# Events (Händelser) ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventLine:
    """One extra compensation line an event gives: ``quantity`` hours (per hour) or 1 day
    (per day) × ``unit_price`` = ``amount`` (SEK, rounded to öre), accounted on ``project``
    and ``cost_center`` of the time it came from."""

    event: object
    employee: object
    date: dt.date
    salary_type_code: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    project: Project
    cost_center: object | None


def _path_ids(path: str) -> list[int]:
    """The ids on a tree path, main project first, the project itself last."""
    return [int(path[i : i + PATH_STEP]) for i in range(0, len(path), PATH_STEP)]


def _event_matches(event, registration) -> bool:
    if not event.valid_on(registration.date):
        return False
    codes = event.time_codes.all()  # prefetched
    if codes:
        return registration.time_code_id in {c.pk for c in codes}
    return registration.time_code.kind == _model("TimeCode").Kind.ATTENDANCE


def project_events_for_registrations(*, registrations) -> list[EventLine]:
    """The extra compensation lines the projects' events give for ``registrations`` (a
    queryset or an iterable of time registrations).

    A registration gets the events of its own project and those of its ancestors that
    apply to sub projects, when the event is valid on the registration's date and the
    time code matches (the event's time codes, or any attendance code when it names
    none). Per hour: one line per event, employee, day, project and cost centre with the
    summed hours. Per day: one line per event, employee and day with positive summed
    hours, accounted where most of those hours were registered.

    Three queries whatever the number of registrations and events: the registrations with
    their employee, time code, project and cost centre; the events; their time codes.

    Steps: load the registrations → each project's chain (itself, then its ancestors) →
    the events valid in the period, by project → sum the hours per event line → the lines.
    """
    rows = _event_registrations(registrations)
    if not rows:
        return []
    chains = _event_project_chains(rows)
    by_project = _events_by_project(rows=rows, chains=chains)
    hourly, daily = _event_hours(rows=rows, chains=chains, by_project=by_project)
    lines = _event_lines(hourly=hourly, daily=daily)
    lines.sort(
        key=lambda x: (x.employee.pk, x.date, x.salary_type_code, x.project.code, x.event.pk)
    )
    return lines


def _event_registrations(registrations) -> list:
    """The registrations on a project, by pk, with their employee, time code, project and
    cost centre (one query)."""
    related = ("employee", "time_code", "project", "cost_center")
    if hasattr(registrations, "select_related"):
        rows = list(registrations.select_related(*related).order_by("pk"))
    else:
        pks = [r.pk for r in registrations]
        rows = list(_model("TimeRegistration").objects.filter(pk__in=pks).select_related(*related))
        rows.sort(key=lambda r: r.pk)
    return [r for r in rows if r.project_id is not None]


def _event_project_chains(rows) -> dict[int, list[int]]:
    """``{project id: [the project, its parent, ..., the root]}`` for the registrations'
    projects."""
    chains: dict[int, list[int]] = {}
    for r in rows:
        if r.project_id not in chains:
            ids = _path_ids(r.project.path) or [r.project_id]
            chains[r.project_id] = [r.project_id, *reversed(ids[:-1])]
    return chains


def _events_by_project(*, rows, chains: dict[int, list[int]]) -> dict[int, list]:
    """The events that may apply (the registrations' own projects' events, and their
    ancestors' events that apply to sub projects) valid some day between the first and
    the last registration, by project, in pk order (two queries)."""
    own_ids = set(chains)
    ancestor_ids = {pk for chain in chains.values() for pk in chain[1:]}
    first = min(r.date for r in rows)
    last = max(r.date for r in rows)
    events = (
        _model("ProjectEvent")
        .objects.filter(
            Q(project_id__in=own_ids) | Q(project_id__in=ancestor_ids, applies_to_sub_projects=True)
        )
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=last))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
        .prefetch_related("time_codes")
        .order_by("pk")
    )
    by_project: dict[int, list] = {}
    for event in events:
        by_project.setdefault(event.project_id, []).append(event)
    return by_project


def _events_for(r, *, chain: list[int], by_project: dict[int, list]):
    """The events that give ``r`` a line: its own project's, and its ancestors' that apply
    to sub projects, whose validity and time codes match."""
    for position, project_id in enumerate(chain):
        for event in by_project.get(project_id, ()):
            if position and not event.applies_to_sub_projects:
                continue
            if _event_matches(event, r):
                yield event


def _event_hours(*, rows, chains, by_project) -> tuple[dict[tuple, list], dict[tuple, dict]]:
    """The hours summed per line: per hour ``{(event, employee, day, project, cost centre):
    [event, registration, hours]}``; per day ``{(event, employee, day): {"event", "hours",
    "where": {(project, cost centre): [registration, hours]}}}``."""
    per_hour = _model("ProjectEvent").Kind.PER_HOUR
    hourly: dict[tuple, list] = {}
    daily: dict[tuple, dict] = {}
    for r in rows:
        for event in _events_for(r, chain=chains[r.project_id], by_project=by_project):
            if event.kind == per_hour:
                key = (event.pk, r.employee_id, r.date, r.project_id, r.cost_center_id)
                entry = hourly.setdefault(key, [event, r, Decimal(0)])
                entry[2] += r.hours
            else:
                key = (event.pk, r.employee_id, r.date)
                entry = daily.setdefault(key, {"event": event, "hours": Decimal(0), "where": {}})
                entry["hours"] += r.hours
                where = entry["where"].setdefault((r.project_id, r.cost_center_id), [r, 0])
                where[1] += r.hours
    return hourly, daily


def _event_lines(*, hourly: dict[tuple, list], daily: dict[tuple, dict]) -> list[EventLine]:
    """The lines: per hour with the summed hours (none for zero); per day one (for a
    positive sum) where most of the day's hours are (the first registration on a tie)."""
    lines = [
        _event_line(event, r, hours, event.amount) for event, r, hours in hourly.values() if hours
    ]
    for entry in daily.values():
        if entry["hours"] <= 0:
            continue
        r = max(entry["where"].values(), key=lambda pair: pair[1])[0]
        lines.append(_event_line(entry["event"], r, Decimal(1), entry["event"].amount))
    return lines


def _event_line(event, registration, quantity: Decimal, unit_price: Decimal) -> EventLine:
    return EventLine(
        event=event,
        employee=registration.employee,
        date=registration.date,
        salary_type_code=event.salary_type_code,
        quantity=quantity,
        unit_price=unit_price,
        amount=(quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP),
        project=registration.project,
        cost_center=registration.cost_center,
    )


# --- Time registration week view -------------------------------------------------------------

PERM_VIEW_OTHERS_TIME = "companies.view_others_time"
PERM_REGISTER_FOR_OTHERS = "companies.register_time_for_others"
PERM_REVIEW_TIME = "companies.review_time"
PERM_RELEASE_BILLING = "companies.release_billing"


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def registration_projects(
    *, employee, user=None, date_from: dt.date, date_to: dt.date
) -> list[Project]:
    """The projects ``employee`` may register on between the two dates, as the
    registration service would accept them: registrable, ongoing with every ancestor
    ongoing, running on at least one of the days, the employee a participant where the
    project dimension asks for it, and ``user`` authorized where the dimension is used for
    authorization. A fixed number of queries whatever the number of projects (five; a
    few more for the authorization check when the dimension is used for it)."""
    company_id = employee.company_id
    projects = Project.objects.filter(
        company_id=company_id, registrable=True, status=Project.Status.ONGOING
    ).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=date_to),
        Q(end_date__isnull=True) | Q(end_date__gte=date_from),
    )
    stopped = list(
        Project.objects.filter(company_id=company_id)
        .exclude(status=Project.Status.ONGOING)
        .values_list("path", flat=True)
    )
    dimension = AccountingDimension.objects.filter(
        company_id=company_id, sie_number=SIE_PROJECT
    ).first()
    if dimension is not None and dimension.only_participants_may_register:
        projects = projects.filter(pk__in=projects_for_participant(employee=employee))
    if user is not None:
        paths = project_authorized_paths(user=user, company=company_id, perm=PERM_REGISTER_TIME)
        if paths is not None:
            projects = projects.filter(_branches_q(paths))
    return [
        p for p in projects.order_by("code") if not any(p.path.startswith(path) for path in stopped)
    ]


@dataclass
class WeekDay:
    date: dt.date
    registrations: list
    scheduled: Decimal
    total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.total - self.scheduled


@dataclass
class TimeWeek:
    employee: object
    start: dt.date
    days: list[WeekDay]

    @property
    def total(self) -> Decimal:
        return sum((d.total for d in self.days), ZERO)

    @property
    def scheduled(self) -> Decimal:
        return sum((d.scheduled for d in self.days), ZERO)

    @property
    def difference(self) -> Decimal:
        return self.total - self.scheduled


def time_week(*, employee, start: dt.date) -> TimeWeek:
    """An employee's registrations of the week from ``start`` (a Monday) with the day and
    week totals against the work schedule in force each day. Two queries."""
    end = start + dt.timedelta(days=6)
    registrations = list(
        _model("TimeRegistration")
        .objects.filter(employee=employee, date__gte=start, date__lte=end)
        .select_related("time_code", "project", "cost_center", "reviewed_by")
        .order_by("date", "pk")
    )
    schedules = list(
        _model("WorkSchedule")
        .objects.filter(employee=employee, valid_from__lte=end)
        .order_by("-valid_from")
    )
    days = []
    for offset in range(7):
        day = start + dt.timedelta(days=offset)
        schedule = next((s for s in schedules if s.valid_from <= day), None)
        rows = [r for r in registrations if r.date == day]
        days.append(
            WeekDay(
                date=day,
                registrations=rows,
                scheduled=_dec(schedule.hours_on(day)) if schedule else ZERO,
                total=sum((r.hours for r in rows), ZERO),
            )
        )
    return TimeWeek(employee=employee, start=start, days=days)


def time_registrations_visible_q(*, user) -> Q:
    """Which registrations ``user`` sees, per company: all of them with
    ``companies.view_others_time`` (HR, payroll ...); otherwise their own employee's and
    those on the projects they review (the self-service and reviewer roles)."""
    if getattr(user, "is_superuser", False):
        return ~Q(pk__in=[])
    q = Q(pk__in=[])
    for company_id in company_ids_for_user(user=user):
        company_q = Q(company_id=company_id)
        if user_has_company_perm(user=user, perm=PERM_VIEW_OTHERS_TIME, company=company_id):
            q |= company_q
            continue
        mine = Q(employee__user_id=user.pk)
        if user_has_company_perm(user=user, perm=PERM_REVIEW_TIME, company=company_id):
            paths = project_reviewer_paths(user=user, company=company_id)
            mine |= _branches_q(paths, prefix="project__")
        q |= company_q & mine
    return q


def employees_registrable_by(*, user, company):
    """The employees ``user`` may register time for in ``company``: everyone with
    ``companies.register_time_for_others`` (HR, administrators), else only their own."""
    employees = _model_employee().objects.filter(company=company).select_related("company")
    if user_has_company_perm(user=user, perm=PERM_REGISTER_FOR_OTHERS, company=company):
        return employees.order_by("last_name", "first_name")
    return employees.filter(user_id=user.pk)


# --- Review (partial approval) ----------------------------------------------------------------


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
        .filter(_branches_q(paths, prefix="project__"))
    )
    if root is not None:
        registrations = registrations.filter(project__path__startswith=root.path)
    if employee is not None:
        registrations = registrations.filter(employee=employee)
    if date_from is not None:
        registrations = registrations.filter(date__gte=date_from)
    if date_to is not None:
        registrations = registrations.filter(date__lte=date_to)
    if status:
        registrations = registrations.filter(review_status=status)
    return registrations.select_related(
        "employee__company", "time_code", "project", "reviewed_by"
    ).order_by("project__code", "date", "employee__last_name", "pk")


# --- Billing basis --------------------------------------------------------------------------


@dataclass
class BillingLine:
    project: Project
    employee: object | None
    hours: Decimal
    price: Decimal | None
    amount: Decimal
    external_comment: str = ""


def billing_basis(
    *, company, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[BillingLine]:
    """The billing basis (fakturaunderlag) of a period: time released for billing, per
    project, employee and hourly price (running projects) or one line per project at its
    fixed price with the external comment (fixed-price projects). Projects marked "never
    transfer to downstream system" — or under a project so marked — are left out: the flag
    governs the billing basis. Three queries whatever the number of registrations."""
    registrations = _model("TimeRegistration").objects.filter(
        company=company, released_for_billing=True, billable=True, project__isnull=False
    )
    if date_from is not None:
        registrations = registrations.filter(date__gte=date_from)
    if date_to is not None:
        registrations = registrations.filter(date__lte=date_to)
    never = list(
        Project.objects.filter(company=company, never_transfer=True).values_list("path", flat=True)
    )
    for path in never:
        registrations = registrations.exclude(project__path__startswith=path)
    rows = list(
        registrations.values("project", "employee", "billing_price")
        .annotate(hours=Sum("hours"))
        .order_by("project", "employee", "billing_price")
    )
    projects = Project.objects.in_bulk({r["project"] for r in rows})
    employees = (
        _model_employee().objects.select_related("company").in_bulk({r["employee"] for r in rows})
    )
    lines: list[BillingLine] = []
    fixed: dict[int, BillingLine] = {}
    for row in rows:
        project = projects[row["project"]]
        hours = _dec(row["hours"]) or ZERO
        if project.billing_model == Project.BillingModel.FIXED_PRICE:
            line = fixed.get(project.pk)
            if line is None:
                line = fixed[project.pk] = BillingLine(
                    project,
                    None,
                    ZERO,
                    None,
                    project.fixed_price or ZERO,
                    project.external_comment,
                )
                lines.append(line)
            line.hours += hours
            continue
        price = row["billing_price"]
        amount = (hours * (price or ZERO)).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(BillingLine(project, employees.get(row["employee"]), hours, price, amount))
    lines.sort(key=lambda line: (line.project.code, str(line.employee or "")))
    return lines


# --- Staffing ----------------------------------------------------------------------------------


def staffing_dimension_used(*, company) -> bool:
    """Whether the project dimension is the staffing dimension (Staffing tab, overview)."""
    return AccountingDimension.objects.filter(
        company=company, sie_number=SIE_PROJECT, used_for_staffing=True
    ).exists()


def employee_missing_competences(*, employee, project: Project, chain=None) -> list[tuple]:
    """``[(competence, required level, held level)]`` the employee lacks for the project
    (its own and, with "inherit competences", its parents' requirements)."""
    required = project_effective_competences(project=project, chain=chain)
    if not required:
        return []
    held = dict(
        _model("EmployeeCompetence")
        .objects.filter(employee=employee, competence__in=list(required))
        .values_list("competence_id", "level")
    )
    return [
        (competence, level, held.get(competence.pk, 0))
        for competence, level in sorted(required.items(), key=lambda item: item[0].name)
        if held.get(competence.pk, 0) < level
    ]


def _occurs(shift, day: dt.date) -> bool:
    """A recurring shift falls on its weekday in every ``repeat_weeks``-th week, counted
    from the ISO week 1 of 1970 (so every N weeks is the same weeks for everyone)."""
    if day.weekday() != shift.weekday:
        return False
    weeks = (week_start(day) - dt.date(1969, 12, 29)).days // 7
    return weeks % shift.repeat_weeks == 0


@dataclass
class StaffingSlot:
    """A shift on a day: a stored ``Shift`` or a recurring shift not staffed yet."""

    project: Project
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    people: int
    comment: str
    shift: object | None = None
    recurring: object | None = None
    assignments: list = field(default_factory=list)

    @property
    def missing(self) -> int:
        return max(self.people - len(self.assignments), 0)


def staffing_week(*, company, start: dt.date, root: Project | None = None) -> list[StaffingSlot]:
    """Every shift of the week from ``start`` on ``root``'s branch (or the company's
    projects): stored shifts with their staffed employees, and the occurrences of
    recurring shifts not stored yet. Three queries."""
    end = start + dt.timedelta(days=6)
    shifts = _model("Shift").objects.filter(
        project__company=company, date__gte=start, date__lte=end
    )
    recurring = _model("ProjectShift").objects.filter(project__company=company)
    if root is not None:
        shifts = shifts.filter(project__path__startswith=root.path)
        recurring = recurring.filter(project__path__startswith=root.path)
    stored = list(
        shifts.select_related("project").prefetch_related("assignments__employee__company")
    )
    slots = [
        StaffingSlot(
            s.project,
            s.date,
            s.start_time,
            s.end_time,
            s.people,
            s.comment,
            shift=s,
            recurring=s.recurring,
            assignments=list(s.assignments.all()),
        )
        for s in stored
    ]
    taken = {(s.recurring_id, s.date) for s in stored if s.recurring_id}
    for pattern in recurring.select_related("project"):
        for offset in range(7):
            day = start + dt.timedelta(days=offset)
            if _occurs(pattern, day) and (pattern.pk, day) not in taken:
                slots.append(
                    StaffingSlot(
                        pattern.project,
                        day,
                        pattern.start_time,
                        pattern.end_time,
                        pattern.people,
                        pattern.comment,
                        recurring=pattern,
                    )
                )
    slots.sort(key=lambda s: (s.date, s.start_time, s.project.code))
    return slots


def employee_schedule(*, employee, start: dt.date, days: int = 7) -> list:
    """The employee's staffed shifts from ``start``, with the project, the shift's comment,
    the project's (inherited) staffing comment and the comment for the employee. Two
    queries plus one per distinct project branch for the inherited comment."""
    end = start + dt.timedelta(days=days - 1)
    assignments = list(
        _model("ShiftAssignment")
        .objects.filter(employee=employee, shift__date__gte=start, shift__date__lte=end)
        .select_related("shift__project")
        .order_by("shift__date", "shift__start_time")
    )
    paths = {a.shift.project.path for a in assignments}
    ancestors: set[str] = set()
    for path in paths:
        ancestors.update(path[: PATH_STEP * k] for k in range(1, len(path) // PATH_STEP))
    by_path = {
        p.path: p
        for p in Project.objects.filter(company_id=employee.company_id, path__in=ancestors)
    }
    for a in assignments:
        project = a.shift.project
        chain = [by_path[p] for p in project.ancestor_paths if p in by_path] + [project]
        a.project_comment = project_effective_staffing_comment(project=project, chain=chain)
    return assignments


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
