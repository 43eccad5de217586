"""Client of the payroll system's web service (the contract is ``docs/payroll-api.md``).

Everything flexbridge asks the payroll system goes through :class:`PayrollClient`: its
registers and switches for the switchover's checks, its employees for the export into HR,
and the upserts of the sync when HR is master.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from .base import AnswerLost, BaseClient, OutsideSystemError, TransientError

__all__ = [
    "AnswerLost",
    "EmployeePage",
    "OutsideSystemError",
    "PayrollClient",
    "PayrollEmployee",
    "PayrollSettings",
    "TransientError",
    "UpsertResult",
]

EMPLOYEE_FIELDS = (
    "employee_number",
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
    "termination_reason",
    "employment_rates",
    "home_accounting",
)


@dataclass
class PayrollEmployee:
    employee_number: str
    personal_identity_number: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    private_email: str = ""
    phone: str = ""
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    clearing_number: str = ""
    bank_account_number: str = ""
    position: str = ""
    personnel_category: str = ""
    employment_form: str = ""
    person_template: str = ""
    employment_start: str | None = None
    employment_end: str | None = None
    termination_reason: str = ""
    employment_rates: list[dict] = field(default_factory=list)
    home_accounting: list[dict] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> PayrollEmployee:
        values = {name: data.get(name) for name in EMPLOYEE_FIELDS if name in data}
        for name, value in list(values.items()):
            if value is None and name not in ("employment_start", "employment_end"):
                values[name] = [] if name in ("employment_rates", "home_accounting") else ""
        return cls(**values)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def is_ended(self) -> bool:
        return bool(self.employment_end) and self.employment_end < dt.date.today().isoformat()


@dataclass
class PayrollSettings:
    name_order: str
    export_personal_data: bool
    export_balances: bool
    use_hr_web_service: bool
    integration_username: str = "FlexIntegrationHRM"


@dataclass
class EmployeePage:
    items: list[PayrollEmployee]
    page: int
    page_size: int
    total: int
    has_more: bool


@dataclass
class UpsertResult:
    employee: PayrollEmployee
    created: bool
    notices: list[dict]


class PayrollClient(BaseClient):
    system = "Payroll system"

    def __init__(self, base_url: str, *, token: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.token = token

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def parse_error(self, response: httpx.Response) -> OutsideSystemError:
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or response.reason_phrase)
            details = error.get("details")
            if details:
                message += " " + "; ".join(f"{k}: {v}" for k, v in dict(details).items())
            code = error.get("code")
        else:
            message = (
                str(body.get("message")) if isinstance(body, dict) and body.get("message") else ""
            ) or response.reason_phrase
            code = None
        return self.answer_error(response, message, code=code, body=body)

    # registers -------------------------------------------------------------------------------
    def _items(self, path: str) -> list[dict]:
        return list(self.request("GET", path).json()["items"])

    def personnel_categories_list(self) -> list[dict]:
        return self._items("/v1/personnel-categories")

    def employment_forms_list(self) -> list[dict]:
        return self._items("/v1/employment-forms")

    def person_templates_list(self) -> list[dict]:
        return self._items("/v1/person-templates")

    def salary_codes_list(self) -> list[dict]:
        return self._items("/v1/salary-codes")

    def users_list(self) -> list[dict]:
        return self._items("/v1/users")

    # settings --------------------------------------------------------------------------------
    def settings_get(self) -> PayrollSettings:
        return PayrollSettings(**self.request("GET", "/v1/settings").json())

    def settings_set(self, **switches: bool) -> PayrollSettings:
        response = self.request("PATCH", "/v1/settings", json=switches, idempotent=True)
        return PayrollSettings(**response.json())

    # employees -------------------------------------------------------------------------------
    def employees_page(
        self, *, page: int = 1, page_size: int = 500, include_ended: bool = True
    ) -> EmployeePage:
        data = self.request(
            "GET",
            "/v1/employees",
            params={
                "page": page,
                "page_size": page_size,
                "include_ended": "true" if include_ended else "false",
            },
        ).json()
        return EmployeePage(
            items=[PayrollEmployee.from_json(item) for item in data["items"]],
            page=data["page"],
            page_size=data["page_size"],
            total=data["total"],
            has_more=data["has_more"],
        )

    def employees_iter(
        self, *, page_size: int = 500, include_ended: bool = True, start_page: int = 1
    ) -> Iterator[EmployeePage]:
        page = start_page
        while True:
            result = self.employees_page(
                page=page, page_size=page_size, include_ended=include_ended
            )
            yield result
            if not result.has_more:
                return
            page += 1

    def employee_get(self, *, employee_number: str) -> PayrollEmployee | None:
        try:
            response = self.request("GET", f"/v1/employees/{employee_number}")
        except OutsideSystemError as exc:
            if exc.status == 404:
                return None
            raise
        return PayrollEmployee.from_json(response.json())

    def employee_upsert(self, *, employee_number: str, data: dict) -> UpsertResult:
        response = self.request(
            "PUT", f"/v1/employees/{employee_number}", json=data, idempotent=True
        )
        body = response.json()
        return UpsertResult(
            employee=PayrollEmployee.from_json(body["employee"]),
            created=bool(body.get("created")),
            notices=list(body.get("notices") or []),
        )

    def employee_upsert_raw(self, *, employee_number: str, body: bytes) -> UpsertResult:
        """Send exactly these bytes (an outbox row's stored payload), so a resend is identical."""
        response = self.request(
            "PUT",
            f"/v1/employees/{employee_number}",
            content=body,
            headers={"Content-Type": "application/json"},
            idempotent=True,
        )
        answer = response.json()
        return UpsertResult(
            employee=PayrollEmployee.from_json(answer["employee"]),
            created=bool(answer.get("created")),
            notices=list(answer.get("notices") or []),
        )

    def employee_change_number(
        self, *, employee_number: str, new_employee_number: str
    ) -> PayrollEmployee:
        """Change a number in payroll. After a lost answer, look the new number up first."""
        try:
            response = self.request(
                "POST",
                f"/v1/employees/{employee_number}/employee-number",
                json={"new_employee_number": new_employee_number},
            )
        except AnswerLost:
            found = self.employee_get(employee_number=new_employee_number)
            if found is not None and self.employee_get(employee_number=employee_number) is None:
                return found
            raise
        return PayrollEmployee.from_json(response.json()["employee"])

    def home_accounting_set(
        self, *, employee_number: str, cost_center: str, project: str, valid_on: dt.date
    ) -> PayrollEmployee:
        response = self.request(
            "PUT",
            f"/v1/employees/{employee_number}/home-accounting",
            json={"cost_center": cost_center, "project": project, "valid_on": str(valid_on)},
            idempotent=True,
        )
        return PayrollEmployee.from_json(response.json()["employee"])

    # payroll runs (demo data for payslips) ---------------------------------------------------
    def payroll_runs_list(self, *, payment_date: dt.date) -> list[dict]:
        response = self.request(
            "GET", "/v1/payroll-runs", params={"payment_date": payment_date.isoformat()}
        )
        return list(response.json()["items"])
