"""Reads for the ledger: the payroll runs of a selection, the payslip lines aggregated in SQL,
and the employees' home accounting in force on a day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import RawSQL

from payslips.models import PayrollRun, Payslip, PayslipLine
from projects.models import HomeAccounting

from .models import LedgerTransfer

CENT = Decimal("0.01")


def payroll_runs_for_selection(
    *, company, payroll_run_id: int | None = None, payment_date: datetime.date | None = None
) -> QuerySet[PayrollRun]:
    """The runs of the company a selection names: one run, or every run of a payment date."""
    runs = PayrollRun.objects.filter(company=company)
    if payroll_run_id is not None:
        runs = runs.filter(pk=payroll_run_id)
    elif payment_date is not None:
        runs = runs.filter(payment_date=payment_date)
    else:
        return runs.none()
    return runs.order_by("payment_date", "pk")


def _dimension_sql(number: int) -> str:
    table = PayslipLine._meta.db_table
    if connection.vendor == "postgresql":
        return f'("{table}"."dimensions" ->> \'{number}\')'
    return f'json_extract("{table}"."dimensions", \'$."{number}"\')'


@dataclass(frozen=True)
class LineGroup:
    """Payslip lines of a run with the same salary type, account and dimensions — and the
    same employee where the employee matters (a dimension to fill from home accounting, or
    a salary type that carries the employee)."""

    payroll_run_id: int
    employee_id: int | None
    salary_type: str
    account: str
    cost_center: str
    project: str
    amount: Decimal
    quantity: Decimal | None
    lines: int


def payslip_line_groups(*, run_ids: list[int], employee_types: list[str]) -> list[LineGroup]:
    """One SQL ``GROUP BY`` over the runs' lines: per run, salary type, line account, cost
    centre (SIE 1) and project (SIE 6); per employee only where it is needed."""
    # The SQL is built from constants only (table name, dimension number).
    dim1, dim6 = RawSQL(_dimension_sql(1), ()), RawSQL(_dimension_sql(6), ())  # noqa: S611
    needs_employee = Q(dim1__isnull=True) | Q(dim1="") | Q(dim6__isnull=True) | Q(dim6="")
    if employee_types:
        needs_employee |= Q(salary_type__in=employee_types)
    rows = (
        PayslipLine.objects.filter(payslip__payroll_run_id__in=run_ids)
        .annotate(dim1=dim1, dim6=dim6)
        .annotate(
            employee=Case(
                When(needs_employee, then=F("payslip__employee_id")),
                default=Value(None),
                output_field=IntegerField(),
            )
        )
        .values("payslip__payroll_run_id", "employee", "salary_type", "account", "dim1", "dim6")
        .annotate(total=Sum("amount"), quantity_total=Sum("quantity"), lines=Count("pk"))
        .order_by()
        .values_list(
            "payslip__payroll_run_id",
            "employee",
            "salary_type",
            "account",
            "dim1",
            "dim6",
            "total",
            "quantity_total",
            "lines",
        )
    )
    return [
        LineGroup(
            payroll_run_id=run_id,
            employee_id=employee,
            salary_type=salary_type,
            account=account or "",
            cost_center=str(d1) if d1 not in (None, "") else "",
            project=str(d6) if d6 not in (None, "") else "",
            amount=Decimal(total).quantize(CENT),
            quantity=quantity,
            lines=lines,
        )
        for run_id, employee, salary_type, account, d1, d6, total, quantity, lines in rows
    ]


def payslip_paid_totals(*, run_ids: list[int], self_balanced_types: list[str]) -> dict:
    """payslip id → sum of its lines settled through the payslip's pay (every salary type
    without its own credit account): the basis of the per-payslip rounding proof."""
    rows = (
        PayslipLine.objects.filter(
            payslip_id__in=Payslip.objects.filter(payroll_run_id__in=run_ids).values("pk")
        )
        .exclude(salary_type__in=self_balanced_types)
        .values("payslip_id")
        .annotate(paid=Sum("amount"))
        .order_by()
        .values_list("payslip_id", "paid")
    )
    # SQLite sums DECIMAL columns as floats: the columns hold öre, so rounding each sum
    # back to öre restores the exact value.
    return {pk: Decimal(paid).quantize(CENT) for pk, paid in rows}


@dataclass(frozen=True)
class PayslipTotals:
    payslip_id: int
    payroll_run_id: int
    employee_id: int
    employee_number: str
    tax: Decimal
    net_pay: Decimal
    employer_contributions: Decimal


def payslip_totals(*, run_ids: list[int]) -> dict[int, PayslipTotals]:
    rows = Payslip.objects.filter(payroll_run_id__in=run_ids).values_list(
        "pk",
        "payroll_run_id",
        "employee_id",
        "employee__employee_number",
        "tax",
        "net_pay",
        "employer_contributions",
    )
    return {row[0]: PayslipTotals(*row) for row in rows}


def home_accounting_in_force(
    *, employee_ids: list[int], day: datetime.date
) -> dict[int, tuple[str, str]]:
    """employee id → (cost centre code, project code) of the home accounting in force."""
    found: dict[int, tuple[str, str]] = {}
    rows = (
        HomeAccounting.objects.filter(employee_id__in=employee_ids, valid_from__lte=day)
        .order_by("employee_id", "-valid_from")
        .values_list("employee_id", "cost_center__code", "project__code")
    )
    for employee_id, cost_center, project in rows:
        found.setdefault(employee_id, (cost_center or "", project or ""))
    return found


def payslip_lines_of(*, payslip_ids: list[int]) -> list[PayslipLine]:
    return list(
        PayslipLine.objects.filter(payslip_id__in=payslip_ids)
        .select_related("payslip__employee")
        .order_by("payslip_id", "line_number")
    )


def ledger_transfers_for_run(*, payroll_run, target: str) -> QuerySet[LedgerTransfer]:
    return LedgerTransfer.objects.filter(payroll_run=payroll_run, target=target).order_by(
        "generation"
    )
