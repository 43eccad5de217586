"""Sandbox of Visma.Net Financials: Visma Connect's token endpoint and the ledger, financial
period and journal-transaction (v2) endpoints, over real HTTP.

Strict like the real service:

* every request to an operation of Visma's **official OpenAPI documents** (copied into
  ``contracts/visma/``) is first checked against them with openapi-core and a format-checking
  JSON-schema validator (:mod:`.contract`): ``transactionDate`` without an offset, amounts
  as strings, an unknown ``operation``, a wrong content type are refused with 400 in
  Visma's error shape;
* Visma Connect issues tokens only to a known client with its secret, for a known company
  tenant, with the scopes asked for; ``GET`` needs ``vismanet_erp_service_api:read`` and
  ``POST`` ``…:create`` (403 otherwise);
* then the business rules: value-wrapped fields, ``operation`` on every line, a known ledger
  and currency, an open and active period, accounts **in the sandbox's chart of accounts**,
  subaccount segments (known ids, values of the segment's length, optionally from a list)
  and a batch whose debits equal its credits to the öre.

Answers look like the real ones: ``201`` with an absolute ``Location``, ``X-RateLimit-Limit``
/ ``-Remaining`` / ``-Reset`` on every answer of the ERP API, lists whose items carry
``metadata`` (``totalCount``, ``maxPageSize``), errors as ``{"ExceptionType",
"ExceptionMessage", "ExceptionFaultCode"}``.

Financial periods are Visma's ``YYYYPP``: ``fiscal_year_start_month`` (1 default; 5 for a
financial year May–April, named after the calendar year it starts in) decides which
calendar month is period 01.

Options (constructor keywords or ``POST /_sandbox/config``): ``clients`` ({client id:
secret}), ``tenants`` (company tenant ids), ``accounts`` (the chart), ``ledgers`` (list of
ledger dicts), ``closed_periods`` / ``inactive_periods`` / ``missing_periods`` (YYYYPP lists),
``fiscal_year_start_month``, ``segment_values`` ({segment id: [values]}),
``rate_limit_reset`` (seconds in ``X-RateLimit-Reset``; ``retry_after`` None leaves
``Retry-After`` out). Fault injection beyond the base class's: ``fail_after_create_next``
(create the batch, then answer ``fail_after_create_status``, 504 default),
``drop_after_create_next`` (create it, then drop the connection), ``omit_location_next``
(``201`` without ``Location``) and ``max_page_size`` (the server's page-size cap, 100
default). ``GET /_sandbox/received`` lists the batches it holds and counts duplicate
descriptions — the number of vouchers posted twice.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import time
from collections import Counter
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from .base import Request, Response, Sandbox, route
from .contract import visma_contract

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandbox's published demo credentials
DEMO_TENANT_ID = "demo-tenant"
SCOPE_READ = "vismanet_erp_service_api:read"
SCOPE_CREATE = "vismanet_erp_service_api:create"
RATE_LIMIT = 1500
RATE_WINDOW = 3600.0
# The sandbox company's chart of accounts (BAS): what payroll vouchers post to.
DEFAULT_CHART = frozenset(
    {
        "1630", "1910", "1930", "2710", "2730", "2731", "2750", "2790", "2820", "2920",
        "2940", "2941", "3740", "3741", "4711", "4712", "5200", "5800", "6072", "7010",
        "7011", "7082", "7090", "7210", "7220", "7281", "7290", "7321", "7331", "7332",
        "7385", "7389", "7399", "7510", "7519", "7533", "7570", "7690",
    }
)  # fmt: skip

DEFAULT_LEDGERS = [
    {
        "internalId": 1,
        "number": "L1",
        "description": "Faktisk huvudbok",
        "balanceType": "Actual",
        "currencyId": "SEK",
    },
    {
        "internalId": 2,
        "number": "BUD",
        "description": "Budget",
        "balanceType": "Budget",
        "currencyId": "SEK",
    },
]
SEGMENTS = {
    1: {"description": "Kostnadsställe", "length": 10},
    2: {"description": "Projekt", "length": 10},
}
ACCOUNT_RE = re.compile(r"^[0-9]{4}$")
PERIOD_RE = re.compile(r"^(19|20)[0-9]{2}(0[1-9]|1[0-2])$")
MAX_PAGE_SIZE = 100
MODULES = {"GL": "ModuleGL", "AP": "ModuleAP", "AR": "ModuleAR", "CM": "ModuleCM"}


def _error(status: int, message: str, code: str = "", kind: str = "ValidationException"):
    return Response(
        status,
        {
            "ExceptionType": kind,
            "ExceptionMessage": message,
            "ExceptionFaultCode": code or f"{status}00",
            "ExceptionMessageID": secrets.token_hex(8),
        },
    )


def _value(body: dict, name: str):
    wrapped = body.get(name)
    if wrapped is None:
        return None
    if not isinstance(wrapped, dict) or "value" not in wrapped:
        raise ValueError(f"'{name}' must be given as {{\"value\": ...}}.")
    return wrapped["value"]


class VismaSandbox(Sandbox):
    name = "visma"

    def seed(self) -> None:
        # token → granted scopes
        self.tokens: dict[str, set[str]] = {}
        self.batches: list[dict] = []
        self.releases: list[str] = []
        self.contract_errors: list[dict] = []
        self._batch_counter = 0
        self._calls = 0
        self._window_start = time.monotonic()

    def state(self) -> dict:
        return {
            "batches": self.batches,
            "ledgers": self._ledgers(),
            "releases": self.releases,
            "contract_errors": self.contract_errors,
        }

    # configuration ---------------------------------------------------------------------------
    def _ledgers(self) -> list[dict]:
        return self.options.get("ledgers") or DEFAULT_LEDGERS

    def _clients(self) -> dict[str, str]:
        return self.options.get("clients") or {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET}

    def _tenants(self) -> list[str]:
        return self.options.get("tenants") or [DEMO_TENANT_ID]

    def _chart(self) -> set[str]:
        accounts = self.options.get("accounts")
        return set(accounts) if accounts is not None else set(DEFAULT_CHART)

    def _first_month(self) -> int:
        return int(self.options.get("fiscal_year_start_month", 1))

    def _period_bounds(self, period_id: str) -> tuple[datetime.date, datetime.date]:
        year, number = int(period_id[:4]), int(period_id[4:])
        month0 = self._first_month() - 1 + number - 1
        start = datetime.date(year + month0 // 12, month0 % 12 + 1, 1)
        end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        return start, end

    def period_of(self, day: datetime.date) -> str:
        """The period id (YYYYPP) whose dates hold ``day``."""
        months = day.year * 12 + day.month - 1 - (self._first_month() - 1)
        return f"{months // 12:04d}{months % 12 + 1:02d}"

    def _period_exists(self, period_id: str) -> bool:
        return bool(PERIOD_RE.match(period_id)) and period_id not in self.options.get(
            "missing_periods", []
        )

    def _period(self, period_id: str) -> dict:
        start, end = self._period_bounds(period_id)
        zone = _stockholm_offset(start)
        return {
            "periodId": period_id,
            "year": int(period_id[:4]),
            "description": start.strftime("%B %Y"),
            "startDate": f"{start.isoformat()}T00:00:00{zone}",
            "endDate": f"{end.isoformat()}T00:00:00{zone}",
            "active": period_id not in self.options.get("inactive_periods", []),
            "closedInGeneralLedger": period_id in self.options.get("closed_periods", []),
            "closedInAccountsPayable": False,
            "closedInAccountsReceivable": False,
        }

    def _scopes(self, request: Request) -> set[str] | None:
        header = request.header("authorization")
        if not header.startswith("Bearer "):
            return None
        return self.tokens.get(header[7:])

    # Visma Connect ---------------------------------------------------------------------------
    @route("POST", "/connect/token")
    def token(self, request: Request) -> Response:
        if not request.header("content-type").startswith("application/x-www-form-urlencoded"):
            return Response(400, {"error": "invalid_request"})
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret or self._clients().get(client_id) != secret:
            return Response(400, {"error": "invalid_client"})
        if form.get("tenant_id") not in self._tenants():
            return Response(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "tenant_id is missing or not a tenant of the client.",
                },
            )
        asked = set(form.get("scope", "").split())
        if not asked or not asked <= {SCOPE_READ, SCOPE_CREATE}:
            return Response(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = asked
        return Response(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": " ".join(sorted(asked)),
            },
        )

    # ERP API ---------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(("/_sandbox/", "/connect/")):
            return super().dispatch(request)
        scopes = self._scopes(request)
        if scopes is None:
            response = Response(401, {"message": "Authorization has been denied for this request."})
        elif (SCOPE_READ if request.method == "GET" else SCOPE_CREATE) not in scopes:
            response = _error(
                403, "The token lacks the scope this request needs.", "40300", "Forbidden"
            )
        else:
            errors = self._contract_errors(request)
            if errors:
                response = _error(400, "; ".join(errors[:5]), "40000")
            else:
                response = super().dispatch(request)
        return self._rate_limited(response)

    def _contract_errors(self, request: Request) -> list[str]:
        contract = visma_contract()
        if not contract.covers(request.method, request.path):
            return []
        errors = self.contract_breaches(contract, request)
        if (
            not errors
            and request.body
            and request.header("content-type").split(";")[0]
            not in (
                "application/json",
                "text/json",
            )
        ):
            errors = ["The sandbox reads JSON bodies only."]
        if errors:
            self.contract_breaches_record(request, errors)
        return errors

    def _rate_limited(self, response: Response) -> Response:
        with self.lock:
            now = time.monotonic()
            if now - self._window_start >= RATE_WINDOW:
                self._window_start, self._calls = now, 0
            self._calls += 1
            remaining = max(0, RATE_LIMIT - self._calls)
            reset = int(RATE_WINDOW - (now - self._window_start))
        response.headers.setdefault("X-RateLimit-Limit", str(RATE_LIMIT))
        response.headers.setdefault("X-RateLimit-Remaining", str(remaining))
        response.headers.setdefault("X-RateLimit-Reset", str(reset))
        return response

    def _base_url(self, request: Request) -> str:
        return f"http://{request.header('host', '127.0.0.1')}"

    @route("GET", "/v1/ledger")
    def ledger_list(self, request: Request) -> Response:
        return Response(200, self._ledgers())

    @route("GET", "/v1/financialPeriod")
    def financial_period_list(self, request: Request) -> Response:
        years = self.options.get("years") or range(2020, 2031)
        periods = [f"{year:04d}{number:02d}" for year in years for number in range(1, 13)]
        return Response(200, [self._period(p) for p in periods if self._period_exists(p)])

    @route("GET", "/v1/financialPeriod/{period}")
    def financial_period(self, request: Request) -> Response:
        period_id = request.params["period"]
        if not self._period_exists(period_id):
            return _error(404, f"Financial period {period_id} not found.", "40400", "NotFound")
        return Response(200, self._period(period_id))

    @route("GET", "/v2/journaltransaction")
    def journal_list(self, request: Request) -> Response:
        period_id = request.arg("periodId")
        if not period_id and not request.arg("lastModifiedDateTime"):
            return _error(400, "PeriodId or LastModifiedDateTime must be provided.")
        module = request.arg("module")
        if module is not None and module not in MODULES:
            return _error(400, f"Module '{module}' is not valid.")
        cap = int(self.options.get("max_page_size", MAX_PAGE_SIZE))
        page = max(1, int(request.arg("pageNumber", "1")))
        size = min(cap, max(1, int(request.arg("pageSize", str(cap)))))
        status = request.arg("status")
        with self.lock:
            found = [
                b
                for b in self.batches
                if (not period_id or b["financialPeriod"] == period_id)
                and (module is None or b["module"] == MODULES[module])
                and (status is None or b["status"] == status)
            ]
        metadata = {"totalCount": len(found), "maxPageSize": cap}
        return Response(
            200, [{**b, "metadata": metadata} for b in found[(page - 1) * size : page * size]]
        )

    @route("GET", "/v2/journaltransaction/{number}")
    def journal_get(self, request: Request) -> Response:
        with self.lock:
            for batch in self.batches:
                if batch["batchNumber"] == request.params["number"]:
                    return Response(200, batch)
        return _error(404, f"Journal transaction {request.params['number']} not found.", "40400")

    @route("POST", "/v2/journaltransaction")
    def journal_create(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"null", parse_float=Decimal)
            if not isinstance(body, dict):
                raise ValueError("The request body must be a journal transaction object.")
            batch = self._validate(body)
        except ValueError as exc:
            return _error(400, str(exc))
        except _Refusal as exc:
            return _error(400, exc.args[0], exc.args[1])
        with self.lock:
            self._batch_counter += 1
            batch["batchNumber"] = f"{self._batch_counter:06d}"
            batch["lastModifiedDateTime"] = datetime.datetime.now(datetime.UTC).isoformat(
                timespec="seconds"
            )
            self.batches.append(batch)
            fault = self._take_fault("fail_after_create_next")
            drop = self._take_fault("drop_after_create_next")
            omit = self._take_fault("omit_location_next")
        if fault:
            status = int(self.options.get("fail_after_create_status", 504))
            return self.server_error(request, status)
        headers = (
            {}
            if omit
            else {
                "Location": f"{self._base_url(request)}/v2/journaltransaction/"
                f"{batch['batchNumber']}"
            }
        )
        return Response(201, {}, headers=headers, drop=drop)

    def _take_fault(self, name: str) -> bool:
        left = int(self.options.get(name, 0) or 0)
        if left > 0:
            self.options[name] = left - 1
            return True
        return False

    @route("POST", "/v2/journaltransaction/{number}/action/release")
    def journal_release(self, request: Request) -> Response:
        with self.lock:
            for batch in self.batches:
                if batch["batchNumber"] == request.params["number"]:
                    if batch["status"] != "Balanced":
                        return _error(
                            400, f"Batch {batch['batchNumber']} is {batch['status']}.", "40000"
                        )
                    batch["status"] = "Posted"
                    self.releases.append(batch["batchNumber"])
                    return Response(200, {"actionId": secrets.token_hex(8), "actionResult": "Done"})
        return _error(404, f"Journal transaction {request.params['number']} not found.", "40400")

    def _validate(self, body: dict) -> dict:
        """Visma's business rules for a new journal transaction, in Visma's order: the
        period, the ledger and its currency, the date, the lines, the balance. Raises
        :class:`_Refusal`; returns the batch to store."""
        period_id = self._validate_period(body)
        ledger_number, currency = self._validate_ledger(body)
        date_value = str(_value(body, "transactionDate") or "")
        try:
            datetime.datetime.fromisoformat(date_value)
        except ValueError:
            raise _Refusal(f"Transaction date '{date_value}' is not valid.", "1006") from None
        lines = body.get("journalTransactionLines")
        if not isinstance(lines, list) or not lines:
            raise _Refusal("A journal transaction needs at least one line.", "1007")
        stored_lines = [
            self._validate_line(number, line) for number, line in enumerate(lines, start=1)
        ]
        debit_total = sum((x["debitAmountInCurrency"] for x in stored_lines), Decimal("0"))
        credit_total = sum((x["creditAmountInCurrency"] for x in stored_lines), Decimal("0"))
        if debit_total != credit_total:
            raise _Refusal(
                f"The batch is out of balance: debit {debit_total} ≠ credit {credit_total}.",
                "1011",
            )
        return {
            "module": "ModuleGL",
            "status": "Balanced",
            "financialPeriod": period_id,
            "transactionDate": date_value,
            "ledger": ledger_number,
            "currencyId": currency,
            "description": _value(body, "description") or "",
            "debitTotal": debit_total,
            "creditTotal": credit_total,
            "journalTransactionLines": stored_lines,
        }

    def _validate_period(self, body: dict) -> str:
        """The financial period: YYYYMM, known, open in General Ledger and active."""
        period_id = str(_value(body, "financialPeriod") or "")
        if not PERIOD_RE.match(period_id):
            raise _Refusal(f"Financial period '{period_id}' is not valid (YYYYMM).", "1001")
        period = self._period(period_id)
        if period["closedInGeneralLedger"]:
            raise _Refusal(f"The financial period {period_id} is closed in General Ledger.", "1002")
        if not period["active"]:
            raise _Refusal(f"The financial period {period_id} is inactive.", "1003")
        return period_id

    def _validate_ledger(self, body: dict) -> tuple:
        """The ledger (it must exist) and the currency (the ledger's, when given)."""
        ledger_number = _value(body, "ledger")
        ledger = next((x for x in self._ledgers() if x["number"] == ledger_number), None)
        if ledger is None:
            raise _Refusal(f"Ledger '{ledger_number}' was not found.", "1004")
        currency = _value(body, "currencyId") or ledger["currencyId"]
        if currency != ledger["currencyId"]:
            raise _Refusal(
                f"Currency {currency} differs from the ledger's currency {ledger['currencyId']}.",
                "1005",
            )
        return ledger_number, currency

    def _validate_line(self, number: int, line: dict) -> dict:
        """One line (``number`` from 1): an insert, on an account of the chart, with valid
        subaccount segments and a debit or a credit amount; returned as stored."""
        if line.get("operation") != "Insert":
            raise _Refusal(f"Line {number}: operation must be Insert on a new batch.", "1008")
        account = str(_value(line, "accountNumber") or "")
        if not ACCOUNT_RE.match(account) or account not in self._chart():
            raise _Refusal(f"Line {number}: account '{account}' was not found.", "1009")
        segments = self._validate_subaccount(number, line.get("subaccount") or [])
        debit = self._amount(number, _value(line, "debitAmountInCurrency"))
        credit = self._amount(number, _value(line, "creditAmountInCurrency"))
        if debit and credit:
            raise _Refusal(f"Line {number}: give a debit or a credit amount, not both.", "1010")
        return {
            "lineNumber": number,
            "accountNumber": account,
            "subaccount": {"segments": segments},
            "debitAmountInCurrency": debit,
            "creditAmountInCurrency": credit,
            "transactionDescription": _value(line, "transactionDescription") or "",
            "referenceNumber": _value(line, "referenceNumber") or "",
            "project": {"id": _value(line, "project") or ""},
            "quantity": _value(line, "quantity"),
        }

    def _amount(self, number: int, value) -> Decimal:
        if value is None:
            return Decimal("0")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise _Refusal(f"Line {number}: amount '{value}' is not a number.", "1012") from None
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise _Refusal(
                f"Line {number}: amount {value} must be positive with at most two decimals.",
                "1012",
            )
        return amount

    def _validate_subaccount(self, number: int, segments: list) -> list[dict]:
        seen = set()
        known_values = {int(k): v for k, v in (self.options.get("segment_values") or {}).items()}
        out = []
        for segment in segments:
            segment_id = segment.get("segmentId")
            value = str(segment.get("segmentValue") or "")
            if segment_id not in SEGMENTS:
                raise _Refusal(
                    f"Line {number}: subaccount segment {segment_id} does not exist.", "1013"
                )
            if segment_id in seen:
                raise _Refusal(
                    f"Line {number}: subaccount segment {segment_id} given twice.", "1014"
                )
            seen.add(segment_id)
            if not value or len(value) > SEGMENTS[segment_id]["length"]:
                raise _Refusal(
                    f"Line {number}: '{value}' is not a valid value of subaccount segment "
                    f"{segment_id} ({SEGMENTS[segment_id]['description']}).",
                    "1015",
                )
            if segment_id in known_values and value not in known_values[segment_id]:
                raise _Refusal(
                    f"Line {number}: subaccount segment {segment_id} has no value '{value}'.",
                    "1016",
                )
            out.append({"segmentId": segment_id, "segmentValue": value})
        return out

    # errors in Visma's shape -----------------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return _error(404, f"No route for {request.method} {request.path}", "40400", "NotFound")

    def server_error(self, request: Request, status: int) -> Response:
        return _error(status, "Injected server error", f"{status}00", "InternalServerError")

    def too_many_requests(self, request: Request) -> Response:
        reset = self.options.get("rate_limit_reset", 1)
        headers = {
            "X-RateLimit-Limit": "1500",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        }
        if self.faults.retry_after is not None:
            headers["Retry-After"] = str(self.faults.retry_after)
        return Response(429, {"message": "API calls quota exceeded."}, headers=headers)

    def extra_control(self, request: Request) -> Response | None:
        if request.path == "/_sandbox/received" and request.method == "GET":
            with self.lock:
                counts = Counter(b["description"] for b in self.batches)
                return Response(
                    200,
                    {
                        "count": len(self.batches),
                        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
                        "batches": list(self.batches),
                    },
                )
        return None


def _stockholm_offset(day: datetime.date) -> str:
    """The company's offset at midnight of ``day`` (Visma answers local times with it)."""
    moment = datetime.datetime.combine(day, datetime.time(0), tzinfo=ZoneInfo("Europe/Stockholm"))
    return moment.isoformat()[19:]


class _Refusal(Exception):
    """A validation error: (message, fault code)."""
