"""Kivra's sender API: authentication, recipient matching and sending salary slips.

The contract is Kivra's own OpenAPI document (``contracts/kivra/`` beside the checkout):

* ``POST /v1/auth`` — OAuth2 client credentials (Basic auth); the bearer token lives 8
  hours and is reused until shortly before it expires;
* ``POST /v2/tenant/{tenantKey}/usermatch/ssn`` — which of a list of personal identity
  numbers can receive content from this sender (in batches);
* ``POST /v2/tenant/{tenantKey}/content`` — one content of type ``salaryslip``: the
  structured object (validated here against Kivra's JSON schema before sending) plus the
  PDF in ``parts``; ``retain``/``retention_time`` for people who are not users yet.

Kivra has no idempotency key, but in production an identical payload (all but
``generated_at``) is delivered only once. So a content request is built once into bytes
(:meth:`KivraClient.content_build`), the caller stores them, and every send — including a
retry after a lost answer — sends exactly those bytes (:meth:`KivraClient.content_send`).
Kivra's test environment (and a local sandbox) has **no** duplicate control: a client made
with ``resend_safe=False`` never repeats a content POST whose outcome is uncertain (5xx,
timeout, dropped answer) and raises :class:`~integrations.clients.base.AnswerLost` instead.

Print handling (Kivra's print add-on) is marked on a content by :data:`PRINT_MARKER` — an
assumption, since Kivra's public documents say nothing about it (``docs/kivra.md``); it is
kept here and nowhere else.

Errors keep Kivra's 5-digit code, its messages and the ``x-correlation-id``. 42900 and 5xx
are retried with backoff and jitter by :class:`~integrations.clients.base.BaseClient`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import httpx
import jsonschema

from flexbridge.errors import DomainError

from .base import BaseClient, OutsideSystemError, RetryPolicy
from .outbound import shared_ssl_context

SALARYSLIP_SCHEMA_PATH = Path(__file__).with_name("kivra_salaryslip.schema.json")
RETENTION_TIMES = ("30", "390")
CONTENT_TYPE_SALARYSLIP = "salaryslip"
# Kivra's limits (api-introduction): 1 MB per content, 50 contents per recipient a minute.
MAX_CONTENT_BYTES = 1_000_000
USERMATCH_BATCH = 1000
# How a content is marked for Kivra's print add-on (Kivra posts it to a recipient without
# a digital mailbox). ASSUMPTION — Kivra's public API documents no print flag: a request
# header, so the stored body (and Kivra's duplicate-control fingerprint) stays the same
# whether or not it is printed. See docs/kivra.md; change it here only.
PRINT_MARKER: dict[str, str] = {"kivra-print": "true"}
# 401 answers that mean "your token", as opposed to 40105 "this recipient".
TOKEN_ERROR_CODES = frozenset({"40100", "40015", "40103"})


class KivraError(OutsideSystemError):
    """An error answer from Kivra: ``code`` is Kivra's 5-digit code (``"40105"``)."""

    @property
    def short_message(self) -> str:
        return (self.body or {}).get("short_message", "") if isinstance(self.body, dict) else ""


class KivraContentInvalid(DomainError, ValueError):
    """The content would be rejected by Kivra: not sent."""

    code = "kivra_content_invalid"


@lru_cache(maxsize=1)
def salaryslip_validator() -> jsonschema.Draft6Validator:
    schema = json.loads(SALARYSLIP_SCHEMA_PATH.read_text())
    return jsonschema.Draft6Validator(schema)


def _formats_in(schema) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return found.union(*(_formats_in(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_formats_in(value) for value in schema))
    return set()


@lru_cache(maxsize=1)
def salaryslip_is_valid():
    """The schema compiled once into Python code by fastjsonschema (shared by every thread):
    the fast yes/no before each send. jsonschema explains the failures."""
    schema = salaryslip_validator().schema
    # jsonschema runs without a format checker, so "format" only annotates: the same here.
    formats = dict.fromkeys(_formats_in(schema), lambda _value: True)
    check = fastjsonschema.compile(schema, formats=formats)

    def is_valid(salaryslip: dict) -> bool:
        try:
            check(salaryslip)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return is_valid


def salaryslip_errors(salaryslip: dict) -> list[str]:
    """Every way ``salaryslip`` breaks Kivra's schema, as ``path: message`` lines."""
    if salaryslip_is_valid()(salaryslip):
        return []
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in salaryslip_validator().iter_errors(salaryslip)
    ]


@dataclass(frozen=True)
class ContentResult:
    """What Kivra answered to an accepted content."""

    status: int
    objkey: str
    retained: bool
    location: str
    correlation_id: str


class KivraClient(BaseClient):
    system = "Kivra"
    correlation_header = "x-correlation-id"

    def __init__(
        self,
        base_url: str,
        *,
        tenant_key: str,
        client_id: str,
        client_secret: str,
        token_margin: float = 300.0,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep=time.sleep,
        max_connections: int = 32,
        resend_safe: bool = False,
        outbound=None,
    ) -> None:
        # What a sibling (:meth:`with_own_pool`) is built with.
        self._options = {
            "tenant_key": tenant_key,
            "client_id": client_id,
            "client_secret": client_secret,
            "token_margin": token_margin,
            "timeout": timeout,
            "retry": retry,
            "sleep": sleep,
            "resend_safe": resend_safe,
            "outbound": outbound,
        }
        self._own_transport = transport is None
        if transport is None:
            # One keep-alive pool shared by the dispatch's threads (httpx.Client is
            # thread-safe), as large as the concurrency. Given to the base class as its
            # transport, so only one client (and one TLS context) is built.
            limits = httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            )
            transport = (
                outbound.transport(limits=limits)
                if outbound is not None
                else httpx.HTTPTransport(limits=limits, verify=shared_ssl_context())
            )
        super().__init__(
            base_url,
            timeout=timeout,
            retry=retry,
            transport=transport,
            sleep=sleep,
            outbound=outbound,
        )
        self.tenant_key = tenant_key
        # True only where Kivra's duplicate control makes a blind resend harmless
        # (production): then 5xx and lost answers to a content POST are retried here.
        self.resend_safe = resend_safe
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_margin = token_margin
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self._local = threading.local()
        # A sibling asks its parent for the token (one token for all of them).
        self._token_source: KivraClient | None = None

    def with_own_pool(self) -> KivraClient:
        """A client for one sender thread: its own keep-alive connection (a pool shared by
        many threads costs each request a walk over all its connections), this client's
        token. A client built on a given transport (tests) is shared as it is."""
        if not self._own_transport:
            return self
        sibling = KivraClient(self.base_url, max_connections=1, **self._options)
        sibling._token_source = self._token_source or self
        return sibling

    # authentication ------------------------------------------------------------------------
    def token(self) -> str:
        """A bearer token, reused until ``token_margin`` seconds before it expires."""
        if self._token_source is not None:
            return self._token_source.token()
        with self._token_lock:
            if self._token and time.monotonic() < self._token_expires - self._token_margin:
                return self._token
            basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
            response = self.request(
                "POST",
                "/v1/auth",
                authenticate=False,
                idempotent=True,  # asking for a token again is harmless
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            )
            body = response.json()
            self._token = body["access_token"]
            self._token_expires = time.monotonic() + float(body.get("expires_in", 28800))
            return self._token

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def on_unauthorized(self) -> bool:
        """A 401 about the token: fetch a new one and retry once. Not for 40105 (recipient)."""
        response = getattr(self._local, "response", None)
        code = response.headers.get("x-error-code") if response is not None else None
        if code and code not in TOKEN_ERROR_CODES:
            return False
        owner = self._token_source or self
        with owner._token_lock:
            owner._token = None
        return True

    def _record(self, method, path, response, attempts):
        super()._record(method, path, response, attempts)
        self._local.response = response

    def parse_error(self, response: httpx.Response) -> KivraError:
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        if isinstance(body, dict) and "code" in body:
            code = str(body.get("code"))
            short = body.get("short_message") or ""
            long = body.get("long_message") or ""
            message = f"{short}: {long}" if short and long else (short or long)
        else:
            code = response.headers.get("x-error-code") or None
            message = response.reason_phrase or f"HTTP {response.status_code}"
        return self.answer_error(response, message, code=code, body=body, cls=KivraError)

    # recipients ----------------------------------------------------------------------------
    def usermatch_ssn(self, ssns: list[str], *, batch_size: int = USERMATCH_BATCH) -> set[str]:
        """The personal identity numbers (12 digits) that can receive content from us."""
        matched: set[str] = set()
        unique = sorted(set(ssns))
        for start in range(0, len(unique), batch_size):
            response = self.request(
                "POST",
                f"/v2/tenant/{self.tenant_key}/usermatch/ssn",
                json={"list": unique[start : start + batch_size]},
                idempotent=True,  # a lookup
            )
            matched.update(response.json().get("list") or [])
        return matched

    # content -------------------------------------------------------------------------------
    @staticmethod
    def content_build(
        *,
        ssn: str,
        subject: str,
        generated_at: str,
        salaryslip: dict[str, Any],
        pdf: bytes,
        pdf_name: str,
        retain: bool = False,
        retention_time: str | None = None,
    ) -> bytes:
        """The exact request body of one salary slip, validated; store and resend these bytes."""
        if not (len(ssn) == 12 and ssn.isdigit()):
            raise KivraContentInvalid("The personal identity number must be 12 digits.")
        if retention_time is not None and retention_time not in RETENTION_TIMES:
            raise KivraContentInvalid("Kivra keeps retained content 30 or 390 days only.")
        errors = salaryslip_errors(salaryslip)
        if errors:
            raise KivraContentInvalid(
                "Salary slip does not match Kivra's schema: " + "; ".join(errors)
            )
        payload: dict[str, Any] = {
            "ssn": ssn,
            "subject": subject,
            "generated_at": generated_at,
            "type": CONTENT_TYPE_SALARYSLIP,
            "parts": [
                {
                    "name": pdf_name,
                    "data": base64.b64encode(pdf).decode("ascii"),
                    "content_type": "application/pdf",
                }
            ],
            "salaryslip": salaryslip,
        }
        if retain:
            payload["retain"] = True
            payload["retention_time"] = retention_time or "30"
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        encoded = body.encode()
        if len(encoded) > MAX_CONTENT_BYTES:
            raise KivraContentInvalid("The content is larger than Kivra's 1 MB limit.")
        return encoded

    def content_send(self, body: bytes, *, for_print: bool = False) -> ContentResult:
        """Send stored content bytes (``for_print``: marked for Kivra's print add-on).

        Repeated on 5xx and lost answers only when ``resend_safe`` (Kivra's production
        duplicate control delivers identical payloads once). Raises :class:`KivraError` for
        Kivra's refusals (4xx), :class:`~integrations.clients.base.AnswerLost` when the
        outcome is uncertain and :class:`~integrations.clients.base.TransientError` when
        retries ran out.
        """
        headers = {"Content-Type": "application/json"}
        if for_print:
            headers.update(PRINT_MARKER)
        response = self.request(
            "POST",
            f"/v2/tenant/{self.tenant_key}/content",
            content=body,
            headers=headers,
            idempotent=self.resend_safe,
        )
        return ContentResult(
            status=response.status_code,
            objkey=response.headers.get("kivra-objkey", ""),
            retained=response.headers.get("kivra-retained", "").lower() == "true",
            location=response.headers.get("location", ""),
            correlation_id=response.headers.get(self.correlation_header, ""),
        )
