"""Reads for the ledger: the payroll runs of a selection, the payslip lines aggregated in SQL,
and the employees' home accounting in force on a day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    QuerySet,
    Sum,
)

from payslips.models import PayrollRun, Payslip, PayslipLine
from projects.models import HomeAccounting

from .models import LedgerTransfer

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


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


def _dimension_sql(number: int, *, alias: str) -> str:
    if connection.vendor == "postgresql":
        return f"({alias}.dimensions ->> '{number}')"
    return f"json_extract({alias}.dimensions, '$.\"{number}\"')"


@dataclass(frozen=True)
class LineGroup:
    """Payslip lines of a run with the same kind, salary type, account and dimensions — and
    the same payslip where the payslip matters (a dimension to fill from home accounting, a
    salary type that carries the employee, a line that is not plain gross pay, or a salary
    type with its own credit account)."""

    payroll_run_id: int
    payslip_id: int | None
    kind: str
    salary_type: str
    account: str
    cost_center: str
    project: str
    amount: Decimal
    quantity: Decimal | None
    lines: int
    # Σ amount × employer contributions / gross pay of each line's payslip over its gross
    # lines: this group's share of the payslips' contributions (not rounded).
    contributions_share: Decimal


def payslip_line_groups(*, run_ids: list[int], payslip_types: list[str]) -> list[LineGroup]:
    """The one pass over the runs' lines: a single SQL ``GROUP BY`` per run, kind, salary
    type, line account, cost centre (SIE 1) and project (SIE 6); per payslip only where it
    is needed (a dimension missing, a line that is not plain gross pay, or one of
    ``payslip_types``: salary types that carry the employee or have their own credit
    account). The same pass sums each group's share of the employer contributions: every
    gross line × its payslip's contributions / gross pay (a rate taken once per payslip).

    Written as SQL so the rate is computed per payslip, not per line. On PostgreSQL the
    planner cannot estimate the conditional payslip key (it guesses ~10 % of the rows as
    groups and sorts on disk): the query gets the memory for a hash aggregate and no JIT.
    """
    line, slip = PayslipLine._meta.db_table, Payslip._meta.db_table
    dim1, dim6 = _dimension_sql(1, alias="l"), _dimension_sql(6, alias="l")
    if connection.vendor == "sqlite":
        # SQLite stores whole NUMERIC values as INTEGER: compute the rate in floating point.
        rate = "CAST(employer_contributions AS REAL) / NULLIF(gross_pay, 0)"
        amount = "CAST(l.amount AS REAL)"
    else:
        rate = "employer_contributions / NULLIF(gross_pay, 0)"
        amount = "l.amount"
    runs = ", ".join(["%s"] * len(run_ids))
    types = ", ".join(["%s"] * len(payslip_types))
    by_type = f" OR l.salary_type IN ({types})" if payslip_types else ""
    # Built from constants (table names, dimension numbers) and placeholders only.
    sql = (
        f"SELECT s.payroll_run_id, CASE WHEN {dim1} IS NULL OR {dim1} = '' OR {dim6} IS NULL "  # noqa: S608
        f"OR {dim6} = '' OR l.kind <> 'gross'{by_type} THEN l.payslip_id END, l.kind, "
        f"l.salary_type, l.account, {dim1}, {dim6}, SUM(l.amount), SUM(l.quantity), COUNT(*), "
        f"SUM(CASE WHEN l.kind = 'gross' THEN {amount} * s.rate END) "
        f'FROM "{line}" l JOIN (SELECT id, payroll_run_id, {rate} AS rate FROM "{slip}" '
        f"WHERE payroll_run_id IN ({runs})) s ON s.id = l.payslip_id "
        f"GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [*payslip_types, *run_ids])  # in the order of the placeholders
        rows = cursor.fetchall()
    # SQLite sums DECIMAL columns as floats: the columns hold öre (quantities hundredths),
    # so rounding each sum back to two places restores the exact value.
    return [
        LineGroup(
            payroll_run_id=row[0],
            payslip_id=row[1],
            kind=row[2],
            salary_type=row[3],
            account=row[4] or "",
            cost_center=str(row[5]) if row[5] not in (None, "") else "",
            project=str(row[6]) if row[6] not in (None, "") else "",
            amount=_cents(row[7]),
            quantity=_cents(row[8]) if row[8] is not None else None,
            lines=row[9],
            contributions_share=Decimal(str(row[10])) if row[10] is not None else ZERO,
        )
        for row in rows
    ]


def _cents(value) -> Decimal:
    return Decimal(str(value) if isinstance(value, float) else value).quantize(CENT)


def payslip_paid_totals(*, run_ids: list[int], self_balanced_types: list[str]) -> dict:
    """payslip id → sum of its lines settled through the payslip's pay (every line that is
    not a taxable benefit, of a salary type without its own credit account), exactly.

    A second pass over the lines: ``voucher_build`` only runs it when the lines do not add
    up to the payslips' stored gross pay (to find and name the payslips)."""
    rows = (
        PayslipLine.objects.filter(
            payslip_id__in=Payslip.objects.filter(payroll_run_id__in=run_ids).values("pk")
        )
        .exclude(salary_type__in=self_balanced_types)
        .exclude(kind=PayslipLine.Kind.BENEFIT)
        .values("payslip_id")
        .annotate(paid=Sum("amount"))
        .order_by()
        .values_list("payslip_id", "paid")
    )
    return {pk: _cents(paid) for pk, paid in rows}


@dataclass(frozen=True)
class PayslipTotals:
    payslip_id: int
    payroll_run_id: int
    employee_id: int
    employee_number: str
    gross_pay: Decimal
    tax: Decimal
    net_pay: Decimal
    employer_contributions: Decimal


def payslip_totals(*, run_ids: list[int]) -> dict[int, PayslipTotals]:
    rows = Payslip.objects.filter(payroll_run_id__in=run_ids).values_list(
        "pk",
        "payroll_run_id",
        "employee_id",
        "employee__employee_number",
        "gross_pay",
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
