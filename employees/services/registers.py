"""The employee register's registers: personnel categories, employment forms,
positions and employment templates, and the per-company defaults."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Company
from companies.services import register_company_defaults

from ..models import (
    STANDARD_CATEGORY_CODE,
    EmploymentForm,
    EmploymentTemplate,
    PersonnelCategory,
    Position,
)
from .checks import _check_unique

STANDARD_TEMPLATE_CODE = "STD"


@register_company_defaults
def employee_registers_setup(*, company: Company) -> None:
    """Every company has the ``STD`` personnel category and one default template."""
    category, _created = PersonnelCategory.objects.get_or_create(
        company=company,
        code=STANDARD_CATEGORY_CODE,
        defaults={"name": _("Standard")},
    )
    if not EmploymentTemplate.objects.filter(company=company, is_default=True).exists():
        EmploymentTemplate.objects.get_or_create(
            company=company,
            code=STANDARD_TEMPLATE_CODE,
            defaults={
                "name": _("Standard template"),
                "is_default": True,
                "personnel_category": category,
            },
        )


# --- registers ------------------------------------------------------------------------------


def _register_save(obj, *, user) -> Any:
    obj.code = (obj.code or "").strip()
    _check_unique(obj, field="code", message=_("The company already has a row with this code."))
    if user is not None:
        obj._history_user = user
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def register_save(*, obj: PersonnelCategory | EmploymentForm | Position, user=None) -> Any:
    """Create or change a personnel category, employment form or position."""
    return _register_save(obj, user=user)


@transaction.atomic
def employment_template_save(*, template: EmploymentTemplate, user=None) -> EmploymentTemplate:
    """Save a template; making it the default takes the flag from the previous default."""
    if template.is_default:
        EmploymentTemplate.objects.select_for_update().filter(
            company_id=template.company_id, is_default=True
        ).exclude(pk=template.pk).update(is_default=False)
    elif (
        template.pk
        and not EmploymentTemplate.objects.filter(company_id=template.company_id, is_default=True)
        .exclude(pk=template.pk)
        .exists()
    ):
        raise ValidationError(
            {"is_default": _("One template must stay the default: make another one default.")},
            code="default_required",
        )
    return _register_save(template, user=user)


@transaction.atomic
def employment_template_set_default(*, template: EmploymentTemplate, user=None) -> None:
    template.is_default = True
    employment_template_save(template=template, user=user)


@transaction.atomic
def employment_template_delete(*, template: EmploymentTemplate) -> None:
    if template.is_default:
        raise ValidationError(
            {"is_default": _("The default template cannot be deleted.")}, code="default_delete"
        )
    template.delete()
