"""The payroll system behind one interface, whichever way it is reached.

``payroll_client_for(link=)`` gives the web-service client (``clients/payroll.py``). Payroll
systems that only take PAXml files (Fortnox Lön and others) get :class:`PaxmlFileBackend`,
with the same read/upsert methods the switchover and the sync use, backed by the PAXml
module's personnel register import/export.
"""

from __future__ import annotations

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from .clients.base import RetryPolicy
from .clients.payroll import EmployeePage, PayrollClient, PayrollEmployee
from .models import PayrollLink


class PayrollLinkMissing(Exception):
    """The company has no usable payroll link."""


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
        timeout=httpx.Timeout(getattr(settings, "PAYROLL_CLIENT_TIMEOUT", 30.0), connect=5.0),
        retry=RetryPolicy(
            max_attempts=getattr(settings, "PAYROLL_CLIENT_MAX_ATTEMPTS", 5),
            backoff_base=getattr(settings, "PAYROLL_CLIENT_BACKOFF", 0.5),
        ),
    )


class PaxmlFileBackend:
    """The file-based variant: the personnel register in and out as PAXml.

    Reading parses an uploaded PAXml file's ``<personal>`` records; writing collects the
    upserts and renders one PAXml personnel file (a job's result file) for the payroll
    system to import. The switches and registers a web service has do not exist for a file:
    the switchover's checks that need them report "not available for file-based links".
    """

    def __init__(self, *, content: bytes | None = None) -> None:
        self.content = content
        self.pending: list[dict] = []

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

    def employee_upsert(self, *, employee_number: str, data: dict) -> None:
        self.pending.append({"employee_number": employee_number, **data})

    def _read(self) -> list[PayrollEmployee]:
        try:
            from paxml.reader import PaxmlReader
        except ImportError as exc:  # pragma: no cover - the PAXml app is always installed
            raise PayrollLinkMissing(_("The PAXml module is not available.")) from exc
        if not self.content:
            return []
        import io

        reader = PaxmlReader(io.BytesIO(self.content))
        people = []
        for person in getattr(reader, "persons", lambda: [])():
            people.append(
                PayrollEmployee(
                    employee_number=str(getattr(person, "employee_id", "")),
                    personal_identity_number=str(getattr(person, "personal_identity_number", "")),
                    first_name=str(getattr(person, "first_name", "")),
                    last_name=str(getattr(person, "last_name", "")),
                )
            )
        return people

    def render(self) -> bytes:
        """The collected upserts as a PAXml personnel file (needs the PAXml writer)."""
        try:
            from paxml import writer  # type: ignore[attr-defined]
        except ImportError as exc:
            raise NotImplementedError(
                "The PAXml writer (issue 5) is not there yet; the file variant cannot export."
            ) from exc
        return writer.personnel_file(self.pending)  # pragma: no cover
