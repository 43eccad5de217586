"""The import of the switchover's export (payroll → HR): payroll employees onto the HR
employees, in bulk, page by page, with the registers they need, their history and their
employment rates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext_lazy

from companies.models import Company
from employees.history_reasons import history_reason
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
from jobs.messages import (
    JobMessage,
    ValidationErrorsText,
    register_job_messages,
    validation_error_data,
)

from .clients.payroll import PayrollEmployee

register_job_messages(
    {
        "payroll_import.category_fallback": gettext_lazy(
            "Personnel category %(code)s is missing in HR; STD used."
        ),
        "payroll_import.form_created": gettext_lazy(
            "Employment form %(code)s created in HR without LAS/AVA settings."
        ),
        "payroll_import.rate_without_start": gettext_lazy(
            "An employment rate without a start date was not imported (HR needs one for the "
            "transfer to payroll)."
        ),
        # errors: validation_error_data parts (field by its name, Django's or our message)
        "payroll_import.invalid": ValidationErrorsText(gettext_lazy("Not imported: %(errors)s")),
        "payroll_import.unreadable": gettext_lazy(
            "Not imported: the payroll system's record could not be read (“%(detail)s”)."
        ),
    }
)


@dataclass
class Registers:
    """The HR registers of a company, loaded once for a whole export."""

    company: Company
    categories: dict[str, PersonnelCategory]
    forms: dict[str, EmploymentForm]
    templates: dict[str, EmploymentTemplate]
    positions: dict[str, Position]
    default_template: EmploymentTemplate | None
    # What an import created, as parts for a log line read in any language:
    # {"model": "employees.Position", "code", "name"} or {..., "las_missing": True}.
    created: list[dict] = field(default_factory=list)
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
            self.created.append({"model": "employees.Position", "code": code, "name": title})
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
            self.created.append(
                {"model": "employees.EmploymentForm", "code": code, "las_missing": True}
            )
            self.created_objects.append(("employees.EmploymentForm", found.pk))
        return found


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # (employee number, why): a stored job message, read in the reader's language
    failed: list[tuple[str, JobMessage]] = field(default_factory=list)
    # (employee number, what): a stored job message, read in the reader's language
    warnings: list[tuple[str, JobMessage]] = field(default_factory=list)


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


_UNCHECKED = object()
_CACHED_TYPES = (str, int, bool, dt.date)


class _Validation:
    """``Employee.full_clean`` as the import runs it (the relations, set from the company's
    own registers, the uniqueness and the constraints left to the database), with each
    field value validated once per page: most values repeat (empty fields, defaults, the
    template's tax table, a city), and a field's checks depend on its value alone. The
    model's ``clean`` still runs for every employee.

    A personal identity number that ``parse_personal_identity_number`` has just accepted
    and normalised is known to be valid (parsing the normal form again gives the same
    number), so it is not parsed a second time.
    """

    EXCLUDE = frozenset(
        {"company", "personnel_category", "employment_form", "template", "position"}
    )

    def __init__(self) -> None:
        self.fields = [
            f for f in Employee._meta.fields if f.name not in self.EXCLUDE and not f.generated
        ]
        # Only plain Django fields are cached: their checks depend on the value alone.
        self.cached = {f.name for f in self.fields if type(f).validate is Field.validate}
        self.valid: dict[str, dict] = defaultdict(dict)

    def known_valid(self, name: str, value) -> None:
        self.valid[name][(type(value), value)] = value

    def _clean_field(self, f, employee: Employee, raw):
        if f.name not in self.cached or not isinstance(raw, _CACHED_TYPES):
            return f.clean(raw, employee)
        seen = self.valid[f.name]
        key = (type(raw), raw)
        cleaned = seen.get(key, _UNCHECKED)
        if cleaned is _UNCHECKED:
            cleaned = seen[key] = f.clean(raw, employee)
        return cleaned

    def full_clean(self, employee: Employee) -> None:
        errors: dict = {}
        for f in self.fields:
            raw = getattr(employee, f.attname)
            if f.blank and raw in f.empty_values:
                continue
            try:
                setattr(employee, f.attname, self._clean_field(f, employee, raw))
            except ValidationError as exc:
                errors[f.name] = exc.error_list
        try:
            employee.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


def _apply(
    employee: Employee,
    record: PayrollEmployee,
    registers: Registers,
    outcome: ImportOutcome,
    validation: _Validation | None = None,
) -> None:
    number = record.employee_number
    if record.personal_identity_number:
        parsed = parse_personal_identity_number(record.personal_identity_number)
        employee.personal_identity_number = parsed.number
        employee.is_coordination_number = parsed.is_coordination_number
        if validation is not None:
            validation.known_valid("personal_identity_number", parsed.number)
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
            (
                number,
                JobMessage("payroll_import.category_fallback", code=record.personnel_category),
            )
        )
    employee.personnel_category = category
    if record.employment_form and record.employment_form not in registers.forms:
        outcome.warnings.append(
            (
                number,
                JobMessage("payroll_import.form_created", code=record.employment_form),
            )
        )
    employee.employment_form = registers.form(record.employment_form) or employee.employment_form
    employee.employment_start_date = _date(record.employment_start, "employment_start_date")
    employee.employment_end_date = (
        _date(record.employment_end, "employment_end_date") if record.employment_end else None
    )
    employee.termination_reason = record.termination_reason or employee.termination_reason


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError(
            {
                name: ValidationError(
                    gettext_lazy("Enter a date as YYYY-MM-DD, not “%(value)s”."),
                    code="invalid_date",
                    params={"value": value},
                )
            }
        ) from None


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


@dataclass
class _Page:
    """One page of an import on its way to the database."""

    company: Company
    registers: Registers
    template: EmploymentTemplate | None
    outcome: ImportOutcome
    validation: _Validation
    journal: object = None
    to_create: list[Employee] = field(default_factory=list)
    to_update: list[Employee] = field(default_factory=list)
    # (record, employee) of every row that passed validation, and whether it existed before.
    accepted: list[tuple[PayrollEmployee, Employee]] = field(default_factory=list)
    existed: set[int] = field(default_factory=set)
    # The imported fields of existing employees as they were (only with a journal).
    before_json: dict[int, dict] = field(default_factory=dict)


def employees_import_page(
    *,
    company: Company,
    records: list[PayrollEmployee],
    registers: Registers,
    template: EmploymentTemplate | None = None,
    change_reason: str | None = None,
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
    page = _Page(
        company=company,
        registers=registers,
        template=template or registers.default_template,
        outcome=ImportOutcome(),
        validation=_Validation(),
        journal=journal,
    )
    existing = {
        e.employee_number: e
        for e in Employee.objects.filter(
            company=company, employee_number__in=[r.employee_number for r in records]
        )
    }
    for record in records:
        _import_record(page, record, existing.get(record.employee_number))
    with transaction.atomic():
        _import_write(
            page, change_reason=change_reason or history_reason("payroll_import"), user=user
        )
    return page.outcome


def _new_employee(page: _Page, record: PayrollEmployee) -> Employee:
    employee = Employee(company=page.company, employee_number=record.employee_number)
    template = page.template
    employee.template = template
    if template is not None:
        employee.tax_table, employee.tax_column = template.tax_table, template.tax_column
        if template.pay_form:
            employee.pay_form = template.pay_form
    return employee


def _import_record(page: _Page, record: PayrollEmployee, employee: Employee | None) -> None:
    """Apply one payroll record to its HR employee (new or existing) and validate it."""
    is_new = employee is None
    if is_new:
        employee = _new_employee(page, record)
        before = None
    else:
        before = _snapshot(employee)
        if page.journal is not None:
            page.before_json[employee.pk] = snapshot_json(employee)
    try:
        _apply(employee, record, page.registers, page.outcome, page.validation)
        if page.template is not None and is_new:
            employee.employment_form = employee.employment_form or page.template.employment_form
            employee.position = employee.position or page.template.position
        page.validation.full_clean(employee)
    except (ValidationError, ValueError, KeyError) as exc:
        page.outcome.failed.append((record.employee_number, _failure(exc)))
        if not is_new:
            employee.refresh_from_db()
        return
    page.accepted.append((record, employee))
    if is_new:
        page.to_create.append(employee)
        return
    page.existed.add(employee.pk)
    if _snapshot(employee) != before:
        page.to_update.append(employee)
    else:
        page.outcome.unchanged += 1


def _failure(exc: Exception) -> JobMessage:
    """Why a record was not imported, kept as message parts: each field by its key (read as
    its verbose name) with Django's or our validation message and its parameters, so it
    reads in the reader's language."""
    if isinstance(exc, ValidationError):
        return JobMessage(
            "payroll_import.invalid",
            errors=validation_error_data(exc, model=Employee._meta.label),
        )
    return JobMessage("payroll_import.unreadable", detail=str(exc))


def _import_write(page: _Page, *, change_reason: str, user) -> None:
    """The page's writes, in its transaction: employees, their history, the employment
    rates and the journal."""
    outcome = page.outcome
    rates_before: dict[int, list] = defaultdict(list)
    if page.journal is not None and page.before_json:
        for rate in EmploymentRate.objects.filter(
            employee__in=[pk for pk in page.existed if pk in page.before_json]
        ):
            rates_before[rate.employee_id].append(rate)
    now = timezone.now()
    if page.to_create:
        Employee.objects.bulk_create(page.to_create, batch_size=1000)
        outcome.created = len(page.to_create)
    if page.to_update:
        Employee.objects.bulk_update(page.to_update, EMPLOYEE_IMPORT_FIELDS, batch_size=1000)
        outcome.updated = len(page.to_update)
    _history(page.to_create, "+", change_reason, user, now)
    _history(page.to_update, "~", change_reason, user, now)
    rates_changed = _rates_import(page.accepted, page.existed, outcome)
    if page.journal is not None:
        changed_ids = {e.pk for e in page.to_update} | (rates_changed & set(page.before_json))
        page.journal(
            created=page.to_create,
            changed={
                pk: {"fields": page.before_json[pk], "rates": rates_json(rates_before[pk])}
                for pk in changed_ids
            },
        )


def _history(employees: list[Employee], kind: str, reason: str, user, when) -> None:
    """History rows for bulk writes (who, when, from which source), PIN masked only.

    The rows are copied from the employee table in the database (``INSERT … SELECT``), as
    simple-history would have recorded them from the saved rows; only the masked personal
    identity number comes from Python, joined in by employee id.
    """
    if not employees:
        return
    history_model = Employee.history.model
    tracked = [f.column for f in history_model.tracked_fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in tracked)
    meta = history_model._meta
    extra = [
        meta.get_field(name).column
        for name in (
            "history_date",
            "history_type",
            "history_user",
            "history_change_reason",
            "personal_identity_number_masked",
        )
    ]
    date = meta.get_field("history_date").get_db_prep_value(when, connection)
    for start in range(0, len(employees), 500):
        chunk = employees[start : start + 500]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        params: list = []
        for employee in chunk:
            params += [
                employee.pk,
                mask_personal_identity_number(employee.personal_identity_number),
            ]
        sql = (
            f"WITH masked (employee_id, pin_masked) AS (VALUES {values}) "  # noqa: S608 - names from _meta, values as parameters
            f"INSERT INTO {quote(meta.db_table)} ({columns}, {', '.join(quote(c) for c in extra)}) "
            f"SELECT {', '.join('e.' + quote(c) for c in tracked)}, %s, %s, %s, %s, m.pin_masked "
            f"FROM {quote(Employee._meta.db_table)} e "
            f"JOIN masked m ON m.employee_id = e.{quote(Employee._meta.pk.column)}"
        )
        params += [date, kind, getattr(user, "pk", None), reason]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _rates_import(
    accepted: list[tuple[PayrollEmployee, Employee]], existed: set[int], outcome: ImportOutcome
) -> set[int]:
    """Create or update the employment rates; the ids of the employees whose rates changed.

    ``existed``: the employees that existed before the page (only they can have rates)."""
    if not accepted:
        return set()
    existing: dict[tuple[int, dt.date], EmploymentRate] = {}
    if existed:
        existing = {
            (r.employee_id, r.valid_from): r
            for r in EmploymentRate.objects.filter(employee__in=sorted(existed))
        }
    create, update = [], []
    for record, employee in accepted:
        for row in record.employment_rates:
            if not row.get("start_date"):
                outcome.warnings.append(
                    (record.employee_number, JobMessage("payroll_import.rate_without_start"))
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
