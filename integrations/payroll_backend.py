"""The payroll system behind one interface, whichever way it is reached.

``payroll_client_for(link=)`` gives the web-service client (``clients/payroll.py``). Payroll
systems that only take PAXml files (Fortnox Lön and others) get :class:`PaxmlFileBackend`,
with the same read/upsert methods the switchover and the sync use, backed by the PAXml
module's personnel register import/export.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.utils.translation import gettext as _

from flexbridge.errors import DomainError
from paxml.personnel import ordered, person_record
from paxml.reader import read_records
from paxml.records import DatedValue, Header, Person
from paxml.writer import PaxmlWriter

from .clients.config import client_options
from .clients.outbound import OutboundPolicy, private_addresses_allowed
from .clients.payroll import EmployeePage, PayrollClient, PayrollEmployee
from .models import PayrollLink


class PayrollLinkMissing(DomainError):
    """The company has no usable payroll link."""

    code = "payroll_link_missing"
    http_status = 409


def payroll_client_for(*, link: PayrollLink) -> PayrollClient:
    if link.variant == PayrollLink.Variant.PAXML_FILE:
        raise PayrollLinkMissing(
            _("This payroll link exchanges PAXml files; it has no web service to call.")
        )
    if not link.base_url:
        raise PayrollLinkMissing(_("The payroll link has no base URL."))
    return PayrollClient(
        link.base_url,
        token=link.api_token,
        **client_options("payroll"),
        outbound=OutboundPolicy(allow_private=private_addresses_allowed(link=link)),
    )


# PAXml ``person`` element ↔ the payroll employee's fields (docs/payroll-api.md).
PAXML_PERSON_FIELDS = {
    "fornamn": "first_name",
    "efternamn": "last_name",
    "epostarb": "email",
    "eposthem": "private_email",
    "mobiltelefon": "phone",
    "postadress": "street_address",
    "postnr": "postal_code",
    "ort": "city",
    "bankclearing": "clearing_number",
    "bankkonto": "bank_account_number",
    "befattning": "position",
    "kategori": "personnel_category",
    "anstform": "employment_form",
}


class PaxmlFileBackend:
    """The file-based variant: the personnel register in and out as PAXml, through the
    PAXml module's reader and writer (``paxml.reader`` / ``paxml.writer``).

    Reading parses a personnel file exported from the payroll system (``<personal>``
    posts); writing collects upserts and renders one personnel file for the payroll system
    to import. Switches, users, registers and salary codes do not exist in a file: the
    switchover shows the checks that need them as not checkable and the switches as manual
    steps (``file_based``), and reads the rest through the same methods as the web-service
    client (``employees_page``/``employees_iter``/``employee_get``).
    """

    file_based = True

    def __init__(self, *, content: bytes | None = None) -> None:
        self.content = content
        self.pending: list[dict] = []
        self._people: list[PayrollEmployee] | None = None
        # Employee number → the wage elements (``timlon``/``manlon``) the file carries.
        self.wages: dict[str, list[str]] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def close(self) -> None:
        return None

    def _read(self) -> list[PayrollEmployee]:
        if self._people is None:
            self._people = self._parse()
        return self._people

    def _parse(self) -> list[PayrollEmployee]:
        if not self.content:
            return []
        records, reader = read_records(self.content)
        if not reader.ok:
            raise PayrollLinkMissing(
                _("The PAXml file could not be read: %(problems)s")
                % {"problems": "; ".join(str(p) for p in reader.problems[:5])}
            )
        people = []
        for record in records:
            if not isinstance(record, Person) or record.delete:
                continue
            values = record.values
            data = {
                "employee_number": record.anstid,
                "personal_identity_number": record.persnr,
                **{
                    name: str(values[tag])
                    for tag, name in PAXML_PERSON_FIELDS.items()
                    if values.get(tag) not in (None, "")
                },
            }
            if values.get("anstdatum"):
                data["employment_start"] = values["anstdatum"].isoformat()
            if values.get("avgdatum"):
                data["employment_end"] = values["avgdatum"].isoformat()
            rate = values.get("sysgrad")
            if rate is not None:
                data["employment_rates"] = [
                    {
                        "start_date": rate.datum.isoformat() if rate.datum else None,
                        "percent": f"{rate.value:.2f}",
                    }
                ]
            wages = [tag for tag in ("timlon", "manlon") if values.get(tag) is not None]
            if wages:
                self.wages[record.anstid] = wages
            people.append(PayrollEmployee.from_json(data))
        return people

    def employees_iter(
        self, *, page_size: int = 500, include_ended: bool = True, start_page: int = 1
    ):
        page = start_page
        while True:
            current = self.employees_page(page=page, page_size=page_size)
            if current.items or page == start_page:
                yield current
            if not current.has_more:
                return
            page += 1

    def employee_get(self, *, employee_number: str) -> PayrollEmployee | None:
        return next((p for p in self._read() if p.employee_number == employee_number), None)

    def employees_page(
        self, *, page: int = 1, page_size: int = 500, include_ended: bool = True
    ) -> EmployeePage:
        records = self._read()
        chunk = records[(page - 1) * page_size : page * page_size]
        return EmployeePage(
            items=chunk,
            page=page,
            page_size=page_size,
            total=len(records),
            has_more=page * page_size < len(records),
        )

    def employee_upsert(self, *, employee_number: str, data: dict, employee=None) -> None:
        """Queue one person for the file. With ``employee`` (an ``Employee``, loaded as
        ``paxml.personnel.personnel_queryset`` does) the person is written by the PAXml
        module's personnel writer, every field Fortnox Lön reads; ``data`` then adds only
        ``resenheter``."""
        row = {"employee_number": employee_number, **data}
        if employee is not None:
            row["_employee"] = employee
        self.pending.append(row)

    def render(self, *, company_name: str = "", organisation_number: str = "") -> bytes:
        """The collected upserts as one PAXml personnel file (``resenheter``: the person's
        result units as ``(dim, id)`` pairs, e.g. home accounting)."""
        reverse = {name: tag for tag, name in PAXML_PERSON_FIELDS.items()}
        out = io.BytesIO()
        with PaxmlWriter(out, encoding="utf-8") as writer:
            writer.header(
                Header(
                    format="LÖNIN",
                    datum=dt.datetime.now(),
                    foretagnamn=company_name,
                    foretagorgnr=organisation_number,
                )
            )
            with writer.section("personal"):
                for row in self.pending:
                    units = tuple(
                        (int(dim), str(unit)) for dim, unit in row.get("resenheter") or ()
                    )
                    if row.get("_employee") is not None:
                        writer.write(person_record(row["_employee"], resenheter=units))
                        continue
                    values: dict[str, object] = {
                        reverse[k]: v for k, v in row.items() if k in reverse and v is not None
                    }
                    if row.get("employment_start"):
                        values["anstdatum"] = dt.date.fromisoformat(row["employment_start"])
                    if row.get("employment_end"):
                        values["avgdatum"] = dt.date.fromisoformat(row["employment_end"])
                    rates = row.get("employment_rates") or []
                    if rates:
                        last = rates[-1]
                        values["sysgrad"] = DatedValue(
                            Decimal(str(last["percent"])),
                            dt.date.fromisoformat(last["start_date"]),
                        )
                    writer.write(
                        Person(
                            anstid=row["employee_number"],
                            persnr=(row.get("personal_identity_number") or "").replace("-", ""),
                            values=ordered(values),
                            resenheter=units,
                        )
                    )
        return out.getvalue()
