"""A registration's accounting: the values the user gave, the project's accounting and
the home accounting laid out, and the accounting rules resolved (the project's rule for
the dimension, then the code's, then the dimension's general rule) and checked."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import (
    AccountingDimension,
    AccountingRule,
    ExpenseCode,
    ExpenseCodeDimensionRule,
    ProjectAccountingDefault,
    TimeCodeDimensionRule,
)
from ..selectors import home_accounting_on, project_chain
from .registration_draft import ERROR, Draft


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
