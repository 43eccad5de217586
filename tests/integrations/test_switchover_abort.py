"""Abort leaves both systems as they were: what the export created in HR is deleted, what
it changed is restored, payroll's switches and the link go back — against the sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from employees.history_reasons import history_reason_text
from employees.models import Employee, EmploymentForm, EmploymentRate, Position
from integrations import switchover as sw
from integrations.clients.payroll import PayrollEmployee
from integrations.models import SwitchoverHrChange
from integrations.payroll_import import Registers, employees_import_page
from jobs.models import Job, JobLogLine
from tests.integrations.helpers import current, run

pytestmark = pytest.mark.django_db


def hr_state(company) -> dict:
    """Everything the export may touch in HR, as plain values."""
    employees = {}
    for employee in Employee.objects.filter(company=company).order_by("employee_number"):
        values = {
            f.attname: getattr(employee, f.attname)
            for f in Employee._meta.concrete_fields
            if f.attname != "updated_at"
        }
        employees[employee.employee_number] = values
    return {
        "employees": employees,
        "rates": sorted(
            EmploymentRate.objects.filter(employee__company=company).values_list(
                "employee__employee_number", "valid_from", "rate_percent"
            )
        ),
        "positions": sorted(
            Position.objects.filter(company=company).values_list("pk", "code", "title")
        ),
        "forms": sorted(EmploymentForm.objects.filter(company=company).values_list("pk", "code")),
    }


@pytest.fixture
def hr_before(company, link, sandbox):
    """HR already holds two of payroll's employees, one of them different from payroll
    (city and employment rate), and a position the export will have to create."""
    records = [PayrollEmployee.from_json(sandbox.employees[n]) for n in ("1001", "1002")]
    employees_import_page(company=company, records=records, registers=Registers.load(company))
    first = Employee.objects.get(company=company, employee_number="1001")
    Employee.objects.filter(pk=first.pk).update(city="Förr", work_email="old@acme.example")
    EmploymentRate.objects.filter(employee=first).delete()
    EmploymentRate.objects.create(
        employee=first, valid_from=dt.date(2019, 1, 1), rate_percent=Decimal("50.00")
    )
    sandbox.employees["1005"]["position"] = "Brandnew Title"
    return hr_state(company)


def to_payroll_off(user, company):
    assert run(user, company, "preflight").status == Job.Status.SUCCEEDED
    run(user, company, "test_export", employee_number="1003")
    sw.switchover_approve(user=user, switchover=current(company))
    job = run(user, company, "export_all")
    assert job.status == Job.Status.SUCCEEDED, list(job.log_lines.values_list("message", flat=True))
    run(user, company, "payroll_off")


def test_abort_after_export_all_restores_hr_exactly(user, company, link, sandbox, hr_before):
    to_payroll_off(user, company)
    assert Employee.objects.filter(company=company).count() == 12
    assert Employee.objects.get(company=company, employee_number="1001").city != "Förr"
    assert Position.objects.filter(company=company, title="Brandnew Title").exists()
    switchover = current(company)
    journal = dict(
        SwitchoverHrChange.objects.filter(switchover=switchover)
        .exclude(action="register")
        .values_list("employee_number", "action")
    )
    assert journal["1001"] == "changed" and journal["1003"] == "created"
    assert "1002" not in journal  # the export left it as it was
    assert len([a for a in journal.values() if a == "created"]) == 10

    switchover = sw.switchover_abort(user=user, switchover=switchover, reason="not now")

    assert switchover.state == "aborted"
    assert hr_state(company) == hr_before  # row counts and field values
    assert sandbox.settings["export_personal_data"] is True
    link.refresh_from_db()
    assert link.master == "payroll"
    job = Job.objects.get(kind="switchover_abort")
    assert job.status == Job.Status.SUCCEEDED
    lines = {line.item: line.message for line in job.log_lines.all()}
    assert "city" in lines["1001"] and "employment rate from " in lines["1001"]
    assert lines["1003"].startswith("Deleted (created by the export), with 1 employment rate.")
    # kept as field keys and model labels: read in Swedish, the names are Swedish
    restored = job.log_lines.get(item="1001")
    assert "city" in restored.message_params["fields"]
    with translation.override("sv"):
        swedish = {line.item: line.text for line in job.log_lines.all()}
    assert swedish["1001"].startswith("Återställd som före exporten: ")
    fields = swedish["1001"].removeprefix("Återställd som före exporten: ").split(", ")
    assert "ort" in fields and any(f.startswith("sysselsättningsgrad från ") for f in fields)
    assert "city" not in swedish["1001"] and "employment rate" not in swedish["1001"]
    assert swedish["1003"] == "Borttagen (skapad av exporten), med 1 sysselsättningsgrad."
    [created] = [
        line
        for line in JobLogLine.objects.filter(message_id="switchover.created_in_hr")
        if line.message_params["what"].get("name") == "Brandnew Title"
    ]
    with translation.override("en"):
        assert created.text == "Created in HR: position BRANDNEWTITLE Brandnew Title."
    with translation.override("sv"):
        assert created.text == "Skapat i HR: befattning BRANDNEWTITLE Brandnew Title."
    assert len([m for m in lines.values() if m.startswith("Deleted (created")]) == 10
    assert any("Brandnew Title" in m and "deleted" in m for m in lines.values())
    event = switchover.events.get(kind="aborted")
    assert event.job == job and event.details["hr"]["deleted"] == 10
    history = Employee.history.filter(employee_number="1003").first()
    assert history.history_type == "-"
    with translation.override("en"):
        reason = history_reason_text(history.history_change_reason)
    assert reason == f"Switchover {switchover.pk}: aborted, HR's values restored"


def test_abort_after_test_export(user, company, link, sandbox, hr_before):
    run(user, company, "preflight")
    run(user, company, "test_export", employee_number="1003")
    assert Employee.objects.filter(company=company, employee_number="1003").exists()
    sw.switchover_abort(user=user, switchover=current(company))
    assert hr_state(company) == hr_before
    assert sandbox.settings["export_personal_data"] is True  # never touched


def test_a_rerun_export_keeps_the_first_snapshot(user, company, link, sandbox, hr_before):
    run(user, company, "preflight")
    run(user, company, "test_export", employee_number="1001")
    sw.switchover_approve(user=user, switchover=current(company))
    run(user, company, "export_all")
    run(user, company, "export_all")
    assert SwitchoverHrChange.objects.filter(employee_number="1001").count() == 1
    sw.switchover_abort(user=user, switchover=current(company))
    assert hr_state(company) == hr_before


def test_abort_refused_after_hr_on(user, company, link, sandbox, hr_before):
    to_payroll_off(user, company)
    run(user, company, "hr_on", transfer_employment_data="all")
    exported = hr_state(company)
    with pytest.raises(sw.SwitchoverRefused, match="HR is master already"):
        sw.switchover_abort(user=user, switchover=current(company))
    assert hr_state(company) == exported
    assert current(company).state == "hr_on"


def test_abort_refused_while_a_created_employee_has_payslips(
    user, company, link, sandbox, hr_before
):
    from tests.payslips.factories import make_run

    to_payroll_off(user, company)
    created = Employee.objects.get(company=company, employee_number="1004")
    make_run(company, [created])
    exported = hr_state(company)
    with pytest.raises(sw.SwitchoverRefused, match="1004: 1 payslips"):
        sw.switchover_abort(user=user, switchover=current(company))
    assert hr_state(company) == exported  # nothing was changed
    assert current(company).state == "payroll_off"
    assert sandbox.settings["export_personal_data"] is False
    assert not Job.objects.filter(kind="switchover_abort").exists()
