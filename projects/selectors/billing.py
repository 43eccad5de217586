"""Billing: a project's hourly price, what is released for billing on a project, and a
period's billing basis (fakturaunderlag)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from ..models import Project, ProjectPrice
from .base import CENT, ZERO, _dec, _model, _model_employee, _registrations_of
from .tree import project_chain


def project_billing_price(*, project: Project, values=(), chain=None) -> Decimal | None:
    """The hourly price: an override for one of ``values`` on the project (or the nearest
    ancestor that has one), else the project's price, else the nearest ancestor's."""
    chain = chain or project_chain(project=project)
    value_ids = [v.pk for v in values]
    if value_ids:
        overrides = {
            (row.project_id): row.hourly_price
            for row in ProjectPrice.objects.filter(
                project__in=chain, value_id__in=value_ids
            ).order_by("hourly_price")
        }
        for node in reversed(chain):
            if node.pk in overrides:
                return overrides[node.pk]
    for node in reversed(chain):
        if node.hourly_price is not None:
            return node.hourly_price
    return None


def project_billing_basis(*, project: Project) -> dict:
    """What is released for billing on the project (and its children). The external
    comment travels with it only on a fixed-price project."""
    registrations = _model("TimeRegistration").objects.filter(
        company_id=project.company_id,
        project__path__startswith=project.path,
        released_for_billing=True,
        billable=True,
    )
    totals = registrations.aggregate(hours=Sum("hours"))
    fixed = project.billing_model == Project.BillingModel.FIXED_PRICE
    amount = (
        project.fixed_price
        if fixed
        else sum(
            (
                (r.hours * (r.billing_price or ZERO))
                for r in registrations.only("hours", "billing_price")
            ),
            ZERO,
        ).quantize(CENT)
    )
    return {
        "project": project.code,
        "hours": _dec(totals["hours"]) or ZERO,
        "amount": amount,
        "external_comment": project.external_comment if fixed else "",
    }


@dataclass
class BillingLine:
    project: Project
    employee: object | None
    hours: Decimal
    price: Decimal | None
    amount: Decimal
    external_comment: str = ""


def billing_basis(
    *, company, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[BillingLine]:
    """The billing basis (fakturaunderlag) of a period: time released for billing, per
    project, employee and hourly price (running projects) or one line per project at its
    fixed price with the external comment (fixed-price projects). Projects marked "never
    transfer to downstream system" — or under a project so marked — are left out: the flag
    governs the billing basis. Three queries whatever the number of registrations."""
    registrations = _model("TimeRegistration").objects.filter(
        company=company, released_for_billing=True, billable=True, project__isnull=False
    )
    registrations = _registrations_of(registrations, date_from=date_from, date_to=date_to)
    never = list(
        Project.objects.filter(company=company, never_transfer=True).values_list("path", flat=True)
    )
    for path in never:
        registrations = registrations.exclude(project__path__startswith=path)
    rows = list(
        registrations.values("project", "employee", "billing_price")
        .annotate(hours=Sum("hours"))
        .order_by("project", "employee", "billing_price")
    )
    projects = Project.objects.in_bulk({r["project"] for r in rows})
    employees = (
        _model_employee().objects.select_related("company").in_bulk({r["employee"] for r in rows})
    )
    lines: list[BillingLine] = []
    fixed: dict[int, BillingLine] = {}
    for row in rows:
        project = projects[row["project"]]
        hours = _dec(row["hours"]) or ZERO
        if project.billing_model == Project.BillingModel.FIXED_PRICE:
            line = fixed.get(project.pk)
            if line is None:
                line = fixed[project.pk] = BillingLine(
                    project,
                    None,
                    ZERO,
                    None,
                    project.fixed_price or ZERO,
                    project.external_comment,
                )
                lines.append(line)
            line.hours += hours
            continue
        price = row["billing_price"]
        amount = (hours * (price or ZERO)).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(BillingLine(project, employees.get(row["employee"]), hours, price, amount))
    lines.sort(key=lambda line: (line.project.code, str(line.employee or "")))
    return lines
