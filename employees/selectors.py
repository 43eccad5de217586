"""Reads of the employee register."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from companies.models import Company
from companies.selectors import permissions_by_company

from .models import DatedValue, Employee, EmploymentRate, HourlyWage, MonthlySalary
from .validators import parse_personal_identity_number

# Who answers "has this company Kivra print handling on?": the payslips app, which holds the
# Kivra link, registers its answer in its AppConfig.ready (the register imports no payslips
# code). With nothing registered, no company has print handling.
PrintHandlingSource = Callable[[int], bool]
_print_handling_sources: list[PrintHandlingSource] = []


def print_handling_source_register(func: PrintHandlingSource) -> PrintHandlingSource:
    """Register ``func(company_id) -> bool``: whether the company has print handling on."""
    if func not in _print_handling_sources:
        _print_handling_sources.append(func)
    return func


def kivra_print_handling_available(*, company: Company | int) -> bool:
    """Whether the company's Kivra link has print handling on.

    The one place that decides if "allow Kivra print handling" shows on an employee: the
    company's active Kivra link (``payslips.KivraLink``) has print handling on, as the
    payslips app answers (:func:`print_handling_source_register`).
    """
    company_id = company if isinstance(company, int) else company.pk
    return any(source(company_id) for source in _print_handling_sources)


def today() -> datetime.date:
    return timezone.localdate()


def dated_value_in_force(
    *, model: type[DatedValue], employee: Employee, on: datetime.date | None = None
) -> DatedValue | None:
    """The row in force on ``on`` (today by default): the latest with ``valid_from <= on``.

    Future-dated rows exist but are not in force until their day.
    """
    on = on or today()
    return (
        model.objects.filter(employee=employee, valid_from__lte=on).order_by("-valid_from").first()
    )


def employment_rate_in_force(*, employee: Employee, on: datetime.date | None = None):
    return dated_value_in_force(model=EmploymentRate, employee=employee, on=on)


def monthly_salary_in_force(*, employee: Employee, on: datetime.date | None = None):
    return dated_value_in_force(model=MonthlySalary, employee=employee, on=on)


def hourly_wage_in_force(*, employee: Employee, on: datetime.date | None = None):
    return dated_value_in_force(model=HourlyWage, employee=employee, on=on)


def _in_force(model: type[DatedValue], field: str, on: datetime.date) -> Subquery:
    return Subquery(
        model.objects.filter(employee=OuterRef("pk"), valid_from__lte=on)
        .order_by("-valid_from")
        .values(field)[:1]
    )


def employees_with_values_in_force(
    queryset: QuerySet[Employee] | None = None, *, on: datetime.date | None = None
) -> QuerySet[Employee]:
    """Employees with their registers joined and the dated values in force annotated
    (``current_employment_rate``, ``current_monthly_salary``, ``current_hourly_wage``) —
    one query for any page size."""
    on = on or today()
    queryset = Employee.objects.all() if queryset is None else queryset
    return queryset.select_related(
        "company", "personnel_category", "employment_form", "template", "position"
    ).annotate(
        current_employment_rate=_in_force(EmploymentRate, "rate_percent", on),
        current_monthly_salary=_in_force(MonthlySalary, "amount", on),
        current_hourly_wage=_in_force(HourlyWage, "amount", on),
    )


def employees_active_q(*, on: datetime.date | None = None, active: bool = True) -> Q:
    """Active = not ended on ``on`` (no end date, or the end date is that day or later);
    an employee whose start lies ahead counts as active."""
    on = on or today()
    q = Q(employment_end_date__isnull=True) | Q(employment_end_date__gte=on)
    return q if active else ~q


def employees_for_user(*, user) -> QuerySet[Employee]:
    return employees_with_values_in_force(Employee.objects.for_user(user))


def employee_for_user(*, user, company: Company | int) -> Employee | None:
    """The employee ``user`` is linked to in ``company`` (``None``: none there)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    company_id = company if isinstance(company, int) else company.pk
    return Employee.objects.filter(user_id=user.pk, company_id=company_id).first()


def companies_with_perm(*, user, perm: str) -> set[int] | None:
    """Ids of the companies where ``user`` holds ``perm``; ``None`` means all (superuser)."""
    if getattr(user, "is_superuser", False):
        return None
    return {cid for cid, perms in permissions_by_company(user=user).items() if perm in perms}


_PIN_DATE_RE = re.compile(r"^(\d{8})(?:-\**)?$")
_PIN_FULL_RE = re.compile(r"^(\d{8}|\d{6})[-+]?\d{4}$")


def employees_search(
    queryset: QuerySet[Employee], *, term: str, full_pin_for_companies: set[int] | None
) -> QuerySet[Employee]:
    """Every word must match the number, a name or the personal identity number.

    Anyone may search by the date part of the number (``19800101`` or ``19800101-****``,
    what the masked lists show); a full number finds an employee only in companies where
    the user may see numbers in clear, so the search cannot reveal a hidden number.
    """
    for word in (term or "").split():
        q = (
            Q(employee_number__iexact=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
        )
        date_match = _PIN_DATE_RE.match(word)
        if date_match:
            q |= Q(personal_identity_number__startswith=date_match.group(1))
        elif _PIN_FULL_RE.match(word):
            try:
                number = parse_personal_identity_number(word).number
            except ValidationError:
                number = None
            if number:
                pin_q = Q(personal_identity_number=number)
                if full_pin_for_companies is not None:
                    pin_q &= Q(company_id__in=full_pin_for_companies)
                q |= pin_q
        queryset = queryset.filter(q)
    return queryset
