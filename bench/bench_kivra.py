"""Payday at scale: Kivra dispatch and payslip PDF rendering fanned out over real Celery
worker processes (PostgreSQL, Redis), each figure next to its baseline.

* dispatch of N payslips (40 000; 2 000 with --quick) to the Kivra sandbox at 50 ms per
  request with W = 2 worker processes × C = 16 senders, against the ideal N·L/(C·W)
  (target ≤ 1.3), counting duplicates at the sandbox (target 0);
* the same with one worker process killed (SIGKILL) halfway and restarted at once: every
  payslip sent, 0 duplicates delivered, ≤ 1.6 × the ideal; the resends of what the killed
  worker had in flight (same bytes, suppressed by Kivra's duplicate control) are printed;
* rendering R payslips' PDFs (20 000; 1 000 with --quick) with 2 worker processes against
  the rate of 1 (target ≥ 1.7 ×), next to the bare reportlab rate in this process.

The sandbox runs in its own process (``manage.py sandbox kivra``, as in production Kivra is
another machine), restarted for each dispatch so its duplicate control starts empty, with
every bench employee in its user set. The data set (employees, two payroll runs, the
rendered PDFs) is created once and kept; each run deletes the deliveries it made. Without
REDIS_URL and PostgreSQL there are no worker processes: the figures are skipped.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from django.conf import settings
from django.db import transaction
from stdnum import luhn

from bench.common import Figure, Workers, bench_company, load, vacuum
from companies.models import Company
from employees.models import Employee, PersonnelCategory
from integrations.sandboxes.kivra import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_KEY
from jobs.models import Job
from jobs.services import job_create
from payslips.models import KivraLink, PayrollRun, Payslip, PayslipDelivery
from payslips.pdf import payslip_pdf_render
from payslips.services import payroll_run_create

LATENCY_MS = 50
SENDERS = 16
PAYDAY = datetime.date(2026, 1, 25)
ROOT = Path(__file__).resolve().parent.parent
SANDBOX_START_TIMEOUT = 60.0


def _pin(n: int) -> str:
    """A valid personal identity number, unique per ``n`` (below 18 000 000)."""
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 18000)
    body = f"{birth:%y%m%d}{n // 18000:03d}"
    return f"{birth.year // 100}{body}{luhn.calc_check_digit(body)}"


def _payslip(employee_number: str) -> dict:
    return {
        "employee_number": employee_number,
        "gross_pay": "33500.00",
        "tax": "9800.00",
        "net_pay": "23700.00",
        "ytd_gross_pay": "33500.00",
        "ytd_tax": "9800.00",
        "lines": [
            {"salary_type": "110", "text": "Månadslön", "amount": "32000.00"},
            {
                "salary_type": "310",
                "text": "Övertid",
                "quantity": "5",
                "unit_price": "300.00",
                "amount": "1500.00",
            },
        ],
    }


def _company(count: int) -> Company:
    """``count`` employees, each with a Kivra user's number, and two final payroll runs on
    PAYDAY (half the employees each); created once, in one transaction, and kept."""
    code = f"bench-payday-{count}"
    company = Company.objects.filter(code=code).first()
    if company is not None:
        return company
    with transaction.atomic():
        company = bench_company(code, f"Payday bench {count} AB", kivra_payslips=True)
        category = PersonnelCategory.objects.get(company=company, code="STD")
        Employee.objects.bulk_create(
            [
                Employee(
                    company=company,
                    employee_number=str(100000 + n),
                    personal_identity_number=_pin(n),
                    first_name=f"Anna{n}",
                    last_name="Bench",
                    street_address="Storgatan 1",
                    postal_code="111 22",
                    city="Stockholm",
                    personnel_category=category,
                    employment_start_date=datetime.date(2020, 1, 1),
                    kivra_send_payslips=True,
                )
                for n in range(count)
            ],
            batch_size=2000,
        )
        numbers = [str(100000 + n) for n in range(count)]
        half = count // 2
        for part, chosen in (("a", numbers[:half]), ("b", numbers[half:])):
            payroll_run_create(
                company=company,
                payment_date=PAYDAY,
                period_start=PAYDAY.replace(day=1),
                period_end=PAYDAY.replace(day=28),
                status=PayrollRun.Status.FINAL,
                external_id=f"bench-{part}",
                payslips=[_payslip(number) for number in chosen],
            )
    return company


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _sandbox_process(*, users: list[str]) -> Iterator[str]:
    """``manage.py sandbox kivra`` in its own process; yields its URL once it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as options:
        # Kivra production's duplicate control, which the link relies on: a killed worker's
        # in-flight payslips are resent with their stored bytes and delivered once.
        json.dump({"users": users, "duplicate_control": True}, options)
    command = [
        sys.executable,
        "manage.py",
        "sandbox",
        "kivra",
        "--port",
        str(port),
        "--latency-ms",
        str(LATENCY_MS),
        "--options",
        f"@{options.name}",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the Kivra sandbox exited with {process.returncode}")
            try:
                httpx.get(f"{url}/_sandbox/state", timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the Kivra sandbox did not answer in time") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.unlink(options.name)


def _dispatch(*, company, url: str, workers: Workers, count: int, kill: bool, chunk_size):
    """One dispatch by the workers; returns (wall seconds, job, sandbox state, duplicates)."""
    PayslipDelivery.objects.filter(company=company)._raw_delete(PayslipDelivery.objects.db)
    # Each run deletes the last run's deliveries (three row versions each) and rendering
    # rewrites the payslips: without this, on a PostgreSQL without autovacuum, every dispatch
    # got slower than the one before (2.1 million dead deliveries: 1.97 × the ideal).
    vacuum(PayslipDelivery._meta.db_table, Payslip._meta.db_table)
    _link(company, url)
    parameters = {"payment_date": str(PAYDAY)}
    if chunk_size:
        parameters["chunk_size"] = chunk_size
    with transaction.atomic():
        job = job_create(company=company, kind="kivra_dispatch", parameters=parameters)
    started = time.perf_counter()
    killed = False
    while True:
        job.refresh_from_db()
        if job.is_finished:
            break
        if kill and not killed and job.progress_done >= count // 2:
            victim = _mid_chunk(job=job, workers=workers)
            if victim is not None:  # killed in the middle of a chunk, not between two
                workers.kill(victim)
                workers.start()  # restarted at once; its start-up is part of the figure
                killed = True
        time.sleep(0.1)
    wall = (job.finished_at - job.created_at).total_seconds()
    received = httpx.get(f"{url}/_sandbox/received", timeout=60.0).json()
    per_payslip = {}
    for entry in received["received"]:
        per_payslip[entry["payload_sha256"]] = per_payslip.get(entry["payload_sha256"], 0) + 1
    per_recipient = {}
    for entry in received["received"]:
        per_recipient[entry["ssn"]] = per_recipient.get(entry["ssn"], 0) + 1
    duplicates = sum(n - 1 for n in per_recipient.values())
    state = httpx.get(f"{url}/_sandbox/state", timeout=10.0).json()["store"]
    return wall, job, state, duplicates, time.perf_counter() - started


def _mid_chunk(*, job, workers: Workers):
    """A worker process that is in the middle of one of ``job``'s chunks, or None."""
    from jobs.models import JobChunk

    host = socket.gethostname()
    busy = set(
        JobChunk.objects.filter(job=job, status="running", done__gte=50).values_list(
            "worker", flat=True
        )
    )
    for process in workers.processes:
        if process.poll() is None and f"{host}:{process.pid}" in busy:
            return process
    return None


def _link(company, url: str) -> None:
    KivraLink.objects.update_or_create(
        company=company,
        defaults={
            "tenant_key": DEMO_TENANT_KEY,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "base_url": url,
            # production-like: relies on duplicate control (the sandbox has it on here)
            "environment": KivraLink.Environment.PRODUCTION,
            "is_sandbox": False,
            "send_payslips": True,
            "employer_street_address": "Storgatan 1",
            "employer_postal_code": "111 22",
            "employer_city": "Stockholm",
            "employer_email": "lon@bench.example",
            "employer_telephone": "+46 8-123 456",
        },
    )


def _render(*, company, run_id: int, chunk_size) -> float:
    """Clear run ``run_id``'s PDFs and render them with the running workers: wall seconds."""
    Payslip.objects.filter(payroll_run_id=run_id).update(
        pdf=None, pdf_sha256="", pdf_rendered_at=None
    )
    parameters = {"payroll_run": run_id}
    if chunk_size:
        parameters["chunk_size"] = chunk_size
    with transaction.atomic():
        job = job_create(company=company, kind="payslip_render", parameters=parameters)
    while not job.is_finished:
        time.sleep(0.1)
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    return (job.finished_at - job.created_at).total_seconds()


def run(*, quick: bool) -> list[Figure]:
    from django.db import connection

    count = 2_000 if quick else 40_000
    render_count = count // 2
    workers_n = 2
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("integrations.clients.base").setLevel(logging.WARNING)
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        print("  kivra: needs REDIS_URL and PostgreSQL for worker processes; skipped")
        return []
    company = _company(count)
    runs = list(
        PayrollRun.objects.filter(company=company).order_by("pk").values_list("pk", flat=True)
    )
    figures = []
    # Quick data sets are small: smaller chunks so that they still fan out.
    dispatch_chunk = 250 if quick else None
    render_chunk = 100 if quick else None
    # the sandbox listens on 127.0.0.1, which a link that is not a sandbox link may not reach
    # unless the setting allows it
    env = {"KIVRA_DISPATCH_CONCURRENCY": str(SENDERS), "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true"}

    sample = list(
        Payslip.objects.filter(company=company)
        .select_related("payroll_run", "employee", "company")
        .prefetch_related("lines")
        .defer("pdf")[: min(count, 500)]
    )
    started = time.perf_counter()
    for payslip in sample:
        payslip_pdf_render(payslip)
    bare_rate = len(sample) / (time.perf_counter() - started)

    with Workers(env) as workers:
        workers.start()
        print(f"  render {render_count} with 1 worker ({load()})")
        one = _render(company=company, run_id=runs[0], chunk_size=render_chunk)
        workers.start()
        print(f"  render {render_count} with {workers_n} workers ({load()})")
        two = _render(company=company, run_id=runs[0], chunk_size=render_chunk)
        if Payslip.objects.filter(payroll_run_id=runs[1], pdf_sha256="").exists():
            _render(company=company, run_id=runs[1], chunk_size=render_chunk)  # set-up, once
        rate_one, rate_two = render_count / one, render_count / two
        figures.append(
            Figure(
                f"render {render_count} PDFs, {workers_n} workers vs 1 (per s)",
                rate_two,
                rate_one,
                "/s",
                target=1.7,
                at_least=True,
            )
        )
        print(
            f"  render: 1 worker {rate_one:.0f}/s, {workers_n} workers {rate_two:.0f}/s; "
            f"bare reportlab in one process {bare_rate:.0f}/s"
        )

        ideal = count * LATENCY_MS / 1000 / (SENDERS * workers_n)
        users = list(
            Employee.objects.filter(company=company).values_list(
                "personal_identity_number", flat=True
            )
        )
        for kill in (False, True):
            with _sandbox_process(users=users) as url:
                print(f"  dispatch {count}{', one worker killed' if kill else ''} ({load()})")
                cpu_before = workers.cpu_seconds()
                wall, job, state, duplicates, _observed = _dispatch(
                    company=company,
                    url=url,
                    workers=workers,
                    count=count,
                    kill=kill,
                    chunk_size=dispatch_chunk,
                )
            cpu = workers.cpu_seconds() - cpu_before
            name = f"kivra dispatch {count} @{LATENCY_MS}ms, {workers_n}x{SENDERS}"
            figures.append(
                Figure(
                    name + (", 1 killed" if kill else ""),
                    wall,
                    ideal,
                    "s",
                    target=1.6 if kill else 1.3,
                )
            )
            print(
                f"  job {job.status}: {job.summary}; sandbox received {state['received']} "
                f"for {count} payslips, {duplicates} delivered twice, resends suppressed by "
                f"duplicate control {state['duplicates_suppressed']}, content requests "
                f"{state['content_requests']} ({load()})"
            )
            if not kill:
                print(
                    f"  worker CPU {cpu:.1f} s for {count} payslips "
                    f"({cpu / count * 1000:.2f} ms each) in {wall:.1f} s wall"
                )
    return figures
