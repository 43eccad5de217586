"""Client of Visma.Net Financials (ERP API) for posting payroll vouchers.

* Token from Visma Connect: ``POST /connect/token`` with ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``, ``scope`` and the **company** ``tenant_id``; cached
  until shortly before it expires and refreshed once on a 401.
* ``GET /v1/ledger``: the posting ledger is the one with balance type ``Actual``; its
  currency must be SEK (payroll always sends SEK).
* ``GET /v1/financialPeriod/{YYYYPP}``: a closed or inactive period is refused before
  anything is sent.
* ``POST /v2/journaltransaction``: the batch number is the last segment of ``Location``.
  Visma has no idempotency key, so the voucher's own key goes in ``description`` and a POST
  whose answer was lost is looked up with ``GET /v2/journaltransaction?periodId=…`` before
  anything is sent again (see ``ledger.services``). Visma's contract says a 500 answer
  means the POST failed, so the base client's retries of 5xx/429 are safe; a lost answer
  (timeout, dropped connection) raises :class:`AnswerLost`.
* Errors in Visma's words: ``ExceptionMessage`` and ``ExceptionFaultCode`` (or
  ``message``; Visma Connect's ``error``/``error_description``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from flexbridge.errors import DomainError

from .base import BaseClient, OutsideSystemError

DEFAULT_SCOPE = "vismanet_erp_service_api:create vismanet_erp_service_api:read"
POSTING_CURRENCY = "SEK"


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
            message = str(
                body.get("ExceptionMessage")
                or body.get("message")
                or body.get("Message")
                or body.get("error_description")
                or body.get("error")
                or body
            )
            code = body.get("ExceptionFaultCode") or (
                body.get("error") if "error_description" in body else None
            )
        elif isinstance(body, str) and body:
            message = body
        return OutsideSystemError(
            message,
            system=self.system,
            status=response.status_code,
            code=str(code) if code else None,
            correlation_id=response.headers.get(self.correlation_header),
            body=body,
        )

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

    def financial_period(self, period_id: str) -> VismaPeriod:
        try:
            body = self.request("GET", f"/v1/financialPeriod/{period_id}").json()
        except OutsideSystemError as exc:
            if exc.status == 404:
                raise VismaRefused(
                    f"Financial period {period_id} does not exist in Visma.Net."
                ) from exc
            raise
        return VismaPeriod(
            period_id=str(body.get("periodId", period_id)),
            active=bool(body.get("active")),
            closed_in_general_ledger=bool(body.get("closedInGeneralLedger")),
            description=str(body.get("description", "")),
        )

    def check_period_open(self, period_id: str) -> VismaPeriod:
        period = self.financial_period(period_id)
        if period.closed_in_general_ledger:
            raise VismaRefused(
                f"Financial period {period_id} is closed in the general ledger in Visma.Net."
            )
        if not period.active:
            raise VismaRefused(f"Financial period {period_id} is not active in Visma.Net.")
        return period

    # journal transactions --------------------------------------------------------------------
    def journal_transaction_create(self, body: bytes) -> str:
        """POST the exact bytes; return the new batch number (from ``Location``)."""
        response = self.request(
            "POST",
            "/v2/journaltransaction",
            content=body,
            headers={"Content-Type": "application/json"},
            idempotent=False,
        )
        location = response.headers.get("Location", "")
        batch = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if not batch:
            raise OutsideSystemError(
                "created, but the answer has no Location with the batch number",
                system=self.system,
                status=response.status_code,
            )
        return batch

    def journal_transactions(self, period_id: str, *, page_size: int = 100) -> list[VismaBatch]:
        batches: list[VismaBatch] = []
        page = 1
        while True:
            items = self.request(
                "GET",
                "/v2/journaltransaction",
                params={"periodId": period_id, "pageNumber": page, "pageSize": page_size},
            ).json()
            for item in items:
                batches.append(
                    VismaBatch(
                        batch_number=str(item.get("batchNumber", "")),
                        description=str(item.get("description") or ""),
                        financial_period=str(item.get("financialPeriod") or period_id),
                        status=str(item.get("status") or ""),
                    )
                )
            if len(items) < page_size:
                return batches
            page += 1

    def journal_transaction_find(self, period_id: str, key: str) -> VismaBatch | None:
        """The batch whose description carries ``key``, if Visma has one."""
        marker = f"[{key}]"
        for batch in self.journal_transactions(period_id):
            if marker in batch.description:
                return batch
        return None
