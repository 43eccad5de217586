"""Reads for the ledger: the payroll runs of a selection, the payslip lines aggregated in SQL,
and the employees' home accounting in force on a day."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

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


def _dimension_sql(number: int) -> str:
    table = PayslipLine._meta.db_table
    if connection.vendor == "postgresql":
        return f'("{table}"."dimensions" ->> \'{number}\')'
    return f'json_extract("{table}"."dimensions", \'$."{number}"\')'


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


def _contributions_share():
    """Per line: amount × the payslip's employer contributions / its gross pay, for gross
    lines of payslips with a gross pay. SQLite keeps whole numbers of a NUMERIC column as
    INTEGER and would divide them as integers, so it computes in floating point; the share
    is rounded to öre afterwards and the residual booked exactly."""
    ratio = F("amount") * F("payslip__employer_contributions") / F("payslip__gross_pay")
    if connection.vendor == "sqlite":
        ratio = (
            Cast("amount", FloatField())
            * F("payslip__employer_contributions")
            / F("payslip__gross_pay")
        )
        output = FloatField()
    else:
        output = DecimalField()
    return Case(
        When(Q(kind=PayslipLine.Kind.GROSS) & ~Q(payslip__gross_pay=0), then=ratio),
        default=Value(None),
        output_field=output,
    )


def payslip_line_groups(*, run_ids: list[int], payslip_types: list[str]) -> list[LineGroup]:
    """The one pass over the runs' lines: a single SQL ``GROUP BY`` per run, kind, salary
    type, line account, cost centre (SIE 1) and project (SIE 6); per payslip only where it
    is needed (``payslip_types``: salary types that carry the employee or have their own
    credit account). It also yields each group's share of the employer contributions."""
    # The SQL is built from constants only (table name, dimension number).
    dim1, dim6 = RawSQL(_dimension_sql(1), ()), RawSQL(_dimension_sql(6), ())  # noqa: S611
    needs_payslip = (
        Q(dim1__isnull=True)
        | Q(dim1="")
        | Q(dim6__isnull=True)
        | Q(dim6="")
        | ~Q(kind=PayslipLine.Kind.GROSS)
    )
    if payslip_types:
        needs_payslip |= Q(salary_type__in=payslip_types)
    rows = (
        PayslipLine.objects.filter(payslip__payroll_run_id__in=run_ids)
        .annotate(dim1=dim1, dim6=dim6)
        .annotate(
            slip=Case(
                When(needs_payslip, then=F("payslip_id")),
                default=Value(None),
                output_field=IntegerField(),
            )
        )
        .values("payslip__payroll_run_id", "slip", "kind", "salary_type", "account", "dim1", "dim6")
        .annotate(
            total=Sum("amount"),
            quantity_total=Sum("quantity"),
            lines=Count("pk"),
            share=Sum(_contributions_share()),
        )
        .order_by()
        .values_list(
            "payslip__payroll_run_id",
            "slip",
            "kind",
            "salary_type",
            "account",
            "dim1",
            "dim6",
            "total",
            "quantity_total",
            "lines",
            "share",
        )
    )
    # SQLite sums DECIMAL columns as floats: the columns hold öre (quantities hundredths),
    # so rounding each sum back to two places restores the exact value.
    return [
        LineGroup(
            payroll_run_id=run_id,
            payslip_id=slip,
            kind=kind,
            salary_type=salary_type,
            account=account or "",
            cost_center=str(d1) if d1 not in (None, "") else "",
            project=str(d6) if d6 not in (None, "") else "",
            amount=_cents(total),
            quantity=_cents(quantity) if quantity is not None else None,
            lines=lines,
            contributions_share=Decimal(str(share)) if share is not None else ZERO,
        )
        for run_id, slip, kind, salary_type, account, d1, d6, total, quantity, lines, share in rows
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
