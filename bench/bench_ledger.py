"""Voucher of a payroll run with many payslip lines (``voucher_build``: aggregation in SQL,
fold per account and dimensions, balance proof) vs. one hand-written SQL ``GROUP BY`` over
the same rows."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import connection

from bench.common import Figure, bench_company, timed, vacuum
from companies.models import Company
from employees.models import Employee, PersonnelCategory
from ledger.services import voucher_build
from payslips.models import PayrollRun, Payslip, PayslipLine

TYPES = ["MÅNLÖN", "TIMLÖN", "ÖT1", "SEM", "BILERS", "AVDRAG"]


def _company() -> Company:
    return bench_company("bench-ledger", "Bench Ledger AB")


def _run(company: Company, *, lines: int, payslips: int) -> PayrollRun:
    day = datetime.date(2025, 3, 25)
    found = PayrollRun.objects.filter(company=company, external_id=f"bench-{lines}").first()
    if found is not None:
        return found
    category = PersonnelCategory.objects.get(company=company, code="STD")
    existing = Employee.objects.filter(company=company).count()
    Employee.objects.bulk_create(
        [
            Employee(
                company=company,
                employee_number=f"B{n}",
                first_name="Bench",
                last_name=str(n),
                personnel_category=category,
                employment_start_date=datetime.date(2020, 1, 1),
            )
            for n in range(existing, payslips)
        ],
        batch_size=2000,
    )
    employees = list(Employee.objects.filter(company=company).values_list("pk", flat=True))
    run = PayrollRun.objects.create(
        company=company,
        payment_date=day,
        period_start=day.replace(day=1),
        period_end=day,
        status="final",
        external_id=f"bench-{lines}",
    )
    rng = random.Random(7)
    per_slip = lines // payslips
    for start in range(0, payslips, 500):
        slips = []
        slip_lines = []
        for n in range(start, min(payslips, start + 500)):
            amounts = [Decimal(rng.randrange(1, 500_00)) / 100 for _ in range(per_slip)]
            total = sum(amounts)
            tax = (total * Decimal("0.3")).quantize(Decimal("1"))
            slips.append(
                Payslip(
                    company=company,
                    payroll_run=run,
                    employee_id=employees[n],
                    gross_pay=total,
                    tax=tax,
                    net_pay=(total - tax).quantize(Decimal("1")),
                    employer_contributions=(total * Decimal("0.3142")).quantize(Decimal("0.01")),
                )
            )
            slip_lines.append(amounts)
        Payslip.objects.bulk_create(slips)
        rows = []
        for slip, amounts in zip(slips, slip_lines, strict=True):
            for number, amount in enumerate(amounts, start=1):
                rows.append(
                    PayslipLine(
                        payslip=slip,
                        line_number=number,
                        salary_type=TYPES[number % len(TYPES)],
                        text="bench",
                        amount=amount,
                        quantity=Decimal(1),
                        dimensions={"1": str(100 + number % 20), "6": f"P{number % 7}"},
                    )
                )
        PayslipLine.objects.bulk_create(rows, batch_size=5000)
    return run


def _group_by_sql(run_id: int) -> list:
    """The plain aggregate a DBA would write: per salary type, account, cost centre and
    project (the line's own columns for SIE 1 and 6), sums of amount and quantity."""
    line, slip = PayslipLine._meta.db_table, Payslip._meta.db_table
    sql = (
        "SELECT l.salary_type, l.account, l.cost_center_code, l.project_code, SUM(l.amount), "
        f"SUM(l.quantity) FROM {line} l JOIN {slip} s ON s.id = l.payslip_id "
        "WHERE s.payroll_run_id = %s GROUP BY l.salary_type, l.account, l.cost_center_code, "
        "l.project_code"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_id])
        return cursor.fetchall()


def run(*, quick: bool) -> list[Figure]:
    lines = 50_000 if quick else 1_000_000
    payslips = 500 if quick else 5_000
    company = _company()
    run_row = _run(company, lines=lines, payslips=payslips)
    # Fresh statistics and a set visibility map, as autovacuum would leave them: the data
    # may have just been created (without it the first run measured 1.77 where the next
    # gave 1.32), and the other benchmarks rewrite payslips (rendering).
    vacuum(PayslipLine._meta.db_table, Payslip._meta.db_table)
    _group_by_sql(run_row.pk)  # warm the cache for both
    vouchers: list = []
    # Each side's best of five, taken in turns: both are a few tenths of a second of
    # PostgreSQL work, so a moment of load on the machine would otherwise fall on one side.
    values, baselines = [], []

    def build() -> None:
        vouchers.append(voucher_build(company=company, payroll_run_id=run_row.pk))

    for _ in range(5):
        values.append(timed(build))
        baselines.append(timed(lambda: _group_by_sql(run_row.pk)))
    value, baseline = min(values), min(baselines)
    voucher = vouchers[-1][0]
    assert sum(p.amount for p in voucher.postings) == 0
    return [Figure(f"voucher of {lines} payslip lines", value, baseline, "s", target=1.5)]
