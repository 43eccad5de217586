"""One error model: :class:`DomainError` and where it becomes something a person reads.

A service that refuses an operation (a rule, a licence, a state that does not allow it)
raises a subclass of :class:`DomainError`. Each carries

* ``code`` — a stable, machine-readable code (``"conflict"``, ``"registration_rejected"``),
* ``http_status`` — what the REST API answers (400 unless the class says otherwise),
* ``message`` — the text a person reads (translated where the service raised it),
* ``fields`` — details by field or rule, as the API's error body carries them.

It is translated in one place per presentation layer:

* the REST API: ``flexbridge.api.exception_handler`` answers
  ``{"error": {"code", "message", "fields"}}`` with ``http_status``;
* the admin: :func:`admin_error` (a red message on the changelist);
* the pages: :func:`page_error` (a red message on the next page).

Both helpers also take Django's ``ValidationError`` and ``PermissionDenied``, which the
services raise for field errors and capabilities (:data:`REFUSALS`). Errors of outside
systems (``integrations.clients.base.OutsideSystemError``) are not domain errors: they say
what went wrong elsewhere, in that system's words.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError


class DomainError(Exception):
    """A business rule refused an operation; see the module docstring."""

    code: str = "invalid"
    http_status: int = 400

    def __init__(
        self,
        message: Any = "",
        *args: Any,
        code: str | None = None,
        http_status: int | None = None,
        fields: dict | None = None,
    ) -> None:
        super().__init__(message, *args)
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self._fields = dict(fields or {})

    @property
    def message(self) -> str:
        return str(self)

    @property
    def fields(self) -> dict:
        return self._fields


# What the admin and the pages show as a message instead of an error page.
REFUSALS = (DomainError, ValidationError, PermissionDenied)


def error_text(exc: BaseException) -> str:
    """The text a person reads for a refused operation (one line)."""
    if isinstance(exc, ValidationError):
        return "; ".join(str(message) for message in exc.messages)
    if isinstance(exc, DomainError):
        return exc.message
    return str(exc)


def admin_error(modeladmin, request, exc: BaseException, *, prefix: str = "") -> None:
    """An admin action's refusal as an error message on the changelist."""
    modeladmin.message_user(request, f"{prefix}{error_text(exc)}", messages.ERROR)


def page_error(request, exc: BaseException, *, prefix: str = "") -> None:
    """A page's refusal as an error message on the next page."""
    messages.error(request, f"{prefix}{error_text(exc)}")
