"""The employee register's domain events: how the apps that move employee data out learn of
changes, without the register knowing them (data flows one way; docs/architecture.md).

Both signals are sent by ``employees.services`` inside the transaction that writes the
change, right after the write. A receiver records what it needs in the same transaction
(an outbox row), so the change and that record commit or roll back together, and defers
everything outside the database (a job, a call) to ``transaction.on_commit``. Sending on
commit instead would lose the change for the receiver if the process stopped between the
commit and the receiver.

* ``employee_saved(sender=Employee, employee, previous)`` — an employee was created
  (``previous`` is None) or changed (``previous`` is the row as it was before the change).
* ``employee_dated_value_changed(sender=<dated model>, employee, field)`` — a dated value
  was set or deleted; ``field`` names the employee's list of them (``"employment_rates"``,
  ``"monthly_salaries"``, ``"hourly_wages"``).

Receivers connect in their app's ``AppConfig.ready`` (``integrations`` connects the payroll
sync).
"""

from __future__ import annotations

from django.dispatch import Signal

employee_saved = Signal()
employee_dated_value_changed = Signal()
