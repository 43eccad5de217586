"""Status roll-up of the project tree: ``project_rollups`` over 10 000 projects and
1 000 000 time registrations (``--quick``: 1 000 and 50 000), a third of them released
for billing, next to one hand-written SQL aggregate over the same rows (registrations
summed per project). The roll-up sums worked and released hours and budgets in one
statement; its query count is reported too: it is bounded (two), whatever the size of the
tree.

Daily use: the week view of one employee (``registration_projects`` + ``time_week``) and
the review view of a reviewer of 1 000 projects (``review_registrations``, the first 2 000
rows with their employee, project and time code, as the page shows them) — their time
next to the same aggregate and their query counts, which must not grow with the data."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import connection, transaction

from bench.common import Figure, bench_company, timed
from companies.models import Company
from employees.models import Employee, PersonnelCategory
from projects.models import Project, TimeCode, TimeRegistration
from projects.models.project import path_segment
from projects.selectors import (
    project_rollups,
    project_status,
    registration_projects,
    review_registrations,
    time_week,
)

MAINS, SUBS, LEAVES = 100, 9, 10  # 100 + 900 + 9 000 = 10 000 projects


def _company() -> Company:
    return bench_company("bench-projects", "Bench Projects AB")


def _employees(company, count: int) -> list[Employee]:
    have = list(Employee.objects.filter(company=company)[:count])
    if len(have) >= count:
        return have
    category = PersonnelCategory.objects.get(company=company, code="STD")
    Employee.objects.bulk_create(
        [
            Employee(
                company=company,
                employee_number=str(90000 + n),
                first_name="Bench",
                last_name=f"Person {n}",
                personnel_category=category,
                employment_start_date=dt.date(2020, 1, 1),
            )
            for n in range(len(have), count)
        ]
    )
    return list(Employee.objects.filter(company=company)[:count])


@transaction.atomic
def _tree(company, mains: int) -> list[Project]:
    """Bulk-built tree (the services would take minutes for 10 000 nodes)."""

    def level(parents, per, registrable, level_no):
        rows = []
        for parent in parents:
            for n in range(per):
                code = f"{parent.code}.{n}" if parent else f"M{n}"
                rows.append(
                    Project(
                        company=company,
                        parent=parent,
                        code=code,
                        name=code,
                        level=level_no,
                        registrable=registrable,
                    )
                )
        created = Project.objects.bulk_create(rows, batch_size=2000)
        if connection.vendor == "sqlite" and created[0].pk is None:  # pragma: no cover
            created = list(Project.objects.filter(company=company, level=level_no))
        for project in created:
            parent_path = project.parent.path if project.parent else ""
            project.path = parent_path + path_segment(project.pk)
        Project.objects.bulk_update(created, ["path"], batch_size=2000)
        return created

    main = []
    for n in range(mains):
        main.append(Project(company=company, code=f"M{n}", name=f"M{n}", registrable=False))
    main = Project.objects.bulk_create(main)
    for project in main:
        project.path = path_segment(project.pk)
    Project.objects.bulk_update(main, ["path"])
    subs = level(main, SUBS, False, 1)
    leaves = level(subs, LEAVES, True, 2)
    for leaf in leaves:
        leaf.budget_hours = Decimal(random.randint(50, 500))
    Project.objects.bulk_update(leaves, ["budget_hours"], batch_size=2000)
    return leaves


def _registrations(company, leaves, employees, count: int) -> None:
    code, _created = TimeCode.objects.get_or_create(
        company=company, code="BENCH", defaults={"name": "Bench", "kind": "attendance"}
    )
    start = dt.date(2025, 1, 1)
    rng = random.Random(7)
    batch = []
    for n in range(count):
        batch.append(
            TimeRegistration(
                company=company,
                employee=employees[n % len(employees)],
                date=start + dt.timedelta(days=n % 365),
                time_code=code,
                hours=Decimal(rng.randint(1, 16)) / 2,
                project=leaves[rng.randrange(len(leaves))],
                released_for_billing=n % 3 == 0,
            )
        )
        if len(batch) == 20_000:
            TimeRegistration.objects.bulk_create(batch)
            batch = []
    if batch:
        TimeRegistration.objects.bulk_create(batch)


def run(*, quick: bool) -> list[Figure]:
    mains = 10 if quick else MAINS
    registrations = 50_000 if quick else 1_000_000
    projects_wanted = mains * (1 + SUBS + SUBS * LEAVES)
    company = _company()
    if (
        Project.objects.filter(company=company).count() != projects_wanted
        or TimeRegistration.objects.filter(company=company).count() != registrations
    ):
        TimeRegistration.objects.filter(company=company).delete()
        Project.objects.filter(company=company).update(parent=None)
        Project.objects.filter(company=company).delete()
        leaves = _tree(company, mains)
        _registrations(company, leaves, _employees(company, 200), registrations)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    table = TimeRegistration._meta.db_table

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT project_id, SUM(hours) FROM {table} WHERE company_id = %s "
                "GROUP BY project_id",
                [company.pk],
            )
            cursor.fetchall()

    result: dict = {}

    def rollup():
        result["rollups"] = project_rollups(company=company)

    baseline()  # warm the cache for both
    base_time = min(timed(baseline) for _ in range(3))
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        value_time = min(timed(rollup) for _ in range(3))
    queries_per_rollup = len(executed) / 3
    assert len(result["rollups"]) == projects_wanted

    main = Project.objects.filter(company=company, level=0).order_by("code").first()
    status_time = min(timed(lambda: project_status(project=main)) for _ in range(3))

    label = f"{projects_wanted} projects, {registrations} registrations"
    figures = [
        Figure(f"status roll-up, whole tree ({label})", value_time, base_time, "s", 2),
        Figure("  queries per roll-up (vs one aggregate)", queries_per_rollup, 1, "q", 2),
        Figure(f"  status of one main project (1/{mains} of tree)", status_time, base_time, "s"),
    ]
    return figures + _daily_use(company, base_time)


def _counted(func) -> tuple[float, int]:
    """(best of three seconds, queries of one run)."""
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        func()
    queries = len(executed)
    return min(timed(func) for _ in range(3)), queries


def _reviewer(company, mains: list[Project]):
    from django.contrib.auth import get_user_model

    from companies.models import Membership, Role
    from projects.models import ProjectReviewer

    user, _created = get_user_model().objects.get_or_create(username="bench-reviewer")
    Membership.objects.get_or_create(
        user=user, company=company, defaults={"role": Role.objects.get(code="project_reviewer")}
    )
    ProjectReviewer.objects.filter(user=user).exclude(project__in=mains).delete()
    for main in mains:
        ProjectReviewer.objects.get_or_create(user=user, project=main)
    return user


def _daily_use(company, base_time: float) -> list[Figure]:
    employee = Employee.objects.filter(company=company).order_by("pk").first()
    monday = dt.date(2025, 3, 3)
    sunday = monday + dt.timedelta(days=6)

    def week():
        projects = registration_projects(employee=employee, date_from=monday, date_to=sunday)
        days = time_week(employee=employee, start=monday).days
        return len(projects), [r.project.code for d in days for r in d.registrations]

    week_time, week_queries = _counted(week)

    # A reviewer of 1 000 projects: ten main projects of 100 (1 + 9 + 90) each.
    mains = list(Project.objects.filter(company=company, level=0).order_by("code")[:10])
    user = _reviewer(company, mains)
    covered = sum(
        Project.objects.filter(company=company, path__startswith=m.path).count() for m in mains
    )

    def review():
        rows = review_registrations(user=user, company=company)[:2000]
        return [(r.project.code, r.employee.last_name, r.time_code.code) for r in rows]

    review_time, review_queries = _counted(review)
    return [
        Figure("week view, one employee", week_time, base_time, "s"),
        Figure("  queries, week view (bounded)", week_queries, 1, "q", 5),
        Figure(f"review view, reviewer of {covered} projects", review_time, base_time, "s"),
        Figure("  queries, review view (bounded)", review_queries, 1, "q", 2),
    ]
