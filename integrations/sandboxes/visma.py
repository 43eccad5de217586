"""Sandbox of Visma.Net Financials: Visma Connect's token endpoint and the ledger, financial
period and journal-transaction (v2) endpoints, over real HTTP.

It validates like the real service as far as the contract says: value-wrapped fields, a
known ledger and currency, an open and active period, account numbers, subaccount
segments (known ids, values of the segment's length, optionally from a list) and a batch
whose debits equal its credits to the öre. Errors come as ``{"ExceptionType",
"ExceptionMessage", "ExceptionFaultCode"}``; 429 carries ``X-RateLimit-*`` headers.

Options (constructor keywords or ``POST /_sandbox/config``): ``ledgers`` (list of ledger
dicts), ``closed_periods`` / ``inactive_periods`` (YYYYPP lists), ``segment_values``
({segment id: [values]}), ``client_secret`` (credentials are checked when given),
``rate_limit_reset`` (seconds in ``X-RateLimit-Reset``; ``retry_after`` None leaves
``Retry-After`` out). ``GET /_sandbox/received`` lists the batches it holds and counts
duplicate descriptions — the number of vouchers posted twice.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
from collections import Counter
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs

from .base import Request, Response, Sandbox, route

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
        self.tokens: set[str] = set()
        self.batches: list[dict] = []
        self._batch_counter = 0

    def state(self) -> dict:
        return {"batches": self.batches, "ledgers": self._ledgers()}

    # configuration ---------------------------------------------------------------------------
    def _ledgers(self) -> list[dict]:
        return self.options.get("ledgers") or DEFAULT_LEDGERS

    def _period(self, period_id: str) -> dict:
        year, month = int(period_id[:4]), int(period_id[4:])
        start = datetime.date(year, month, 1)
        end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        return {
            "periodId": period_id,
            "year": year,
            "description": start.strftime("%B %Y"),
            "startDate": f"{start.isoformat()}T00:00:00",
            "endDate": f"{end.isoformat()}T00:00:00",
            "active": period_id not in self.options.get("inactive_periods", []),
            "closedInGeneralLedger": period_id in self.options.get("closed_periods", []),
            "closedInAccountsPayable": False,
            "closedInAccountsReceivable": False,
        }

    def _authorized(self, request: Request) -> bool:
        header = request.header("authorization")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    # Visma Connect ---------------------------------------------------------------------------
    @route("POST", "/connect/token")
    def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        if not form.get("client_id") or not form.get("client_secret"):
            return Response(400, {"error": "invalid_client"})
        expected = self.options.get("client_secret")
        if expected and form.get("client_secret") != expected:
            return Response(
                400, {"error": "invalid_client", "error_description": "Invalid client secret."}
            )
        if not form.get("tenant_id"):
            return Response(
                400, {"error": "invalid_request", "error_description": "tenant_id is required."}
            )
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(token)
        return Response(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": form.get("scope", ""),
            },
        )

    # ERP API ---------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith(("/_sandbox/", "/connect/")) and not self._authorized(
            request
        ):
            return Response(401, {"message": "Authorization has been denied for this request."})
        response = super().dispatch(request)
        response.headers.setdefault("X-RateLimit-Limit", "1500")
        response.headers.setdefault("X-RateLimit-Remaining", "1499")
        return response

    @route("GET", "/v1/ledger")
    def ledger_list(self, request: Request) -> Response:
        return Response(200, self._ledgers())

    @route("GET", "/v1/financialPeriod/{period}")
    def financial_period(self, request: Request) -> Response:
        period_id = request.params["period"]
        if not PERIOD_RE.match(period_id):
            return _error(404, f"Financial period {period_id} not found.", "40400", "NotFound")
        return Response(200, self._period(period_id))

    @route("GET", "/v2/journaltransaction")
    def journal_list(self, request: Request) -> Response:
        period_id = request.arg("periodId")
        if not period_id and not request.arg("lastModifiedDateTime"):
            return _error(400, "PeriodId or LastModifiedDateTime must be provided.")
        try:
            page = max(1, int(request.arg("pageNumber", "1")))
            size = min(MAX_PAGE_SIZE, max(1, int(request.arg("pageSize", str(MAX_PAGE_SIZE)))))
        except ValueError:
            return _error(400, "pageNumber and pageSize must be integers.")
        with self.lock:
            found = [b for b in self.batches if not period_id or b["financialPeriod"] == period_id]
        return Response(200, found[(page - 1) * size : page * size])

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
            self.batches.append(batch)
        return Response(
            201,
            None,
            headers={"Location": f"/v2/journaltransaction/{batch['batchNumber']}"},
        )

    def _validate(self, body: dict) -> dict:  # noqa: C901
        period_id = str(_value(body, "financialPeriod") or "")
        if not PERIOD_RE.match(period_id):
            raise _Refusal(f"Financial period '{period_id}' is not valid (YYYYMM).", "1001")
        period = self._period(period_id)
        if period["closedInGeneralLedger"]:
            raise _Refusal(f"The financial period {period_id} is closed in General Ledger.", "1002")
        if not period["active"]:
            raise _Refusal(f"The financial period {period_id} is inactive.", "1003")
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
        date_value = str(_value(body, "transactionDate") or "")
        try:
            datetime.date.fromisoformat(date_value[:10])
        except ValueError:
            raise _Refusal(f"Transaction date '{date_value}' is not valid.", "1006") from None
        lines = body.get("journalTransactionLines")
        if not isinstance(lines, list) or not lines:
            raise _Refusal("A journal transaction needs at least one line.", "1007")
        debit_total = credit_total = Decimal("0")
        stored_lines = []
        for number, line in enumerate(lines, start=1):
            if line.get("operation", "Insert") != "Insert":
                raise _Refusal(f"Line {number}: only Insert is allowed on a new batch.", "1008")
            account = str(_value(line, "accountNumber") or "")
            if not ACCOUNT_RE.match(account):
                raise _Refusal(f"Line {number}: account '{account}' was not found.", "1009")
            segments = self._validate_subaccount(number, line.get("subaccount") or [])
            debit = self._amount(number, _value(line, "debitAmountInCurrency"))
            credit = self._amount(number, _value(line, "creditAmountInCurrency"))
            if debit and credit:
                raise _Refusal(f"Line {number}: give a debit or a credit amount, not both.", "1010")
            debit_total += debit
            credit_total += credit
            stored_lines.append(
                {
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
            )
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


class _Refusal(Exception):
    """A validation error: (message, fault code)."""
