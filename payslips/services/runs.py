"""Payroll runs: created from the API or fetched from the payroll system, checked first."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy, gettext_noop

from companies.models import Company
from employees.models import Employee
from integrations.models import PayrollLink
from integrations.payroll_backend import payroll_client_for
from jobs.context import JobContext
from jobs.messages import JobMessage, text_data, validation_error_data
from jobs.models import Job
from jobs.services import job_start

from ..models import PayrollRun, Payslip, PayslipLine

CENT = Decimal("0.01")


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def payroll_run_create(
    *,
    company: Company,
    payment_date: datetime.date,
    period_start: datetime.date,
    period_end: datetime.date,
    status: str = PayrollRun.Status.PRELIMINARY,
    payslips: list[dict],
    external_id: str = "",
    description: str = "",
    source: str = PayrollRun.Source.API,
) -> PayrollRun:
    """Create a run with its payslips and lines, after checking that every employee is known
    and every payslip's totals add up. Raises ``ValidationError`` with per-payslip messages.

    ``payslips``: dicts with ``employee_number``, ``gross_pay``, ``tax``, ``net_pay``,
    optional ``employer_contributions``, ``ytd_gross_pay``, ``ytd_tax``,
    ``vacation_days_paid|saved|used`` and ``lines`` (``salary_type``, ``text``, ``kind``,
    ``quantity``, ``unit``, ``unit_price``, ``amount``, ``account``, ``dimensions``).
    """
    errors: dict[str, list[ValidationError]] = {}
    if period_start > period_end:
        errors["period_end"] = [_error(gettext_lazy("The period ends before it starts."))]
    if external_id and PayrollRun.objects.filter(company=company, external_id=external_id).exists():
        errors["external_id"] = [
            _error(gettext_lazy("This payroll run has already been imported."))
        ]
    numbers = [str(p.get("employee_number", "")) for p in payslips]
    employees = {
        e.employee_number: e
        for e in Employee.objects.filter(company=company, employee_number__in=numbers)
    }
    seen: set[str] = set()
    for index, data in enumerate(payslips):
        key = f"payslips[{index}]"
        number = numbers[index]
        problems = []
        if number not in employees:
            problems.append(
                _error(gettext_lazy("Unknown employee number %(number)s."), number=number)
            )
        if number in seen:
            problems.append(
                _error(gettext_lazy("Employee %(number)s has two payslips."), number=number)
            )
        seen.add(number)
        problems += _payslip_total_errors(data)
        if problems:
            errors[key] = problems
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        run = PayrollRun.objects.create(
            company=company,
            payment_date=payment_date,
            period_start=period_start,
            period_end=period_end,
            status=status,
            external_id=external_id,
            description=description,
            source=source,
        )
        slips = Payslip.objects.bulk_create(
            [
                Payslip(
                    company=company,
                    payroll_run=run,
                    employee=employees[numbers[i]],
                    gross_pay=_dec(d["gross_pay"]),
                    tax=_dec(d.get("tax")) or Decimal("0.00"),
                    net_pay=_dec(d["net_pay"]),
                    employer_contributions=_dec(d.get("employer_contributions")) or Decimal(0),
                    ytd_gross_pay=_dec(d.get("ytd_gross_pay")) or Decimal(0),
                    ytd_tax=_dec(d.get("ytd_tax")) or Decimal(0),
                    vacation_days_paid=_dec(d.get("vacation_days_paid")),
                    vacation_days_saved=_dec(d.get("vacation_days_saved")),
                    vacation_days_used=_dec(d.get("vacation_days_used")),
                )
                for i, d in enumerate(payslips)
            ],
            batch_size=500,
        )
        PayslipLine.objects.bulk_create(
            [
                PayslipLine(
                    payslip=slip,
                    line_number=n,
                    salary_type=str(line["salary_type"]),
                    text=line.get("text", ""),
                    kind=line.get("kind", PayslipLine.Kind.GROSS),
                    quantity=_dec(line.get("quantity")),
                    unit=line.get("unit", ""),
                    unit_price=_dec(line.get("unit_price")),
                    amount=_dec(line["amount"]),
                    account=line.get("account", ""),
                    dimensions={str(k): str(v) for k, v in (line.get("dimensions") or {}).items()},
                    period_start=line.get("period_start"),
                    period_end=line.get("period_end"),
                )
                for slip, data in zip(slips, payslips, strict=True)
                for n, line in enumerate(data.get("lines") or [], start=1)
            ],
            batch_size=1000,
        )
    return run


def _error(message, **params) -> ValidationError:
    """A validation message kept lazy with its parameters: the API renders it in the
    caller's language, the fetch job stores it by msgid (``validation_error_data``)."""
    return ValidationError(message, params={k: str(v) for k, v in params.items()} or None)


def _payslip_total_errors(data: dict) -> list[ValidationError]:
    """Gross = sum of gross lines; net = gross - tax + after-tax lines; amount = qty × price."""
    problems = []
    try:
        gross, net = _dec(data["gross_pay"]), _dec(data["net_pay"])
        tax = _dec(data.get("tax")) or Decimal(0)
        lines = data.get("lines") or []
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for n, line in enumerate(lines, start=1):
            amount = _dec(line["amount"])
            sums[line.get("kind", PayslipLine.Kind.GROSS)] += amount
            qty, price = _dec(line.get("quantity")), _dec(line.get("unit_price"))
            if qty is not None and price is not None and (qty * price).quantize(CENT) != amount:
                problems.append(
                    _error(
                        gettext_lazy("Line %(n)s: %(qty)s × %(price)s is not %(amount)s."),
                        n=n,
                        qty=qty,
                        price=price,
                        amount=amount,
                    )
                )
    except (KeyError, ArithmeticError, ValueError, TypeError) as exc:
        return [_error(gettext_lazy("Missing or invalid amount: “%(error)s”"), error=exc)]
    if lines and sums[PayslipLine.Kind.GROSS] != gross:
        problems.append(
            _error(
                gettext_lazy("Gross pay %(gross)s is not the sum of the gross lines %(sum)s."),
                gross=gross,
                sum=sums[PayslipLine.Kind.GROSS],
            )
        )
    expected_net = gross - tax + sums[PayslipLine.Kind.NET]
    if net != expected_net:
        problems.append(
            _error(
                gettext_lazy(
                    "Net pay %(net)s is not gross - tax + after-tax lines = %(expected)s."
                ),
                net=net,
                expected=expected_net,
            )
        )
    return problems


def payroll_run_from_payroll_system(data: dict) -> dict:
    """The keyword arguments of :func:`payroll_run_create` for a run as the payroll system's
    ``GET /v1/payroll-runs`` gives it (docs/payroll-api.md)."""
    return {
        "payment_date": datetime.date.fromisoformat(data["payment_date"]),
        "period_start": datetime.date.fromisoformat(data["period_start"]),
        "period_end": datetime.date.fromisoformat(data["period_end"]),
        "status": data.get("status") or PayrollRun.Status.PRELIMINARY,
        "external_id": str(data["id"]),
        "description": str(data.get("description") or "")[:200],
        "source": PayrollRun.Source.PAYROLL_SYSTEM,
        "payslips": [
            {
                "employee_number": str(slip["employee_number"]),
                "gross_pay": slip["gross"],
                "tax": slip.get("tax") or "0.00",
                "net_pay": slip["net"],
                "lines": [
                    {
                        "salary_type": line["salary_type"],
                        "text": line.get("description") or line.get("text") or "",
                        "kind": line.get("kind") or PayslipLine.Kind.GROSS,
                        "quantity": line.get("quantity"),
                        "unit_price": line.get("unit_price"),
                        "amount": line["amount"],
                    }
                    for line in slip.get("lines") or []
                ],
            }
            for slip in data.get("payslips") or []
        ],
    }


def payroll_run_fetch(*, job: Job, ctx: JobContext) -> None:
    """The handler of job kind ``payroll_run_fetch``: the payroll system's runs for
    ``job.parameters["payment_date"]`` stored through :func:`payroll_run_create`.

    Idempotent: a run whose payroll-system id is already stored is left exactly as it is.
    """
    company = job.company
    payment_date = datetime.date.fromisoformat(job.parameters["payment_date"])
    link = PayrollLink.objects.filter(company=company).first()
    if link is None:
        raise RuntimeError(JobMessage("payroll_run.no_link"))
    with payroll_client_for(link=link) as client:
        runs = client.payroll_runs_list(payment_date=payment_date)
    ctx.set_total(len(runs))
    if not runs:
        ctx.warning(JobMessage("payroll_run.none_on_date", date=payment_date.isoformat()))
        return
    for data in runs:
        ctx.check_cancelled()
        label = f"{data.get('id', '?')} ({data.get('payment_date', payment_date)})"
        try:
            kwargs = payroll_run_from_payroll_system(data)
        except (KeyError, TypeError, ValueError) as exc:
            ctx.error(JobMessage("payroll_run.unreadable", error=str(exc)))
            ctx.count("failed")
            ctx.advance()
            continue
        if PayrollRun.objects.filter(company=company, external_id=kwargs["external_id"]).exists():
            ctx.info(JobMessage("payroll_run.already_fetched"), item=label)
            ctx.count("unchanged")
            ctx.advance()
            continue
        try:
            with transaction.atomic():
                run = payroll_run_create(company=company, **kwargs)
        except IntegrityError:  # fetched by a parallel job a moment ago
            ctx.info(JobMessage("payroll_run.already_fetched"), item=label)
            ctx.count("unchanged")
        except ValidationError as exc:
            for part in validation_error_data(
                exc, model=PayrollRun._meta.label, labels=_payslip_labels(kwargs["payslips"])
            ):
                ctx.error(JobMessage("payroll_run.invalid", errors=[part]), item=label)
            ctx.count("failed")
        else:
            ctx.info(
                JobMessage(f"payroll_run.stored_{run.status}", count=len(kwargs["payslips"])),
                item=label,
            )
            ctx.count("fetched")
        ctx.advance()


def _payslip_labels(payslips: list[dict]) -> dict[str, dict]:
    """``payslips[i]`` (the key of a payslip's errors) as the payslip of its employee."""
    return {
        f"payslips[{index}]": text_data(
            gettext_noop("Payslip of employee %(number)s"),
            {"number": str(data.get("employee_number", ""))},
        )
        for index, data in enumerate(payslips)
    }


def payroll_run_fetch_start(*, user, company: Company, payment_date: datetime.date) -> Job:
    """Start "Fetch payroll run" (checks the permission to add payroll runs)."""
    return job_start(
        user=user,
        company=company,
        kind="payroll_run_fetch",
        parameters={"payment_date": payment_date.isoformat()},
    )
