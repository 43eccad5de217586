"""The ledger's stored job messages (Visma.Net transfer, SIE export): ids with parameters,
rendered in the reader's language (``jobs.messages``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jobs.messages import register_job_messages

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
        "ledger.visma.transferred": _(
            "Transferred %(key)s as batch %(batch)s (debit = credit = %(debit)s SEK, period "
            "%(period)s)."
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
        "ledger.sie.voucher": _(
            "Voucher %(key)s: %(postings)s postings, debit = credit = %(debit)s SEK, rounding "
            "%(rounding)s SEK."
        ),
    }
)
