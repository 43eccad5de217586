"""Payroll data for the ledger tests: a run with payslips and lines, built row by row so
the amounts are exactly what each test says."""

from __future__ import annotations

import datetime
from decimal import Decimal

from payslips.models import PayrollRun, Payslip, PayslipLine
from tests.employees.factories import EmployeeFactory


def make_run(*, company, payment_date=datetime.date(2025, 3, 25), status="final", **fields):
    return PayrollRun.objects.create(
        company=company,
        payment_date=payment_date,
        period_start=payment_date.replace(day=1),
        period_end=payment_date,
        status=status,
        **fields,
    )


def make_payslip(
    *,
    run,
    employee=None,
    lines: list[tuple],
    tax: str = "0",
    contributions: str = "0",
    net_pay: str | None = None,
    gross_pay: str | None = None,
):
    """``lines``: (salary type, amount, quantity or None, dimensions dict, kind).

    As payroll does: gross pay is the sum of the gross lines, net pay (unless given) gross
    pay less tax plus the after-tax lines; benefits are not paid out."""
    employee = employee or EmployeeFactory(company=run.company)

    def total(kind: str) -> Decimal:
        return sum(
            (
                Decimal(amount)
                for code, amount, *rest in lines
                if (rest[2:3] or ["gross"])[0] == kind
            ),
            Decimal("0"),
        )

    gross = total("gross")
    tax_amount = Decimal(tax)
    slip = Payslip.objects.create(
        company=run.company,
        payroll_run=run,
        employee=employee,
        gross_pay=Decimal(gross_pay) if gross_pay is not None else gross,
        tax=tax_amount,
        net_pay=Decimal(net_pay) if net_pay is not None else gross - tax_amount + total("net"),
        employer_contributions=Decimal(contributions),
    )
    PayslipLine.objects.bulk_create(
        [
            PayslipLine(
                payslip=slip,
                line_number=number,
                salary_type=code,
                text=code,
                amount=Decimal(amount),
                quantity=Decimal(rest[0]) if rest and rest[0] is not None else None,
                dimensions=(rest[1] if len(rest) > 1 else None) or {},
                kind=(rest[2] if len(rest) > 2 else "gross"),
            )
            for number, (code, amount, *rest) in enumerate(lines, start=1)
        ]
    )
    return slip
