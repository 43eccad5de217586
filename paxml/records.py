"""Typed records of a PAXml 2.0 file, one dataclass per kind of post.

The reader yields them one at a time; the writer takes the same classes. Values are typed
(``Decimal`` for amounts and hours, ``date``/``datetime``/``time``), and ``line`` is the
line of the element in the file so every message can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from flexbridge.masking import mask_personal_identity_number

# resenheter as ((dim, id), ...): dim 1 = cost centre, dim 6 = project (as in SIE).
ResultUnits = tuple[tuple[int, str], ...]

COST_CENTRE_DIM = 1
PROJECT_DIM = 6


def result_unit(units: ResultUnits, dim: int) -> str:
    for unit_dim, unit_id in units:
        if unit_dim == dim:
            return unit_id
    return ""


@dataclass(slots=True)
class EmployeeRef:
    """What every per-employee post carries: ``anstid`` and/or ``persnr``."""

    anstid: str = ""
    persnr: str = ""
    line: int = 0

    @property
    def employee(self) -> str:
        """A label for messages: the employee number, else the masked persnr."""
        return self.anstid or mask_personal_identity_number(self.persnr)


@dataclass(slots=True)
class Nyexport:
    datum: date
    datumfrom: date | None = None
    datumtom: date | None = None

    @property
    def period(self) -> tuple[date, date]:
        """The period the re-export replaces (a single day when only ``datum`` is given)."""
        return (self.datumfrom or self.datum, self.datumtom or self.datum)


@dataclass(slots=True)
class Header:
    version: str = "2.0"
    format: str = ""
    datum: datetime | None = None
    nyexport: Nyexport | None = None
    foretagid: str = ""
    foretagorgnr: str = ""
    foretagnamn: str = ""
    programnamn: str = ""
    programlicens: str = ""
    # the other optional text fields (postadress, ort, epost ...), by element name
    extra: dict[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass(slots=True)
class Dimension:
    dim: int
    namn: str
    info: str = ""
    line: int = 0


@dataclass(slots=True)
class ResultUnit:
    dim: int
    id: str
    namn: str
    info: str = ""
    delete: bool = False
    line: int = 0


@dataclass(slots=True)
class CodeName:
    id: str
    namn: str
    info: str = ""
    line: int = 0


@dataclass(slots=True)
class TravelTransaction(EmployeeRef):
    """``resetrans``: read, not imported (travel-expense systems take these)."""

    postid: int | None = None
    tidpunkt: datetime | None = None
    resekod: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    resenheter: ResultUnits = ()


@dataclass(slots=True)
class Marker(EmployeeRef):
    """``klar`` / ``attesterat`` inside ``tidtransaktioner``: read, not imported."""

    kind: str = "klar"
    postid: int | None = None
    datum: date | None = None
    datumfrom: date | None = None
    datumtom: date | None = None


@dataclass(slots=True)
class TimeTransaction(EmployeeRef):
    tidkod: str = ""
    postid: int | None = None
    datum: date | None = None
    datumfrom: date | None = None
    datumtom: date | None = None
    starttid: datetime | None = None
    sluttid: datetime | None = None
    timmar: Decimal | None = None
    omfattning: Decimal | None = None
    barn: str = ""
    samlingsid: str = ""
    semgrund: bool | None = None
    kontonr: str = ""
    kundnr: str = ""
    resenheter: ResultUnits = ()
    info: str = ""

    @property
    def first_date(self) -> date | None:
        return self.datum or self.datumfrom or (self.starttid.date() if self.starttid else None)

    @property
    def last_date(self) -> date | None:
        return self.datum or self.datumtom or (self.sluttid.date() if self.sluttid else None)


@dataclass(slots=True)
class SalaryTransaction(EmployeeRef):
    postid: int | None = None
    lonkod: str = ""
    lonart: str = ""
    benamning: str = ""
    kommentar: str = ""
    datum: date | None = None
    datumfrom: datetime | None = None
    datumtom: datetime | None = None
    antal: Decimal | None = None
    apris: Decimal | None = None
    belopp: Decimal | None = None
    varugrupp: str = ""
    moms: Decimal | None = None
    samlingsid: str = ""
    kontonr: str = ""
    kundnr: str = ""
    resenheter: ResultUnits = ()
    info: str = ""

    @property
    def first_date(self) -> date | None:
        return self.datum or (self.datumfrom.date() if self.datumfrom else None)

    @property
    def last_date(self) -> date | None:
        return self.datum or (self.datumtom.date() if self.datumtom else None) or self.first_date


@dataclass(slots=True)
class ScheduleDay(EmployeeRef):
    """One ``schema/dag``; the employee comes from the enclosing ``schema``."""

    datum: date | None = None
    starttid: time | None = None
    sluttid: time | None = None
    timmar: Decimal | None = None


@dataclass(slots=True)
class DatedValue:
    value: Decimal
    datum: date | None = None


@dataclass(slots=True)
class Person(EmployeeRef):
    """``personal/person``. ``values`` holds only the elements present in the file, typed
    (text, ``date``, ``Decimal``, ``int``, ``bool`` or :class:`DatedValue` for ``manlon``,
    ``timlon`` and ``sysgrad``): an element left out must leave the receiver's value as it is.
    """

    delete: bool = False
    values: dict[str, object] = field(default_factory=dict)
    personbelopp: list[tuple[str, Decimal, date | None]] = field(default_factory=list)
    persontexter: list[tuple[str, str]] = field(default_factory=list)
    resenheter: ResultUnits = ()

    def has(self, name: str) -> bool:
        return name in self.values


@dataclass(slots=True)
class Payslip(EmployeeRef):
    """``loneutbetalning/lonebesked`` (LÖNUT): read, not imported."""

    fields: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Balance(EmployeeRef):
    """``saldon/saldo`` (LÖNUT): read, not imported."""

    datum: date | None = None
    values: dict[str, Decimal] = field(default_factory=dict)
    info: str = ""


Record = (
    Header
    | Dimension
    | ResultUnit
    | CodeName
    | TravelTransaction
    | Marker
    | TimeTransaction
    | SalaryTransaction
    | ScheduleDay
    | Person
    | Payslip
    | Balance
)
