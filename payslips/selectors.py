"""Reads for payroll runs, payslips and deliveries."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from companies.models import Company

from .models import KivraLink, PayrollRun, Payslip, PayslipDelivery, PayslipLine

DISPATCH_STATUSES = ("final", "preliminary", "any")


def payslip_ids_for_dispatch(
    *,
    company: Company,
    payment_date: datetime.date,
    status: str = "final",
    employee_ids: list[int] | None = None,
) -> list[int]:
    """The payslips a Kivra dispatch selection covers, in sending order (run, employee
    number). The dispatch loads them a batch at a time (:func:`payslips_for_dispatch`), so
    the first are sent while the rest are still to be read.

    ``status``: ``final`` (default), ``preliminary``, or ``any`` — any run on that payment
    date, for older periods (the seed's "Valfritt utbetalningsdatum").
    """
    queryset = Payslip.objects.filter(company=company, payroll_run__payment_date=payment_date)
    if status in ("final", "preliminary"):
        queryset = queryset.filter(payroll_run__status=status)
    if employee_ids:
        queryset = queryset.filter(employee_id__in=employee_ids)
    return list(
        queryset.order_by("payroll_run_id", "employee__employee_number", "pk").values_list(
            "pk", flat=True
        )
    )


# What the Kivra content and the PDF read of a line: not its accounting (dimensions, account,
# the generated ledger columns), which cost a JSON parse and four more columns per line.
DISPATCH_LINE_FIELDS = (
    "payslip_id",
    "line_number",
    "salary_type",
    "text",
    "kind",
    "quantity",
    "unit",
    "unit_price",
    "amount",
)


def payslips_for_dispatch(*, company: Company, ids: list[int]) -> list[Payslip]:
    """These payslips of the company with what sending them needs, in the order of ``ids``.

    The company (also the employee's: the log label's name order) and the payroll runs are
    the same objects for every payslip, not a copy joined into each row."""
    # The PDFs are sent, so they are loaded with the rows (not deferred).
    found = {
        payslip.pk: payslip
        for payslip in Payslip.objects.filter(company=company, pk__in=ids)
        .select_related("employee")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PayslipLine.objects.only(*DISPATCH_LINE_FIELDS),
                to_attr="attached_lines",
            ),
            Prefetch(
                "deliveries",
                queryset=PayslipDelivery.objects.defer("request_body"),
                to_attr="attached_deliveries",
            ),
        )
    }
    runs = PayrollRun.objects.in_bulk({payslip.payroll_run_id for payslip in found.values()})
    for payslip in found.values():
        payslip.company = company
        payslip.employee.company = company
        payslip.payroll_run = runs[payslip.payroll_run_id]
    return [found[pk] for pk in ids if pk in found]


def dispatch_selection_problem(
    *,
    company: Company,
    payment_date: datetime.date,
    status: str = "final",
    employee_ids: list[int] | None = None,
) -> str | None:
    """Why a Kivra dispatch selection would find no payslips, or None when it finds some."""
    if payslip_ids_for_dispatch(
        company=company, payment_date=payment_date, status=status, employee_ids=employee_ids
    ):
        return None
    runs = PayrollRun.objects.filter(company=company, payment_date=payment_date)
    day = formats.date_format(payment_date, "SHORT_DATE_FORMAT")
    if not runs.exists():
        return _("%(company)s has no payroll run with payment date %(date)s.") % {
            "company": company.name,
            "date": day,
        }
    if status in ("final", "preliminary") and not runs.filter(status=status).exists():
        actual = runs.first().get_status_display()
        return _("The payroll run on %(date)s has the status %(actual)s, not %(status)s.") % {
            "date": day,
            "actual": actual,
            "status": PayrollRun.Status(status).label,
        }
    if employee_ids:
        return _("The chosen employees have no payslips on %(date)s.") % {"date": day}
    return _("The payroll run on %(date)s has no payslips.") % {"date": day}


def payment_date_choices(*, companies) -> list[tuple[str, str]]:
    """The payment dates of the companies' payroll runs, newest first, each with its runs
    (for picking the date from existing runs rather than typing it)."""
    runs = (
        PayrollRun.objects.filter(company__in=companies)
        .select_related("company")
        .order_by("-payment_date", "company__name", "pk")
    )
    several = len({run.company_id for run in runs[:500]}) > 1
    dates: dict[datetime.date, list[str]] = {}
    for run in runs[:500]:
        words = run.description or str(run.get_status_display())
        if run.description:
            words += f" ({run.get_status_display()})"
        if several:
            words += f" · {run.company.code}"
        dates.setdefault(run.payment_date, []).append(words)
    return [
        (day.isoformat(), f"{formats.date_format(day, 'SHORT_DATE_FORMAT')} — {'; '.join(words)}")
        for day, words in dates.items()
    ]


def payroll_runs_for_company(*, company: Company) -> QuerySet[PayrollRun]:
    return PayrollRun.objects.filter(company=company).order_by("-payment_date", "-pk")


def kivra_link_for_company(*, company: Company | int) -> KivraLink | None:
    company_id = company if isinstance(company, int) else company.pk
    return KivraLink.objects.filter(company_id=company_id).first()


def delivery_counts(*, payslip_ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in PayslipDelivery.objects.filter(payslip_id__in=payslip_ids).values_list(
        "status", flat=True
    ):
        counts[status] = counts.get(status, 0) + 1
    return counts


def kivra_print_handling_on(company_id: int) -> bool:
    """Whether the company's active Kivra link has print handling on (the employee register
    asks through ``employees.selectors.kivra_print_handling_available``)."""
    return KivraLink.objects.filter(
        company_id=company_id, active=True, print_handling=True
    ).exists()
