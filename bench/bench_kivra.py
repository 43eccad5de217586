"""Kivra dispatch throughput and payslip PDF rendering.

Sends N payslips (10 000; 500 with --quick) to the Kivra sandbox over HTTP at 50 ms latency
per request and compares the wall time with the ideal ``N × latency ÷ concurrency``
(target ratio ≤ 1.3). The sandbox runs in its own process (``manage.py sandbox kivra``, as
in production Kivra is another machine), with every bench employee in its user set, so its
HTTP server, JSON parsing and schema validation do not share the dispatcher's GIL.
PDF rendering: payslips rendered and stored per second through ``payslip_render_pdf`` next
to the bare reportlab rendering of the same payslips.
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
from django.test.utils import override_settings

from bench.common import Figure, bench_company
from companies.models import Company
from employees.models import Employee, PersonnelCategory
from integrations.models import Job
from integrations.sandboxes.kivra import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_KEY
from integrations.services import job_execute
from payslips.models import KivraLink, PayrollRun, Payslip
from payslips.pdf import payslip_pdf_render
from payslips.services import payroll_run_create, payslip_render_pdf

LATENCY_MS = 50
PAYDAY = datetime.date(2026, 1, 25)
ROOT = Path(__file__).resolve().parent.parent
SANDBOX_START_TIMEOUT = 60.0


def _pin(n: int) -> str:
    body = f"{800101 + (n // 1000) % 28:06d}{n % 1000:03d}"
    total = 0
    for index, char in enumerate(body):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return "19" + body + str((10 - total % 10) % 10)


def _company(count: int) -> Company:
    code = f"bench-kivra-{count}"
    if Company.objects.filter(code=code).exists():
        return Company.objects.get(code=code)
    company = bench_company(code, f"Kivra bench {count} AB", kivra_payslips=True)
    category = PersonnelCategory.objects.get(company=company, code="STD")
    Employee.objects.bulk_create(
        [
            Employee(
                company=company,
                employee_number=str(10000 + n),
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
        batch_size=1000,
    )
    employees = Employee.objects.filter(company=company)
    payroll_run_create(
        company=company,
        payment_date=PAYDAY,
        period_start=PAYDAY.replace(day=1),
        period_end=PAYDAY.replace(day=28),
        status=PayrollRun.Status.FINAL,
        payslips=[
            {
                "employee_number": e.employee_number,
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
            for e in employees
        ],
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
        json.dump({"users": users}, options)
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


def run(*, quick: bool) -> list[Figure]:
    count = 500 if quick else 10_000
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("integrations.clients.base").setLevel(logging.WARNING)
    company = _company(count)
    payslips = list(
        Payslip.objects.filter(company=company)
        .select_related("payroll_run", "employee", "company")
        .prefetch_related("lines")
    )
    figures = []

    # PDF rendering: bare reportlab vs rendered-and-stored (once) through the service.
    sample = payslips[: min(len(payslips), 1000)]
    started = time.perf_counter()
    for payslip in sample:
        payslip_pdf_render(payslip)
    bare_rate = len(sample) / (time.perf_counter() - started)
    todo = [p for p in payslips if not p.pdf_sha256]
    if todo:
        started = time.perf_counter()
        for payslip in todo:
            payslip_render_pdf(payslip=payslip)
        rate = len(todo) / (time.perf_counter() - started)
        figures.append(
            Figure(f"payslip PDFs rendered+stored per second ({len(todo)})", rate, bare_rate, "/s")
        )

    concurrency = settings.KIVRA_DISPATCH_CONCURRENCY
    users = [p.employee.personal_identity_number for p in payslips]
    with _sandbox_process(users=users) as url:
        with transaction.atomic():
            KivraLink.objects.update_or_create(
                company=company,
                defaults={
                    "tenant_key": DEMO_TENANT_KEY,
                    "client_id": DEMO_CLIENT_ID,
                    "client_secret": DEMO_CLIENT_SECRET,
                    "base_url": url,
                    "is_sandbox": True,
                    "send_payslips": True,
                    "employer_street_address": "Storgatan 1",
                    "employer_postal_code": "111 22",
                    "employer_city": "Stockholm",
                    "employer_email": "lon@bench.example",
                    "employer_telephone": "+46 8-123 456",
                },
            )
        from payslips.models import PayslipDelivery

        PayslipDelivery.objects.filter(company=company).delete()
        job = Job.objects.create(
            company=company, kind="kivra_dispatch", parameters={"payment_date": str(PAYDAY)}
        )
        # As in a worker (DEBUG off): no query log, no SQL quoting of every query's params.
        with override_settings(DEBUG=False):
            started, cpu_started = time.perf_counter(), time.process_time()
            job = job_execute(job_id=job.pk)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        state = httpx.get(f"{url}/_sandbox/state", timeout=10.0).json()["store"]
    ideal = count * LATENCY_MS / 1000 / concurrency
    figures.append(
        Figure(
            f"kivra dispatch {count} payslips @{LATENCY_MS}ms, {concurrency} threads",
            wall,
            ideal,
            "s",
            target=1.3,
        )
    )
    print(
        f"  job {job.status}: {job.summary}; sandbox received {state['received']}, "
        f"duplicates suppressed {state['duplicates_suppressed']}, "
        f"content requests {state['content_requests']}; dispatcher CPU {cpu:.1f} s "
        f"for {wall:.1f} s wall (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    return figures
