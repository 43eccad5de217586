"""Why an employee changed, as the history keeps it: a reason id and its parameters, read in
the reader's language (the history's "Change reason").

The history's column holds at most 100 characters, so a reason is stored as ``@`` and
compact JSON (``@{"id":"switchover_abort","p":{"switchover":3}}``). A reason a person typed,
or one stored before reasons had ids, is shown as written.
"""

from __future__ import annotations

import json

from django.utils.translation import gettext_lazy

from jobs.messages import field_label

# id -> text with %(name)s parameters; a parameter "field" (model label and field name,
# "payslips.KivraLink.send_payslips") is read as the field's name in the reader's language.
REASONS = {
    "employee_number": gettext_lazy("Employee number changed from %(old)s to %(new)s"),
    "payroll_import": gettext_lazy("Imported from the payroll system"),
    "switchover_test_export": gettext_lazy("Switchover %(switchover)s: test export"),
    "switchover_export": gettext_lazy("Switchover %(switchover)s: export from payroll"),
    "switchover_abort": gettext_lazy("Switchover %(switchover)s: aborted, HR's values restored"),
    "kivra_flag_all": gettext_lazy("Kivra link: “%(field)s” switched for all employees"),
}
MAX_LENGTH = 100
PREFIX = "@"


def history_reason(reason_id: str, **params: object) -> str:
    """The stored form of a registered reason."""
    if reason_id not in REASONS:
        raise KeyError(f"unknown history reason {reason_id!r}")
    data: dict = {"id": reason_id}
    if params:
        data["p"] = params
    stored = PREFIX + json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(stored) > MAX_LENGTH:
        raise ValueError(f"history reason longer than {MAX_LENGTH} characters: {stored}")
    return stored


def history_reason_text(stored: str | None) -> str:
    """A stored reason in the reader's language; plain text as it is."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        data = json.loads(stored[len(PREFIX) :])
        text = REASONS[data["id"]]
    except (ValueError, KeyError, TypeError):
        return stored
    params = dict(data.get("p") or {})
    if "field" in params:
        model, _dot, name = str(params["field"]).rpartition(".")
        params["field"] = field_label(model, name)
    try:
        return str(text) % params if params else str(text)
    except (KeyError, TypeError, ValueError):
        return str(text)
