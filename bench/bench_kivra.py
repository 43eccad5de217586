"""Kivra dispatch throughput and payslip PDF rendering.

Sends N payslips (10 000; 500 with --quick) to the Kivra sandbox over HTTP at 50 ms latency
per request and compares the wall time with the ideal ``N × latency ÷ concurrency``
(target ratio ≤ 1.3). PDF rendering: payslips rendered and stored per second through
``payslip_render_pdf`` next to the bare reportlab rendering of the same payslips.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.conf import settings
from django.db import transaction

from bench.common import Figure
from companies.models import Company
from employees.models import Employee, PersonnelCategory
from integrations.models import Job
from integrations.sandboxes.kivra import KivraSandbox
from integrations.services import job_execute
from payslips.models import KivraLink, PayrollRun, Payslip
from payslips.pdf import payslip_pdf_render
from payslips.services import payroll_run_create, payslip_render_pdf

LATENCY_MS = 50
PAYDAY = datetime.date(2026, 1, 25)


def _pin(n: int) -> str:
    body = f"{800101 + (n // 1000) % 28:06d}{n % 1000:03d}"
    total = 0
    for index, char in enumerate(body):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return "19" + body + str((10 - total % 10) % 10)


def _company(count: int) -> Company:
    code = f"bench-kivra-{count}"
    company = Company.objects.filter(code=code).first()
    if company is not None:
        return company
    from companies.services import company_create

    company = company_create(
        name=f"Kivra bench {count} AB",
        organisation_number="556036-0793" if count > 1000 else "556016-0680",
        code=code,
        kivra_payslips=True,
    )
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
    sandbox = KivraSandbox(latency_ms=LATENCY_MS, users=None)
    with sandbox.serving() as url:
        with transaction.atomic():
            KivraLink.objects.update_or_create(
                company=company,
                defaults={
                    "tenant_key": sandbox.tenant_key,
                    "client_id": "flexbridge-demo",
                    "client_secret": "demo-secret",
                    "base_url": url,
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
        started = time.perf_counter()
        job = job_execute(job_id=job.pk)
        wall = time.perf_counter() - started
        delivered = len(sandbox.received)
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
        f"  job {job.status}: {job.summary}; sandbox received {delivered}, "
        f"duplicates suppressed {sandbox.duplicates}"
    )
    return figures
