"""Employee list and detail over the REST API at 50 000 employees, against a baseline of the
same rows read with ``.values()`` and serialised with ``json.dumps``.

Prints p50 and p99 latency of a page of 100 (random pages) and of one employee's detail.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery
from rest_framework.test import APIClient
from stdnum import luhn

from bench.common import Figure, bench_company, percentiles
from companies.models import Company
from employees import field_groups
from employees.models import (
    Employee,
    EmploymentForm,
    EmploymentRate,
    HourlyWage,
    MonthlySalary,
    PersonnelCategory,
    Position,
)

PAGE = 100


def _company() -> Company:
    return bench_company("bench-emp", "Bench Employees AB")


def _pin(n: int) -> str:
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 18000)
    body = f"{birth:%y%m%d}{n // 18000:03d}"  # (day, serial) unique per n
    return f"{birth.year // 100}{body}{luhn.calc_check_digit(body)}"


def _populate(company: Company, total: int) -> None:
    existing = Employee.objects.filter(company=company).count()
    if existing >= total:
        return
    category = PersonnelCategory.objects.get(company=company, code="STD")
    form, _c = EmploymentForm.objects.get_or_create(
        company=company, code="TV", defaults={"name": "Tillsvidare"}
    )
    position, _c = Position.objects.get_or_create(
        company=company, code="DEV", defaults={"title": "Developer"}
    )
    start = datetime.date(2020, 1, 1)
    for first in range(existing, total, 5000):
        rows = [
            Employee(
                company=company,
                employee_number=str(100000 + n),
                personal_identity_number=_pin(n) if n % 1000 else "",
                first_name=f"First{n}",
                last_name=f"Last{n}",
                street_address=f"Gatan {n}",
                postal_code="111 22",
                city="Stockholm",
                work_email=f"e{n}@bench.example.se",
                personnel_category=category,
                employment_form=form,
                position=position,
                employment_start_date=start,
                pay_form="hourly" if n % 4 == 0 else "monthly",
                clearing_number="5000",
                bank_account_number="1234560",
            )
            for n in range(first, min(first + 5000, total))
        ]
        Employee.objects.bulk_create(rows, batch_size=2000)
    ids = list(
        Employee.objects.filter(company=company, employment_rates__isnull=True).values_list(
            "pk", "pay_form"
        )
    )
    EmploymentRate.objects.bulk_create(
        [EmploymentRate(employee_id=pk, valid_from=start, rate_percent=100) for pk, _p in ids]
        + [
            EmploymentRate(employee_id=pk, valid_from=datetime.date(2030, 1, 1), rate_percent=80)
            for pk, _p in ids[::10]
        ],
        batch_size=5000,
    )
    MonthlySalary.objects.bulk_create(
        [
            MonthlySalary(employee_id=pk, valid_from=start, amount=Decimal("35000.00"))
            for pk, pay in ids
            if pay == "monthly"
        ],
        batch_size=5000,
    )
    HourlyWage.objects.bulk_create(
        [
            HourlyWage(employee_id=pk, valid_from=start, amount=Decimal("180.00"))
            for pk, pay in ids
            if pay == "hourly"
        ],
        batch_size=5000,
    )


def _in_force(model, field, on):
    return Subquery(
        model.objects.filter(employee=OuterRef("pk"), valid_from__lte=on)
        .order_by("-valid_from")
        .values(field)[:1]
    )


FIELDS = [
    "id",
    "company_id",
    *field_groups.PERSONAL,
    *(Employee._meta.get_field(name).attname for name in field_groups.EMPLOYMENT),
    *field_groups.PAY,
    *field_groups.KIVRA,
    "created_at",
    "updated_at",
]


def _baseline_queryset(company):
    on = datetime.date.today()
    return (
        Employee.objects.filter(company=company)
        .order_by("company_id", "employee_number")
        .annotate(
            current_employment_rate=_in_force(EmploymentRate, "rate_percent", on),
            current_monthly_salary=_in_force(MonthlySalary, "amount", on),
            current_hourly_wage=_in_force(HourlyWage, "amount", on),
        )
    )


def _measure(func, samples: int) -> tuple[float, float]:
    func()  # warm up
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def run(*, quick: bool) -> list[Figure]:
    total = 5_000 if quick else 50_000
    samples = 30 if quick else 200
    company = _company()
    _populate(company, total)
    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-employees").first()
    if user is None:
        user = user_model.objects.create_superuser(username="bench-employees", password=None)
    client = APIClient()
    client.force_authenticate(user)
    rng = random.Random(1)
    count = Employee.objects.filter(company=company).count()
    pages = max(1, count // PAGE)
    ids = list(Employee.objects.filter(company=company).values_list("pk", flat=True))

    def api_list():
        page = rng.randrange(1, pages + 1)
        response = client.get(
            f"/api/v1/employees/?company={company.pk}&page={page}&page_size={PAGE}"
        )
        assert response.status_code == 200, response.content[:300]
        response.content  # noqa: B018

    def baseline_list():
        page = rng.randrange(1, pages + 1)
        plain = Employee.objects.filter(company=company).order_by("company_id", "employee_number")
        n = plain.count()
        ids = list(plain.values_list("pk", flat=True)[(page - 1) * PAGE : page * PAGE])
        rows = list(
            _baseline_queryset(company)
            .filter(pk__in=ids)
            .values(
                *FIELDS, "current_employment_rate", "current_monthly_salary", "current_hourly_wage"
            )
        )
        json.dumps({"count": n, "results": rows}, default=str).encode()

    def api_detail():
        response = client.get(f"/api/v1/employees/{rng.choice(ids)}/")
        assert response.status_code == 200
        response.content  # noqa: B018

    def baseline_detail():
        pk = rng.choice(ids)
        row = _baseline_queryset(company).values(*FIELDS).get(pk=pk)
        row["employment_rates"] = list(
            EmploymentRate.objects.filter(employee_id=pk).values("id", "valid_from", "rate_percent")
        )
        row["monthly_salaries"] = list(
            MonthlySalary.objects.filter(employee_id=pk).values("id", "valid_from", "amount")
        )
        row["hourly_wages"] = list(
            HourlyWage.objects.filter(employee_id=pk).values("id", "valid_from", "amount")
        )
        json.dumps(row, default=str).encode()

    list_p50, list_p99 = _measure(api_list, samples)
    base_list_p50, base_list_p99 = _measure(baseline_list, samples)
    detail_p50, detail_p99 = _measure(api_detail, samples)
    base_detail_p50, base_detail_p99 = _measure(baseline_detail, samples)
    label = f"{count} employees"
    return [
        Figure(f"employee list page {PAGE} p50, {label}", list_p50, base_list_p50, "ms"),
        Figure(f"employee list page {PAGE} p99, {label}", list_p99, base_list_p99, "ms"),
        Figure(f"employee detail p50, {label}", detail_p50, base_detail_p50, "ms"),
        Figure(f"employee detail p99, {label}", detail_p99, base_detail_p99, "ms"),
    ]
