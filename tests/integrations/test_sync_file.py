"""The sync after the switchover with a file-based payroll system (PAXml only): the
``payroll_sync`` job writes the pending changes as one personnel file instead of calling a
web service, once; nightly home accounting goes as the persons' ``<resenheter>``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from employees import services as employee_services
from employees.models import Employee
from integrations import payroll_sync
from integrations.clients.payroll import PayrollEmployee
from integrations.models import PayrollLink, PayrollSyncChange, PayrollSyncDelivery
from integrations.payroll_backend import PaxmlFileBackend
from integrations.payroll_import import Registers, employees_import_page
from integrations.sandboxes.payroll import PayrollSandbox
from jobs.models import Job
from jobs.runner import job_execute
from tests.integrations.helpers import home_accounting, match_hr_registers

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_link(company):
    """HR master of a file-based payroll system: no base URL, nothing to call."""
    payroll = PayrollSandbox(differences=False, employees=5)
    match_hr_registers(company, payroll)
    records = [PayrollEmployee.from_json(r) for r in payroll.employees.values()]
    employees_import_page(company=company, records=records, registers=Registers.load(company))
    return PayrollLink.objects.create(
        company=company,
        variant=PayrollLink.Variant.PAXML_FILE,
        master="hr",
        transfer_employment_data="all",
    )


def change(company, number, **data) -> Employee:
    e = Employee.objects.get(company=company, employee_number=number)
    return employee_services.employee_update(employee=e, data=data)


def rerun(company, kind="payroll_sync", **parameters) -> Job:
    job = Job.objects.create(company=company, kind=kind, parameters=parameters)
    return job_execute(job_id=job.pk)


def test_changes_are_written_as_one_personnel_file_once(
    company, file_link, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change(company, "1001", city="Luleå")
        change(company, "1001", street_address="Nygatan 99")
        change(company, "1002", city="Kiruna")
    assert PayrollSyncChange.objects.filter(company=company).count() == 3
    job = Job.objects.get(kind="payroll_sync")
    assert job.status == Job.Status.SUCCEEDED, list(job.log_lines.values_list("message", flat=True))
    assert job.result_file.name.endswith(".pax")
    out = PaxmlFileBackend(content=job.result_file.read())
    assert out.employees_page(page=1, page_size=100).total == 2
    assert out.employee_get(employee_number="1001").city == "Luleå"
    assert out.employee_get(employee_number="1001").street_address == "Nygatan 99"
    assert out.employee_get(employee_number="1002").city == "Kiruna"
    # Logged per employee; the outbox rows are done.
    items = set(job.log_lines.values_list("item", flat=True))
    assert {"1001", "1002"} <= items
    assert not PayrollSyncDelivery.objects.exclude(status="sent").exists()
    assert not PayrollSyncChange.objects.filter(delivery__isnull=True).exists()
    assert set(PayrollSyncDelivery.objects.values_list("job", flat=True)) == {job.pk}

    # A re-run (or a retried job) writes nothing twice.
    again = rerun(company)
    assert again.status == Job.Status.SUCCEEDED
    assert not again.result_file
    assert again.log_lines.filter(message__contains="no file written").exists()
    assert PayrollSyncDelivery.objects.filter(attempts=1).count() == 2

    # A later change: a new file with only that employee.
    with django_capture_on_commit_callbacks(execute=True):
        change(company, "1003", city="Gävle")
    latest = Job.objects.filter(kind="payroll_sync").order_by("-pk").first()
    out = PaxmlFileBackend(content=latest.result_file.read())
    assert [p.employee_number for p in out.employees_page(page=1, page_size=100).items] == ["1003"]


def test_retry_beat_task_writes_the_pending_file(company, file_link):
    change(company, "1004", city="Visby")  # no on_commit run: left pending
    assert payroll_sync.payroll_sync_retry_due() == 1
    job = Job.objects.filter(kind="payroll_sync").order_by("-pk").first()
    if not job.is_finished:
        job = job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert (
        PaxmlFileBackend(content=job.result_file.read()).employee_get(employee_number="1004").city
        == "Visby"
    )
    assert payroll_sync.payroll_sync_retry_due() == 0


def test_nothing_written_while_payroll_is_master(
    company, file_link, django_capture_on_commit_callbacks
):
    file_link.master = "payroll"
    file_link.save()
    with django_capture_on_commit_callbacks(execute=True):
        change(company, "1001", city="Luleå")
    assert not PayrollSyncChange.objects.exists()
    assert not Job.objects.filter(kind="payroll_sync").exists()


def test_nightly_accounting_written_as_result_units(
    company, file_link, django_capture_on_commit_callbacks
):
    from paxml.reader import read_records
    from paxml.records import Person

    file_link.send_home_accounting = True
    file_link.save()
    today = timezone.localdate()
    e = Employee.objects.get(company=company, employee_number="1001")
    home_accounting(company, e, today - dt.timedelta(days=30), "300")
    home_accounting(company, e, today + dt.timedelta(days=10), "400")  # future: not yet
    with django_capture_on_commit_callbacks(execute=True):
        jobs = payroll_sync.payroll_accounting_nightly()
    assert len(jobs) == 1
    job = Job.objects.get(pk=jobs[0].pk)
    assert job.status == Job.Status.SUCCEEDED, list(job.log_lines.values_list("message", flat=True))
    assert job.result_file.name.endswith(".pax")
    records, reader = read_records(job.result_file.read())
    assert reader.ok, reader.problems
    people = [r for r in records if isinstance(r, Person)]
    assert [(p.anstid, p.resenheter, p.values) for p in people] == [("1001", ((1, "300"),), {})]
    assert job.log_lines.filter(item="1001", message__contains="dim 1 = 300").exists()

    # The same night again: nothing written twice.
    again = rerun(company, "payroll_accounting_send", on=today.isoformat())
    assert not again.result_file
    # The future row comes into force: that night writes it.
    later = rerun(
        company, "payroll_accounting_send", on=(today + dt.timedelta(days=10)).isoformat()
    )
    records, _reader = read_records(later.result_file.read())
    assert [r.resenheter for r in records if isinstance(r, Person)] == [((1, "400"),)]


def test_the_personnel_file_carries_every_fortnox_field(
    company, file_link, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from paxml.reader import read_records
    from paxml.records import Person
    from paxml.validation import xsd_validate_document

    employee = Employee.objects.get(company=company, employee_number="1001")
    employee_services.monthly_salary_set(
        employee=employee, valid_from=dt.date(2024, 1, 1), amount=Decimal("41000")
    )
    with django_capture_on_commit_callbacks(execute=True):
        change(company, "1001", care_of="c/o Berg", country="NO", tax_table=32, tax_column=1)
        change(company, "1001", city="Narvik")  # a synced field: the file is written
    job = Job.objects.filter(kind="payroll_sync").order_by("-pk").first()
    content = job.result_file.read()
    assert xsd_validate_document(content) == []
    (person,) = [r for r in read_records(content)[0] if isinstance(r, Person)]
    values = person.values
    assert (values["extraadress"], values["land"]) == ("c/o Berg", "NO")
    assert (values["skattetabell"], values["skattekolumn"]) == (32, 1)
    assert values["manlon"].value == Decimal("41000.00")
