"""A small real HTTP server that stands in for an outside system in tests and demos.

A sandbox subclasses :class:`Sandbox`, declares routes with :func:`route`, and keeps its
store in memory. Every sandbox also answers:

* ``GET /_sandbox/state`` — its store and every request it accepted;
* ``POST /_sandbox/config`` — fault injection: ``latency_ms``, ``fail_next`` (how many of
  the next requests fail), ``fail_status`` (503 default), ``fail_rate`` (0..1),
  ``rate_limit_next`` (answer 429 to the next N), ``drop_after_accept_next`` (process the
  next N accepted writes, then drop the connection without answering — a lost answer),
  ``timeout_next`` (sleep past the client's read timeout before answering);
* ``POST /_sandbox/reset`` — back to the seeded store.

Run one with ``python manage.py sandbox NAME --port N`` or, in tests,
``with KivraSandbox().serving() as url: ...`` (an ephemeral port on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    _parsed: Any = field(default=None, init=False, repr=False)

    def json(self) -> Any:
        """The body as JSON, parsed once (a sandbox reads it in several checks)."""
        if self._parsed is None:
            self._parsed = (json.loads(self.body or b"null"),)
        return self._parsed[0]

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    # After processing, drop the connection instead of answering (a lost answer).
    drop: bool = False

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, default=str).encode()


def route(method: str, pattern: str):
    """Declare a handler: ``@route("POST", "/v2/tenant/{tenant}/content")``."""
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def decorate(func):
        func._sandbox_route = (method.upper(), regex)
        return func

    return decorate


@dataclass
class Faults:
    latency_ms: float = 0
    fail_next: int = 0
    fail_status: int = 503
    fail_rate: float = 0.0
    rate_limit_next: int = 0
    retry_after: float | None = 1
    drop_after_accept_next: int = 0
    timeout_next: int = 0
    timeout_seconds: float = 5.0


# Seconds between serve_forever's checks for a shutdown request in ``Sandbox.serving``.
STOP_POLL_INTERVAL = 0.01


class _Server(ThreadingHTTPServer):
    # http.server's backlog of 5 resets connections when a few dozen senders connect at
    # once (two workers × 16): production systems accept them.
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        # A client that goes away mid-answer (a killed worker, a client timeout) is what a
        # real server sees too: no traceback on the console for it.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Sandbox:
    """Base class; subclasses set ``name`` and implement ``seed()`` and routes."""

    name = "sandbox"
    correlation_header = "x-correlation-id"

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.lock = threading.RLock()
        self.faults = Faults(**{k: v for k, v in options.items() if hasattr(Faults, k)})
        self.requests: list[dict] = []
        self._counter = 0
        self._routes: list[tuple[str, re.Pattern, Callable]] = []
        for attr in dir(self):
            handler = getattr(self, attr)
            spec = getattr(handler, "_sandbox_route", None)
            if spec:
                self._routes.append((spec[0], spec[1], handler))
        self.reset()

    # store ---------------------------------------------------------------------------------
    def seed(self) -> None:
        """Fill the store with its initial data."""

    def contract_breaches(self, contract, request: Request) -> list[str]:
        """Every way ``request`` breaks ``contract`` (the vendor's official document,
        :mod:`integrations.sandboxes.contract`); empty when it conforms."""
        return contract.check_request(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=request.body,
        )

    def contract_breaches_record(self, request: Request, errors: list[str]) -> None:
        """Keep the latest 100 refused requests in ``contract_errors`` (in the state)."""
        with self.lock:
            self.contract_errors.append(
                {"method": request.method, "path": request.path, "errors": errors}
            )
            del self.contract_errors[:-100]  # the latest 100 show what broke

    def state(self) -> dict:
        """The store as JSON-able data for ``GET /_sandbox/state``."""
        return {}

    def reset(self) -> None:
        with self.lock:
            self.requests = []
            self.seed()

    def next_id(self) -> str:
        with self.lock:
            self._counter += 1
            return f"{self._counter:08d}"

    # dispatch ------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        with self.lock:
            faults = self.faults
            if faults.timeout_next > 0:
                faults.timeout_next -= 1
                sleep_for = faults.timeout_seconds
            else:
                sleep_for = 0.0
            if faults.rate_limit_next > 0:
                faults.rate_limit_next -= 1
                return self.too_many_requests(request)
            if faults.fail_next > 0 or (faults.fail_rate and random.random() < faults.fail_rate):
                faults.fail_next = max(0, faults.fail_next - 1)
                return self.server_error(request, faults.fail_status)
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if sleep_for:
            time.sleep(sleep_for)
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                response = handler(request)
                if 200 <= response.status < 300 and request.method != "GET":
                    with self.lock:
                        self.requests.append(
                            {
                                "method": request.method,
                                "path": request.path,
                                "status": response.status,
                            }
                        )
                        if self.faults.drop_after_accept_next > 0:
                            self.faults.drop_after_accept_next -= 1
                            response.drop = True
                return response
        return self.not_found(request)

    def _control(self, request: Request) -> Response:
        if request.path == "/_sandbox/state" and request.method == "GET":
            with self.lock:
                return Response(200, {"store": self.state(), "requests": list(self.requests)})
        if request.path == "/_sandbox/config" and request.method == "POST":
            with self.lock:
                for key, value in (request.json() or {}).items():
                    if hasattr(self.faults, key):
                        setattr(self.faults, key, value)
                    else:
                        self.options[key] = value
                return Response(200, self.faults.__dict__)
        if request.path == "/_sandbox/reset" and request.method == "POST":
            self.faults = Faults()
            self.reset()
            return Response(200, {"reset": True})
        return self.extra_control(request) or self.not_found(request)

    def extra_control(self, request: Request) -> Response | None:
        """Sandbox-specific ``/_sandbox/...`` endpoints (e.g. ``/_sandbox/received``)."""
        return None

    # error answers in the system's own shape (override per sandbox) ------------------------
    def not_found(self, request: Request) -> Response:
        return Response(404, {"message": f"No route for {request.method} {request.path}"})

    def server_error(self, request: Request, status: int) -> Response:
        return Response(status, {"message": "Injected server error"})

    def too_many_requests(self, request: Request) -> Response:
        headers = {}
        if self.faults.retry_after is not None:
            headers["Retry-After"] = str(self.faults.retry_after)
        return Response(429, {"message": "Too many requests"}, headers=headers)

    # serving -------------------------------------------------------------------------------
    def make_server(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # http.server writes the headers and the body separately: with Nagle on, the
            # body waits for the client's delayed ACK (~40 ms on Linux) on every kept-alive
            # request, a latency no real outside system adds.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):
                return

            def _handle(self):
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                try:
                    response = sandbox.dispatch(request)
                except Exception as exc:  # a sandbox bug must still answer
                    response = Response(500, {"message": f"sandbox error: {exc}"})
                if response.drop:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                payload = response.encode()
                self.send_response(response.status)
                headers = {"Content-Type": "application/json", **response.headers}
                headers.setdefault(sandbox.correlation_header, f"sbx-{sandbox.next_id()}")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        server = _Server((host, port), Handler)
        server.daemon_threads = True
        return server

    @contextlib.contextmanager
    def serving(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve in a background thread; yields the base URL."""
        server = self.make_server(host, port)
        # serve_forever notices shutdown() only between polls: with the default 0.5 s, every
        # stop waited up to half a second. A short poll stops the sandbox at once.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_INTERVAL}, daemon=True
        )
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


# name → "module:Class" for ``manage.py sandbox NAME``.
SANDBOXES: dict[str, str] = {
    "kivra": "integrations.sandboxes.kivra:KivraSandbox",
    "visma": "integrations.sandboxes.visma:VismaSandbox",
    "payroll": "integrations.sandboxes.payroll:PayrollSandbox",
}
