"""Factories and helpers for payroll runs, payslips and the Kivra link."""

import datetime
from decimal import Decimal

import factory

from payslips.models import KivraLink, PayrollRun
from payslips.services import payroll_run_create
from tests.factories import CompanyFactory


class KivraLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KivraLink

    company = factory.SubFactory(CompanyFactory)
    tenant_key = "f1e7b0d6e0000001"
    client_id = "flexbridge-demo"
    client_secret = "demo-secret"
    base_url = "http://127.0.0.1:9"
    is_sandbox = True
    retroactive_delivery_days = 390
    send_payslips = True
    print_handling = False
    active = True
    employer_street_address = "Storgatan 1"
    employer_postal_code = "111 22"
    employer_city = "Stockholm"
    employer_email = "lon@acme.example"
    employer_telephone = "+46 8-123 456"


def payslip_data(employee, *, salary="32000.00", overtime="1500.00", tax="9800.00") -> dict:
    """A payslip whose totals add up: gross = salary + overtime; net = gross - tax - 250."""
    gross = Decimal(salary) + Decimal(overtime)
    return {
        "employee_number": employee.employee_number,
        "gross_pay": str(gross),
        "tax": tax,
        "net_pay": str(gross - Decimal(tax) - Decimal("250.00")),
        "employer_contributions": str((gross * Decimal("0.3142")).quantize(Decimal("0.01"))),
        "ytd_gross_pay": str(gross * 3),
        "ytd_tax": str(Decimal(tax) * 3),
        "vacation_days_paid": "18.00",
        "lines": [
            {
                "salary_type": "110",
                "text": "Månadslön",
                "amount": salary,
                "quantity": "1",
                "unit_price": salary,
                "dimensions": {"1": "100"},
            },
            {
                "salary_type": "310",
                "text": "Övertid",
                "amount": overtime,
                "quantity": "5",
                "unit": "h",
                "unit_price": str(Decimal(overtime) / 5),
                "dimensions": {"1": "100", "6": "P1"},
            },
            {"salary_type": "820", "text": "Friskvård avdrag", "kind": "net", "amount": "-250.00"},
        ],
    }


def make_run(
    company, employees, *, payment_date=datetime.date(2026, 1, 25), status="final", **kwargs
) -> PayrollRun:
    return payroll_run_create(
        company=company,
        payment_date=payment_date,
        period_start=payment_date.replace(day=1),
        period_end=payment_date.replace(day=28),
        status=status,
        payslips=[payslip_data(e) for e in employees],
        **kwargs,
    )
