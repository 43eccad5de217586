"""How an HR employee and a payroll employee map onto each other: the payload the sync
sends (HR → payroll) and the preflight's field-level diff. The import of the switchover's
export (payroll → HR) is :mod:`integrations.payroll_import`.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from employees.models import Employee, EmploymentRate
from flexbridge.masking import mask_personal_identity_number
from jobs.messages import field_label

from .clients.payroll import PayrollEmployee

# HR field → payroll field. ``employment_rates`` is the dated rows.
SYNCED_FIELDS: dict[str, str] = {
    "personal_identity_number": "personal_identity_number",
    "first_name": "first_name",
    "last_name": "last_name",
    "work_email": "email",
    "private_email": "private_email",
    "mobile_phone": "phone",
    "street_address": "street_address",
    "postal_code": "postal_code",
    "city": "city",
    "clearing_number": "clearing_number",
    "bank_account_number": "bank_account_number",
    "position": "position",
    "personnel_category": "personnel_category",
    "employment_form": "employment_form",
    "template": "person_template",
    "employment_start_date": "employment_start",
    "employment_end_date": "employment_end",
    "employment_rates": "employment_rates",
}
# Compared in the diff and the side-by-side view (payroll names).
COMPARED = list(SYNCED_FIELDS.values())


def payroll_field_label(name: str) -> str:
    """A compared field (payroll's name, as in the side by side and the preflight's diff)
    by its HR field's name in the reader's language."""
    hr_name = {p: h for h, p in SYNCED_FIELDS.items()}.get(name, name)
    return field_label(Employee._meta.label, hr_name)


def format_pin(value: str) -> str:
    """HR stores 12 digits; payroll writes YYYYMMDD-NNNN."""
    return f"{value[:8]}-{value[8:]}" if len(value) == 12 and value.isdigit() else value


def _percent(value) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def hr_employee_payload(employee: Employee, *, rates: list[EmploymentRate] | None = None) -> dict:
    """The payroll-side view of an HR employee: what the sync sends."""
    if rates is None:
        rates = list(EmploymentRate.objects.filter(employee=employee).order_by("valid_from"))
    return {
        "personal_identity_number": format_pin(employee.personal_identity_number),
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "email": employee.work_email,
        "private_email": employee.private_email,
        "phone": employee.mobile_phone,
        "street_address": employee.street_address,
        "postal_code": employee.postal_code.replace(" ", ""),
        "city": employee.city,
        "clearing_number": employee.clearing_number,
        "bank_account_number": employee.bank_account_number,
        "position": employee.position.title if employee.position_id else "",
        "personnel_category": employee.personnel_category.code,
        "employment_form": employee.employment_form.code if employee.employment_form_id else "",
        "person_template": employee.template.code if employee.template_id else "",
        "employment_start": employee.employment_start_date.isoformat(),
        "employment_end": (
            employee.employment_end_date.isoformat() if employee.employment_end_date else None
        ),
        "employment_rates": [
            {"start_date": rate.valid_from.isoformat(), "percent": _percent(rate.rate_percent)}
            for rate in sorted(rates, key=lambda r: r.valid_from)
        ],
    }


def payload_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()


def payroll_view(record: PayrollEmployee) -> dict:
    """A payroll employee reduced to the compared fields, normalised like the HR payload."""
    data = record.to_json()
    view = {name: data.get(name) for name in COMPARED}
    view["postal_code"] = (view["postal_code"] or "").replace(" ", "")
    view["employment_rates"] = [
        {"start_date": row.get("start_date"), "percent": _percent(row.get("percent"))}
        for row in sorted(
            data.get("employment_rates") or [], key=lambda r: r.get("start_date") or ""
        )
    ]
    return view


def field_diff(*, hr: dict, payroll: dict) -> list[dict]:
    """Fields where HR and payroll differ: ``[{"field", "hr", "payroll"}]``; identity
    numbers masked."""
    changes = []
    for name in COMPARED:
        left, right = hr.get(name), payroll.get(name)
        if (left or None) != (right or None):
            if name == "personal_identity_number":
                left = mask_personal_identity_number(left or "")
                right = mask_personal_identity_number(right or "")
            changes.append({"field": name, "hr": left, "payroll": right})
    return changes
