"""Writes and business operations of the ledger, by concern: ``voucher`` (build the voucher
of payroll runs), ``sie`` (export it as SIE 4) and ``visma`` (transfer it to Visma.Net
through the :class:`LedgerTransfer` outbox). Public names are importable from here."""

from __future__ import annotations

from .sie import sie_document_build, sie_export_build, sie_export_run, sie_unnamed_objects
from .visma import (
    TransferRefused,
    ledger_transfer_mark_reversed,
    ledger_transfer_prepare,
    ledger_transfer_resend,
    ledger_transfer_send,
    visma_client_for,
    visma_transfer_run,
)
from .voucher import (
    MAX_ROUNDING,
    _voucher_assemble,
    _voucher_fold_lines,
    _voucher_home_accounting,
    _voucher_load,
    _voucher_name_rounding_problems,
    _voucher_post_settlements,
    _voucher_prove_rounding,
    voucher_build,
)

__all__ = [
    "MAX_ROUNDING",
    "TransferRefused",
    "_voucher_assemble",
    "_voucher_fold_lines",
    "_voucher_home_accounting",
    "_voucher_load",
    "_voucher_name_rounding_problems",
    "_voucher_post_settlements",
    "_voucher_prove_rounding",
    "ledger_transfer_mark_reversed",
    "ledger_transfer_prepare",
    "ledger_transfer_resend",
    "ledger_transfer_send",
    "sie_document_build",
    "sie_export_build",
    "sie_export_run",
    "sie_unnamed_objects",
    "visma_client_for",
    "visma_transfer_run",
    "voucher_build",
]
