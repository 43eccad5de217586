"""A registration being validated (:class:`Draft`), what a rule finds (:class:`Finding`)
and the error that stops a registration (:class:`TimeRegistrationRejected`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flexbridge.errors import DomainError

from ..models import AccountingDimensionValue, Project, TimeCode

WARNING = "warning"
ERROR = "error"
KIND_TIME = "time"
KIND_TRAVEL = "travel"
KIND_PAY = "pay"
KINDS = (KIND_TIME, KIND_TRAVEL, KIND_PAY)


@dataclass(frozen=True)
class Finding:
    """One outcome of a rule: ``level`` is "warning" (saved) or "error" (not saved)."""

    level: str
    rule: str
    message: str
    project: str | None = None

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "rule": self.rule,
            "project": self.project,
            "message": self.message,
        }


class TimeRegistrationRejected(DomainError):
    """The registration broke a rule that stops it; ``errors`` says which."""

    code = "registration_rejected"

    def __init__(self, errors: list[Finding]):
        self.errors = errors
        super().__init__("; ".join(f.message for f in errors))

    @property
    def message(self) -> str:
        return " ".join(f.message for f in self.errors)

    @property
    def fields(self) -> dict:
        return {
            "rules": [f.as_dict() for f in self.errors],
            "project": self.errors[0].project if self.errors else None,
        }


@dataclass
class Draft:
    """A registration being validated, with the defaults already laid out."""

    company_id: int
    employee: object
    date: dt.date
    time_code: TimeCode | None
    hours: Decimal
    project: Project | None
    values: dict[int, AccountingDimensionValue | None]
    internal_comment: str = ""
    external_comment: str = ""
    billable: bool = False
    reviewed: bool = False
    billing_price: Decimal | None = None
    chain: list[Project] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    kind: str = KIND_TIME
    user: object = None

    def add(self, level: str, rule: str, message: str) -> None:
        code = self.project.code if self.project else None
        self.findings.append(Finding(level, rule, message, code))
