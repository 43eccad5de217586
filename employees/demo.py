"""Demo data for ``seed_demo``: the registers and 25 employees of Demo AB.

Mixed monthly and hourly pay, one ended employment (without a reason, so the dashboard shows
the reminder task), one samordningsnummer and one employee without an identity number.
Idempotent: existing rows (by code or employee number) are left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import bankkonto
from stdnum import luhn

from . import services
from .models import Employee, EmploymentForm, EmploymentTemplate, PersonnelCategory, Position

CATEGORIES = [("TJM", "Tjänstemän"), ("ARB", "Arbetare")]
FORMS = [
    ("TV", "Tillsvidareanställning", "none", 3, 1, 0, False),
    ("PROV", "Provanställning", "probationary", 0, 0, 14, True),
    ("ALVA", "Allmän visstidsanställning", "general", 0, 0, 30, True),
    ("TIM", "Timanställning", "other", 0, 0, 0, True),
]
POSITIONS = [("HR", "HR-specialist"), ("LON", "Löneadministratör"), ("DEV", "Utvecklare")]
POSITIONS += [("SNI", "Snickare"), ("SAL", "Säljare")]
FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sara", "Per"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson"]
CITIES = [("111 22", "Stockholm"), ("411 03", "Göteborg"), ("211 20", "Malmö")]


def _pin(n: int, *, coordination: bool = False) -> str:
    year, month, day = 1965 + n, 1 + n % 12, 1 + n % 28
    body = f"{year % 100:02d}{month:02d}{day + (60 if coordination else 0):02d}{100 + n:03d}"
    return f"{year // 100}{body}{luhn.calc_check_digit(body)}"


def _bank(n: int) -> tuple[str, str]:
    """A valid SEB account: clearing 5000 and a 7-digit account with its check digit."""
    for offset in range(0, 1000, 37):
        body = f"{100000 + n + offset:06d}"
        for check in range(10):
            try:
                bankkonto.validate("5000", f"{body}{check}")
            except bankkonto.BankkontoValidationError:
                continue
            return "5000", f"{body}{check}"
    return "", ""  # pragma: no cover


def seed(*, company, admin, stdout) -> None:
    for code, name in CATEGORIES:
        PersonnelCategory.objects.get_or_create(company=company, code=code, defaults={"name": name})
    forms = {}
    for code, name, kind, notice_er, notice_ee, end_days, las in FORMS:
        forms[code], _created = EmploymentForm.objects.get_or_create(
            company=company,
            code=code,
            defaults={
                "name": name,
                "fixed_term_kind": kind,
                "notice_period_employer_months": notice_er,
                "notice_period_employee_months": notice_ee,
                "end_notice_days": end_days,
                "counts_toward_las_days": las,
            },
        )
    positions = {}
    for code, title in POSITIONS:
        positions[code], _created = Position.objects.get_or_create(
            company=company, code=code, defaults={"title": title}
        )
    tjm = PersonnelCategory.objects.get(company=company, code="TJM")
    arb = PersonnelCategory.objects.get(company=company, code="ARB")
    EmploymentTemplate.objects.get_or_create(
        company=company,
        code="TIM",
        defaults={
            "name": "Timavlönade",
            "personnel_category": arb,
            "employment_form": forms["TIM"],
            "pay_form": "hourly",
            "tax_table": 33,
            "tax_column": 1,
        },
    )

    created = 0
    for n in range(25):
        number = str(1001 + n)
        if Employee.objects.filter(company=company, employee_number=number).exists():
            continue
        hourly = n % 4 == 3
        postal_code, city = CITIES[n % len(CITIES)]
        clearing, account = _bank(n)
        pin = "" if n == 24 else _pin(n, coordination=n == 23)
        fields = {
            "first_name": FIRST[n % len(FIRST)],
            "last_name": LAST[n % len(LAST)],
            "personal_identity_number": pin,
            "street_address": f"Storgatan {n + 1}",
            "postal_code": postal_code,
            "city": city,
            "country": "SE",
            "mobile_phone": f"070-{1000000 + n * 7919:07d}",
            "work_email": f"{FIRST[n % len(FIRST)].lower()}.{number}@demo.example.se",
            "personnel_category": arb if hourly else tjm,
            "employment_form": forms["TIM" if hourly else ("PROV" if n == 5 else "TV")],
            "position": positions[POSITIONS[n % len(POSITIONS)][0]],
            "employment_start_date": datetime.date(2015 + n % 10, 1 + n % 12, 1),
            "pay_form": "hourly" if hourly else "monthly",
            "tax_table": 30 + n % 5,
            "tax_column": 1,
            "clearing_number": clearing,
            "bank_account_number": account,
            "kivra_send_payslips": n % 3 == 0,
        }
        employee = services.employee_create(company=company, employee_number=number, **fields)
        start = employee.employment_start_date
        services.employment_rate_set(
            employee=employee, valid_from=start, rate_percent=Decimal(50 if hourly else 100)
        )
        if hourly:
            services.hourly_wage_set(
                employee=employee, valid_from=start, amount=Decimal("165.00") + n
            )
        else:
            services.monthly_salary_set(
                employee=employee, valid_from=start, amount=Decimal("32000.00") + 750 * n
            )
            services.monthly_salary_set(
                employee=employee,
                valid_from=datetime.date(2025, 4, 1),
                amount=Decimal("33500.00") + 750 * n,
            )
        if n == 7:
            services.employee_end_employment(employee=employee, end_date=datetime.date(2025, 3, 31))
        created += 1
    stdout.write(f"Employees: {created} created")
