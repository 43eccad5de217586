"""The voucher: a balanced set of postings built from payroll runs (see
``services.voucher_build``), and its two outward forms — an SIE 4 document and the body of a
Visma.Net journal transaction."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from flexbridge.errors import DomainError

from .sie import DIM_COST_CENTER, DIM_EMPLOYEE, DIM_PROJECT, SieTransaction, SieVoucher

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class VoucherError(DomainError):
    """The selection cannot be accounted; ``problems`` name the runs and lines."""

    code = "voucher_refused"

    def __init__(self, problems: list) -> None:
        # A problem is text or a JobMessage (logged by id, read in the reader's language).
        self.problems = problems
        super().__init__(
            " ".join([_("Nothing was exported."), *map(str, problems)]),
            fields={"problems": [str(p) for p in problems]},
        )


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal  # debit positive, credit negative, in öre
    objects: tuple[tuple[int, str], ...] = ()
    quantity: Decimal | None = None

    def object_code(self, dim: int) -> str:
        return next((code for number, code in self.objects if number == dim), "")


@dataclass
class Voucher:
    key: str
    payroll_run_id: int
    date: datetime.date
    text: str
    series: str = ""
    postings: list[Posting] = field(default_factory=list)
    rounding: Decimal = ZERO
    # Öre left by rounding the employer contributions' shares per cost centre and project,
    # booked on the largest share (included in the postings).
    contributions_residual: Decimal = ZERO
    lines: int = 0
    payslips: int = 0

    @property
    def debit_total(self) -> Decimal:
        return sum((p.amount for p in self.postings if p.amount > 0), ZERO)

    @property
    def credit_total(self) -> Decimal:
        return -sum((p.amount for p in self.postings if p.amount < 0), ZERO)

    def to_sie(self) -> SieVoucher:
        return SieVoucher(
            date=self.date,
            text=self.text,
            series=self.series,
            transactions=[
                SieTransaction(
                    account=p.account, amount=p.amount, objects=p.objects, quantity=p.quantity
                )
                for p in self.postings
            ],
        )


def voucher_key(*, company_code: str, payroll_run_id: int, generation: int = 1) -> str:
    """The voucher's own unique key; it travels in Visma's ``description`` as ``[key]``."""
    key = f"FB-{company_code}-R{payroll_run_id}"
    return key if generation == 1 else f"{key}-G{generation}"


_DECIMAL_MARK = "\u0000dec:"


def _wrap_decimals(value):
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{value:f}"
    if isinstance(value, dict):
        return {k: _wrap_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap_decimals(v) for v in value]
    return value


def json_bytes(payload: dict) -> bytes:
    """JSON with ``Decimal`` written as exact numbers (never through float)."""
    text = json.dumps(_wrap_decimals(payload), ensure_ascii=False, separators=(",", ":"))
    marker = json.dumps(_DECIMAL_MARK)[1:-1]
    text = re.sub('"' + re.escape(marker) + r'(-?[0-9.]+)"', r"\1", text)
    return text.encode()


def visma_date_time(day: datetime.date) -> str:
    """The start of ``day`` in the company's time zone, in the spec's ``date-time`` format
    (RFC 3339, with the offset): ``2026-11-25T00:00:00+01:00``."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zone).isoformat()


def visma_payload(
    *,
    voucher: Voucher,
    ledger_number: str,
    financial_period: str,
    cost_center_segment: int | None,
    project_segment: int | None,
) -> dict:
    """The ``POST /v2/journaltransaction`` body: every scalar wrapped as ``{"value": …}``;
    ``financial_period`` is Visma's own period id (YYYYPP) for the voucher's date."""
    lines = []
    for posting in voucher.postings:
        segments = []
        cost_center = posting.object_code(DIM_COST_CENTER)
        project = posting.object_code(DIM_PROJECT)
        if cost_center and cost_center_segment:
            segments.append({"segmentId": cost_center_segment, "segmentValue": cost_center})
        if project and project_segment:
            segments.append({"segmentId": project_segment, "segmentValue": project})
        line: dict = {
            "operation": "Insert",
            "accountNumber": {"value": posting.account},
            "debitAmountInCurrency": {"value": posting.amount if posting.amount > 0 else ZERO},
            "creditAmountInCurrency": {"value": -posting.amount if posting.amount < 0 else ZERO},
            "transactionDescription": {"value": voucher.text[:60]},
            "referenceNumber": {"value": posting.object_code(DIM_EMPLOYEE) or voucher.key},
        }
        if segments:
            line["subaccount"] = segments
        if project and not project_segment:
            line["project"] = {"value": project}
        if posting.quantity is not None:
            line["quantity"] = {"value": posting.quantity}
        lines.append(line)
    return {
        "transactionDate": {"value": visma_date_time(voucher.date)},
        "financialPeriod": {"value": financial_period},
        "ledger": {"value": ledger_number},
        "currencyId": {"value": "SEK"},
        "description": {"value": f"{voucher.text} [{voucher.key}]"},
        "hold": {"value": False},
        "journalTransactionLines": lines,
    }
