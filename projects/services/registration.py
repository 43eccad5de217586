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
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from flexbridge.errors import DomainError

from ..models import (
    AccountingDimension,
    AccountingDimensionValue,
    AccountingRule,
    ExpenseCode,
    ExpenseCodeDimensionRule,
    Project,
    ProjectAccountingDefault,
    ProjectControl,
    ReviewStatus,
    TimeCode,
    TimeCodeDimensionRule,
    TimeRegistration,
)
from ..models.project import PATH_STEP
from ..selectors import (
    home_accounting_on,
    project_billing_price,
    project_chain,
    project_effective_participants,
    project_user_may_register,
    user_reviews_project,
)

WARNING = "warning"
ERROR = "error"
HUNDRED = Decimal(100)
KIND_TIME = "time"
KIND_TRAVEL = "travel"
KIND_PAY = "pay"
KINDS = (KIND_TIME, KIND_TRAVEL, KIND_PAY)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Finding:
    """One outcome of a rule: ``level`` is "warning" (saved) or "error" (not saved)."""

    level: str
    rule: str
    message: str
    project: str | None = None

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "rule": self.rule,
            "project": self.project,
            "message": self.message,
        }


class TimeRegistrationRejected(DomainError):
    """The registration broke a rule that stops it; ``errors`` says which."""

    code = "registration_rejected"

    def __init__(self, errors: list[Finding]):
        self.errors = errors
        super().__init__("; ".join(f.message for f in errors))

    @property
    def message(self) -> str:
        return " ".join(f.message for f in self.errors)

    @property
    def fields(self) -> dict:
        return {
            "rules": [f.as_dict() for f in self.errors],
            "project": self.errors[0].project if self.errors else None,
        }


@dataclass
class Draft:
    """A registration being validated, with the defaults already laid out."""

    company_id: int
    employee: object
    date: dt.date
    time_code: TimeCode | None
    hours: Decimal
    project: Project | None
    values: dict[int, AccountingDimensionValue | None]
    internal_comment: str = ""
    external_comment: str = ""
    billable: bool = False
    reviewed: bool = False
    billing_price: Decimal | None = None
    chain: list[Project] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    kind: str = KIND_TIME
    user: object = None

    def add(self, level: str, rule: str, message: str) -> None:
        code = self.project.code if self.project else None
        self.findings.append(Finding(level, rule, message, code))


def _code_label(code) -> str:
    if isinstance(code, ExpenseCode):
        return _("the rule of expense code %(code)s") % {"code": code.code}
    return _("the rule of time code %(code)s") % {"code": code.code}


def _rule_label(source: str, code) -> str:
    if source == "project":
        return _("the project's rule")
    if source == "code":
        return _code_label(code)
    return _("the dimension's general rule")


def accounting_rule_resolve(
    *,
    dimension: AccountingDimension,
    project_rule: str | None,
    code_rule: str | None,
) -> tuple[str, str]:
    """(rule, where it came from): project first, then the code, then the dimension."""
    if project_rule and project_rule != AccountingRule.INHERIT:
        return project_rule, "project"
    if code_rule and code_rule != AccountingRule.INHERIT:
        return code_rule, "code"
    return dimension.rule, "dimension"


def _lays_out(dimension: AccountingDimension, kind: str) -> bool:
    """The dimension's "lay out accounting from project" for this kind of registration."""
    return getattr(dimension, f"lay_out_from_project_{kind}")


def _lay_out(draft: Draft, dimensions, defaults, explicit: set[int]) -> dict[int, object]:
    """Fill the values a user left empty: the project's accounting (where the dimension
    lays it out for the registration's kind), then the employee's home accounting.
    Returns the laid-out values."""
    laid_out: dict[int, object] = {}
    for dimension in dimensions:
        default = defaults.get(dimension.pk)
        if default is None or not _lays_out(dimension, draft.kind):
            continue
        value = None if default.leave_blank else default.value
        laid_out[dimension.pk] = value
        if dimension.pk not in explicit:
            draft.values[dimension.pk] = value
    home = home_accounting_on(employee=draft.employee, day=draft.date)
    if home is not None:
        for dimension in dimensions:
            if (
                dimension.is_cost_center
                and dimension.pk not in explicit
                and (dimension.pk not in laid_out)
            ):
                draft.values[dimension.pk] = home.cost_center
        if draft.project is None and home.project is not None:
            draft.project = home.project
    return laid_out


def _check_project(draft: Draft) -> None:
    project = draft.project
    if project.company_id != draft.company_id:
        draft.add(
            ERROR,
            "company",
            _("Project %(code)s belongs to another company.") % {"code": project.code},
        )
        return
    if not project.registrable:
        draft.add(
            ERROR,
            "registrable",
            _(
                "Project %(code)s is a main or sub project; register on one of its registrable "
                "projects."
            )
            % {"code": project.code},
        )
    closed = next((p for p in reversed(draft.chain) if p.status != Project.Status.ONGOING), None)
    if closed is not None:
        draft.add(
            ERROR,
            "status",
            _("Project %(code)s is %(status)s and takes no registrations.")
            % {"code": closed.code, "status": closed.get_status_display().lower()},
        )
    if (project.start_date and draft.date < project.start_date) or (
        project.end_date and draft.date > project.end_date
    ):
        draft.add(
            ERROR,
            "project_dates",
            _("Project %(code)s runs %(start)s – %(end)s; %(date)s is outside it.")
            % {
                "code": project.code,
                "start": project.start_date or "…",
                "end": project.end_date or "…",
                "date": draft.date,
            },
        )
    if (
        draft.kind == KIND_TIME
        and project.internal_comment_required
        and not draft.internal_comment.strip()
    ):
        draft.add(
            ERROR,
            "internal_comment_required",
            _("Project %(code)s requires an internal comment when reporting.")
            % {"code": project.code},
        )


def _check_participants(draft: Draft, project_dimension) -> None:
    if project_dimension is None or not project_dimension.only_participants_may_register:
        return
    participants = project_effective_participants(project=draft.project, chain=draft.chain)
    if not participants.includes(draft.employee):
        draft.add(
            ERROR,
            "participants",
            _(
                "Only participants may register on project %(code)s (the project dimension's "
                'rule "only participants may register"), and %(employee)s is not one.'
            )
            % {"code": draft.project.code, "employee": draft.employee},
        )


def _check_authorization(draft: Draft) -> None:
    """Where the project dimension is used for authorization, the acting user must reach
    the project through a role that may register time (on it or an ancestor)."""
    if draft.user is None or project_user_may_register(user=draft.user, project=draft.project):
        return
    draft.add(
        ERROR,
        "authorization",
        _(
            "You are not authorized to register on project %(code)s: the project dimension is "
            "used for authorization and none of your roles reaches the project."
        )
        % {"code": draft.project.code},
    )


def _code_rules(code) -> dict[int, str]:
    if code is None:
        return {}
    if isinstance(code, ExpenseCode):
        rows = ExpenseCodeDimensionRule.objects.filter(expense_code=code)
    else:
        rows = TimeCodeDimensionRule.objects.filter(time_code=code)
    return dict(rows.values_list("dimension_id", "rule"))


def _check_rules(draft: Draft, dimensions, defaults, laid_out, code=None) -> None:
    code = code if code is not None else draft.time_code
    code_rules = _code_rules(code)
    for dimension in dimensions:
        default = defaults.get(dimension.pk)
        rule, source = accounting_rule_resolve(
            dimension=dimension,
            project_rule=default.rule if default else None,
            code_rule=code_rules.get(dimension.pk),
        )
        value = draft.project if dimension.is_project else draft.values.get(dimension.pk)
        where = _rule_label(source, code)
        if rule == AccountingRule.MUST and value is None:
            draft.add(
                ERROR,
                "accounting_rule",
                _("%(dimension)s must be given (%(where)s).")
                % {"dimension": dimension.name, "where": where},
            )
        elif rule == AccountingRule.LOCKED:
            expected = None if dimension.is_project else laid_out.get(dimension.pk)
            if value != expected:
                draft.add(
                    ERROR,
                    "accounting_rule",
                    _("%(dimension)s is locked (%(where)s) and must be %(expected)s.")
                    % {
                        "dimension": dimension.name,
                        "where": where,
                        "expected": expected if expected is not None else _("blank"),
                    },
                )


def _check_values(draft: Draft, dimensions) -> None:
    by_id = {d.pk: d for d in dimensions}
    for dimension_id, value in draft.values.items():
        if value is None:
            continue
        if value.company_id != draft.company_id or dimension_id not in by_id:
            draft.add(
                ERROR,
                "value_company",
                _("%(value)s belongs to another company.") % {"value": value},
            )
        elif not value.is_valid_on(draft.date):
            draft.add(
                ERROR,
                "value_validity",
                _("%(dimension)s %(value)s is not valid on %(date)s.")
                % {"dimension": by_id[dimension_id].name, "value": value, "date": draft.date},
            )


def _apply_billing(draft: Draft, billable: bool | None) -> None:
    mode = draft.project.billing
    forced = {Project.Billing.ALWAYS: True, Project.Billing.NEVER: False}.get(mode)
    if forced is not None:
        if billable is not None and billable != forced:
            draft.add(
                ERROR,
                "billing",
                _("Time on project %(code)s is %(mode)s billed and cannot be changed.")
                % {"code": draft.project.code, "mode": _("always") if forced else _("never")},
            )
        draft.billable = forced
    else:
        draft.billable = billable if billable is not None else mode == Project.Billing.MAY_YES
    if draft.billable:
        draft.billing_price = project_billing_price(
            project=draft.project,
            values=[v for v in draft.values.values() if v is not None],
            chain=draft.chain,
        )


def _check_controls(draft: Draft) -> None:
    """Budget controls of the project and its ancestors; a parent's control compares the
    sum over all its children."""
    controls = list(
        ProjectControl.objects.filter(project__in=draft.chain).select_related("project")
    )
    if not controls:
        return
    root = draft.chain[0]
    nodes = {c.project.path: c.project for c in controls}
    registrations = TimeRegistration.objects.filter(
        company_id=draft.company_id, project__path__startswith=root.path
    )
    amount = ExpressionWrapper(F("hours") * F("billing_price"), output_field=DecimalField())
    billable = Q(billable=True, reviewed=True)
    sums = registrations.aggregate(
        **{
            f"h{i}": Sum("hours", filter=Q(project__path__startswith=path))
            for i, path in enumerate(nodes)
        },
        **{
            f"a{i}": Sum(amount, filter=billable & Q(project__path__startswith=path))
            for i, path in enumerate(nodes)
        },
    )
    budgets = Project.objects.filter(
        company_id=draft.company_id, path__startswith=root.path
    ).aggregate(
        **{
            f"b{i}": Sum("budget_hours", filter=Q(path__startswith=path))
            for i, path in enumerate(nodes)
        }
    )
    index = {path: i for i, path in enumerate(nodes)}
    new_amount = (
        draft.hours * draft.billing_price
        if draft.billable and draft.reviewed and draft.billing_price is not None
        else Decimal(0)
    )
    for control in sorted(controls, key=lambda c: c.project.level):
        i = index[control.project.path]
        level = ERROR if control.action == ProjectControl.Action.STOP else WARNING
        if control.kind == ProjectControl.Kind.TIME:
            budget = budgets[f"b{i}"]
            if not budget:
                continue
            worked = Decimal(str(sums[f"h{i}"] or 0)) + draft.hours
            percent = worked * HUNDRED / Decimal(str(budget))
            if percent >= control.threshold_percent:
                draft.add(
                    level,
                    "time_control",
                    _(
                        "Project %(code)s: %(worked)s of %(budget)s budgeted hours reported "
                        "(%(percent)s %%), at or over the limit of %(limit)s %%."
                    )
                    % {
                        "code": control.project.code,
                        "worked": worked.quantize(CENT),
                        "budget": Decimal(str(budget)).quantize(Decimal("0.01")),
                        "percent": percent.quantize(Decimal("1")),
                        "limit": format(control.threshold_percent.normalize(), "f"),
                    },
                )
        else:
            total = Decimal(str(sums[f"a{i}"] or 0)) + new_amount
            if total >= control.threshold_amount:
                draft.add(
                    level,
                    "billable_control",
                    _(
                        "Project %(code)s: reviewed billable time is worth %(amount)s SEK, at or "
                        "over the limit of %(limit)s SEK."
                    )
                    % {
                        "code": control.project.code,
                        "amount": total.quantize(Decimal("0.01")),
                        "limit": control.threshold_amount,
                    },
                )


def _deviating_time_code(draft: Draft, project_dimension) -> None:
    if project_dimension is None or not project_dimension.use_deviating_time_codes:
        return
    code = next((p.time_code for p in reversed(draft.chain) if p.time_code_id), None)
    if code is None or code.pk == draft.time_code.pk:
        return
    if draft.time_code.replaceable_by_accounting:
        draft.add(
            WARNING,
            "deviating_time_code",
            _("Time code %(old)s was replaced by %(new)s from project %(code)s.")
            % {"old": draft.time_code.code, "new": code.code, "code": draft.project.code},
        )
        draft.time_code = code


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


def _given_values(draft: Draft, cost_center, dimension_values) -> set[int]:
    """Put the values the user gave on the draft; returns their dimensions."""
    values = draft.values
    explicit: set[int] = set()
    for value in [cost_center, *dimension_values]:
        if value is None:
            continue
        if value.dimension_id in values and values[value.dimension_id] != value:
            draft.add(
                ERROR,
                "one_value_per_dimension",
                _("Give one value per dimension (%(dimension)s twice).")
                % {"dimension": value.dimension.name},
            )
        values[value.dimension_id] = value
        explicit.add(value.dimension_id)
    if cost_center is not None and not cost_center.dimension.is_cost_center:
        draft.add(
            ERROR, "cost_center", _("%(value)s is not a cost centre.") % {"value": cost_center}
        )
    return explicit


def _project_accounting(draft: Draft, dimensions, explicit: set[int]):
    """Lay out the home accounting (which may give the project) and the project's
    accounting; returns (the project's accounting defaults, the laid-out values)."""
    defaults: dict = {}
    if draft.project is None:
        _lay_out(draft, dimensions, {}, explicit)
    if draft.project is not None:
        draft.chain = project_chain(project=draft.project)
        defaults = {
            d.dimension_id: d
            for d in ProjectAccountingDefault.objects.filter(project=draft.project)
        }
    laid_out = _lay_out(draft, dimensions, defaults, explicit) if draft.project else {}
    return defaults, laid_out


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
