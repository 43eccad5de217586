"""The sync when HR is master: outbox, coalescing, retries, nothing sent twice, nightly
accounting, employee number changes — against the payroll sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from employees import services as employee_services
from employees.models import Employee
from integrations import payroll_sync
from integrations.clients.payroll import PayrollEmployee
from integrations.models import PayrollSyncChange, PayrollSyncDelivery
from integrations.payroll_import import Registers, employees_import_page
from jobs.models import Job
from jobs.runner import job_execute
from tests.integrations.helpers import home_accounting, puts

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_master(company, link, sandbox):
    """HR holds the sandbox's employees and is master, sending all employment data."""
    records = [PayrollEmployee.from_json(r) for r in sandbox.employees.values()]
    employees_import_page(company=company, records=records, registers=Registers.load(company))
    link.master = "hr"
    link.transfer_employment_data = "all"
    link.save()
    sandbox.requests.clear()
    return link


def employee(company, number="1001") -> Employee:
    return Employee.objects.get(company=company, employee_number=number)


def change_city(company, city, number="1001", capture=None):
    e = employee(company, number)
    employee_services.employee_update(employee=e, data={"city": city})
    return e


def test_change_writes_outbox_row_and_is_sent_after_commit(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change_city(company, "Luleå")
        assert PayrollSyncChange.objects.filter(company=company).count() == 1
        assert puts(sandbox) == []  # nothing leaves before commit
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert sandbox.employees["1001"]["city"] == "Luleå"
    delivery = PayrollSyncDelivery.objects.get()
    assert delivery.status == "sent"
    assert json.loads(bytes(delivery.request_body))["city"] == "Luleå"
    assert PayrollSyncChange.objects.get().delivery == delivery
    job = Job.objects.get(kind="payroll_sync")
    assert job.status == Job.Status.SUCCEEDED and job.summary["sent"] == 1


def test_rolled_back_change_sends_nothing(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        change_city(company, "Visby")
        raise RuntimeError
    assert callbacks == []
    assert PayrollSyncChange.objects.count() == 0
    assert puts(sandbox) == []


def test_changes_are_coalesced_per_employee(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        change_city(company, "Kiruna")
        change_city(company, "Gällivare")
        e = employee(company)
        employee_services.employee_update(employee=e, data={"street_address": "Bergsgatan 2"})
        employee_services.employment_rate_set(
            employee=e, valid_from=dt.date(2025, 1, 1), rate_percent=Decimal("80")
        )
        change_city(company, "Kalix", number="1002")
    assert PayrollSyncChange.objects.count() == 5
    job = Job.objects.create(company=company, kind="payroll_sync")
    job_execute(job_id=job.pk)
    assert len(puts(sandbox)) == 2  # one per employee
    sent = sandbox.employees["1001"]
    assert (sent["city"], sent["street_address"]) == ("Gällivare", "Bergsgatan 2")
    assert {"start_date": "2025-01-01", "percent": "80.00"} in sent["employment_rates"]
    assert sandbox.employees["1002"]["city"] == "Kalix"


def test_nothing_sent_twice(company, hr_master, sandbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Umeå")
    assert len(puts(sandbox)) == 1
    # A redelivered task, a second job, the beat task: none of them sends it again.
    job = Job.objects.get(kind="payroll_sync")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    job_execute(job_id=job.pk)
    job_execute(job_id=Job.objects.create(company=company, kind="payroll_sync").pk)
    payroll_sync.payroll_sync_retry_due()
    assert len(puts(sandbox)) == 1


def test_retries_through_injected_503s(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    sandbox.faults.fail_next = 2  # the client's own retries get through
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Sundsvall")
    assert sandbox.employees["1001"]["city"] == "Sundsvall"
    assert PayrollSyncDelivery.objects.get().attempts == 1


def test_outage_longer_than_client_retries_is_retried_later_never_lost(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    sandbox.faults.fail_next = 4  # all the client's attempts fail
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Östersund")
    delivery = PayrollSyncDelivery.objects.get()
    assert delivery.status == "failed" and "503" in delivery.error_message
    assert delivery.next_attempt_at > timezone.now()
    assert sandbox.employees["1001"]["city"] != "Östersund"
    assert payroll_sync.payroll_sync_retry_due() == 0  # not due yet
    # A newer change waits behind the failed delivery (no older bytes after newer ones).
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Åre")
    assert PayrollSyncDelivery.objects.count() == 2
    assert sandbox.employees["1001"]["city"] != "Åre"
    PayrollSyncDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert payroll_sync.payroll_sync_retry_due() == 1
    statuses = list(PayrollSyncDelivery.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sent"]
    assert sandbox.employees["1001"]["city"] == "Åre"
    assert len(puts(sandbox)) == 2


def test_timeouts_are_retried(
    company, hr_master, sandbox, settings, django_capture_on_commit_callbacks
):
    settings.PAYROLL_CLIENT_TIMEOUT = 0.3
    sandbox.faults.timeout_next = 1
    sandbox.faults.timeout_seconds = 0.6
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Borås")
    assert sandbox.employees["1001"]["city"] == "Borås"
    assert PayrollSyncDelivery.objects.get().status == "sent"


def test_killed_worker_mid_send_resends_identical_bytes(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        change_city(company, "Falun")
    payroll_sync.payroll_sync_coalesce(company=company)
    delivery = PayrollSyncDelivery.objects.get()
    # The worker claimed it and died: SENDING, claim expired.
    PayrollSyncDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=1, next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    payload = bytes(delivery.request_body)
    with django_capture_on_commit_callbacks(execute=True):
        payroll_sync.payroll_sync_retry_due()
    delivery.refresh_from_db()
    assert delivery.status == "sent" and bytes(delivery.request_body) == payload
    assert sandbox.employees["1001"]["city"] == "Falun"


def test_refusal_is_kept_with_payrolls_words(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    e = employee(company)
    # Bypass HR validation to simulate data payroll refuses.
    Employee.objects.filter(pk=e.pk).update(work_email="broken")
    with django_capture_on_commit_callbacks(execute=True):
        payroll_sync.payroll_sync_enqueue(employee=employee(company), fields=["work_email"])
    delivery = PayrollSyncDelivery.objects.get()
    assert delivery.status == "rejected"
    assert "not a valid email" in delivery.error_message
    job = Job.objects.get(kind="payroll_sync")
    assert job.log_lines.filter(level="error", item="1001").exists()


def test_missing_registers_are_logged(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    from employees.models import EmploymentForm, PersonnelCategory

    category = PersonnelCategory.objects.create(company=company, code="KONS", name="Konsulter")
    form = EmploymentForm.objects.create(company=company, code="VIK", name="Vikariat")
    with django_capture_on_commit_callbacks(execute=True):
        employee_services.employee_update(
            employee=employee(company),
            data={"personnel_category": category, "employment_form": form},
        )
    assert sandbox.employees["1001"]["personnel_category"] == "STD"
    assert {"code": "VIK", "name": "VIK", "las_settings": None} in sandbox.forms
    job = Job.objects.get(kind="payroll_sync")
    messages = list(job.log_lines.filter(level="warning").values_list("message", flat=True))
    assert any("STD" in m for m in messages)
    assert any("LAS settings missing" in m for m in messages)


def test_payrolls_notices_read_in_the_readers_language_with_payrolls_words_quoted(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    from employees.models import PersonnelCategory

    category = PersonnelCategory.objects.create(company=company, code="KONS", name="Konsulter")
    with translation.override("sv"), django_capture_on_commit_callbacks(execute=True):
        employee_services.employee_update(
            employee=employee(company), data={"personnel_category": category}
        )
    job = Job.objects.get(kind="payroll_sync")
    line = job.log_lines.get(level="warning", message_id="payroll_sync.notice")
    assert line.message_params == {
        "code": "CATEGORY_FALLBACK",
        "message": "Personnel category KONS is missing; STD used.",
    }
    assert line.message == (
        "Lönesystemet saknar personalkategorin; den anställda fick STD. "
        "Lönesystemets ord: ”Personnel category KONS is missing; STD used.”"
    )
    with translation.override("en"):
        assert line.text == (
            "Payroll lacks the personnel category; the employee got STD. "
            "Payroll's words: “Personnel category KONS is missing; STD used.”"
        )


def test_a_notice_we_do_not_know_shows_payrolls_words_only():
    from jobs.messages import JobMessage

    notice = JobMessage("payroll_sync.notice", code="NEW_THING", message="Something new.")
    with translation.override("sv"):
        assert str(notice) == "Lönesystemets meddelande: ”Something new.”"
    with translation.override("en"):
        assert str(notice) == "Payroll's notice: “Something new.”"


def test_no_sync_while_payroll_is_master_or_outside_selection(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    hr_master.transfer_employment_data = "selection"
    hr_master.selection = {"employment_forms": ["PRO"]}
    hr_master.save()
    with django_capture_on_commit_callbacks(execute=True):
        tv = Employee.objects.filter(company=company, employment_form__code="TV").first()
        change_city(company, "Ystad", number=tv.employee_number)
        pro = Employee.objects.filter(company=company, employment_form__code="PRO").first()
        change_city(company, "Ystad", number=pro.employee_number)
    assert [r["path"] for r in puts(sandbox)] == [f"/v1/employees/{pro.employee_number}"]
    hr_master.master = "payroll"
    hr_master.save()
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Ljusdal", number=pro.employee_number)
    assert len(puts(sandbox)) == 1


def test_nightly_accounting_sends_the_value_in_force(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    hr_master.send_home_accounting = True
    hr_master.save()
    e = employee(company, "1001")
    today = timezone.localdate()
    home_accounting(company, e, today - dt.timedelta(days=30), "300")
    home_accounting(company, e, today + dt.timedelta(days=10), "400")  # future: not yet
    assert len(sandbox.employees["1001"]["home_accounting"]) == 2  # a 75/25 distribution
    with django_capture_on_commit_callbacks(execute=True):
        jobs = payroll_sync.payroll_accounting_nightly()
    assert len(jobs) == 1
    assert sandbox.employees["1001"]["home_accounting"] == [
        {"cost_center": "300", "project": "", "percent": "100.00"}
    ]
    assert len(puts(sandbox, "/v1/employees/1001/home-accounting")) == 1
    # The same night again, and the next night with no change: nothing is sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        payroll_sync.payroll_accounting_nightly()
    job = Job.objects.create(
        company=company,
        kind="payroll_accounting_send",
        parameters={"on": (today + dt.timedelta(days=1)).isoformat()},
    )
    job_execute(job_id=job.pk)
    assert len(puts(sandbox, "/v1/employees/1001/home-accounting")) == 1
    # The future row comes into force: that night sends it.
    job = Job.objects.create(
        company=company,
        kind="payroll_accounting_send",
        parameters={"on": (today + dt.timedelta(days=10)).isoformat()},
    )
    job_execute(job_id=job.pk)
    assert sandbox.employees["1001"]["home_accounting"][0]["cost_center"] == "400"


def test_link_accounting_switch_needs_the_warning_acknowledged(company, hr_master, user):
    from integrations.payroll_links import payroll_link_update

    with pytest.raises(ValidationError):
        payroll_link_update(link=hr_master, user=user, data={"send_home_accounting": True})
    payroll_link_update(
        link=hr_master,
        user=user,
        data={"send_home_accounting": True},
        accounting_warning_acknowledged=True,
    )
    hr_master.refresh_from_db()
    assert hr_master.send_home_accounting and hr_master.accounting_warning_acknowledged_by == user


def test_employee_number_change_refused_until_payroll_has_it(company, hr_master, sandbox):
    e = employee(company, "1001")
    with pytest.raises(ValidationError, match="payroll system first"):
        employee_services.employee_change_number(employee=e, new_number="9001")
    sandbox.employees["9001"] = {**sandbox.employees.pop("1001"), "employee_number": "9001"}
    sandbox._order = None
    employee_services.employee_change_number(employee=e, new_number="9001")
    assert employee(company, "9001").pk == e.pk


def test_employee_number_change_payroll_first_then_hr(company, hr_master, sandbox):
    e = employee(company, "1002")
    payroll_sync.payroll_employee_change_number(employee=e, new_number="9002")
    assert "9002" in sandbox.employees and "1002" not in sandbox.employees
    assert employee(company, "9002").pk == e.pk


def test_ending_an_employment_reminds_about_termination_reason(company, hr_master):
    from companies.models import Task

    employee_services.employee_end_employment(
        employee=employee(company, "1003"), end_date=dt.date(2026, 1, 31)
    )
    assert Task.objects.filter(
        company=company, kind="termination-reason", reference="1003"
    ).exists()


def test_failed_send_before_a_number_change_is_retried_under_the_new_number(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    sandbox.faults.fail_next = 4  # all the client's attempts fail
    with django_capture_on_commit_callbacks(execute=True):
        change_city(company, "Östersund")
    delivery = PayrollSyncDelivery.objects.get()
    assert delivery.status == "failed" and delivery.employee_number == "1001"
    payroll_sync.payroll_employee_change_number(employee=employee(company), new_number="9001")
    assert "1001" not in sandbox.employees
    PayrollSyncDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert payroll_sync.payroll_sync_retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.employee_number == "9001"
    assert sandbox.employees["9001"]["city"] == "Östersund"
    assert "1001" not in sandbox.employees  # no duplicate under the old number
    assert [r["path"] for r in puts(sandbox)][-1] == "/v1/employees/9001"
    job = Job.objects.filter(kind="payroll_sync").order_by("-pk").first()
    assert job.log_lines.filter(message__contains="from 1001 to 9001").exists()


def test_pending_change_queued_before_an_hr_number_change_goes_to_the_new_number(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        change_city(company, "Mora", number="1002")
    payroll_sync.payroll_sync_coalesce(company=company)  # the delivery says 1002
    assert PayrollSyncDelivery.objects.get().employee_number == "1002"
    sandbox.employees["9002"] = {**sandbox.employees.pop("1002"), "employee_number": "9002"}
    sandbox._order = None
    employee_services.employee_change_number(employee=employee(company, "1002"), new_number="9002")
    job_execute(job_id=Job.objects.create(company=company, kind="payroll_sync").pk)
    assert sandbox.employees["9002"]["city"] == "Mora"
    assert "1002" not in sandbox.employees
    assert PayrollSyncDelivery.objects.get().employee_number == "9002"
