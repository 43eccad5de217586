"""Files the pages and the API both hand out: the billing basis as CSV."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse


def money(value) -> str | None:
    """Decimals go out as strings with two decimals, like every DecimalField of the API."""
    return None if value is None else f"{value:.2f}"


def billing_basis_csv_response(*, lines, company, date_from=None, date_to=None) -> HttpResponse:
    """The billing basis as CSV (``;``, UTF-8): one line per project, employee and price."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        ["project", "project_name", "employee", "hours", "price", "amount", "external_comment"]
    )
    for line in lines:
        writer.writerow(
            [
                line.project.code,
                line.project.name,
                line.employee.employee_number if line.employee else "",
                money(line.hours),
                money(line.price) or "",
                money(line.amount),
                line.external_comment,
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"billing-basis-{company.code}-{date_from or 'start'}-{date_to or 'end'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
