"""Per-company defaults of the project register, created for every new company."""

from __future__ import annotations

from django.utils.translation import gettext as _

from companies.services import register_company_defaults

from .models import AccountingDimension, ProjectRegisterSettings
from .models.accounting import SIE_COST_CENTER, SIE_PROJECT


@register_company_defaults
def project_register_setup_defaults(*, company) -> None:
    """The two dimensions every company has (cost centre, project) and the settings row."""
    AccountingDimension.objects.get_or_create(
        company=company,
        sie_number=SIE_COST_CENTER,
        defaults={"code": "kst", "name": _("Cost centre")},
    )
    AccountingDimension.objects.get_or_create(
        company=company,
        sie_number=SIE_PROJECT,
        defaults={"code": "projekt", "name": _("Project"), "lay_out_from_project_time": True},
    )
    ProjectRegisterSettings.objects.get_or_create(company=company)
