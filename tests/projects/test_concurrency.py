"""Concurrent writes on PostgreSQL: the branch lock keeps a registration stop honest and
tree writes consistent. (SQLite serialises writers anyway; these run on PostgreSQL.)"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from projects.models import Project, ProjectControl, TimeRegistration
from projects.services import TimeRegistrationRejected, project_create
from tests.employees.factories import EmployeeFactory
from tests.projects.factories import TimeCodeFactory, make_project, register

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _run_together(*jobs):
    barrier = threading.Barrier(len(jobs))
    outcomes = []

    def wrap(job):
        try:
            barrier.wait()
            outcomes.append(job())
        except Exception as exc:  # the test inspects what each thread met
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_registrations_cannot_both_slip_under_a_stop(company):
    leaf = make_project(company, "A", budget_hours=Decimal("10"))
    ProjectControl.objects.create(
        project=leaf, kind="time", action="stop", threshold_percent=Decimal("100")
    )
    anna, bo = EmployeeFactory(company=company), EmployeeFactory(company=company)
    code = TimeCodeFactory(company=company)
    outcomes = _run_together(
        lambda: register(anna, leaf, "6", time_code=code),
        lambda: register(bo, leaf, "6", time_code=code),
    )
    assert sum(isinstance(o, TimeRegistrationRejected) for o in outcomes) == 1
    assert TimeRegistration.objects.count() == 1


def test_concurrent_sub_projects_under_one_parent(company):
    main = make_project(company, "M", registrable=False)
    outcomes = _run_together(
        *[
            (lambda n=n: project_create(company=company, code=f"S{n}", name="S", parent=main))
            for n in range(4)
        ]
    )
    assert all(isinstance(o, Project) for o in outcomes), outcomes
    children = Project.objects.filter(parent=main)
    assert children.count() == 4
    assert all(c.path.startswith(main.path) and c.level == 1 for c in children)
