"""Writes of the expense code register (utläggskoder) and its per-dimension rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import AccountingDimension, ExpenseCode, ExpenseCodeDimensionRule


@transaction.atomic
def expense_code_save(
    *, expense_code: ExpenseCode, rules: dict[AccountingDimension, str] | None = None
) -> ExpenseCode:
    """Save the code; ``rules`` (dimension → rule) replaces its rules when given."""
    expense_code.full_clean()
    expense_code.save()
    if rules is not None:
        for dimension in rules:
            if dimension.company_id != expense_code.company_id:
                raise ValidationError(
                    {
                        "rules": _("Dimension %(code)s belongs to another company.")
                        % {"code": dimension.code}
                    }
                )
        expense_code.rules.exclude(dimension__in=list(rules)).delete()
        for dimension, rule in rules.items():
            row = ExpenseCodeDimensionRule(
                expense_code=expense_code, dimension=dimension, rule=rule
            )
            row.full_clean(validate_unique=False)
            ExpenseCodeDimensionRule.objects.update_or_create(
                expense_code=expense_code, dimension=dimension, defaults={"rule": rule}
            )
    return expense_code
