"""What the steps of an import share: the problems so far, an employee as the import
sees it, the register kinds named in messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from ..messages import Text
from ..validation import Problem

COUNTRIES = {"sverige": "SE", "sweden": "SE", "norge": "NO", "danmark": "DK", "finland": "FI"}


class Missing(Exception):
    """A register entry the file names is missing (reported once per value)."""


REGISTER_KINDS = {
    "employee": Text(gettext_noop("employee")),
    "project": Text(gettext_noop("project")),
    "cost_centre": Text(gettext_noop("cost centre")),
    "kategori": Text(gettext_noop("personnel category")),
    "anstform": Text(gettext_noop("employment form")),
    "befattning": Text(gettext_noop("position")),
}


REGISTER_FIELDS = {
    "project": "resenhet dim 6",
    "cost_centre": "resenhet dim 1",
    "kategori": "kategori",
    "anstform": "anstform",
    "befattning": "befattning",
}


class Problems:
    def __init__(self, cap: int) -> None:
        self.cap, self.items, self.count = cap, [], 0

    def add(self, *, line: int, message: str, employee: str = "", field: str = "", element=""):
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append(
                Problem(line=line, message=message, employee=employee, field=field, element=element)
            )

    def add_for(self, record, *, message: str, field: str = "", element="") -> None:
        """A problem of one post or person of the file: at its line, under its employee."""
        self.add(
            line=record.line,
            employee=record.employee,
            message=message,
            field=field,
            element=element,
        )


@dataclass
class Emp:
    id: int
    number: str
    pin: str
    start: dt.date
    end: dt.date | None
    pay_form: str
