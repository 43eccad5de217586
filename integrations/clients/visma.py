"""Client of Visma.Net Financials (ERP API) for posting payroll vouchers.

* Token from Visma Connect: ``POST /connect/token`` with ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``, ``scope`` and the **company** ``tenant_id``; cached
  until shortly before it expires and refreshed once on a 401.
* ``GET /v1/ledger``: the posting ledger is the one with balance type ``Actual``; its
  currency must be SEK (payroll always sends SEK).
* ``GET /v1/financialPeriod``: the financial period (YYYYPP) is the one whose dates hold the
  transaction date — Visma's own periods, which differ from calendar months in a broken
  financial year. A missing, closed or inactive period is refused before anything is sent.
* ``POST /v2/journaltransaction``: the batch number is the last segment of ``Location``.
  Visma has no idempotency key, so the voucher's own key goes in ``description``. The POST
  is never retried by the client: a timeout, a dropped answer, any 5xx, a ``201`` without
  ``Location`` or any answer that cannot be read raises :class:`AnswerLost`, and the caller
  (``ledger.services``) looks the key up with :meth:`VismaClient.journal_transaction_find`
  before anything is posted again.
* ``GET /v2/journaltransaction?periodId=…&module=GL``: paged by the answer's own metadata
  (``totalCount``, ``maxPageSize`` — the server may cap the page size below what was asked);
  every page is read.
* ``POST /v2/journaltransaction/{n}/action/release``: the spec's release action, used when
  the link says so.
* Errors in Visma's words: ``ExceptionMessage`` and ``ExceptionFaultCode`` (or
  ``message``; Visma Connect's ``error``/``error_description``).
"""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from flexbridge.errors import DomainError

from .base import AnswerLost, BaseClient, OutsideSystemError

DEFAULT_SCOPE = "vismanet_erp_service_api:create vismanet_erp_service_api:read"
POSTING_CURRENCY = "SEK"
LOOKUP_PAGE_SIZE = 100
# A lookup stops here even if the metadata promised more: a guard against a server that
# keeps answering full pages, not a limit a real period reaches.
LOOKUP_MAX_PAGES = 1000


class VismaRefused(DomainError):
    """flexbridge will not post: the Visma company is not set up to take the voucher."""

    code = "visma_refused"
    http_status = 409


@dataclass(frozen=True)
class VismaLedger:
    number: str
    description: str
    balance_type: str
    currency: str


@dataclass(frozen=True)
class VismaPeriod:
    period_id: str
    active: bool
    closed_in_general_ledger: bool
    description: str = ""
    start: datetime.date | None = None
    end: datetime.date | None = None


@dataclass(frozen=True)
class VismaBatch:
    batch_number: str
    description: str
    financial_period: str
    status: str = ""


class VismaClient(BaseClient):
    system = "Visma.Net"

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        tenant_id: str,
        token_url: str,
        scope: str = DEFAULT_SCOPE,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self.client_id = client_id
        self.client_secret = client_secret
        self.tenant_id = tenant_id
        self.token_url = token_url
        self.scope = scope
        self._token: str | None = None
        self._token_expires = 0.0

    # authentication ---------------------------------------------------------------------------
    def _fetch_token(self) -> str:
        response = self.request(
            "POST",
            self.token_url,
            authenticate=False,
            idempotent=True,  # asking for a token twice is harmless
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": self.scope,
                "tenant_id": self.tenant_id,
            },
        )
        body = response.json()
        self._token = body["access_token"]
        self._token_expires = time.monotonic() + float(body.get("expires_in", 3600)) - 60
        return self._token

    def auth_headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() >= self._token_expires:
            self._fetch_token()
        return {"Authorization": f"Bearer {self._token}"}

    def on_unauthorized(self) -> bool:
        self._token = None
        return True

    def parse_error(self, response: httpx.Response) -> OutsideSystemError:
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        code = None
        message = response.reason_phrase or f"HTTP {response.status_code}"
        if isinstance(body, dict):
            # Only Visma's own message fields; never the whole remote body.
            message = str(
                body.get("ExceptionMessage")
                or body.get("message")
                or body.get("Message")
                or body.get("error_description")
                or body.get("error")
                or message
            )
            code = body.get("ExceptionFaultCode") or (
                body.get("error") if "error_description" in body else None
            )
        return self.answer_error(response, message, code=str(code) if code else None, body=body)

    # ledgers and periods ---------------------------------------------------------------------
    def ledgers(self) -> list[VismaLedger]:
        return [
            VismaLedger(
                number=str(item.get("number", "")),
                description=str(item.get("description", "")),
                balance_type=str(item.get("balanceType", "")),
                currency=str(item.get("currencyId", "")),
            )
            for item in self.request("GET", "/v1/ledger").json()
        ]

    def posting_ledger(self) -> VismaLedger:
        """The ledger with balance type Actual; refused unless there is one and it is SEK."""
        actual = [ledger for ledger in self.ledgers() if ledger.balance_type == "Actual"]
        if not actual:
            raise VismaRefused(
                "The Visma.Net company has no ledger with balance type Actual to post to."
            )
        ledger = actual[0]
        if ledger.currency != POSTING_CURRENCY:
            raise VismaRefused(
                f"The Actual ledger {ledger.number} in Visma.Net has currency "
                f"{ledger.currency or '(none)'}; payroll always posts SEK, so the ledger must "
                f"be in SEK."
            )
        return ledger

    @staticmethod
    def _period(body: dict) -> VismaPeriod:
        return VismaPeriod(
            period_id=str(body.get("periodId", "")),
            active=bool(body.get("active")),
            closed_in_general_ledger=bool(body.get("closedInGeneralLedger")),
            description=str(body.get("description", "")),
            start=_date_of(body.get("startDate")),
            end=_date_of(body.get("endDate")),
        )

    def financial_period(self, period_id: str) -> VismaPeriod:
        try:
            body = self.request("GET", f"/v1/financialPeriod/{period_id}").json()
        except OutsideSystemError as exc:
            if exc.status == 404:
                raise VismaRefused(
                    f"Financial period {period_id} does not exist in Visma.Net."
                ) from exc
            raise
        period = self._period(body)
        return (
            period
            if period.period_id
            else VismaPeriod(**{**period.__dict__, "period_id": period_id})
        )

    def financial_period_for(self, day: datetime.date) -> VismaPeriod:
        """Visma's financial period (YYYYPP) whose dates hold ``day``; refused when none."""
        for item in self.request("GET", "/v1/financialPeriod").json() or []:
            period = self._period(item)
            if period.start and period.end and period.start <= day <= period.end:
                return period
        raise VismaRefused(
            f"Visma.Net has no financial period for {day.isoformat()}; create the financial "
            f"year in Visma.Net first."
        )

    @staticmethod
    def check_open(period: VismaPeriod) -> VismaPeriod:
        if period.closed_in_general_ledger:
            raise VismaRefused(
                f"Financial period {period.period_id} is closed in the general ledger in Visma.Net."
            )
        if not period.active:
            raise VismaRefused(f"Financial period {period.period_id} is not active in Visma.Net.")
        return period

    def check_period_open(self, period_id: str) -> VismaPeriod:
        return self.check_open(self.financial_period(period_id))

    def open_period_for(self, day: datetime.date) -> VismaPeriod:
        return self.check_open(self.financial_period_for(day))

    # journal transactions --------------------------------------------------------------------
    def journal_transaction_create(self, body: bytes) -> str:
        """POST the exact bytes once; return the new batch number (from ``Location``).

        Never retried here. Every answer that leaves it open whether the batch exists —
        timeout, dropped connection, 5xx, a ``201`` without a readable ``Location``, any
        other 2xx — raises :class:`AnswerLost`: look the key up before posting again.
        """
        response = self.request(
            "POST",
            "/v2/journaltransaction",
            content=body,
            headers={"Content-Type": "application/json"},
            idempotent=False,
        )
        location = response.headers.get("Location", "")
        batch = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] if location else ""
        if response.status_code != 201 or not batch or batch == "journaltransaction":
            raise AnswerLost(
                f"HTTP {response.status_code} without a Location naming the new batch; "
                "whether it was created is unknown",
                system=self.system,
                status=response.status_code,
                correlation_id=response.headers.get(self.correlation_header),
            )
        return batch

    def journal_transaction_release(self, batch_number: str) -> None:
        """The spec's release action on a posted batch."""
        self.request(
            "POST", f"/v2/journaltransaction/{batch_number}/action/release", idempotent=False
        )

    def journal_transactions(
        self, period_id: str, *, module: str = "GL", page_size: int = LOOKUP_PAGE_SIZE
    ) -> list[VismaBatch]:
        """Every batch of ``module`` in the period, all pages.

        The pages are counted from the answer's own metadata (each item carries
        ``metadata.totalCount`` and ``metadata.maxPageSize``): the server may serve fewer
        items a page than asked for, so a short page does not mean the last one. Without
        metadata, pages are read until an empty one.
        """
        batches: list[VismaBatch] = []
        page = 1
        pages: int | None = None
        while page <= LOOKUP_MAX_PAGES:
            items = self.request(
                "GET",
                "/v2/journaltransaction",
                params={
                    "periodId": period_id,
                    "module": module,
                    "pageNumber": page,
                    "pageSize": page_size,
                },
            ).json()
            if not isinstance(items, list):
                raise OutsideSystemError(
                    "the list of journal transactions is not a list", system=self.system
                )
            if not items:
                return batches
            for item in items:
                batches.append(
                    VismaBatch(
                        batch_number=str(item.get("batchNumber", "")),
                        description=str(item.get("description") or ""),
                        financial_period=str(item.get("financialPeriod") or period_id),
                        status=str(item.get("status") or ""),
                    )
                )
            metadata = items[0].get("metadata") or {}
            if pages is None and metadata.get("totalCount") is not None:
                served = min(page_size, int(metadata.get("maxPageSize") or page_size))
                pages = max(1, math.ceil(int(metadata["totalCount"]) / max(1, served)))
            if pages is not None and page >= pages:
                return batches
            page += 1
        raise OutsideSystemError(
            f"more than {LOOKUP_MAX_PAGES} pages of journal transactions in {period_id}",
            system=self.system,
        )

    def journal_transaction_find(self, period_id: str, key: str) -> VismaBatch | None:
        """The general-ledger batch whose description carries ``[key]``, if Visma has one."""
        marker = f"[{key}]"
        for batch in self.journal_transactions(period_id):
            if marker in batch.description:
                return batch
        return None


def _date_of(value) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
