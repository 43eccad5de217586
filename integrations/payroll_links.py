"""Writes of the payroll program link (who may, and the warning before accountings)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm

from .models import PayrollLink

PERMISSION = "companies.manage_integration_links"
EDITABLE = frozenset(
    {
        "variant",
        "base_url",
        "is_sandbox",
        "api_token",
        "transfer_employment_data",
        "selection",
        "send_home_accounting",
        "integration_username",
    }
)


def accounting_warning() -> str:
    """The warning shown before home accountings are switched on."""
    return _(
        "Sending home accountings overwrites the accounting distributions in the payroll system "
        "(a split such as 25 %% / 75 %% becomes one 100 %% row), and payroll has no dating: the "
        "value in force is sent every night. Confirm that you have read this."
    ).replace("%%", "%")


ACCOUNTING_WARNING = lazy(accounting_warning, str)()


def _check(user, company) -> None:
    if user is not None and not user_has_company_perm(user=user, perm=PERMISSION, company=company):
        raise PermissionDenied(_("You may not manage program links in this company."))


@transaction.atomic
def payroll_link_create(*, company: Company, user=None, **fields: Any) -> PayrollLink:
    _check(user, company)
    link = PayrollLink(company=company)
    return payroll_link_update(link=link, user=user, data=fields)


@transaction.atomic
def payroll_link_update(
    *,
    link: PayrollLink,
    user=None,
    data: dict[str, Any],
    accounting_warning_acknowledged: bool = False,
) -> PayrollLink:
    """Change the link. Switching accountings on needs the warning acknowledged. The master
    is changed only by the switchover."""
    _check(user, link.company_id)
    unknown = set(data) - EDITABLE
    if unknown:
        raise ValidationError(
            {name: _("This field is set by the switchover or does not exist.") for name in unknown}
        )
    turning_on = data.get("send_home_accounting") and not link.send_home_accounting
    if turning_on and not accounting_warning_acknowledged:
        raise ValidationError({"send_home_accounting": ACCOUNTING_WARNING}, code="acknowledge")
    for name, value in data.items():
        setattr(link, name, value)
    if turning_on:
        link.accounting_warning_acknowledged_at = timezone.now()
        link.accounting_warning_acknowledged_by = user
    if user is not None:
        link._history_user = user
    link.full_clean()
    link.save()
    return link
