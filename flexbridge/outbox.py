"""One outbox: a row holding the exact bytes to send to an outside system, and its status.

Three apps send data out through an outbox row — the payroll sync
(``integrations.PayrollSyncDelivery``), Kivra dispatch (``payslips.PayslipDelivery``) and
the Visma.Net transfer (``ledger.LedgerTransfer``). Each extends :class:`Outbox`, which
holds what they share:

* ``status`` — each model declares its own choices and default (every outbox has
  ``sending``, ``sent`` and ``failed``; the waiting state and the extra final states are
  the model's own);
* ``attempts`` — how many times the bytes were handed to the outside system;
* ``request_body`` — the exact bytes sent, so a resend after a lost answer is identical;
* ``error_message`` — the last error, in the outside system's words;
* ``created_at``, and the field stamped when the row is sent (:attr:`Outbox.SENT_AT_FIELD`).

The transitions keep the invariants every outbox relies on:

* :meth:`Outbox.mark_sending` — only from a state the model lists in ``CLAIMABLE``; counts
  the attempt;
* :meth:`Outbox.mark_sent` — only after an attempt (``attempts`` > 0); clears the error and
  stamps the send;
* :meth:`Outbox.mark_failed` — never once sent; records the error.

A transition that breaks an invariant raises :class:`OutboxStateError` and writes nothing.
Each saves only the fields it changes (plus ``updated_at`` where the model has one);
callers hold the row's lock (``select_for_update``) where another worker may race them.
Bulk claims in SQL (``UPDATE ... WHERE status = ...``) stay with the models' services.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from flexbridge.errors import DomainError


class OutboxStateError(DomainError):
    """A transition the outbox row's status does not allow (another worker moved it)."""

    code = "conflict"
    http_status = 409


class Outbox(models.Model):
    """The abstract outbox row; see the module docstring."""

    SENDING: ClassVar[str] = "sending"
    SENT: ClassVar[str] = "sent"
    FAILED: ClassVar[str] = "failed"
    # The states from which a row may be (re)sent; each model lists its own.
    CLAIMABLE: ClassVar[tuple[str, ...]] = (SENDING, FAILED)
    # The field stamped by mark_sent.
    SENT_AT_FIELD: ClassVar[str] = "sent_at"

    # Each model redeclares it with its choices and default.
    status = models.CharField(_("status"), max_length=16, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    request_body = models.BinaryField(_("request"), editable=False)
    error_message = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def body(self) -> bytes:
        """The exact bytes to send."""
        return bytes(self.request_body)

    def outbox_save(self, **fields: Any) -> None:
        """Set ``fields`` and save only them (and ``updated_at`` where there is one)."""
        for name, value in fields.items():
            setattr(self, name, value)
        names = list(fields)
        if any(field.name == "updated_at" for field in self._meta.concrete_fields):
            names.append("updated_at")
        self.save(update_fields=names)

    def _error_fields(self, *, message: str, code: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"error_message": message}
        if code is not None:
            if not any(field.name == "error_code" for field in self._meta.concrete_fields):
                raise TypeError(f"{type(self).__name__} keeps no error code")
            fields["error_code"] = code
        return fields

    def mark_sending(self, **fields: Any) -> None:
        """→ SENDING, one more attempt; ``fields`` (e.g. ``job``) are saved with it."""
        if self.status not in self.CLAIMABLE:
            raise OutboxStateError(
                f"{type(self).__name__} {self.pk} cannot be sent from {self.status!r}"
            )
        self.outbox_save(status=self.SENDING, attempts=self.attempts + 1, **fields)

    def mark_sent(self, **fields: Any) -> None:
        """→ SENT after an attempt: the error cleared, the send stamped; ``fields`` (e.g.
        the outside system's key) are saved with it."""
        if not self.attempts:
            raise OutboxStateError(
                f"{type(self).__name__} {self.pk} cannot be sent without an attempt"
            )
        has_code = any(field.name == "error_code" for field in self._meta.concrete_fields)
        cleared = self._error_fields(message="", code="" if has_code else None)
        self.outbox_save(
            status=self.SENT, **{self.SENT_AT_FIELD: timezone.now(), **cleared, **fields}
        )

    def mark_failed(self, *, error: str, code: str | None = None, **fields: Any) -> None:
        """→ FAILED with ``error`` (and the system's ``code``; ``None`` leaves the stored
        code as it is). A sent row never fails."""
        if self.status == self.SENT:
            raise OutboxStateError(f"{type(self).__name__} {self.pk} was sent already")
        self.outbox_save(
            status=self.FAILED, **self._error_fields(message=error, code=code), **fields
        )
