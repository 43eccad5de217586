"""Writes of employees: create, update, change number, end employment and set many at
once; the employee's events are sent in the transaction that writes the change."""

from __future__ import annotations

import copy
import datetime
import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company, Membership, Task
from companies.selectors import user_has_company_perm
from flexbridge.masking import mask_personal_identity_number

from .. import events, field_groups
from ..history_reasons import history_reason
from ..models import STANDARD_CATEGORY_CODE, Employee, EmploymentTemplate, PersonnelCategory
from ..selectors import kivra_print_handling_available
from ..validators import parse_personal_identity_number, validate_employee_number
from .checks import _check_unique, _refuse
from .number_check import payroll_number_check

# One logger for the register's writes: the PAXml import's dry run filters it by this name.
logger = logging.getLogger(__package__)

TASK_KIND_TERMINATION_REASON = "termination-reason"

PERM_VIEW_PIN = "companies.view_personal_identity_number"
PERM_CHANGE_PIN = "companies.change_personal_identity_number"
PERM_VIEW_BANK = "companies.view_bank_account"
PERM_KIVRA_SEND = "companies.change_employee_kivra_send"
PERM_KIVRA_PRINT = "companies.change_employee_kivra_print"

# Fields a caller may set through employee_create / employee_update.
EMPLOYEE_FIELDS = field_groups.EDITABLE


def _normalise(employee: Employee) -> None:
    pin = (employee.personal_identity_number or "").strip()
    if pin:
        try:
            parsed = parse_personal_identity_number(pin)
        except ValidationError as exc:
            raise ValidationError({"personal_identity_number": exc.error_list}) from exc
        employee.personal_identity_number = parsed.number
        employee.is_coordination_number = parsed.is_coordination_number
    else:
        employee.personal_identity_number = ""
        employee.is_coordination_number = False
    employee.employee_number = (employee.employee_number or "").strip()
    employee.country = (employee.country or "").strip().upper()
    employee.work_email = (employee.work_email or "").strip()
    employee.private_email = (employee.private_email or "").strip()
    employee.clearing_number = re.sub(r"\D", "", employee.clearing_number or "")
    employee.bank_account_number = re.sub(r"\D", "", employee.bank_account_number or "")


def _check_field_permissions(*, employee: Employee, previous: Employee | None, user) -> None:
    """The fields that need a permission of their own, checked in the employee's company."""
    if user is None:
        return
    company = employee.company_id

    def changed(field: str, default) -> bool:
        old = getattr(previous, field) if previous is not None else default
        return getattr(employee, field) != old

    if changed("personal_identity_number", "") and not user_has_company_perm(
        user=user, perm=PERM_CHANGE_PIN, company=company
    ):
        _refuse(
            "personal_identity_number",
            _("You may not change personal identity numbers."),
            "permission_denied",
        )
    if changed("kivra_send_payslips", False) and not user_has_company_perm(
        user=user, perm=PERM_KIVRA_SEND, company=company
    ):
        _refuse(
            "kivra_send_payslips",
            _("You may not change 'send payslips via Kivra'."),
            "permission_denied",
        )
    if changed("kivra_allow_print", False):
        if not kivra_print_handling_available(company=employee.company):
            _refuse(
                "kivra_allow_print",
                _("Kivra print handling is not switched on for this company."),
                "print_handling_off",
            )
        if not user_has_company_perm(user=user, perm=PERM_KIVRA_PRINT, company=company):
            _refuse(
                "kivra_allow_print",
                _("You may not change 'allow Kivra print handling'."),
                "permission_denied",
            )


def _termination_task(*, employee: Employee, previous: Employee | None) -> None:
    """An employment ended without a reason: remind HR to enter it in payroll."""
    if employee.employment_end_date is None or employee.termination_reason.strip():
        return
    if previous is not None and previous.employment_end_date == employee.employment_end_date:
        return
    Task.objects.get_or_create(
        company_id=employee.company_id,
        kind=TASK_KIND_TERMINATION_REASON,
        reference=employee.employee_number,
        done_at=None,
        defaults={
            "title": _("Enter the termination reason in payroll for employee %(number)s")
            % {"number": employee.employee_number},
            "description": _(
                "The employment of %(name)s (%(number)s) ends on %(date)s without a "
                "termination reason. Enter the reason manually in the payroll system."
            )
            % {
                "name": f"{employee.first_name} {employee.last_name}",
                "number": employee.employee_number,
                "date": employee.employment_end_date.isoformat(),
            },
            "due_date": employee.employment_end_date,
        },
    )


def _check_user_link(employee: Employee) -> None:
    """A linked user must belong to the employee's company and have no other employee."""
    if employee.user_id is None:
        return
    if (
        not employee.user.is_superuser
        and not Membership.objects.filter(
            user_id=employee.user_id, company_id=employee.company_id
        ).exists()
    ):
        _refuse("user", _("The user does not belong to the employee's company."), "company")
    taken = Employee.objects.filter(user_id=employee.user_id)
    if employee.pk:
        taken = taken.exclude(pk=employee.pk)
    if taken.exists():
        _refuse("user", _("The user is already linked to another employee."), "unique")


def _employee_save(*, employee: Employee, previous: Employee | None, user) -> Employee:
    _normalise(employee)
    _check_field_permissions(employee=employee, previous=previous, user=user)
    _check_user_link(employee)
    _check_unique(
        employee,
        field="employee_number",
        message=_("Another employee of the company already has this number."),
    )
    _check_unique(
        employee,
        field="personal_identity_number",
        message=_("Another employee of the company has this personal identity number."),
    )
    if user is not None:
        employee._history_user = user
    employee.full_clean()
    employee.save()
    _termination_task(employee=employee, previous=previous)
    # Subscribers (the payroll sync when HR is master) write their outbox rows in this
    # transaction and act after commit.
    events.employee_saved.send(sender=Employee, employee=employee, previous=previous)
    if previous is not None and (
        previous.personal_identity_number != employee.personal_identity_number
    ):
        logger.info(
            "Personal identity number of employee %s changed to %s",
            employee.employee_number,
            mask_personal_identity_number(employee.personal_identity_number),
        )
    return employee


@transaction.atomic
def employees_bulk_set(
    *, employees: QuerySet[Employee], values: dict[str, Any], reason: str, user=None
) -> int:
    """Set the same values on many employees at once (a link's "switch for all employees",
    the demo), with each change in the employee's history: who, when and why.

    Only employees whose values differ are written; each gets one history row, so the
    next edit of an employee records only what that edit changed. Returns the count.
    """
    now = timezone.now()
    differs = Q()
    for name, value in values.items():
        differs |= ~Q(**{name: value})
    changed = list(employees.select_for_update().filter(differs).order_by("pk"))
    previous = {employee.pk: copy.copy(employee) for employee in changed}
    for employee in changed:
        for name, value in values.items():
            setattr(employee, name, value)
        employee.updated_at = now
    Employee.objects.bulk_update(changed, [*values, "updated_at"], batch_size=500)
    history = Employee.history.model
    tracked = history.tracked_fields
    history.objects.bulk_create(
        [
            history(
                history_date=now,
                history_user=user,
                history_change_reason=reason[:100],
                history_type="~",
                personal_identity_number_masked=mask_personal_identity_number(
                    employee.personal_identity_number
                ),
                **{field.attname: getattr(employee, field.attname) for field in tracked},
            )
            for employee in changed
        ],
        batch_size=500,
    )
    for employee in changed:
        events.employee_saved.send(
            sender=Employee, employee=employee, previous=previous[employee.pk]
        )
    return len(changed)


@transaction.atomic
def employee_create(*, company: Company, employee_number: str, user=None, **fields) -> Employee:
    """Create an employee. Unset registers come from the template (or the company default
    template); the personnel category falls back to ``STD``."""
    unknown = set(fields) - EMPLOYEE_FIELDS
    if unknown:
        raise TypeError(f"Unknown employee fields: {sorted(unknown)}")
    employee = Employee(company=company, employee_number=employee_number, **fields)
    template = employee.template
    if template is None:
        template = EmploymentTemplate.objects.filter(company=company, is_default=True).first()
        employee.template = template
    if template is not None and template.company_id == company.pk:
        for name in ("personnel_category", "employment_form", "position"):
            if getattr(employee, f"{name}_id") is None and getattr(template, f"{name}_id"):
                setattr(employee, f"{name}_id", getattr(template, f"{name}_id"))
        for name in ("tax_table", "tax_column"):
            if name not in fields and getattr(template, name) is not None:
                setattr(employee, name, getattr(template, name))
        if "pay_form" not in fields and template.pay_form:
            employee.pay_form = template.pay_form
    if employee.personnel_category_id is None:
        employee.personnel_category = PersonnelCategory.objects.get(
            company=company, code=STANDARD_CATEGORY_CODE
        )
    employee = _employee_save(employee=employee, previous=None, user=user)
    logger.info("Employee %s created in company %s", employee.employee_number, company.code)
    return employee


@transaction.atomic
def employee_update(*, employee: Employee, data: dict[str, Any], user=None) -> Employee:
    """Change an employee's fields. The employee number changes only through
    :func:`employee_change_number`."""
    if "employee_number" in data and data["employee_number"] != employee.employee_number:
        _refuse(
            "employee_number",
            _("Change the employee number with the 'change number' command."),
            "use_change_number",
        )
    data = {key: value for key, value in data.items() if key != "employee_number"}
    unknown = set(data) - EMPLOYEE_FIELDS
    if unknown:
        raise TypeError(f"Unknown employee fields: {sorted(unknown)}")
    previous = Employee.objects.select_for_update().get(pk=employee.pk)
    for key, value in data.items():
        setattr(employee, key, value)
    return _employee_save(employee=employee, previous=previous, user=user)


@transaction.atomic
def employee_change_number(*, employee: Employee, new_number: str, user=None) -> Employee:
    """Give an employee a new employee number.

    The number is the key the payroll system matches on. When the payroll system is
    master-linked, it must be changed there first (the seed's rule); the check behind
    :func:`payroll_number_check` refuses otherwise.
    """
    new_number = (new_number or "").strip()
    try:
        validate_employee_number(new_number)
    except ValidationError as exc:
        raise ValidationError({"employee_number": exc.error_list}) from exc
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if new_number == employee.employee_number:
        return employee
    if (
        Employee.objects.filter(company_id=employee.company_id, employee_number=new_number)
        .exclude(pk=employee.pk)
        .exists()
    ):
        _refuse(
            "employee_number",
            _("Another employee of the company already has this number."),
            "duplicate",
        )
    payroll_number_check(employee=employee, new_number=new_number)
    old_number = employee.employee_number
    employee.employee_number = new_number
    if user is not None:
        employee._history_user = user
    employee._change_reason = history_reason("employee_number", old=old_number, new=new_number)
    employee.full_clean()
    employee.save()
    Task.objects.filter(
        company_id=employee.company_id,
        kind=TASK_KIND_TERMINATION_REASON,
        reference=old_number,
        done_at=None,
    ).update(reference=new_number)
    logger.info("Employee number %s changed to %s", old_number, new_number)
    return employee


@transaction.atomic
def employee_end_employment(
    *, employee: Employee, end_date: datetime.date, termination_reason: str = "", user=None
) -> Employee:
    """End an employment; without a reason a reminder task is created for the HR admin."""
    return employee_update(
        employee=employee,
        data={"employment_end_date": end_date, "termination_reason": termination_reason},
        user=user,
    )
