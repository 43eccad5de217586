"""Stored job messages in the reader's language, and the words for a job's codes.

A job's log lines and final message are read later, by someone else, maybe in another
language. So a message is stored as a **message id with parameters** next to its text:

    ctx.error(JobMessage("job.errors", count=3))

The id names a translatable text registered here (``register_job_messages``); pages, the
CSV log and the API render it with :func:`job_message_text` in the language of whoever
reads it. The stored text (rendered in the writer's language when it was written) is the
fallback, and callers that log plain strings keep working: their text is shown as is.

The same module names what jobs store as codes: summary counters
(``register_summary_labels``) and selection keys (``register_parameter_labels``), shown as
labelled values instead of dicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.utils import formats
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

_MESSAGES: dict[str, Any] = {}
_SUMMARY_LABELS: dict[str, Any] = {}
_PARAMETER_LABELS: dict[str, Any] = {}
_PARAMETER_VALUES: dict[str, Any] = {}


class JobMessage:
    """A message id and its parameters; ``str()`` renders it in the active language."""

    __slots__ = ("id", "params")

    def __init__(self, message_id: str, /, **params) -> None:
        if message_id not in _MESSAGES:
            raise LookupError(f"Unknown job message {message_id!r}")
        self.id = message_id
        self.params = params

    def __str__(self) -> str:
        return job_message_text(self.id, self.params)

    def __repr__(self) -> str:
        return f"JobMessage({self.id!r}, **{self.params!r})"


def register_job_messages(messages: Mapping[str, Any]) -> None:
    """``{id: gettext_lazy(...) or ngettext_lazy(..., "count")}``; ids are kept forever."""
    _MESSAGES.update(messages)


def register_summary_labels(labels: Mapping[str, Any]) -> None:
    _SUMMARY_LABELS.update(labels)


def register_parameter_labels(labels: Mapping[str, Any]) -> None:
    _PARAMETER_LABELS.update(labels)


def register_parameter_values(key: str, describe) -> None:
    """``describe(value) -> str``: how a selection value of ``key`` reads (a code's name)."""
    _PARAMETER_VALUES[key] = describe


def parameter_value(key: str, value) -> str | None:
    describe = _PARAMETER_VALUES.get(key)
    return str(describe(value)) if describe is not None else None


def job_message_text(message_id: str, params: Mapping | None, fallback: str = "") -> str:
    """The message in the active language; ``fallback`` if the id is unknown or empty."""
    template = _MESSAGES.get(message_id) if message_id else None
    if template is None:
        return fallback
    try:
        return str(template % dict(params or {}))
    except (KeyError, TypeError, ValueError):
        return fallback or str(template)


def humanize_code(code: str) -> str:
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def summary_label(key: str) -> str:
    label = _SUMMARY_LABELS.get(key)
    return str(label) if label is not None else humanize_code(key)


def parameter_order(key: str) -> int:
    """Selections read in the order their labels were registered ("From" before "To"),
    whatever order the database keeps the keys in; unknown keys last."""
    order = list(_PARAMETER_LABELS)
    return order.index(key) if key in order else len(order)


def parameter_label(key: str) -> str:
    label = _PARAMETER_LABELS.get(key)
    return str(label) if label is not None else humanize_code(key)


def format_value(value) -> str:
    """A stored value as a person reads it (dates, yes/no, lists, nested counters)."""
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, int | float):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if isinstance(value, str):
        try:
            return formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{summary_label(k)}: {format_value(v)}" for k, v in value.items())
    return str(value)


# --- translatable texts as data: a msgid and its arguments, rendered when read ---------------


def text_data(message, /, params: Mapping | None = None) -> dict:
    """A translatable text as JSON: ``{"msgid", "args", ["plural", "count"]}``.

    ``message`` is a msgid or a lazy translation (``gettext_lazy``, ``ngettext_lazy``: the
    message of a Django ``ValidationError``, ours or Django's own): its msgid is kept, so
    :func:`render_text` renders it in the reader's language from Django's catalogue or
    ours. A text that is no lazy translation is kept as its own msgid (shown as is when no
    catalogue knows it). Arguments that are not JSON are kept as text; an argument may be
    a text itself (``{"msgid": ...}``)."""
    data: dict[str, Any] = {"msgid": str(message), "args": _json_args(params)}
    if isinstance(message, Promise):
        data.update(_lazy_msgids(message) or {"msgid": str(message)})
    return data


def _lazy_msgids(message: Promise) -> dict | None:
    """The msgid(s) behind a lazy ``gettext``/``ngettext`` (from its pickling recipe, the
    one public description of what it will translate)."""
    _unpickle, recipe = message.__reduce__()
    if len(recipe) >= 4 and isinstance(recipe[3], dict) and "singular" in recipe[3]:
        # ngettext_lazy(singular, plural, "key"): the number comes from the arguments
        kwargs, key = recipe[3], recipe[2]
        return {"msgid": kwargs["singular"], "plural": kwargs["plural"], "count": key or ""}
    func, args, kwargs = recipe[0], recipe[1], recipe[2]
    name = getattr(func, "__name__", "")
    if name == "gettext" and len(args) == 1:
        return {"msgid": args[0]}
    if name == "ngettext" and "singular" in kwargs:  # ngettext_lazy(..., number=int)
        return {
            "msgid": kwargs["singular"],
            "plural": kwargs["plural"],
            "count": "",
            "number": kwargs["number"],
        }
    return None


def _json_value(value):
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "as_data"):  # a text itself (paxml.messages.Text): rendered when read
        return value.as_data()
    if isinstance(value, Promise):
        return text_data(value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json_args(params: Mapping | None) -> dict:
    return {str(k): _json_value(v) for k, v in dict(params or {}).items()}


def is_text_data(value: Any) -> bool:
    return isinstance(value, Mapping) and "msgid" in value


def render_text(data: Mapping) -> str:
    """A stored :func:`text_data` (or ``paxml.messages.Text.as_data()``) in the active
    language; arguments that are texts are rendered first."""
    args = {
        key: render_text(value) if is_text_data(value) else value
        for key, value in (data.get("args") or {}).items()
    }
    if data.get("plural"):
        number = data.get("number")
        if number is None:
            number = args.get(data.get("count") or "")
        try:
            number = int(number or 0)
        except (TypeError, ValueError):
            number = 0
        template = ngettext(data["msgid"], data["plural"], number)
    else:
        template = gettext(data["msgid"])
    try:
        if data.get("brace"):
            return template.format(**args)
        return template % args if args else template
    except (KeyError, TypeError, ValueError, IndexError):
        return template


def field_label(model: str, field: str, *, cap: bool = True) -> str:
    """A model field's verbose name in the active language (``model`` = "app.Model"; a
    reverse relation by its model's plural name); the key itself when it is unknown."""
    try:
        found = apps.get_model(model)._meta.get_field(field)
    except (LookupError, ValueError, FieldDoesNotExist):
        return field
    name = getattr(found, "verbose_name", None)
    if name is None and found.related_model is not None:
        name = found.related_model._meta.verbose_name_plural
    name = str(name or field)
    return capfirst(name) if cap else name


def model_label(model: str, *, count: int | None = None) -> str:
    """A model's verbose name (plural when ``count`` is not 1) in the active language."""
    try:
        meta = apps.get_model(model)._meta
    except (LookupError, ValueError):
        return model
    return str(meta.verbose_name if count == 1 else meta.verbose_name_plural)


def validation_error_data(
    error: ValidationError, *, model: str = "", labels: Mapping[str, Mapping] | None = None
) -> list[dict]:
    """A Django ``ValidationError`` as stored parts, one per message:
    ``{"field", "model", "text"}`` (``text`` from the error's message and params, so it reads
    in the reader's language; the field is read as ``model``'s verbose name) or, for a key
    that is no model field, ``{"label": text_data(...), "text"}`` from ``labels``."""
    if hasattr(error, "error_dict"):
        items = [(key, e) for key, errors in error.error_dict.items() for e in errors]
    else:
        items = [("", e) for e in error.error_list]
    parts = []
    for key, item in items:
        key = "" if key == NON_FIELD_ERRORS else key
        part: dict[str, Any] = {"text": text_data(item.message, item.params)}
        if labels and key in labels:
            part["label"] = dict(labels[key])
        elif key:
            part.update(field=key, model=model)
        parts.append(part)
    return parts


def validation_part_text(part: Mapping) -> str:
    """One stored validation message: "Field label: message" in the active language."""
    text = render_text(part["text"]) if is_text_data(part.get("text")) else str(part.get("text"))
    if is_text_data(part.get("label")):
        label = render_text(part["label"])
    elif part.get("field"):
        label = field_label(part.get("model", ""), part["field"])
    else:
        return text
    return f"{label}: {text}"


class ValidationErrorsText:
    """A registered message whose ``errors`` are :func:`validation_error_data` parts:
    ``template`` (with ``%(errors)s``) around them, joined by "; "."""

    def __init__(self, template=None) -> None:
        self.template = template

    def __mod__(self, params: Mapping) -> str:
        errors = "; ".join(validation_part_text(p) for p in params.get("errors") or [])
        if self.template is None:
            return errors
        return str(self.template) % {**params, "errors": errors}


# --- the runner's own words ---------------------------------------------------------------------

register_job_messages(
    {
        "job.errors": ngettext_lazy("%(count)s error.", "%(count)s errors.", "count"),
        "job.resumed": _("Resumed after an interruption (attempt %(attempt)s)."),
        "job.cancelled_on_request": _("Cancelled on request."),
        "job.cancelled": _("Cancelled."),
        "selftest.done": _("Done."),
        "selftest.failed": _("Failed on purpose."),
        "switchover.only_in_payroll": _("Only in payroll."),
        "switchover.only_in_hr": _("Only in HR."),
        "switchover.count_check": ngettext_lazy(
            "Count check: %(count)s employee on both sides.",
            "Count check: %(count)s employees on both sides.",
            "count",
        ),
        "switchover.personnel_file": ngettext_lazy(
            "personnel.pax: %(count)s employee for the payroll system to import.",
            "personnel.pax: %(count)s employees for the payroll system to import.",
            "count",
        ),
        "payroll_sync.file_written": ngettext_lazy(
            "%(name)s: %(count)s employee for the payroll system to import.",
            "%(name)s: %(count)s employees for the payroll system to import.",
            "count",
        ),
    }
)

register_summary_labels(
    {
        "ok": _("OK"),
        "sent": _("Sent"),
        "failed": _("Failed"),
        "skipped": _("Skipped"),
        "unchanged": _("Unchanged"),
        "already_sent": _("Already sent"),
        "retained": _("Retained"),
        "printed": _("Printed"),
        "written": _("Written"),
        "vouchers": _("Vouchers"),
        "updated": _("Updated"),
        "created": _("Created"),
        "rejected": _("Rejected"),
        "fetched": _("Fetched"),
        "log_lines_dropped": _("Log lines not kept"),
        "pass": _("Passed"),
        "warning": _("Warnings"),
        "fail": _("Failed checks"),
        "pages_done": _("Pages read"),
        "count_check": _("Count check"),
        "payroll": _("In payroll"),
        "hr": _("In HR"),
        # PAXml import and export
        "time_transactions": _("Time transactions"),
        "salary_transactions": _("Salary transactions"),
        "schedule_days": _("Schedule days"),
        "left_out_never_transfer": _("Left out (never transfer)"),
        "left_out_worked_time_monthly": _("Left out (worked time, monthly paid)"),
        "employments_ended": _("Employments ended"),
        "employees_created": _("Employees created"),
        "employees_updated": _("Employees updated"),
        "positions_created": _("Positions created"),
        "cost_centres_created": _("Cost centres created"),
        "cost_centres_seen": _("Cost centres already there"),
        "replaced_by_nyexport": _("Replaced (new export)"),
        "replaced_by_postid": _("Replaced (same post id)"),
        "code_names_read": _("Code names read"),
        "time_registrations": _("Time registrations"),
    }
)

register_parameter_labels(
    {
        "items": _("Items"),
        "delay": _("Seconds per item"),
        "fail_at": _("Fails at item"),
        "switchover": _("Switchover"),
        "reason": _("Reason"),
        "payroll_run": _("Payroll run"),
        "payment_date": _("Payment date"),
        "status": _("Status"),
        "employees": _("Employees"),
        "resend": _("Send again"),
        "on": _("Day"),
        "date_from": _("From"),
        "date_to": _("To"),
        "profile": _("Profile"),
        "encoding": _("Encoding"),
        "name": _("File"),
        "dry_run": _("Trial run (nothing saved)"),
        "employee_number": _("Employee number"),
        "template": _("Template"),
        "transfer": _("Transfer"),
        "page_size": _("Page size"),
    }
)

# Parameters that are only for the machine (where a file is stored, the language a job
# runs in, ...).
HIDDEN_PARAMETERS = {"path", "language"}
