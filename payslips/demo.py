"""Demo data for ``seed_demo``: Demo AB's Kivra link against the local Kivra sandbox
(``make run`` starts it on port 8701), a final payroll run for the demo employees and the
Kivra flags, so "Send payslips to Kivra" works on a fresh machine.

The sandbox runs without a fixed user list: a personal identity number is a Kivra user when
its second-to-last digit is not divisible by 3. The demo employees' numbers end in
``100 + n`` and a check digit, so employees 1001, 1004, 1007, 1010, … (n % 10 in 0, 3, 6, 9)
are not Kivra users: their payslips are retained (or printed, for 1004 whose print handling
is allowed). Employee 1025 has no identity number: the dispatch logs it as an error.
Idempotent: an existing link or run is left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from employees.models import Employee
from employees.services import employees_bulk_set
from integrations.sandboxes.kivra import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_KEY

from .models import KivraLink, PayrollRun
from .services import payroll_run_create

SANDBOX_URL = "http://127.0.0.1:8701"
# Demo employees (employee number) who do not get payslips via Kivra / may get print.
NO_KIVRA = {"1005", "1012", "1019"}
ALLOW_PRINT = {"1004", "1014"}
CENT = Decimal("0.01")


def demo_payment_date(today: datetime.date | None = None) -> datetime.date:
    """The latest 25th that is not in the future: the demo run's payment date."""
    today = today or datetime.date.today()
    if today.day >= 25:
        return today.replace(day=25)
    first = today.replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=25)


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _payslip(employee: Employee, n: int, payment_date: datetime.date) -> dict:
    """Realistic Swedish lines: monthly or hourly pay, OB, overtime, a benefit, deductions."""
    lines: list[dict] = []
    cost_center = {"1": "100" if n % 2 else "200"}
    if employee.pay_form == "hourly":
        hours, price = Decimal(80 + n % 5 * 8), Decimal("165.00") + n
        lines.append(
            {
                "salary_type": "120",
                "text": "Timlön",
                "quantity": str(hours),
                "unit": "tim",
                "unit_price": str(price),
                "amount": _money(hours * price),
                "account": "7010",
                "dimensions": cost_center,
            }
        )
        ob_hours = Decimal(6 + n % 4 * 2)
        lines.append(
            {
                "salary_type": "330",
                "text": "OB-tillägg kväll",
                "quantity": str(ob_hours),
                "unit": "tim",
                "unit_price": "52.50",
                "amount": _money(ob_hours * Decimal("52.50")),
                "account": "7010",
                "dimensions": cost_center,
            }
        )
    else:
        salary = Decimal("33500.00") + 750 * n
        lines.append(
            {
                "salary_type": "110",
                "text": "Månadslön",
                "quantity": "1",
                "unit": "st",
                "unit_price": str(salary),
                "amount": str(salary),
                "account": "7210",
                "dimensions": cost_center,
            }
        )
        if n % 3 == 1:
            overtime = Decimal(n % 5 + 2)
            price = (salary / 94).quantize(CENT)  # övertidstillägg: månadslön / 94
            lines.append(
                {
                    "salary_type": "310",
                    "text": "Övertid enkel",
                    "quantity": str(overtime),
                    "unit": "tim",
                    "unit_price": str(price),
                    "amount": _money(overtime * price),
                    "account": "7210",
                    "dimensions": {**cost_center, "6": "P-100"},
                }
            )
        if n % 4 == 2:
            lines.append(
                {
                    "salary_type": "530",
                    "text": "Friskvårdsbidrag förmån",
                    "kind": "benefit",
                    "amount": "500.00",
                    "account": "7389",
                }
            )
    gross = sum((Decimal(line["amount"]) for line in lines if line.get("kind") != "benefit"), 0)
    taxable = gross + sum(
        (Decimal(line["amount"]) for line in lines if line.get("kind") == "benefit"), 0
    )
    tax = (taxable * Decimal("0.31")).quantize(Decimal("1"))  # about table 31, column 1
    net_lines = [
        {"salary_type": "910", "text": "Fackavgift", "kind": "net", "amount": "-395.00"},
    ]
    if n % 5 == 0:
        net_lines.append(
            {"salary_type": "920", "text": "Utlägg lunch kund", "kind": "net", "amount": "385.00"}
        )
    lines += net_lines
    net = gross - tax + sum(Decimal(line["amount"]) for line in net_lines)
    month = payment_date.month
    return {
        "employee_number": employee.employee_number,
        "gross_pay": _money(gross),
        "tax": _money(tax),
        "net_pay": _money(net),
        "employer_contributions": _money(taxable * Decimal("0.3142")),
        "ytd_gross_pay": _money(gross * month),
        "ytd_tax": _money(tax * month),
        "vacation_days_paid": str(Decimal(25 - month % 12)),
        "vacation_days_saved": str(Decimal(n % 6)),
        "vacation_days_used": str(Decimal(month % 12)),
        "lines": lines,
    }


def seed(*, company, admin, stdout) -> None:
    _link, created = KivraLink.objects.get_or_create(
        company=company,
        defaults={
            "tenant_key": DEMO_TENANT_KEY,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "base_url": SANDBOX_URL,
            "is_sandbox": True,
            "environment": KivraLink.Environment.PRODUCTION,
            "retroactive_delivery_days": KivraLink.RetroactiveDelivery.DAYS_390,
            "send_payslips": True,
            "print_handling": True,
            "active": True,
            "employer_street_address": "Sveavägen 44",
            "employer_postal_code": "111 34",
            "employer_city": "Stockholm",
            "employer_email": "lon@demo.example.se",
            "employer_telephone": "08-123 456 00",
        },
    )
    employees = Employee.objects.filter(company=company, employee_number__regex=r"^10\d\d$")
    if created:  # the flags once, with the link: later changes in the register stay
        reason = "Demo data: Kivra link created"
        employees_bulk_set(
            employees=employees.exclude(employee_number__in=NO_KIVRA),
            values={"kivra_send_payslips": True},
            reason=reason,
        )
        employees_bulk_set(
            employees=employees.filter(employee_number__in=NO_KIVRA),
            values={"kivra_send_payslips": False},
            reason=reason,
        )
        employees_bulk_set(
            employees=employees.filter(employee_number__in=ALLOW_PRINT),
            values={"kivra_allow_print": True},
            reason=reason,
        )
        stdout.write(f"Kivra link → {SANDBOX_URL} (tenant {DEMO_TENANT_KEY})")

    payment_date = demo_payment_date()
    external_id = f"demo-{payment_date.isoformat()}"
    if PayrollRun.objects.filter(company=company, external_id=external_id).exists():
        return
    period_start = payment_date.replace(day=1)
    period_end = (period_start + datetime.timedelta(days=32)).replace(day=1)
    period_end -= datetime.timedelta(days=1)
    in_run = [
        e
        for e in employees.order_by("employee_number")
        if e.employment_start_date <= period_end
        and (e.employment_end_date is None or e.employment_end_date >= period_start)
    ]
    run = payroll_run_create(
        company=company,
        payment_date=payment_date,
        period_start=period_start,
        period_end=period_end,
        status=PayrollRun.Status.FINAL,
        external_id=external_id,
        description=f"Lön {period_start:%Y-%m}",
        source=PayrollRun.Source.DEMO,
        payslips=[_payslip(e, int(e.employee_number) - 1001, payment_date) for e in in_run],
    )
    stdout.write(f"Payroll run {run.payment_date}: {len(in_run)} payslips (final)")
