"""Kivra's sender API as a local HTTP server: ``python manage.py sandbox kivra --port 8701``.

It implements the calls flexbridge makes (``/v1/auth``, ``usermatch/ssn``, ``content``)
with the error bodies of Kivra's contract (``{"code", "short_message", "long_message"}``
with the 5-digit code also in ``x-error-code``). Every request to an operation of Kivra's
**official OpenAPI document** (``contracts/kivra/``, with the salary slip JSON schema it
references) is first checked against it with format checking (:mod:`.contract`): a body
that breaks it is 40000, a content type it does not list 41500. The sandbox never uses the
client's own schema check. Then:

* **deprecated types**: ``letter.salary`` is refused (40012) from 2026-10-01
  (``today`` option to pretend another date);
* **retain refused** (``retain_refused=True``): a content with ``retain`` is refused with
  42221, as for a sender whose agreement does not allow retained content;
* **print** (Kivra's print add-on; the demo tenant has it, ``print_integration=False``
  takes it away): a content marked for print (the assumption of ``docs/kivra.md``: header
  ``kivra-print: true``) to a person without a mailbox is taken for posting by Kivra and
  recorded with ``"printed": true``; without the add-on it is refused with 40110;

* **users**: ``users=[ssn, ...]``; without it an SSN is a user when its second-to-last
  digit is not divisible by 3 (about two in three), so demo data works unconfigured.
  ``unavailable=[ssn, ...]`` are matched as users but refused at send time (40105), like a
  recipient who opts out between matching and sending; ``reject={ssn: code}`` refuses
  contents to a recipient with any Kivra error code;
* **duplicate control** (``duplicate_control=True``; **off** by default, as in Kivra's
  test environment): a payload identical to an accepted one except ``generated_at`` is
  answered 201 again but not delivered twice;
* **50 contents per recipient a minute** (``per_recipient_limit``, ``per_recipient_window``)
  answered with 42900, and ``rate_limit_content_next`` (a 429 storm on contents only) and
  ``fail_content_next`` (503 on contents only);
* latency, 429/5xx injection and lost answers through the base class's faults, plus
  ``drop_content_next`` (accept the next N contents, then drop the connection) and
  ``fail_content_after_accept_next`` (accept, then answer ``fail_content_after_accept_status``,
  504 default — a gateway error after the work was done).

Answers look like Kivra's: ``201`` with ``kivra-objkey``, an absolute ``location`` and
``kivra-retained: true`` for retained content; ``x-correlation-id`` on every answer.

``GET /_sandbox/received`` lists every content delivered or retained (not the suppressed
duplicates, which are counted), for tests and demos.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import secrets
import time
from collections import defaultdict, deque

from .base import Request, Response, Sandbox, route
from .contract import CONTRACTS, kivra_contract

ERRORS: dict[str, dict] = json.loads((CONTRACTS / "kivra" / "api-errors.json").read_text())
# letter.salary is deprecated from this day: use salaryslip (Kivra's document).
LETTER_SALARY_DEPRECATED = datetime.date(2026, 10, 1)
# The print marker this sandbox reads (docs/kivra.md: an assumption, not in Kivra's
# public documents).
PRINT_HEADER = "kivra-print"

DEMO_TENANT_KEY = "f1e7b0d6e0000001"
DEMO_CLIENT_ID = "flexbridge-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandbox's published demo credentials

CONTENT_TYPES = {
    "letter",
    "letter.salary",
    "salaryslip",
    "letter.creditnotice",
    "letter.form",
    "letter.signed",
    "invite.research",
    "invite.gift",
    "invite.sign",
    "invite.voucher",
    "invite.kyc",
    "invoice",
    "invoice.reminder",
    "invoice.debtcampaign",
    "invoice.renewal",
    "invoice.debtcollection",
    "booking",
    "registered.letter",
    "invoice.donation",
    "invoice.paymentnotice",
}
RETAINABLE = {"letter.creditnotice", "letter.salary", "letter.signed", "salaryslip", "invite.sign"}
PART_TYPES = {"application/pdf", "text/html", "image/png", "image/jpeg"}
MAX_CONTENT_BYTES = 1_000_000


def ssn_is_valid(ssn: object) -> bool:
    """12 digits, a real date (coordination numbers: day + 60) and the Luhn check digit."""
    if not isinstance(ssn, str) or len(ssn) != 12 or not ssn.isdigit():
        return False
    year, month, day = int(ssn[:4]), int(ssn[4:6]), int(ssn[6:8])
    if day > 60:
        day -= 60
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    total = 0
    for index, char in enumerate(ssn[2:11]):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(ssn[11])


def kivra_error(code: str, long_message: str | None = None) -> Response:
    known = ERRORS.get(code, {"short_message": "Error", "long_message": ""})
    return Response(
        int(code[:3]),
        {
            "code": int(code),
            "short_message": known["short_message"],
            "long_message": long_message or known["long_message"],
        },
        headers={"x-error-code": code},
    )


class KivraSandbox(Sandbox):
    name = "kivra"

    # store ---------------------------------------------------------------------------------
    def seed(self) -> None:
        options = self.options
        self.tenant_key = options.get("tenant_key", DEMO_TENANT_KEY)
        self.clients = {
            options.get("client_id", DEMO_CLIENT_ID): options.get(
                "client_secret", DEMO_CLIENT_SECRET
            )
        }
        users = options.get("users")
        self.users: set[str] | None = set(users) if users is not None else None
        self.unavailable: set[str] = set(options.get("unavailable", ()))
        # {ssn: "40009"}: refuse contents to these recipients with that Kivra error.
        self.reject: dict[str, str] = dict(options.get("reject", {}))
        self.tokens: dict[str, float] = {}
        self.received: list[dict] = []
        self.fingerprints: dict[str, dict] = {}
        self.duplicates = 0
        self.content_requests = 0
        self.contract_errors: list[dict] = []
        self.recent: dict[str, deque] = defaultdict(deque)

    def is_user(self, ssn: str) -> bool:
        if self.users is not None:
            return ssn in self.users
        return ssn_is_valid(ssn) and int(ssn[-2]) % 3 != 0

    def state(self) -> dict:
        return {
            "tenant_key": self.tenant_key,
            "received": len(self.received),
            "duplicates_suppressed": self.duplicates,
            "content_requests": self.content_requests,
            "contract_errors": self.contract_errors,
        }

    def dispatch(self, request: Request) -> Response:
        contract = kivra_contract()
        if request.path.startswith("/_sandbox/") or not contract.covers(
            request.method, request.path
        ):
            return super().dispatch(request)
        # Kivra's own first checks: size, then readable JSON (its 41300 and 40008).
        if len(request.body) > MAX_CONTENT_BYTES and request.path.endswith("/content"):
            return kivra_error("41300")
        if request.header("content-type").startswith("application/json"):
            try:
                request.json()
            except ValueError:
                return kivra_error("40008")
        errors = self.contract_breaches(contract, request)
        if not errors:
            return super().dispatch(request)
        self.contract_breaches_record(request, errors)
        if any(error.startswith("content type ") for error in errors):
            return kivra_error("41500", "; ".join(errors[:3]))
        return kivra_error("40000", "; ".join(errors[:5]))

    def extra_control(self, request: Request) -> Response | None:
        if request.path == "/_sandbox/received" and request.method == "GET":
            with self.lock:
                return Response(
                    200,
                    {
                        "count": len(self.received),
                        "duplicates_suppressed": self.duplicates,
                        "received": list(self.received),
                    },
                )
        return None

    # errors in Kivra's shape ---------------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return kivra_error("40400")

    def server_error(self, request: Request, status: int) -> Response:
        code = f"{status}00" if status in (500, 502, 503, 504) else "50000"
        return kivra_error(code)

    def too_many_requests(self, request: Request) -> Response:
        # Kivra documents no Retry-After: clients back off with jitter.
        return kivra_error("42900")

    # authentication ------------------------------------------------------------------------
    @route("POST", "/v1/auth")
    def auth(self, request: Request) -> Response:
        header = request.header("authorization")
        if not header.lower().startswith("basic "):
            return kivra_error("40104")
        try:
            client_id, _sep, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return kivra_error("40104")
        if self.clients.get(client_id) != secret or not secret:
            return kivra_error("40104")
        if b"grant_type=client_credentials" not in request.body:
            return kivra_error("40001", "grant_type must be client_credentials")
        ttl = float(self.options.get("token_ttl", 28800))
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = time.monotonic() + ttl
        return Response(
            200,
            {
                "state": "",
                "access_token": token,
                "expires_in": int(ttl),
                "scope": f"kivra.v1.tenant.{self.tenant_key}.*",
                "token_type": "bearer",
            },
        )

    def _authorize(self, request: Request) -> Response | None:
        header = request.header("authorization")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with self.lock:
            expires = self.tokens.get(token)
        if expires is None or expires < time.monotonic():
            return kivra_error("40100", "Supplied access token was invalid or has expired")
        if request.params.get("tenant") != self.tenant_key:
            return kivra_error("40300")
        return None

    # recipients ----------------------------------------------------------------------------
    @route("POST", "/v2/tenant/{tenant}/usermatch/ssn")
    def usermatch_ssn(self, request: Request) -> Response:
        refused = self._authorize(request)
        if refused:
            return refused
        try:
            body = request.json()
        except ValueError:
            return kivra_error("40008")
        if not isinstance(body, dict) or not isinstance(body.get("list"), list):
            return kivra_error("40000", "The payload must be an object with a 'list' of SSNs")
        if len(request.body) > 10_000_000:
            return kivra_error("41300")
        matched = [s for s in body["list"] if isinstance(s, str) and self.is_user(s)]
        return Response(200, {"list": matched})

    # content -------------------------------------------------------------------------------
    @route("POST", "/v2/tenant/{tenant}/content")
    def content(self, request: Request) -> Response:
        """``POST /v1/tenant/{key}/content``. Steps: authorise → injected faults → parse and
        validate the payload → the recipient (user, retained, print) → store it once per
        fingerprint (with Kivra's duplicate control on) → answer 201, or the injected
        failure after accepting."""
        refused = self._authorize(request)
        if refused:
            return refused
        refused = self._content_fault()
        if refused:
            return refused
        payload, refused = self._content_payload(request)
        if refused:
            return refused
        recipient, refused = self._content_recipient(request, payload)
        if refused:
            return refused
        fingerprint = _content_fingerprint(payload)
        with self.lock:
            if not self._rate_ok(payload["ssn"]):
                return kivra_error("42900")
            entry = self._content_store(request, payload, fingerprint=fingerprint, **recipient)
            drop = self._take_fault("drop_content_next")
            failing_after = self._take_fault("fail_content_after_accept_next")
        if failing_after:
            status = int(self.options.get("fail_content_after_accept_status", 504))
            return self.server_error(request, status)
        return self._content_created(request, entry, drop=drop)

    def _take_fault(self, option: str) -> bool:
        """Count down an injected fault (``option`` = how many next requests get it); True if
        this request gets it. The caller holds the lock."""
        left = int(self.options.get(option, 0) or 0)
        if left <= 0:
            return False
        self.options[option] = left - 1
        return True

    def _content_fault(self) -> Response | None:
        with self.lock:
            self.content_requests += 1
            if self._take_fault("rate_limit_content_next"):
                return kivra_error("42900")
            if self._take_fault("fail_content_next"):
                return kivra_error("50300")
        return None

    def _content_payload(self, request: Request) -> tuple[dict | None, Response | None]:
        """The JSON payload, or the refusal of a body too large, not JSON, or invalid."""
        if len(request.body) > MAX_CONTENT_BYTES:
            return None, kivra_error("41300")
        try:
            payload = request.json()
        except ValueError:
            return None, kivra_error("40008")
        if not isinstance(payload, dict):
            return None, kivra_error("40026")
        return payload, self._validate_content(payload)

    def _content_recipient(
        self, request: Request, payload: dict
    ) -> tuple[dict | None, Response | None]:
        """How the recipient gets it (``user``, ``printed``, ``print_marked``), or the
        refusal: a rejected recipient, retain refused, print integration off, or a non-user
        with neither retain nor print (40105)."""
        ssn = payload["ssn"]
        if ssn in self.reject:
            return None, kivra_error(self.reject[ssn])
        retain = payload.get("retain") is True
        if retain and self.options.get("retain_refused"):
            return None, kivra_error("42221")
        user = self.is_user(ssn) and ssn not in self.unavailable
        print_marked = request.header(PRINT_HEADER).lower() == "true"
        if print_marked and not self.options.get("print_integration", True):
            return None, kivra_error("40110")
        printed = print_marked and not user
        if not user and not retain and not printed:
            return None, kivra_error("40105")
        return {"user": user, "printed": printed, "print_marked": print_marked}, None

    def _content_store(
        self,
        request: Request,
        payload: dict,
        *,
        fingerprint: str,
        user: bool,
        printed: bool,
        print_marked: bool,
    ) -> dict:
        """The stored content: the earlier one with the same fingerprint when the duplicate
        control is on, else a new one. The caller holds the lock."""
        earlier = self.fingerprints.get(fingerprint)
        if earlier is not None and self.options.get("duplicate_control", False):
            self.duplicates += 1
            return earlier
        entry = {
            "objkey": secrets.token_hex(12),
            "ssn": payload["ssn"],
            "subject": payload["subject"],
            "type": payload["type"],
            "generated_at": payload.get("generated_at"),
            "retained": not user and not printed,
            "printed": printed,
            "print_marked": print_marked,
            "retention_time": payload.get("retention_time") if not user else None,
            "pdf_sha256": [
                hashlib.sha256(base64.b64decode(p["data"])).hexdigest() for p in payload["parts"]
            ],
            "payload_sha256": hashlib.sha256(request.body).hexdigest(),
            "net_pay": ((payload.get("salaryslip") or {}).get("pay_period") or {})
            .get("net_pay", {})
            .get("monetary_amount"),
        }
        self.fingerprints[fingerprint] = entry
        self.received.append(entry)
        return entry

    def _content_created(self, request: Request, entry: dict, *, drop: bool) -> Response:
        host = request.header("host", "127.0.0.1")
        headers = {
            "kivra-objkey": entry["objkey"],
            "location": f"http://{host}/v1/tenant/{self.tenant_key}/content/{entry['objkey']}",
        }
        if entry["retained"]:
            headers["kivra-retained"] = "true"
        return Response(
            201, {"key": entry["objkey"], "subject": entry["subject"]}, headers, drop=drop
        )

    def _rate_ok(self, ssn: str) -> bool:
        limit = int(self.options.get("per_recipient_limit", 50))
        window = float(self.options.get("per_recipient_window", 60))
        now = time.monotonic()
        recent = self.recent[ssn]
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= limit:
            return False
        recent.append(now)
        return True

    def _validate_content(self, payload: dict) -> Response | None:
        """Kivra's checks of a content payload, in Kivra's order: recipient and subject,
        type, retain, the parts."""
        return (
            self._validate_recipient(payload)
            or self._validate_type(payload)
            or _validate_parts(payload.get("parts"))
        )

    def _validate_recipient(self, payload: dict) -> Response | None:
        if "ssn" not in payload and "vat_number" not in payload:
            return kivra_error("40024")
        if not ssn_is_valid(payload.get("ssn")):
            return kivra_error("40009")
        if not isinstance(payload.get("subject"), str) or not payload["subject"].strip():
            return kivra_error("40000", "subject is required")
        return None

    def _validate_type(self, payload: dict) -> Response | None:
        kind = payload.get("type")
        if not isinstance(kind, str) or kind not in CONTENT_TYPES:
            return kivra_error("40012")
        if "retain" in payload and not isinstance(payload["retain"], bool):
            return kivra_error("40000", "retain must be a boolean")
        if payload.get("retain") and kind not in RETAINABLE:
            return kivra_error("42221")
        if "retention_time" in payload and payload["retention_time"] not in ("30", "390"):
            return kivra_error("40000", 'retention_time must be "30" or "390"')
        today = datetime.date.fromisoformat(self.options.get("today") or str(datetime.date.today()))
        if kind == "letter.salary" and today >= LETTER_SALARY_DEPRECATED:
            return kivra_error(
                "40012", "letter.salary is deprecated since 2026-10-01: use salaryslip"
            )
        if kind == "salaryslip" and not isinstance(payload.get("salaryslip"), dict):
            return kivra_error("40000", "type salaryslip needs a salaryslip object")
        return None


def _content_fingerprint(payload: dict) -> str:
    """What Kivra's duplicate control compares: the payload without ``generated_at``."""
    return hashlib.sha256(
        json.dumps(
            {k: v for k, v in payload.items() if k != "generated_at"}, sort_keys=True
        ).encode()
    ).hexdigest()


def _validate_parts(parts) -> Response | None:
    """A non-empty list of files, each with name, data (base64) and an allowed content
    type; a PDF part must be a PDF."""
    if not isinstance(parts, list) or not parts:
        return kivra_error("40019", "parts must be a non-empty list of files")
    for part in parts:
        if not isinstance(part, dict) or not {"name", "data", "content_type"} <= set(part):
            return kivra_error("40019")
        if part["content_type"] not in PART_TYPES:
            return kivra_error("40028")
        try:
            data = base64.b64decode(part["data"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            return kivra_error("40019", "part data is not base64")
        if part["content_type"] == "application/pdf" and not data.startswith(b"%PDF"):
            return kivra_error("40019", "part is not a PDF")
    return None
