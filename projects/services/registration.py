"""Validation and creation of time registrations against the project register.

The validation answers in findings: a warning is reported and the registration is saved,
an error stops it. Each finding names the project and the rule, in words a user
understands. Accounting rules are resolved in this priority: the project's rule for the
dimension, then the code's rule (the time code's, or the expense code's for travel), then
the dimension's general rule.

Travel and pay registrations are not stored here yet; :func:`registration_accounting_validate`
lays out and checks their accounting (the dimension's "lay out accounting from project" for
that kind, the expense code's rules) with the same project checks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    AccountingDimension,
    AccountingDimensionValue,
    ExpenseCode,
    Project,
    ReviewStatus,
    TimeCode,
    TimeRegistration,
)
from ..models.project import PATH_STEP
from ..selectors import user_reviews_project
from .registration_accounting import _check_rules, _check_values, _given_values, _project_accounting
from .registration_checks import (
    _apply_billing,
    _check_authorization,
    _check_controls,
    _check_participants,
    _check_project,
    _deviating_time_code,
)
from .registration_draft import (
    ERROR,
    KIND_PAY,
    KIND_TRAVEL,
    WARNING,
    Draft,
    Finding,
    TimeRegistrationRejected,
)


def time_registration_validate(
    *,
    employee,
    date: dt.date,
    time_code: TimeCode,
    hours: Decimal,
    project: Project | None = None,
    cost_center: AccountingDimensionValue | None = None,
    dimension_values: list[AccountingDimensionValue] | tuple = (),
    internal_comment: str = "",
    external_comment: str = "",
    billable: bool | None = None,
    reviewed: bool = False,
    user=None,
) -> Draft:
    """Lay out the defaults and check every rule; the draft carries the findings.

    ``user`` is the person registering (``None``: the system, e.g. an import); it is
    checked against accounting-based authorization."""
    company_id = employee.company_id
    dimensions = list(AccountingDimension.objects.filter(company_id=company_id))
    values: dict[int, AccountingDimensionValue | None] = {}
    draft = Draft(
        company_id,
        employee,
        date,
        time_code,
        Decimal(hours),
        project,
        values,
        internal_comment,
        external_comment,
        reviewed=reviewed,
        user=user,
    )
    explicit = _given_values(draft, cost_center, dimension_values)
    if time_code.company_id != company_id:
        draft.add(
            ERROR,
            "company",
            _("Time code %(code)s belongs to another company.") % {"code": time_code.code},
        )
    if not draft.hours:
        draft.add(ERROR, "hours", _("Give a number of hours other than zero."))

    project_dimension = next((d for d in dimensions if d.is_project), None)
    defaults, laid_out = _project_accounting(draft, dimensions, explicit)
    if draft.project is not None:
        _check_project(draft)
        _deviating_time_code(draft, project_dimension)
        _check_participants(draft, project_dimension)
        _check_authorization(draft)
        _apply_billing(draft, billable)
    elif billable:
        draft.add(ERROR, "billing", _("Only time on a project can be billed."))
    _check_values(draft, dimensions)
    _check_rules(draft, dimensions, defaults, laid_out)
    if draft.project is not None and not any(f.level == ERROR for f in draft.findings):
        _check_controls(draft)
    return draft


def registration_accounting_validate(
    *,
    employee,
    date: dt.date,
    kind: str = KIND_TRAVEL,
    expense_code: ExpenseCode | None = None,
    project: Project | None = None,
    cost_center: AccountingDimensionValue | None = None,
    dimension_values: list[AccountingDimensionValue] | tuple = (),
    user=None,
) -> Draft:
    """The accounting of a travel (expense) or pay registration: lay out the project's
    accounting where the dimension does so for ``kind`` and the home accounting, then check
    the project (registrable, status, dates, participants, authorization), the values and
    the rules — the project's, then the expense code's, then the dimension's general rule.
    Travel and pay registrations themselves are not stored yet."""
    if kind not in (KIND_TRAVEL, KIND_PAY):
        raise ValueError(f"kind must be {KIND_TRAVEL!r} or {KIND_PAY!r}, not {kind!r}")
    company_id = employee.company_id
    dimensions = list(AccountingDimension.objects.filter(company_id=company_id))
    draft = Draft(company_id, employee, date, None, Decimal(0), project, {}, kind=kind, user=user)
    explicit = _given_values(draft, cost_center, dimension_values)
    if expense_code is not None and expense_code.company_id != company_id:
        draft.add(
            ERROR,
            "company",
            _("Expense code %(code)s belongs to another company.") % {"code": expense_code.code},
        )
    project_dimension = next((d for d in dimensions if d.is_project), None)
    defaults, laid_out = _project_accounting(draft, dimensions, explicit)
    if draft.project is not None:
        _check_project(draft)
        _check_participants(draft, project_dimension)
        _check_authorization(draft)
    _check_values(draft, dimensions)
    _check_rules(draft, dimensions, defaults, laid_out, code=expense_code)
    return draft


@transaction.atomic
def time_registration_create(**kwargs) -> tuple[TimeRegistration, list[Finding]]:
    """Validate and save a registration; returns it with its warnings, or raises
    :class:`TimeRegistrationRejected` with the errors. Keyword arguments as
    :func:`time_registration_validate`.

    The main project of the branch is locked while the controls are checked and the row
    is written, so two registrations cannot both slip under a registration stop.
    """
    project = kwargs.get("project")
    if project is not None and project.path:
        root_path = project.path[:PATH_STEP]
        Project.objects.select_for_update().filter(
            company_id=project.company_id, path=root_path
        ).first()
    draft = time_registration_validate(**kwargs)
    user = kwargs.get("user")
    if (
        draft.reviewed
        and user is not None
        and draft.project is not None
        and not user_reviews_project(user=user, project=draft.project)
    ):
        draft.add(
            ERROR,
            "review",
            _("Only a reviewer of project %(code)s may approve time on it.")
            % {"code": draft.project.code},
        )
    errors = [f for f in draft.findings if f.level == ERROR]
    if errors:
        raise TimeRegistrationRejected(errors)
    registration = TimeRegistration.objects.create(
        company_id=draft.company_id,
        employee=draft.employee,
        date=draft.date,
        time_code=draft.time_code,
        hours=draft.hours,
        project=draft.project,
        cost_center=next(
            (v for v in draft.values.values() if v is not None and v.dimension.is_cost_center),
            None,
        ),
        internal_comment=draft.internal_comment,
        external_comment=draft.external_comment,
        billable=draft.billable,
        reviewed=draft.reviewed,
        review_status=ReviewStatus.APPROVED if draft.reviewed else ReviewStatus.PENDING,
        reviewed_by=user if draft.reviewed else None,
        reviewed_at=timezone.now() if draft.reviewed else None,
        billing_price=draft.billing_price,
    )
    others = [v for v in draft.values.values() if v is not None and not v.dimension.is_cost_center]
    if others:
        registration.dimension_values.set(others)
    return registration, [f for f in draft.findings if f.level == WARNING]
