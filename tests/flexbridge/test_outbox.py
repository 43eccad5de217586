"""The shared outbox transitions (flexbridge.outbox) on the three outboxes that extend it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from flexbridge.outbox import Outbox, OutboxStateError
from integrations.models import PayrollSyncDelivery
from ledger.models import LedgerTransfer
from payslips.models import PayslipDelivery
from tests.employees.factories import EmployeeFactory
from tests.factories import JobFactory
from tests.ledger.factories import make_run as make_ledger_run
from tests.payslips.factories import make_run as make_payslip_run


def _sync_delivery(company) -> PayrollSyncDelivery:
    employee = EmployeeFactory(company=company)
    return PayrollSyncDelivery.objects.create(
        company=company,
        employee=employee,
        employee_number=employee.employee_number,
        request_body=b'{"city": "Lule\xc3\xa5"}',
    )


def _payslip_delivery(company) -> PayslipDelivery:
    run = make_payslip_run(company, [EmployeeFactory(company=company)])
    return PayslipDelivery.objects.create(
        company=company,
        payslip=run.payslips.get(),
        channel=PayslipDelivery.Channel.KIVRA,
        request_body=b"{}",
        request_sha256="x",
    )


def _ledger_transfer(company) -> LedgerTransfer:
    return LedgerTransfer.objects.create(
        company=company,
        payroll_run=make_ledger_run(company=company),
        voucher_key="LON-2025-03-1",
        financial_period="202503",
        debit_total=Decimal("100.00"),
        request_body=b"{}",
    )


OUTBOXES = {
    "payroll sync": _sync_delivery,
    "payslip": _payslip_delivery,
    "ledger": _ledger_transfer,
}


@pytest.fixture(params=list(OUTBOXES))
def row(request, company) -> Outbox:
    return OUTBOXES[request.param](company)


def test_the_three_outboxes_extend_the_one_model():
    for model in (PayrollSyncDelivery, PayslipDelivery, LedgerTransfer):
        assert issubclass(model, Outbox)
        names = {field.name for field in model._meta.concrete_fields}
        assert {"status", "attempts", "request_body", "error_message", "created_at"} <= names


@pytest.mark.django_db
def test_the_columns_stay_where_they_were():
    columns = {f.name: f.column for f in PayrollSyncDelivery._meta.concrete_fields}
    assert columns["request_body"] == "payload"
    assert columns["error_message"] == "last_error"
    for model in (PayslipDelivery, LedgerTransfer):
        columns = {f.name: f.column for f in model._meta.concrete_fields}
        assert columns["request_body"] == "request_body"
        assert columns["error_message"] == "error_message"
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(
            cursor, PayrollSyncDelivery._meta.db_table
        )
    assert {"payload", "last_error"} <= {column.name for column in described}


def test_each_outbox_keeps_its_own_states():
    assert PayrollSyncDelivery._meta.get_field("status").default == "pending"
    assert PayslipDelivery._meta.get_field("status").default == "ready"
    assert LedgerTransfer._meta.get_field("status").default == "pending"
    assert LedgerTransfer._meta.get_field("status").max_length == 10
    assert "rejected" in PayrollSyncDelivery.Status.values
    assert "uncertain" in LedgerTransfer.Status.values
    assert "retain_refused" in PayslipDelivery.Status.values
    for model in (PayrollSyncDelivery, PayslipDelivery, LedgerTransfer):
        assert {Outbox.SENDING, Outbox.SENT, Outbox.FAILED} <= set(model.Status.values)


@pytest.mark.django_db
def test_sending_counts_the_attempt_and_saves_extra_fields(row):
    job = JobFactory(company=row.company)
    row.mark_sending(job=job)
    row.mark_sending()  # a resend of a row left SENDING (a killed worker) is allowed
    stored = type(row).objects.get(pk=row.pk)
    assert (stored.status, stored.attempts, stored.job_id) == ("sending", 2, job.pk)
    assert stored.body == bytes(row.request_body)


@pytest.mark.django_db
def test_sent_clears_the_error_and_stamps_the_send(row):
    row.mark_sending()
    row.outbox_save(error_message="Read timed out")  # the answer was lost: still SENDING
    row.mark_sending()
    row.mark_sent()
    stored = type(row).objects.get(pk=row.pk)
    assert (stored.status, stored.attempts, stored.error_message) == ("sent", 2, "")
    stamped = getattr(stored, type(row).SENT_AT_FIELD)
    assert stamped is not None
    assert abs(stamped - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)


@pytest.mark.django_db
def test_sent_needs_an_attempt(row):
    with pytest.raises(OutboxStateError):
        row.mark_sent()
    assert type(row).objects.get(pk=row.pk).status != "sent"


@pytest.mark.django_db
def test_a_sent_row_never_fails_nor_is_sent_again(row):
    row.mark_sending()
    row.mark_sent()
    with pytest.raises(OutboxStateError):
        row.mark_failed(error="late")
    with pytest.raises(OutboxStateError):
        row.mark_sending()
    stored = type(row).objects.get(pk=row.pk)
    assert (stored.status, stored.attempts, stored.error_message) == ("sent", 1, "")


@pytest.mark.django_db
def test_failed_keeps_the_error_and_the_code_where_the_model_has_one(company):
    transfer = _ledger_transfer(company)
    transfer.mark_sending()
    transfer.mark_failed(error="Period 202503 is closed", code="PeriodClosed")
    transfer.mark_failed(error="Refused again")  # no code given: the stored one stays
    stored = LedgerTransfer.objects.get(pk=transfer.pk)
    assert (stored.status, stored.error_code, stored.error_message) == (
        "failed",
        "PeriodClosed",
        "Refused again",
    )
    delivery = _sync_delivery(company)
    with pytest.raises(TypeError):
        delivery.mark_failed(error="x", code="E1")  # the sync keeps no error code


@pytest.mark.django_db
def test_only_claimable_states_are_sent(company):
    delivery = _payslip_delivery(company)
    delivery.outbox_save(status=PayslipDelivery.Status.FAILED)
    with pytest.raises(OutboxStateError):
        delivery.mark_sending()  # a failed payslip delivery is rebuilt, not resent
    transfer = _ledger_transfer(company)
    transfer.outbox_save(status=LedgerTransfer.Status.UNCERTAIN, attempts=1)
    transfer.mark_sending()  # looked up first by the service, then sent again
    assert LedgerTransfer.objects.get(pk=transfer.pk).attempts == 2
    transfer.outbox_save(status=LedgerTransfer.Status.REVERSED)
    with pytest.raises(OutboxStateError):
        transfer.mark_sending()


@pytest.mark.django_db
def test_payslip_delivery_stamps_finished_at_and_updated_at(company):
    delivery = _payslip_delivery(company)
    before = delivery.updated_at
    delivery.mark_sending()
    assert PayslipDelivery.objects.get(pk=delivery.pk).updated_at > before
    delivery.mark_sent(kivra_objkey="abc")
    stored = PayslipDelivery.objects.get(pk=delivery.pk)
    assert stored.finished_at is not None and stored.kivra_objkey == "abc"
