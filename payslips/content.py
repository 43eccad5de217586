"""Kivra's structured ``salaryslip`` object for a payslip (``schema-salaryslip.json``).

Amounts are strings with a dot and at most two decimals, money as
``{"monetary_amount", "currency": "SEK"}``. The subject holds no personal data.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from .models import KivraLink, Payslip, PayslipLine

SOURCE_SYSTEM = "flexbridge"


def amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def money(value: Decimal) -> dict:
    return {"monetary_amount": amount(value), "currency": "SEK"}


def vat_number(organisation_number: str) -> str:
    """Swedish VAT number of an organisation number: ``SE`` + 10 digits + ``01``."""
    return "SE" + "".join(ch for ch in organisation_number if ch.isdigit()) + "01"


def payslip_subject(payslip: Payslip) -> str:
    return f"Lönespecifikation {payslip.payroll_run.payment_date}"


def payslip_salaryslip(*, payslip: Payslip, link: KivraLink, created: datetime.datetime) -> dict:
    run = payslip.payroll_run
    company = payslip.company
    employee = payslip.employee
    lines: list[PayslipLine] = payslip.salary_lines()
    pay_period: dict = {
        "start_date": run.period_start.isoformat(),
        "end_date": run.period_end.isoformat(),
        "payout_date": run.payment_date.isoformat(),
        "gross_pay": money(payslip.gross_pay),
        "tax_deducted": money(payslip.tax),
        "net_pay": money(payslip.net_pay),
    }
    additional = [
        {"type": line.text[:100], "monetary_amount": amount(line.amount), "currency": "SEK"}
        for line in lines
        if line.kind == PayslipLine.Kind.GROSS and line.line_number != lines[0].line_number
    ]
    if lines and lines[0].kind == PayslipLine.Kind.GROSS:
        pay_period["basic_contractual_salary"] = money(lines[0].amount)
    if additional:
        pay_period["additional_payments"] = additional
    benefits = [
        {"type": line.text[:100], "monetary_amount": amount(line.amount), "currency": "SEK"}
        for line in lines
        if line.kind == PayslipLine.Kind.BENEFIT
    ]
    if benefits:
        pay_period["employee_benefits"] = benefits
    if payslip.gross_pay > 0:
        rate = payslip.tax * 100 / payslip.gross_pay
        pay_period["effective_tax_rate_percentage"] = amount(rate)
    slip: dict = {
        "document_metadata": {
            "creation_timestamp": created.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source_system": SOURCE_SYSTEM,
        },
        "employment": {
            "start_date": employee.employment_start_date.isoformat(),
            "employer": {
                "legal_name": company.name,
                "legal_identifiers": {
                    "vat_number": vat_number(company.organisation_number),
                    "org_number": company.organisation_number,
                },
                "contact_information": {
                    "address": {
                        "street_address": link.employer_street_address,
                        "postal_code": link.employer_postal_code,
                        "city": link.employer_city,
                        "country": "Sweden",
                    },
                    "email_address": link.employer_email,
                    "telephone_number": link.employer_telephone,
                },
            },
        },
        "yearly_accumulated_gross_pay": money(payslip.ytd_gross_pay),
        "yearly_accumulated_taxes": money(payslip.ytd_tax),
        "pay_period": pay_period,
    }
    holidays = {}
    if payslip.vacation_days_paid is not None:
        holidays["days_remaining_in_period"] = amount(payslip.vacation_days_paid)
    if payslip.vacation_days_saved is not None:
        holidays["days_saved_from_previous_years"] = amount(payslip.vacation_days_saved)
    if payslip.vacation_days_used is not None:
        holidays["days_used_in_period"] = amount(payslip.vacation_days_used)
    if holidays:
        slip["holidays"] = holidays
    return slip
