"""A sandbox payroll system implementing ``docs/payroll-api.md`` over real HTTP.

Seeded, by default, with registers and employees that differ from the HR demo data in the
ways the switchover seed warns about: a personnel category HR has and payroll lacks
(``KONS``), an employment form without LAS settings (``VIK``), missing and malformed
emails, person templates whose names do not match HR's employment templates, an
hourly-wage salary code in use, an employment rate without a start date, missing bank
details and positions. ``PayrollSandbox(differences=False)`` seeds the same registers with
none of those (tests start there and break one thing at a time).

Options: ``employees`` (how many, default 24), ``token`` (accepted bearer token, default
``sandbox-token``), ``differences`` (default True), plus the fault options of the base.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal

from .base import Request, Response, Sandbox, route

FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Anders", "Eva", "Johan", "Sara", "Nils"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson"]
CITIES = [("11122", "Stockholm"), ("41101", "Göteborg"), ("21120", "Malmö"), ("75310", "Uppsala")]
POSITIONS = ["Lönekonsult", "Snickare", "Projektledare", "Ekonom", "Säljare"]
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SWITCHES = ("export_personal_data", "export_balances", "use_hr_web_service")
WRITABLE = {
    "personal_identity_number",
    "first_name",
    "last_name",
    "email",
    "private_email",
    "phone",
    "street_address",
    "postal_code",
    "city",
    "clearing_number",
    "bank_account_number",
    "position",
    "personnel_category",
    "employment_form",
    "person_template",
    "employment_start",
    "employment_end",
    "employment_rates",
}


def _pin(index: int) -> str:
    """A valid-looking personal identity number (Luhn check digit) for employee ``index``."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=(index * 97) % 14000)
    serial = f"{(index % 997) + 2:03d}"
    digits = born.strftime("%y%m%d") + serial
    total = 0
    for position, char in enumerate(digits):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    check = (10 - total % 10) % 10
    return f"{born:%Y%m%d}-{serial}{check}"


class PayrollSandbox(Sandbox):
    name = "payroll"

    # store -------------------------------------------------------------------------------
    def seed(self) -> None:
        differences = bool(self.options.get("differences", True))
        count = int(self.options.get("employees", 24))
        self.categories = [
            {"code": "STD", "name": "Standard"},
            {"code": "TJM", "name": "Tjänstemän"},
            {"code": "ARB", "name": "Arbetare"},
        ]
        las = {"las_type": "general", "ava": True}
        self.forms = [
            {"code": "TV", "name": "Tillsvidare", "las_settings": las},
            {"code": "PRO", "name": "Provanställning", "las_settings": las},
            {"code": "TIM", "name": "Timanställning", "las_settings": las},
        ]
        self.templates = [
            {
                "code": "1",
                "name": "Tjänsteman",
                "personnel_category": "TJM",
                "employment_form": "TV",
            },
            {"code": "2", "name": "Arbetare", "personnel_category": "ARB", "employment_form": "TV"},
        ]
        self.salary_codes = [
            {"code": "110", "name": "Månadslön", "kind": "monthly_wage", "in_use": False},
            {"code": "120", "name": "Timlön", "kind": "hourly_wage", "in_use": False},
            {"code": "310", "name": "Övertid", "kind": "other", "in_use": True},
        ]
        self.users = [{"username": "FlexIntegrationHRM", "active": True}]
        self.settings = {
            "name_order": "first_last",
            "export_personal_data": True,
            "export_balances": True,
            "use_hr_web_service": True,
            "integration_username": "FlexIntegrationHRM",
        }
        self.employees: dict[str, dict] = {}
        for index in range(count):
            record = self._make_employee(index)
            self.employees[record["employee_number"]] = record
        self._order: list[str] | None = None
        self.payroll_runs: dict[str, list[dict]] = {}
        if differences:
            self.forms.append({"code": "VIK", "name": "Vikariat", "las_settings": None})
            self.templates[1]["name"] = "Kollektivanställd"
            self.templates.append(
                {
                    "code": "9",
                    "name": "Konsult",
                    "personnel_category": "STD",
                    "employment_form": "TV",
                }
            )
            self.salary_codes[1]["in_use"] = True
            specials = {
                3: {"email": ""},
                7: {"email": "erik.karlsson.example.se"},
                9: {"employment_form": "VIK"},
                13: {"clearing_number": "", "bank_account_number": ""},
                15: {"position": ""},
                17: {"employment_rates": [{"start_date": None, "percent": "80.00"}]},
            }
            numbers = sorted(self.employees)
            for index, change in specials.items():
                if index < len(numbers):
                    self.employees[numbers[index]].update(change)

    def _make_employee(self, index: int) -> dict:
        first = FIRST[index % len(FIRST)]
        last = LAST[(index // len(FIRST)) % len(LAST)]
        postal, city = CITIES[index % len(CITIES)]
        start = dt.date(2015, 1, 1) + dt.timedelta(days=(index * 37) % 3000)
        ended = index % 6 == 5
        category = "TJM" if index % 3 else "ARB"
        return {
            "employee_number": str(1001 + index),
            "personal_identity_number": _pin(index),
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}{index}@example.se".lower(),
            "private_email": "",
            "phone": f"070-{1000000 + index:07d}",
            "street_address": f"Storgatan {index % 90 + 1}",
            "postal_code": postal,
            "city": city,
            # Nordea personkonto: clearing 3300, the account is the 10-digit identity number.
            "clearing_number": "3300",
            "bank_account_number": _pin(index)[2:].replace("-", ""),
            "position": POSITIONS[index % len(POSITIONS)],
            "personnel_category": category,
            "employment_form": "TV" if index % 4 else "PRO",
            "person_template": "1" if category == "TJM" else "2",
            "employment_start": start.isoformat(),
            "employment_end": "2024-06-30" if ended else None,
            "termination_reason": "Egen begäran" if ended else "",
            "employment_rates": [{"start_date": start.isoformat(), "percent": "100.00"}],
            "home_accounting": [
                {"cost_center": "100", "project": "", "percent": "75.00"},
                {"cost_center": "200", "project": "", "percent": "25.00"},
            ]
            if index % 5 == 0
            else [{"cost_center": "100", "project": "", "percent": "100.00"}],
            "updated_at": "2025-09-30T10:00:00Z",
        }

    def state(self) -> dict:
        return {
            "personnel_categories": self.categories,
            "employment_forms": self.forms,
            "person_templates": self.templates,
            "salary_codes": self.salary_codes,
            "users": self.users,
            "settings": self.settings,
            "employee_count": len(self.employees),
            "employees": dict(list(self.employees.items())[:200]),
        }

    def _sorted_numbers(self) -> list[str]:
        if self._order is None:
            self._order = sorted(self.employees, key=lambda n: (len(n), n))
        return self._order

    # error shapes --------------------------------------------------------------------------
    @staticmethod
    def error(status: int, code: str, message: str, details: dict | None = None) -> Response:
        return Response(status, {"error": {"code": code, "message": message, "details": details}})

    def not_found(self, request: Request) -> Response:
        return self.error(404, "NOT_FOUND", f"No route for {request.method} {request.path}")

    def server_error(self, request: Request, status: int) -> Response:
        return self.error(status, "UNAVAILABLE", "The payroll service is temporarily unavailable")

    def too_many_requests(self, request: Request) -> Response:
        response = self.error(429, "RATE_LIMITED", "Too many requests")
        if self.faults.retry_after is not None:
            response.headers["Retry-After"] = str(self.faults.retry_after)
        return response

    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith("/_sandbox/"):
            token = self.options.get("token", "sandbox-token")
            if request.header("authorization") != f"Bearer {token}":
                return self.error(401, "UNAUTHORIZED", "Missing or wrong bearer token")
        return super().dispatch(request)

    # registers -----------------------------------------------------------------------------
    @route("GET", "/v1/personnel-categories")
    def categories_list(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"items": copy.deepcopy(self.categories)})

    @route("GET", "/v1/employment-forms")
    def forms_list(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"items": copy.deepcopy(self.forms)})

    @route("GET", "/v1/person-templates")
    def templates_list(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"items": copy.deepcopy(self.templates)})

    @route("GET", "/v1/salary-codes")
    def salary_codes_list(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"items": copy.deepcopy(self.salary_codes)})

    @route("GET", "/v1/users")
    def users_list(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"items": copy.deepcopy(self.users)})

    @route("GET", "/v1/settings")
    def settings_get(self, request: Request) -> Response:
        with self.lock:
            return Response(200, dict(self.settings))

    @route("PATCH", "/v1/settings")
    def settings_patch(self, request: Request) -> Response:
        data = request.json() or {}
        bad = {key: "not a writable switch" for key in data if key not in SWITCHES}
        bad.update(
            {
                k: "must be true or false"
                for k in data
                if k in SWITCHES and not isinstance(data[k], bool)
            }
        )
        if bad:
            return self.error(422, "VALIDATION", "Invalid settings", bad)
        with self.lock:
            self.settings.update(data)
            return Response(200, dict(self.settings))

    # employees -----------------------------------------------------------------------------
    @route("GET", "/v1/employees")
    def employees_list(self, request: Request) -> Response:
        try:
            page = max(1, int(request.arg("page", "1")))
            page_size = min(1000, max(1, int(request.arg("page_size", "500"))))
        except ValueError:
            return self.error(400, "VALIDATION", "page and page_size must be integers")
        include_ended = request.arg("include_ended", "false") == "true"
        today = dt.date.today().isoformat()
        with self.lock:
            numbers = self._sorted_numbers()
            if not include_ended:
                numbers = [
                    n
                    for n in numbers
                    if not self.employees[n]["employment_end"]
                    or self.employees[n]["employment_end"] >= today
                ]
            chunk = numbers[(page - 1) * page_size : page * page_size]
            items = [copy.deepcopy(self.employees[n]) for n in chunk]
            total = len(numbers)
        return Response(
            200,
            {
                "items": items,
                "page": page,
                "page_size": page_size,
                "total": total,
                "has_more": page * page_size < total,
            },
        )

    @route("GET", "/v1/employees/{number}")
    def employee_get(self, request: Request) -> Response:
        with self.lock:
            record = self.employees.get(request.params["number"])
            if record is None:
                return self.error(404, "EMPLOYEE_NOT_FOUND", "No such employee number")
            return Response(200, copy.deepcopy(record))

    @route("PUT", "/v1/employees/{number}")
    def employee_put(self, request: Request) -> Response:
        number = request.params["number"]
        try:
            data = request.json() or {}
        except ValueError:
            return self.error(400, "VALIDATION", "Body is not JSON")
        problems = {}
        for key in ("email", "private_email"):
            if data.get(key) and not EMAIL_RE.match(str(data[key])):
                problems[key] = f"'{data[key]}' is not a valid email address"
        for row in data.get("employment_rates") or []:
            if not row.get("start_date"):
                problems["employment_rates"] = "every employment rate needs a start date"
        if problems:
            return self.error(422, "VALIDATION", "The employee was not saved", problems)
        notices = []
        with self.lock:
            record = self.employees.get(number)
            created = record is None
            if created:
                template = next(
                    (t for t in self.templates if t["code"] == data.get("person_template")),
                    self.templates[0],
                )
                record = self._make_employee(0)
                record.update(
                    {
                        "employee_number": number,
                        "email": "",
                        "termination_reason": "",
                        "personnel_category": template["personnel_category"],
                        "employment_form": template["employment_form"],
                        "person_template": template["code"],
                        "home_accounting": [],
                    }
                )
            values = {k: v for k, v in data.items() if k in WRITABLE}
            category = values.get("personnel_category")
            if category and category not in {c["code"] for c in self.categories}:
                notices.append(
                    {
                        "code": "CATEGORY_FALLBACK",
                        "message": f"Personnel category {category} is missing; STD used.",
                    }
                )
                values["personnel_category"] = "STD"
            form = values.get("employment_form")
            if form and form not in {f["code"] for f in self.forms}:
                self.forms.append({"code": form, "name": form, "las_settings": None})
                notices.append(
                    {
                        "code": "EMPLOYMENT_FORM_CREATED",
                        "message": f"Employment form {form} created without LAS settings.",
                    }
                )
            record.update(values)
            record["updated_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.employees[number] = record
            if created:
                self._order = None
            body = {"employee": copy.deepcopy(record), "created": created, "notices": notices}
        return Response(201 if created else 200, body)

    @route("POST", "/v1/employees/{number}/employee-number")
    def employee_number_change(self, request: Request) -> Response:
        number = request.params["number"]
        new = str((request.json() or {}).get("new_employee_number") or "").strip()
        if not new:
            return self.error(422, "VALIDATION", "new_employee_number is required")
        with self.lock:
            if number not in self.employees:
                return self.error(404, "EMPLOYEE_NOT_FOUND", "No such employee number")
            if new in self.employees:
                return self.error(409, "NUMBER_TAKEN", f"Employee number {new} is already used")
            record = self.employees.pop(number)
            record["employee_number"] = new
            self.employees[new] = record
            self._order = None
            return Response(200, {"employee": copy.deepcopy(record)})

    @route("PUT", "/v1/employees/{number}/home-accounting")
    def home_accounting_put(self, request: Request) -> Response:
        data = request.json() or {}
        with self.lock:
            record = self.employees.get(request.params["number"])
            if record is None:
                return self.error(404, "EMPLOYEE_NOT_FOUND", "No such employee number")
            record["home_accounting"] = [
                {
                    "cost_center": str(data.get("cost_center") or ""),
                    "project": str(data.get("project") or ""),
                    "percent": "100.00",
                }
            ]
            return Response(200, {"employee": copy.deepcopy(record)})

    # payroll runs --------------------------------------------------------------------------
    @route("GET", "/v1/payroll-runs")
    def payroll_runs(self, request: Request) -> Response:
        try:
            payment_date = dt.date.fromisoformat(request.arg("payment_date") or "")
        except ValueError:
            return self.error(400, "VALIDATION", "payment_date must be YYYY-MM-DD")
        if payment_date.day != 25:
            return Response(200, {"items": []})
        with self.lock:
            key = payment_date.isoformat()
            if key not in self.payroll_runs:
                self.payroll_runs[key] = [self._make_run(payment_date)]
            return Response(200, {"items": copy.deepcopy(self.payroll_runs[key])})

    def _make_run(self, payment_date: dt.date) -> dict:
        start = payment_date.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        today = dt.date.today()
        payslips = []
        for number in self._sorted_numbers()[:50]:
            record = self.employees[number]
            if record["employment_end"] and record["employment_end"] < start.isoformat():
                continue
            monthly = Decimal(28000 + (int(number) % 13) * 1000)
            overtime = Decimal(int(number) % 4) * Decimal("350.00")
            gross = monthly + overtime
            tax = (gross * Decimal("0.30")).quantize(Decimal("0.01"))
            lines = [
                {
                    "salary_type": "110",
                    "description": "Månadslön",
                    "quantity": "1.00",
                    "unit_price": f"{monthly:.2f}",
                    "amount": f"{monthly:.2f}",
                }
            ]
            if overtime:
                lines.append(
                    {
                        "salary_type": "310",
                        "description": "Övertid",
                        "quantity": f"{int(number) % 4:.2f}",
                        "unit_price": "350.00",
                        "amount": f"{overtime:.2f}",
                    }
                )
            payslips.append(
                {
                    "employee_number": number,
                    "gross": f"{gross:.2f}",
                    "tax": f"{tax:.2f}",
                    "net": f"{gross - tax:.2f}",
                    "lines": lines,
                }
            )
        return {
            "id": f"run-{payment_date.isoformat()}",
            "payment_date": payment_date.isoformat(),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "status": "preliminary"
            if (payment_date.year, payment_date.month) >= (today.year, today.month)
            else "final",
            "payslips": payslips,
        }
