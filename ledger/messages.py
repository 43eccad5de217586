"""The ledger's stored job messages (Visma.Net transfer, SIE export, the voucher builder's
problems): ids with parameters, rendered in the reader's language (``jobs.messages``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jobs.messages import register_job_messages


def _amount(value) -> str:
    """An amount (stored as text, "1193701.40") in the reader's number format."""
    try:
        return formats.number_format(Decimal(str(value)), 2, use_l10n=True, force_grouping=True)
    except (InvalidOperation, ValueError):
        return str(value)


class _Amounts:
    """A message whose parameters ``keys`` are amounts, formatted when read."""

    def __init__(self, template, *keys: str) -> None:
        self.template, self.keys = template, keys

    def __mod__(self, params: Mapping) -> str:
        shown = {k: _amount(v) if k in self.keys else v for k, v in params.items()}
        return str(self.template) % shown


class _RoundingTooLarge:
    """A payslip that leaves more than öre rounding, with its paid-out lines (or "none")."""

    def __mod__(self, params: Mapping) -> str:
        lines = ", ".join(params.get("lines") or []) or str(_("none"))
        amounts = {k: _amount(params[k]) for k in ("tax", "net_pay", "residual", "max")}
        return str(
            _(
                "Payroll run %(run)s, employee %(employee)s: the paid-out lines (%(lines)s) "
                "less tax %(tax)s and net pay %(net_pay)s leave %(residual)s SEK — more than "
                "öre rounding (max %(max)s SEK)."
            )
        ) % {**params, **amounts, "lines": lines}


register_job_messages(
    {
        "ledger.visma.preliminary": _(
            "Payroll run %(run)s (%(date)s) is preliminary; only final runs are transferred."
        ),
        "ledger.visma.already_transferred": _(
            "Already transferred as batch %(batch)s (%(key)s); refused. An admin can mark it "
            "reversed and re-send."
        ),
        "ledger.visma.resend": _("Re-send after reversal (%(key)s) by %(user)s: %(reason)s"),
        "ledger.visma.resend_by_system": _(
            "Re-send after reversal (%(key)s) by the system: %(reason)s"
        ),
        "ledger.visma.transferred": _Amounts(
            _(
                "Transferred %(key)s as batch %(batch)s (debit = credit = %(debit)s SEK, period "
                "%(period)s)."
            ),
            "debit",
        ),
        "ledger.visma.found": _(
            "Found in Visma.Net as batch %(batch)s (%(key)s) after an unconfirmed attempt; not "
            "sent again."
        ),
        "ledger.visma.not_released": _(
            "Batch %(batch)s was posted but not released: %(error)s. Release it in Visma.Net."
        ),
        "ledger.visma.released": _("Released batch %(batch)s in Visma.Net."),
        "ledger.visma.not_confirmed": _(
            "Not confirmed: %(error)s; looking the voucher up before sending again."
        ),
        "ledger.sie.unnamed_object": _(
            "Object %(code)s of dimension %(dim)s is used in the file but has no name in the "
            "registers: it is written with an empty name."
        ),
        "ledger.sie.voucher": _Amounts(
            _(
                "Voucher %(key)s: %(postings)s postings, debit = credit = %(debit)s SEK, "
                "rounding %(rounding)s SEK."
            ),
            "debit",
            "rounding",
        ),
        "ledger.visma.reversed_before": _(
            "Payroll run %(run)s was transferred before (batch %(batch)s, reversed). "
            "Use 're-send after reversal'."
        ),
        "ledger.visma.no_licence": _("The company has no licence for Visma.Net direct transfer."),
        "ledger.visma.no_link": _("The company has no active Visma.Net link."),
        # the voucher builder's problems (ledger.services.voucher)
        "ledger.voucher.no_selection": _("Choose a payroll run or a payment date."),
        "ledger.voucher.no_run": _("No payroll run matches the selection."),
        "ledger.voucher.no_payslips": _("Payroll run %(run)s (%(date)s) has no payslips."),
        "ledger.voucher.line_too_large": _Amounts(
            _(
                "Payroll run %(run)s, employee %(employee)s, line %(line)s (%(type)s "
                "%(amount)s SEK): the amount times the payslip's employer contribution "
                "rate is too large to apportion; check the line and the payslip's totals."
            ),
            "amount",
        ),
        "ledger.voucher.lines_too_large": _(
            "The payslip lines are too large to apportion the employer contributions."
        ),
        "ledger.voucher.unmapped": ngettext_lazy(
            "Payroll run %(run)s: salary type “%(code)s” has no accounting (%(count)s line).",
            "Payroll run %(run)s: salary type “%(code)s” has no accounting (%(count)s lines).",
            "count",
        ),
        "ledger.voucher.no_counter": ngettext_lazy(
            "Payroll run %(run)s: benefit salary type “%(code)s” has no credit account and "
            "the ledger settings name no counter account for benefits (%(count)s line).",
            "Payroll run %(run)s: benefit salary type “%(code)s” has no credit account and "
            "the ledger settings name no counter account for benefits (%(count)s lines).",
            "count",
        ),
        "ledger.voucher.rounding_too_large": _RoundingTooLarge(),
        "ledger.voucher.postings_mismatch": _Amounts(
            _(
                "Payroll run %(run)s: the postings sum to %(total)s but the payslips "
                "leave %(residual)s; the voucher was not built."
            ),
            "total",
            "residual",
        ),
        "ledger.voucher.unbalanced": _("Payroll run %(run)s: the voucher does not balance."),
    }
)
