"""The switchover's full export: every employee from the payroll sandbox into HR over real
HTTP (the ``switchover_export_all`` job: pages, validation, bulk writes with history, rates,
count check) vs. a baseline that fetches the same pages and bulk-inserts bare rows."""

from __future__ import annotations

import datetime as dt

from bench.common import Figure, bench_company, timed, vacuum
from companies.models import Company
from employees.models import Employee, EmploymentRate, PersonnelCategory


def _company(code: str) -> Company:
    return bench_company(code, f"Bench {code} AB", payroll_sync=True)


def _reset(company: Company) -> None:
    """Remove a previous run's rows without a history row per deleted employee."""
    from django.db import connection

    from integrations.models import Switchover, SwitchoverHrChange

    # By the switchovers' ids: the join form (DELETE ... WHERE id IN (SELECT ... JOIN)) ran
    # for over ten minutes on PostgreSQL right after the export had filled the table (no
    # statistics yet: a nested loop over 50 000 × 50 000 rows).
    switchovers = list(Switchover.objects.filter(company=company).values_list("pk", flat=True))
    SwitchoverHrChange.objects.filter(switchover_id__in=switchovers)._raw_delete(connection.alias)
    ids = list(Employee.objects.filter(company=company).values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        EmploymentRate.objects.filter(employee_id__in=chunk)._raw_delete(connection.alias)
    Employee.history.model.objects.filter(company_id=company.pk)._raw_delete(connection.alias)
    Employee.objects.filter(company=company)._raw_delete(connection.alias)
    # The dead rows gone, as autovacuum would leave them (off on the CI machine's
    # PostgreSQL): without it every run left 50 000 dead employees, their history and rates
    # behind for the next to step over. No ANALYZE: statistics taken with the company's rows
    # gone make the planner expect none while the export fills them in (2.35 × instead of
    # 2.07 ×), which is not what a company switching over meets.
    vacuum(
        *(
            model._meta.db_table
            for model in (Employee, Employee.history.model, EmploymentRate, SwitchoverHrChange)
        ),
        analyze=False,
    )


def run(*, quick: bool) -> list[Figure]:
    from integrations import switchover as sw
    from integrations.clients.payroll import PayrollClient
    from integrations.models import PayrollLink, Switchover
    from integrations.sandboxes.payroll import PayrollSandbox
    from jobs.models import Job
    from jobs.runner import job_execute
    from tests.integrations.helpers import match_hr_registers

    count = 5_000 if quick else 50_000
    page_size = 1000
    sandbox = PayrollSandbox(differences=False, employees=count)
    company = _company("bench-sw")
    baseline_company = _company("bench-swb")
    for target in (company, baseline_company):
        _reset(target)
    Switchover.objects.filter(company=company).delete()
    with sandbox.serving() as url:
        match_hr_registers(company, sandbox)
        PayrollLink.objects.update_or_create(
            company=company,
            defaults={"base_url": url, "api_token": "sandbox-token", "is_sandbox": True},
        )
        switchover = Switchover.objects.create(company=company, state="test_export")
        job = Job.objects.create(
            company=company,
            kind="switchover_export_all",
            parameters={"switchover": switchover.pk, "page_size": page_size},
        )

        def export():
            finished = job_execute(job_id=job.pk)
            assert finished.status == Job.Status.SUCCEEDED, finished.message

        value = timed(export)
        assert Employee.objects.filter(company=company).count() == count
        assert sw.switchover_current(company=company).results["export_all"]["outcome"] == "passed"

        std = PersonnelCategory.objects.get(company=baseline_company, code="STD")

        def baseline():
            with PayrollClient(url, token="sandbox-token") as client:
                for page in client.employees_iter(page_size=page_size, include_ended=True):
                    Employee.objects.bulk_create(
                        [
                            Employee(
                                company=baseline_company,
                                employee_number=r.employee_number,
                                first_name=r.first_name,
                                last_name=r.last_name,
                                personnel_category=std,
                                employment_start_date=dt.date.fromisoformat(r.employment_start),
                            )
                            for r in page.items
                        ],
                        batch_size=1000,
                    )

        base = timed(baseline)
    for target in (company, baseline_company):
        _reset(target)
    return [Figure(f"switchover export, {count} employees", value, base, "s", target=2.0)]
