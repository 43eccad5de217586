"""The outbox of payslip deliveries: new Kivra rows written in one batch, leaving alone the
rows that exist already."""

import hashlib

from django.utils import timezone

from payslips.models import Payslip, PayslipDelivery
from payslips.services.deliveries import payslip_deliveries_create, payslip_delivery_create
from tests.employees.factories import EmployeeFactory
from tests.factories import JobFactory
from tests.payslips.factories import make_run


def test_batch_writes_new_rows_with_their_exact_bytes_and_keeps_an_existing_one(company):
    employees = [EmployeeFactory(company=company) for _ in range(3)]
    first, second, third = Payslip.objects.filter(payroll_run=make_run(company, employees))
    earlier_job, job = JobFactory(company=company), JobFactory(company=company)
    # another job was first for the second payslip: its row and bytes are the ones used
    kept = payslip_delivery_create(
        payslip=second, channel=PayslipDelivery.Channel.KIVRA, body=b"earlier", job=earlier_job
    )
    bodies = {first.pk: b'{"a": "\\u00e5"}\x00\xff', second.pk: b"later", third.pk: b"{}"}
    before = timezone.now()
    found = payslip_deliveries_create(
        rows=[(first, bodies[first.pk], True), (second, b"later", False), (third, b"{}", False)],
        job=job,
    )
    assert set(found) == {first.pk, second.pk, third.pk}
    assert found[second.pk].pk == kept.pk
    rows = {d.payslip_id: d for d in PayslipDelivery.objects.filter(company=company)}
    assert len(rows) == 3
    assert bytes(rows[second.pk].request_body) == b"earlier"
    assert rows[second.pk].job_id == earlier_job.pk
    for payslip in (first, third):
        row = rows[payslip.pk]
        assert bytes(row.request_body) == bodies[payslip.pk]
        assert row.request_sha256 == hashlib.sha256(bodies[payslip.pk]).hexdigest()
        assert (row.channel, row.status, row.attempts) == ("kivra", "ready", 0)
        assert (row.job_id, row.company_id) == (job.pk, company.pk)
        assert row.created_at >= before and row.updated_at >= before
        assert row.error_message == "" and row.kivra_objkey == "" and row.finished_at is None
    assert rows[first.pk].retain is True and rows[third.pk].retain is False
