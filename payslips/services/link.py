"""The Kivra link: whether a company can send, what print handling applies, its client."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from companies.models import Company
from companies.selectors import user_has_company_perm
from employees.history_reasons import history_reason
from employees.models import Employee
from employees.services import employees_bulk_set
from integrations.clients.config import client_options
from integrations.clients.kivra import KivraClient
from integrations.clients.outbound import OutboundPolicy, private_addresses_allowed

from ..models import KivraLink


def kivra_link_apply_to_employees(*, link: KivraLink, field: str, value: bool, user=None) -> int:
    """After switching "send payslips" / "print handling" on the link, switch the matching
    flag on every employee of the company too (the seed asks the user). Returns the count."""
    flags = {
        "send_payslips": ("kivra_send_payslips", "companies.change_employee_kivra_send"),
        "print_handling": ("kivra_allow_print", "companies.change_employee_kivra_print"),
    }
    employee_field, perm = flags[field]
    if user is not None and not user_has_company_perm(user=user, perm=perm, company=link.company):
        raise PermissionDenied(_("You may not change this flag on employees."))
    return employees_bulk_set(
        employees=Employee.objects.filter(company=link.company_id),
        values={employee_field: value},
        user=user,
        reason=history_reason("kivra_flag_all", field=f"{KivraLink._meta.label}.{field}"),
    )


def kivra_link_problems(*, company: Company) -> list[str]:
    """Why the company cannot send payslips to Kivra now (empty: it can)."""
    problems = []
    license = getattr(company, "license", None)
    if license is None or not license.kivra_payslips:
        problems.append(_("The company's license does not include Kivra payslips."))
    link = KivraLink.objects.filter(company=company).first()
    if link is None:
        problems.append(_("The company has no Kivra link."))
    else:
        if not link.active:
            problems.append(_("The Kivra link is not active."))
        if not link.send_payslips:
            problems.append(_("'Send payslips' is off in the Kivra link."))
    return problems


def kivra_print_handling_text(*, company: Company) -> str:
    """What happens to a payslip Kivra cannot deliver, for the dispatch page."""
    link = KivraLink.objects.filter(company=company).first()
    if link is None:
        return ""
    if link.print_handling:
        return _(
            "Kivra's print add-on is on: Kivra posts the payslips of employees without a Kivra "
            "mailbox who allow print handling. No local print batch."
        )
    return _(
        "No Kivra print add-on: a payslip Kivra can neither deliver nor keep goes into a print "
        "batch (a PDF on the job) for you to post."
    )


def kivra_client_for(*, link: KivraLink) -> KivraClient:
    return KivraClient(
        link.url,
        tenant_key=link.tenant_key,
        client_id=link.client_id,
        client_secret=link.client_secret,
        **client_options("kivra"),
        max_connections=max(16, settings.KIVRA_DISPATCH_CONCURRENCY * 2),
        resend_safe=link.relies_on_duplicate_control,
        outbound=OutboundPolicy(allow_private=private_addresses_allowed(link=link)),
    )
