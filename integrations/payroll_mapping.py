"""How an HR employee and a payroll employee map onto each other.

One place for the field mapping, used three ways: the payload the sync sends (HR →
payroll), the import of the switchover's export (payroll → HR, in bulk, page by page) and
the preflight's field-level diff.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from companies.models import Company
from employees.models import (
    STANDARD_CATEGORY_CODE,
    Employee,
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    PersonnelCategory,
    Position,
)
from employees.validators import parse_personal_identity_number
from flexbridge.masking import mask_personal_identity_number

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


# --- payroll → HR (the switchover's export) ------------------------------------------------


@dataclass
class Registers:
    """The HR registers of a company, loaded once for a whole export."""

    company: Company
    categories: dict[str, PersonnelCategory]
    forms: dict[str, EmploymentForm]
    templates: dict[str, EmploymentTemplate]
    positions: dict[str, Position]
    default_template: EmploymentTemplate | None
    created: list[str] = field(default_factory=list)
    # The register rows an import created, as ("employees.Position", pk), for an undo.
    created_objects: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def load(cls, company: Company) -> Registers:
        templates = {t.code: t for t in EmploymentTemplate.objects.filter(company=company)}
        return cls(
            company=company,
            categories={c.code: c for c in PersonnelCategory.objects.filter(company=company)},
            forms={f.code: f for f in EmploymentForm.objects.filter(company=company)},
            templates=templates,
            positions={p.title.casefold(): p for p in Position.objects.filter(company=company)},
            default_template=next((t for t in templates.values() if t.is_default), None),
        )

    def position(self, title: str) -> Position | None:
        """The HR position with this title; created (code from the title) when missing."""
        if not title:
            return None
        found = self.positions.get(title.casefold())
        if found is None:
            code = "".join(ch for ch in title.upper() if ch.isalnum())[:16] or "POS"
            base, number = code, 1
            while Position.objects.filter(company=self.company, code=code).exists():
                number += 1
                code = f"{base[:16]}{number}"
            found = Position.objects.create(company=self.company, code=code, title=title)
            self.positions[title.casefold()] = found
            self.created.append(f"position {code} {title}")
            self.created_objects.append(("employees.Position", found.pk))
        return found

    def form(self, code: str) -> EmploymentForm | None:
        """The HR employment form; created without LAS/AVA settings when missing."""
        if not code:
            return None
        found = self.forms.get(code)
        if found is None:
            found = EmploymentForm.objects.create(company=self.company, code=code, name=code)
            self.forms[code] = found
            self.created.append(f"employment form {code} (LAS settings missing)")
            self.created_objects.append(("employees.EmploymentForm", found.pk))
        return found


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (employee number, why)
    warnings: list[tuple[str, str]] = field(default_factory=list)


EMPLOYEE_IMPORT_FIELDS = [
    "personal_identity_number",
    "is_coordination_number",
    "first_name",
    "last_name",
    "work_email",
    "private_email",
    "mobile_phone",
    "street_address",
    "postal_code",
    "city",
    "clearing_number",
    "bank_account_number",
    "position",
    "personnel_category",
    "employment_form",
    "employment_start_date",
    "employment_end_date",
    "termination_reason",
]


def _apply(
    employee: Employee, record: PayrollEmployee, registers: Registers, outcome: ImportOutcome
) -> None:
    number = record.employee_number
    if record.personal_identity_number:
        parsed = parse_personal_identity_number(record.personal_identity_number)
        employee.personal_identity_number = parsed.number
        employee.is_coordination_number = parsed.is_coordination_number
    employee.first_name = record.first_name
    employee.last_name = record.last_name
    employee.work_email = record.email
    employee.private_email = record.private_email
    employee.mobile_phone = record.phone
    employee.street_address = record.street_address
    employee.postal_code = record.postal_code
    employee.city = record.city
    employee.clearing_number = record.clearing_number
    employee.bank_account_number = record.bank_account_number
    employee.position = registers.position(record.position) or employee.position
    category = registers.categories.get(record.personnel_category)
    if category is None:
        category = registers.categories[STANDARD_CATEGORY_CODE]
        outcome.warnings.append(
            (number, f"Personnel category {record.personnel_category} is missing in HR; STD used.")
        )
    employee.personnel_category = category
    if record.employment_form and record.employment_form not in registers.forms:
        outcome.warnings.append(
            (
                number,
                f"Employment form {record.employment_form} created in HR without LAS/AVA settings.",
            )
        )
    employee.employment_form = registers.form(record.employment_form) or employee.employment_form
    employee.employment_start_date = dt.date.fromisoformat(record.employment_start)
    employee.employment_end_date = (
        dt.date.fromisoformat(record.employment_end) if record.employment_end else None
    )
    employee.termination_reason = record.termination_reason or employee.termination_reason


def _snapshot(employee: Employee) -> tuple:
    return tuple(
        getattr(
            employee,
            f"{name}_id" if name in ("position", "personnel_category", "employment_form") else name,
        )
        for name in EMPLOYEE_IMPORT_FIELDS
    )


def snapshot_json(employee: Employee) -> dict:
    """The imported fields of an employee as JSON (attnames), for a later restore."""
    values = {}
    for name in EMPLOYEE_IMPORT_FIELDS:
        attname = Employee._meta.get_field(name).attname
        value = getattr(employee, attname)
        values[attname] = value.isoformat() if isinstance(value, dt.date) else value
    return values


def rates_json(rates) -> list[dict]:
    return [
        {"valid_from": r.valid_from.isoformat(), "rate_percent": str(r.rate_percent)}
        for r in sorted(rates, key=lambda r: r.valid_from)
    ]


def employees_import_page(  # noqa: C901
    *,
    company: Company,
    records: list[PayrollEmployee],
    registers: Registers,
    template: EmploymentTemplate | None = None,
    change_reason: str = "payroll export",
    user=None,
    journal=None,
) -> ImportOutcome:
    """Create or update HR employees from a page of payroll employees, in bulk.

    Idempotent: a page imported twice changes nothing the second time. Rows that do not
    pass the employee register's validation are reported, not imported. New employees get
    ``template`` (default: the company's default template), as the payroll system's export
    uses the HR default template.

    ``journal(created=[Employee], changed={employee_id: before})``, when given, is called in
    the page's transaction with the employees created and those changed (fields or
    employment rates), ``before`` being ``{"fields": ..., "rates": ...}`` as they were.
    """
    outcome = ImportOutcome()
    template = template or registers.default_template
    numbers = [r.employee_number for r in records]
    existing = {
        e.employee_number: e
        for e in Employee.objects.filter(company=company, employee_number__in=numbers)
    }
    to_create: list[Employee] = []
    to_update: list[Employee] = []
    accepted: list[tuple[PayrollEmployee, Employee]] = []
    before_json: dict[int, dict] = {}
    for record in records:
        employee = existing.get(record.employee_number)
        is_new = employee is None
        if is_new:
            employee = Employee(company=company, employee_number=record.employee_number)
            employee.template = template
            if template is not None:
                employee.tax_table, employee.tax_column = template.tax_table, template.tax_column
                if template.pay_form:
                    employee.pay_form = template.pay_form
        before = None if is_new else _snapshot(employee)
        if not is_new and journal is not None:
            before_json[employee.pk] = snapshot_json(employee)
        try:
            _apply(employee, record, registers, outcome)
            if template is not None and is_new:
                employee.employment_form = employee.employment_form or template.employment_form
                employee.position = employee.position or template.position
            employee.full_clean(
                exclude=[
                    "company",
                    "personnel_category",
                    "employment_form",
                    "template",
                    "position",
                ],
                validate_unique=False,
                validate_constraints=False,
            )
        except (ValidationError, ValueError, KeyError) as exc:
            messages = getattr(exc, "message_dict", None) or {"": [str(exc)]}
            text = "; ".join(
                f"{k}: {' '.join(map(str, v))}" if k else " ".join(map(str, v))
                for k, v in messages.items()
            )
            outcome.failed.append((record.employee_number, text))
            if not is_new:
                employee.refresh_from_db()
            continue
        accepted.append((record, employee))
        if is_new:
            to_create.append(employee)
        elif _snapshot(employee) != before:
            to_update.append(employee)
        else:
            outcome.unchanged += 1
    now = timezone.now()
    with transaction.atomic():
        rates_before: dict[int, list] = defaultdict(list)
        if journal is not None:
            for rate in EmploymentRate.objects.filter(
                employee__in=[e.pk for _r, e in accepted if e.pk in before_json]
            ):
                rates_before[rate.employee_id].append(rate)
        if to_create:
            Employee.objects.bulk_create(to_create, batch_size=1000)
            outcome.created = len(to_create)
        if to_update:
            Employee.objects.bulk_update(to_update, EMPLOYEE_IMPORT_FIELDS, batch_size=1000)
            outcome.updated = len(to_update)
        _history(to_create, "+", change_reason, user, now)
        _history(to_update, "~", change_reason, user, now)
        rates_changed = _rates_import(accepted, outcome)
        if journal is not None:
            changed_ids = {e.pk for e in to_update} | (rates_changed & set(before_json))
            journal(
                created=to_create,
                changed={
                    pk: {"fields": before_json[pk], "rates": rates_json(rates_before[pk])}
                    for pk in changed_ids
                },
            )
    return outcome


def _history(employees: list[Employee], kind: str, reason: str, user, when) -> None:
    """History rows for bulk writes (who, when, from which source), PIN masked only."""
    if not employees:
        return
    history_model = Employee.history.model
    tracked = [f.attname for f in history_model.tracked_fields]
    rows = []
    for employee in employees:
        values = {name: getattr(employee, name) for name in tracked if hasattr(employee, name)}
        rows.append(
            history_model(
                **values,
                history_date=when,
                history_type=kind,
                history_user_id=getattr(user, "pk", None),
                history_change_reason=reason,
                personal_identity_number_masked=mask_personal_identity_number(
                    employee.personal_identity_number
                ),
            )
        )
    history_model.objects.bulk_create(rows, batch_size=1000)


def _rates_import(
    accepted: list[tuple[PayrollEmployee, Employee]], outcome: ImportOutcome
) -> set[int]:
    """Create or update the employment rates; the ids of the employees whose rates changed."""
    if not accepted:
        return set()
    existing: dict[tuple[int, dt.date], EmploymentRate] = {
        (r.employee_id, r.valid_from): r
        for r in EmploymentRate.objects.filter(employee__in=[e.pk for _r, e in accepted])
    }
    create, update = [], []
    for record, employee in accepted:
        for row in record.employment_rates:
            if not row.get("start_date"):
                outcome.warnings.append(
                    (
                        record.employee_number,
                        "An employment rate without a start date was not imported "
                        "(HR needs one for the transfer to payroll).",
                    )
                )
                continue
            day = dt.date.fromisoformat(row["start_date"])
            percent = Decimal(str(row.get("percent") or "0")).quantize(Decimal("0.01"))
            found = existing.get((employee.pk, day))
            if found is None:
                create.append(
                    EmploymentRate(employee=employee, valid_from=day, rate_percent=percent)
                )
            elif found.rate_percent != percent:
                found.rate_percent = percent
                update.append(found)
    if create:
        EmploymentRate.objects.bulk_create(create, batch_size=1000)
    if update:
        EmploymentRate.objects.bulk_update(update, ["rate_percent"], batch_size=1000)
    return {r.employee_id for r in create} | {r.employee_id for r in update}
