"""The one way flexbridge speaks HTTP to an outside system.

Each outside system has a client class deriving from :class:`BaseClient` (``kivra.py``,
``visma.py``, ``payroll.py``). The base gives them:

* explicit timeouts (connect, read, write, pool);
* retries with exponential backoff and full jitter on 429 and 5xx, honouring
  ``Retry-After`` (seconds or an HTTP date) and ``X-RateLimit-Reset``;
* safe handling of *uncertain outcomes*: a request that may have reached the server (read
  timeout, dropped connection, any 5xx answer — a gateway error can come after the server
  did the work) is retried only when the caller says the request is safe to repeat
  (``idempotent=True``); otherwise :class:`AnswerLost` is raised at once, without a retry,
  so the caller can look the result up before sending again. A 429 was refused before any
  work, so it is retried either way;
* errors in the outside system's own words: subclasses parse the error body in
  :meth:`BaseClient.parse_error` into an :class:`OutsideSystemError` carrying the
  system's code, message and correlation id.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from flexbridge.masking import mask_text
from integrations.clients.outbound import OutboundPolicy, OutboundRefused, shared_ssl_context

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# A vendor's error message is quoted in job logs at most this long.
EXCERPT_LENGTH = 200
_TAGS = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def excerpt(text: object, limit: int = EXCERPT_LENGTH) -> str:
    """A short, single-line, tag-free excerpt of a remote text for logs: never a whole body."""
    value = _CONTROL.sub(" ", _TAGS.sub(" ", str(text)))
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


class OutsideSystemError(Exception):
    """An outside system answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        body: Any = None,
    ) -> None:
        # Job logs show str(error): only a short excerpt of what the remote side said.
        self.message = excerpt(message)
        self.system = system
        self.status = status
        self.code = excerpt(code, 40) if code else code
        self.correlation_id = excerpt(correlation_id, 80) if correlation_id else correlation_id
        self.body = body
        super().__init__(str(self))

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUS

    def __str__(self) -> str:
        parts = [f"{self.system}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        text = " ".join(parts) + f": {self.message}"
        if self.correlation_id:
            text += f" (correlation id {self.correlation_id})"
        return mask_text(text)


class AddressRefused(OutsideSystemError):
    """The link's address is not a public HTTPS one (``integrations.outbound``): nothing
    was sent."""

    @property
    def retryable(self) -> bool:
        return False


class TransientError(OutsideSystemError):
    """Still failing after the client's retries (429, 5xx, timeouts): try again later."""


class AnswerLost(TransientError):
    """The request may have been processed but the answer never arrived."""


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        hinted = _hinted_delay(response) if response is not None else None
        if hinted is not None:
            return min(hinted, self.max_retry_after) + random.uniform(0, 0.1)
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)


def _hinted_delay(response: httpx.Response) -> float | None:
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(retry_after)
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # Either seconds to wait or an epoch timestamp.
        return max(0.0, value - time.time()) if value > 1_000_000_000 else max(0.0, value)
    return None


@dataclass
class CallRecord:
    """One HTTP exchange, for job logs: what was asked, what came back, how often."""

    method: str
    path: str
    status: int | None
    attempts: int
    correlation_id: str | None = None
    extra: dict = field(default_factory=dict)


class BaseClient:
    """Base for the outside systems' clients. Subclasses set ``system`` and may override
    :meth:`parse_error` and :meth:`auth_headers`."""

    system = "outside system"
    correlation_header = "x-correlation-id"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        # A program link's client: public HTTPS addresses only (see integrations.outbound).
        self.outbound = outbound
        if outbound is not None and transport is None:
            transport = outbound.transport()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout or httpx.Timeout(30.0, connect=5.0),
            transport=transport,
            verify=shared_ssl_context(),
            headers={"User-Agent": "flexbridge/1"},
        )
        self.last_call: CallRecord | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # hooks ---------------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        return {}

    def parse_error(self, response: httpx.Response) -> OutsideSystemError:
        """Turn an error response into an error in the outside system's words."""
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        message = response.reason_phrase or f"HTTP {response.status_code}"
        if isinstance(body, dict) and (body.get("message") or body.get("error")):
            message = str(body.get("message") or body.get("error"))
        return self.answer_error(response, message, body=body)

    def answer_error(
        self,
        response: httpx.Response,
        message: str,
        *,
        code: str | None = None,
        body: Any = None,
        cls: type[OutsideSystemError] = OutsideSystemError,
    ) -> OutsideSystemError:
        """The error of an answer, in the system's words: with its status and correlation
        id (``parse_error`` of each client decides the message, code and body)."""
        return cls(
            message,
            system=self.system,
            status=response.status_code,
            code=code,
            correlation_id=response.headers.get(self.correlation_header),
            body=body,
        )

    def on_unauthorized(self) -> bool:
        """Called on a 401; return True to retry once (e.g. after refreshing a token)."""
        return False

    # the one request loop ------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        authenticate: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request with retries; return a 2xx/3xx response or raise.

        ``idempotent`` defaults to True for GET/HEAD/PUT/DELETE/OPTIONS; a POST whose answer
        may be lost raises :class:`AnswerLost` unless the caller passes ``idempotent=True``.

        Steps: check the address → per attempt, send once (:meth:`_send_once`) → on a 401,
        refresh the credentials once → an answer below 400 is returned, an error is raised
        unless it may be retried (:meth:`_retryable_error`) → wait and try again, up to
        ``retry.max_attempts``.
        """
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
        self._check_address(path)
        headers = dict(kwargs.pop("headers", None) or {})
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            headers = dict(headers)
            if authenticate:
                headers.update(self.auth_headers())
            outcome = self._send_once(
                method, path, headers=headers, idempotent=idempotent, attempt=attempt, **kwargs
            )
            if isinstance(outcome, OutsideSystemError):
                error, response = outcome, None
            else:
                response = outcome
                if response.status_code == 401 and authenticate and not refreshed:
                    refreshed = True
                    if self.on_unauthorized():
                        attempt -= 1
                        continue
                if response.status_code < 400:
                    return response
                error = self._retryable_error(response, idempotent=idempotent)
            if attempt >= self.retry.max_attempts:
                raise error
            self._wait_to_retry(method, path, error=error, attempt=attempt, response=response)

    def _check_address(self, path: str) -> None:
        """Refuse an address the outbound rule does not allow, before anything is sent."""
        if self.outbound is None:
            return
        url = path if "://" in path else self.base_url + path
        try:
            self.outbound.check(url)
        except OutboundRefused as exc:
            raise AddressRefused(str(exc), system=self.system) from None

    def _send_once(
        self, method: str, path: str, *, headers: dict, idempotent: bool, attempt: int, **kwargs
    ) -> httpx.Response | OutsideSystemError:
        """One attempt: the answer (recorded), or the error to retry on when nothing was
        answered. Raises when retrying is not safe: a refused address, or no answer to a
        request that is not idempotent (:class:`AnswerLost`)."""
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            if isinstance(exc.__cause__, OutboundRefused):
                raise AddressRefused(str(exc.__cause__), system=self.system) from None
            # Never reached the server: always safe to try again.
            return TransientError(
                f"could not connect ({exc.__class__.__name__})", system=self.system
            )
        except (
            httpx.ReadTimeout,
            httpx.WriteTimeout,
            httpx.RemoteProtocolError,
            httpx.ReadError,  # connection reset while waiting: the request may have run
            httpx.WriteError,
        ) as exc:
            error = (TransientError if idempotent else AnswerLost)(
                f"no answer ({exc.__class__.__name__})", system=self.system
            )
            if not idempotent:
                self._record(method, path, None, attempt)
                raise error from exc
            return error
        self._record(method, path, response, attempt)
        return response

    def _retryable_error(self, response: httpx.Response, *, idempotent: bool) -> TransientError:
        """The error of an answer of 400 or more, as a :class:`TransientError` to retry on;
        raised instead when it must not be retried: a status that is not retryable, or a 5xx
        to a request that is not idempotent (the server may have done the work before
        failing: never resend blind, :class:`AnswerLost`)."""
        error = self.parse_error(response)
        if response.status_code not in RETRYABLE_STATUS:
            raise error
        details = {
            "system": self.system,
            "status": error.status,
            "code": error.code,
            "correlation_id": error.correlation_id,
            "body": error.body,
        }
        if not idempotent and response.status_code >= 500:
            raise AnswerLost(error.message, **details)
        return TransientError(error.message, **details)

    def _wait_to_retry(
        self,
        method: str,
        path: str,
        *,
        error: OutsideSystemError,
        attempt: int,
        response: httpx.Response | None,
    ) -> None:
        delay = self.retry.delay(attempt, response)
        logger.info(
            "%s %s %s failed (%s); retry %d in %.2fs",
            self.system,
            method,
            path,
            error,
            attempt,
            delay,
        )
        self._sleep(delay)

    def _record(self, method: str, path: str, response: httpx.Response | None, attempts: int):
        self.last_call = CallRecord(
            method=method,
            path=path,
            status=response.status_code if response is not None else None,
            attempts=attempts,
            correlation_id=response.headers.get(self.correlation_header) if response else None,
        )
