"""The sync when HR is master: every change to a synced employee field reaches payroll.
A package by concern, each module importing only those before it:

* ``messages`` — the stored job messages;
* ``selection`` — whom and what the sync sends (the link, the transfer selection, the
  changed fields);
* ``outbox`` — :func:`payroll_sync_coalesce` turns an employee's pending changes
  (:class:`PayrollSyncChange`) into one :class:`PayrollSyncDelivery` holding the exact
  bytes to send; which deliveries are due; the employee number a delivery goes to;
* ``scheduling`` — :func:`payroll_sync_schedule` (a job after the change commits) and the
  beat task :func:`payroll_sync_retry_due`;
* ``events`` — the register's events in: :func:`payroll_sync_enqueue` writes the outbox
  row in the caller's transaction and schedules the job after commit;
* ``file`` — a file-based payroll system (PAXml only) gets no calls: the same deliveries
  are written as one PAXml personnel file, the job's result file; a written delivery is
  SENT, so it is written once;
* ``sending`` — the job (:func:`payroll_sync_run`) coalesces, then sends the due
  deliveries. A delivery is claimed with a conditional UPDATE, so two workers never send
  the same one; a worker killed mid-send leaves it SENDING until its claim expires, then
  it is resent with identical bytes (the upsert is idempotent). Transient failures are
  retried later with backoff (by the next job or the beat task); refusals are kept as
  REJECTED with payroll's own words;
* ``accounting`` — nightly, :func:`payroll_accounting_send_run` sends the home accounting
  in force that day (payroll has no dating), once per employee and day;
* ``numbers`` — employee numbers: payroll first, then HR.
"""

from __future__ import annotations

from . import messages  # noqa: F401 (registers the stored job messages)
from .accounting import (
    home_accounting_in_force,
    payroll_accounting_nightly,
    payroll_accounting_send_run,
)
from .events import (
    payroll_sync_enqueue,
    payroll_sync_on_dated_value_changed,
    payroll_sync_on_employee_saved,
)
from .file import FILE_NAMES
from .numbers import payroll_employee_change_number, payroll_number_check
from .outbox import UNSENT, payroll_deliveries_due, payroll_sync_coalesce
from .scheduling import payroll_sync_retry_due, payroll_sync_schedule
from .selection import employee_in_transfer, payroll_link_for, payroll_sync_fields_changed
from .sending import (
    CLAIM_SECONDS,
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    payroll_deliveries_send,
    payroll_sync_run,
)

__all__ = [
    "CLAIM_SECONDS",
    "FILE_NAMES",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "UNSENT",
    "employee_in_transfer",
    "home_accounting_in_force",
    "payroll_accounting_nightly",
    "payroll_accounting_send_run",
    "payroll_deliveries_due",
    "payroll_deliveries_send",
    "payroll_employee_change_number",
    "payroll_link_for",
    "payroll_number_check",
    "payroll_sync_coalesce",
    "payroll_sync_enqueue",
    "payroll_sync_fields_changed",
    "payroll_sync_on_dated_value_changed",
    "payroll_sync_on_employee_saved",
    "payroll_sync_retry_due",
    "payroll_sync_run",
    "payroll_sync_schedule",
]
