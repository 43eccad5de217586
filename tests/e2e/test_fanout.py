"""A Kivra dispatch fanned out over two real Celery worker processes (Redis, PostgreSQL),
one of them killed with SIGKILL in the middle of a chunk: the other takes the chunk over,
every payslip is delivered once, and the user sees one job."""

import collections
import os
import signal
import socket

import pytest

from integrations.sandboxes.kivra import KivraSandbox
from jobs.models import Job, JobChunk
from jobs.services import job_create
from payslips.models import PayslipDelivery
from tests.employees.factories import EmployeeFactory
from tests.factories import CompanyFactory
from tests.payslips.factories import KivraLinkFactory, make_run
from tests.workers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAYSLIPS = 80
WORKER_ENV = {
    "KIVRA_DISPATCH_CONCURRENCY": "2",
    "KIVRA_DISPATCH_CHUNK_SIZE": "20",
    "KIVRA_DISPATCH_PARALLEL": "4",
    "JOB_CHUNK_HEARTBEAT_SECONDS": "0.5",
    "JOB_CHUNK_STALE_SECONDS": "3",
    "JOB_CHUNK_POLL_SECONDS": "0.2",
    "LANGUAGE_CODE": "en",  # the log lines asserted below
    # The link relies on Kivra's duplicate control, as in production; its sandbox listens
    # on 127.0.0.1, which such a link may reach only with this setting.
    "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true",
}


def test_dispatch_over_two_workers_one_killed_mid_chunk(celery_workers):
    company = CompanyFactory(code="e2e-fanout")
    employees = [
        EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(PAYSLIPS)
    ]
    make_run(company, employees)
    sandbox = KivraSandbox(users=[e.personal_identity_number for e in employees], latency_ms=200)
    # Production's duplicate control: what the killed worker had in flight is resent with
    # the same bytes and delivered once (on a link without it, it would not be resent).
    sandbox.options["duplicate_control"] = True
    worker_a = celery_workers("worker-a", env=WORKER_ENV)
    worker_b = celery_workers("worker-b", env=WORKER_ENV)
    with sandbox.serving() as url:
        KivraLinkFactory(company=company, base_url=url, is_sandbox=False)
        job = job_create(
            company=company, kind="kivra_dispatch", parameters={"payment_date": "2026-01-25"}
        )
        a_name = f"{socket.gethostname()}:{worker_a.pid}"

        def a_is_mid_chunk():
            # Well inside the chunk (2 senders, 200 ms a send: over half a second of it
            # left), so that A cannot finish it between this look and the kill.
            return JobChunk.objects.filter(
                job=job, worker=a_name, status="running", done__gte=2, done__lte=12
            ).first()

        chunk = wait_for(a_is_mid_chunk, timeout=120, interval=0.05)
        os.kill(worker_a.pid, signal.SIGKILL)
        worker_a.wait(timeout=10)

        def finished():
            job.refresh_from_db()
            return job.is_finished

        wait_for(finished, timeout=180)
        received = list(sandbox.received)
        duplicates_suppressed = sandbox.duplicates
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.summary == {"sent": PAYSLIPS}
    assert (job.progress_done, job.progress_total) == (PAYSLIPS, PAYSLIPS)
    per_recipient = collections.Counter(r["ssn"] for r in received)
    assert len(per_recipient) == PAYSLIPS
    assert set(per_recipient.values()) == {1}  # 0 duplicates delivered
    # What A had sent without having recorded the answer was resent with the same bytes:
    # at most its senders' worth in flight plus as many answered but not yet written.
    assert duplicates_suppressed <= 2 * int(WORKER_ENV["KIVRA_DISPATCH_CONCURRENCY"])
    assert collections.Counter(PayslipDelivery.objects.values_list("status", flat=True)) == {
        "sent": PAYSLIPS
    }
    chunk.refresh_from_db()
    assert chunk.status == "done" and chunk.attempts == 2 and chunk.worker != a_name
    assert job.log_lines.filter(message__contains=f"Part {chunk.number} taken over").count() == 1
    assert worker_b.poll() is None
