"""The switchover's stored words: the preflight's items and log lines as message ids with
parameters, rendered in the reader's language.

A preflight item (in the switchover's results, the job's log and ``preflight.json``) keeps,
beside its text in the language of whoever ran it (``label``, ``message``, ``offenders``),
the same as ids: ``key`` names the check, ``parts`` are the message's sentences and
``offender_parts`` the offenders, each part ``{"id": ..., "params": {...}}`` (a parameter
may itself be a part). :func:`preflight_item_texts` renders them for pages, the API and
the shell; the log line is the registered message ``switchover.preflight_item``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from companies.models import Company
from jobs.messages import (
    field_label,
    format_value,
    humanize_code,
    job_message_text,
    model_label,
    register_job_messages,
)

from ..payroll_mapping import payroll_field_label

EMPLOYEE = "employees.Employee"

# The preflight's checks by key, in the reader's language.
PREFLIGHT_LABELS = {
    "salary_codes": _("Salary codes for hourly or monthly wage"),
    "personnel_categories": _("Personnel categories match by code"),
    "employment_forms": _("Employment forms match"),
    "emails": _("Emails present in payroll and well-formed"),
    "position": _("Position present on both sides"),
    "bank_accounts": _("Clearing and bank account present"),
    "name_order": _("Name order set and the same"),
    "templates": _("Person templates match employment templates by code and name"),
    "employment_rates": _("Employment rates have start dates"),
    "onboarding_flows": _("Onboarding flows paused"),
    "web_service": _("'Use HR web service' on and the integration user active"),
    "accountings": _("Accountings to send"),
    "field_diff": _("Fields the sync will change"),
    "termination_reason": _("Termination reason reminder"),
}


def part(message_id: str, /, **params) -> dict:
    """A sentence kept by id: ``{"id", "params"}`` (JSON), rendered by :func:`render`."""
    if message_id not in _IDS:
        raise LookupError(f"Unknown switchover message {message_id!r}")
    return {"id": message_id, "params": params}


def is_part(value) -> bool:
    return isinstance(value, Mapping) and "id" in value and "params" in value


def render(value) -> str:
    """A part (nested parts in its parameters too) in the active language; text as is."""
    if not is_part(value):
        return str(value)
    params = {k: render(v) if is_part(v) else v for k, v in dict(value["params"]).items()}
    return job_message_text(value["id"], params, fallback=value["id"])


def preflight_label(item: Mapping) -> str:
    label = PREFLIGHT_LABELS.get(item.get("key"))
    return str(label) if label is not None else str(item.get("label", item.get("key", "")))


def preflight_message(item: Mapping) -> str:
    parts = item.get("parts")
    if not parts:
        return str(item.get("message", ""))
    return item.get("sep", " ").join(render(p) for p in parts)


def preflight_offenders(item: Mapping) -> list[str]:
    parts = item.get("offender_parts")
    if parts is None:
        return [str(o) for o in item.get("offenders", [])]
    return [render(p) for p in parts]


def preflight_item_texts(item: Mapping) -> dict:
    """The item with its label, message and offenders in the reader's language."""
    return {
        **item,
        "label": preflight_label(item),
        "message": preflight_message(item),
        "offenders": preflight_offenders(item),
    }


def switchover_results_texts(results: Mapping) -> dict:
    """A switchover's results with the preflight's items in the reader's language."""
    results = dict(results or {})
    preflight = results.get("preflight")
    if preflight and preflight.get("items"):
        results["preflight"] = {
            **preflight,
            "items": [preflight_item_texts(item) for item in preflight["items"]],
        }
    return results


class _PreflightLine:
    """The log line of one preflight item: "label: message — offenders"."""

    def __mod__(self, params: Mapping) -> str:
        item = dict(params)
        text = f"{preflight_label(item)}: {preflight_message(item)}"
        offenders = preflight_offenders(item)
        if offenders:
            text += " — " + ", ".join(offenders)
        return text


class _NameOrder:
    """A name order by its name ("First name, last name"), not its code."""

    def __mod__(self, params: Mapping) -> str:
        code = params["code"]
        return str(dict(Company.NameOrder.choices).get(code, code))


def _labelled(values: Mapping, labels: Mapping) -> str:
    """A dict as labelled values ("Export balances: yes"), in the labels' order."""
    keys = [k for k in labels if k in values] + [k for k in values if k not in labels]
    return ", ".join(
        f"{labels[k] if k in labels else humanize_code(k)}: {format_value(values[k])}" for k in keys
    )


# Payroll's switches the switchover sets (step 4) and the abort sets back.
SETTING_LABELS = {
    "export_personal_data": _("Export personal data"),
    "export_balances": _("Export balances"),
}


class _Settings:
    """A text whose ``s`` is payroll's switches, read as labelled values."""

    def __init__(self, template) -> None:
        self.template = template

    def __mod__(self, params: Mapping) -> str:
        return str(self.template) % {"s": _labelled(params["s"], SETTING_LABELS)}


class _LinkBack:
    """The payroll link as it was: its fields by their names, codes by their choices."""

    def __mod__(self, params: Mapping) -> str:
        from django.utils.text import capfirst

        from ..models import PayrollLink

        order = [f.name for f in PayrollLink._meta.fields]
        stored = dict(params["l"] or {})
        values, labels = {}, {}
        for key in sorted(stored, key=lambda k: order.index(k) if k in order else len(order)):
            value = stored[key]
            try:
                field = PayrollLink._meta.get_field(key)
            except LookupError:
                values[key] = value
                continue
            labels[key] = capfirst(field.verbose_name)
            choices = dict(field.choices or ())
            if choices:
                value = str(choices.get(value, value))
            values[key] = value if value or value is False else None  # "–" for nothing
        return str(_("The payroll link is back: %(l)s.")) % {"l": _labelled(values, labels)}


class _ManualStep:
    """ "Manual step: …" with the step kept by its id (``switchover.manual.*``)."""

    def __mod__(self, params: Mapping) -> str:
        step = params["step"]
        return str(_("Manual step: %(step)s")) % {"step": job_message_text(step, {}, step)}


class _Restored:
    """The fields an abort restored (kept as field keys, read as the fields' names) and the
    employment rates it put back (by day), or "nothing had changed"."""

    def __mod__(self, params: Mapping) -> str:
        names = [field_label(EMPLOYEE, key, cap=False) for key in params.get("fields") or []]
        names += [
            str(_("employment rate from %(day)s")) % {"day": day}
            for day in params.get("rates") or []
        ]
        fields = ", ".join(names) or str(_("nothing had changed"))
        return str(_("Restored as it was before the export: %(fields)s.")) % {"fields": fields}


def _rows_text(row) -> str:
    """``{"model", "count"}`` as "3 employment rates" in the reader's language."""
    if not isinstance(row, Mapping):
        return str(row)  # stored as text by an older version
    return f"{row['count']} {model_label(row['model'], count=row['count'])}"


class _Deleted:
    """An employee the export created, deleted by the abort with its own rows."""

    def __mod__(self, params: Mapping) -> str:
        rows = params.get("rows") or []
        with_rows = (
            str(_(", with %(rows)s")) % {"rows": ", ".join(_rows_text(r) for r in rows)}
            if rows
            else ""
        )
        return str(_("Deleted (created by the export)%(rows)s.")) % {"rows": with_rows}


class _CreatedInHr:
    """A register row an export created in HR: its kind by the model's name, its code and
    name; an employment form also that its LAS settings are missing."""

    def __mod__(self, params: Mapping) -> str:
        what = params["what"]
        if isinstance(what, Mapping):
            words = [model_label(what["model"], count=1), what.get("code", ""), what.get("name")]
            what = " ".join(str(w) for w in words if w)
            if params["what"].get("las_missing"):
                what = str(_("%(what)s (LAS settings missing)")) % {"what": what}
        return str(_("Created in HR: %(what)s.")) % {"what": what}


class _Register:
    """A register row by its model's name in the reader's language (``what`` = app.Model)."""

    def __init__(self, template) -> None:
        self.template = template

    def __mod__(self, params: Mapping) -> str:
        from django.apps import apps

        try:
            what = apps.get_model(params["what"])._meta.verbose_name
        except (LookupError, ValueError):
            what = params["what"]
        return str(self.template) % {"what": what, "obj": params["obj"]}


class _TransferMode:
    """The transfer of employment data by its name, not its code."""

    def __mod__(self, params: Mapping) -> str:
        from ..models import PayrollLink

        mode = params["m"]
        name = dict(PayrollLink.TransferEmploymentData.choices).get(mode, mode)
        return str(_("HR is master of personal data; transfer employment data: %(m)s.")) % {
            "m": name
        }


class _FieldDiff:
    """The preflight's diff of one employee: "Field name: 'hr' → 'payroll'; …" (the field
    kept by its key, read by its name)."""

    def __mod__(self, params: Mapping) -> str:
        return "; ".join(
            f"{payroll_field_label(f['field'])}: {_diff_value(f['hr'])} → "
            f"{_diff_value(f['payroll'])}"
            for f in params["fields"]
        )


def rates_text(rates: list) -> str:
    """Employment rates as compared (``{"percent", "start_date"}``): "100.00 % from
    2016-02-01, …" in the reader's language."""
    return ", ".join(
        str(_("%(percent)s %% from %(day)s"))
        % {"percent": _percent(r["percent"]), "day": r["start_date"]}
        if isinstance(r, Mapping) and {"percent", "start_date"} <= set(r)
        else str(r)
        for r in rates
    )


def _percent(value) -> str:
    try:
        return formats.number_format(Decimal(str(value)), 2, use_l10n=True)
    except (InvalidOperation, ValueError):
        return str(value)


def _diff_value(value) -> str:
    """A compared value as a person reads it: text quoted, nothing as "–", employment rates
    as "100.00 % from 2016-02-01"."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, list):
        return rates_text(value)
    return repr(value) if isinstance(value, str) else str(value)


_MESSAGES: dict[str, Any] = {
    "switchover.preflight_item": _PreflightLine(),
    "switchover.field_diff": _FieldDiff(),
    "switchover.no_employee": _("The payroll system has no employee %(n)s."),
    "switchover.count_mismatch": _("Count check: %(p)s employees in payroll, %(h)s in HR."),
    "switchover.count_mismatch_file": _("Count check: %(p)s employees in the file, %(h)s in HR."),
    # abort
    "switchover.switches_back": _Settings(_("Payroll's switches are back: %(s)s.")),
    "switchover.manual_undo_payroll_off": _(
        "Manual step: in the payroll system, undo what you did by hand for step 4 "
        "(export personal data back on)."
    ),
    "switchover.link_back": _LinkBack(),
    "switchover.abort_elsewhere": _(
        "An abort runs from the switchover page, the command or the API."
    ),
    "switchover.changed_deleted_since": _(
        "Changed by the export, deleted since: nothing to restore."
    ),
    "switchover.restored": _Restored(),
    "switchover.created_already_deleted": _("Created by the export, already deleted."),
    "switchover.deleted_created": _Deleted(),
    "switchover.register_in_use": _Register(
        _("%(what)s %(obj)s was created by the export and is in use now: kept.")
    ),
    "switchover.register_deleted": _Register(
        _("%(what)s %(obj)s deleted (created by the export).")
    ),
    # payroll off, HR on, verify
    "switchover.manual_step": _ManualStep(),
    "switchover.manual.stop_personal_data": _(
        "In the payroll system: stop exporting personal data to HR."
    ),
    "switchover.manual.keep_balances": _("In the payroll system: keep exporting balances."),
    "switchover.manual.import_personnel_file": _(
        "Import the result file personnel.pax into the payroll system's personnel register."
    ),
    "switchover.manual.hr_only": _(
        "From now on personal data is changed in HR only; not in the payroll system."
    ),
    "switchover.manual.check_import": _(
        "In the payroll system: check that the employees imported from "
        "personnel.pax show HR's data (for example one employee's address)."
    ),
    "switchover.payroll_switched": _("Payroll: 'export personal data' off, 'export balances' on."),
    "switchover.switches_not_taken": _Settings(_("Payroll did not take the switches: %(s)s")),
    "switchover.hr_master": _TransferMode(),
    "switchover.no_verify_employee": _("No employee in the transfer to verify with."),
    "switchover.verify_ok": _("Payroll shows the address %(v)r."),
    "switchover.verify_mismatch": _("Payroll shows %(s)r, expected %(v)r."),
    "switchover.awaiting_approval": _("Imported; waiting for approval."),
    "switchover.created_in_hr": _CreatedInHr(),
    "preflight.name_order_label": _NameOrder(),
    "preflight.yes": _("yes"),
    "preflight.no": _("no"),
    "preflight.not_checkable": _(
        "Not checkable with a file-based payroll system: %(reason)s Check it there by hand."
    ),
    "preflight.not_in_file_register": _(
        "Whether HR's codes exist in payroll cannot be checked: a personnel file only shows the "
        "codes its employees use."
    ),
    "preflight.registers_match": _("The registers match."),
    "preflight.missing_in_hr": _("Missing in HR: %(codes)s."),
    # salary codes
    "preflight.wage.file_not_recommended": _(
        "Switching is NOT recommended: these employees have an hourly or monthly wage in the "
        "payroll system, whose salary codes are removed when the flow turns."
    ),
    "preflight.wage.file_reason": _(
        "no employee in the file has an hourly or monthly wage, but the salary codes in use "
        "are not in a personnel file."
    ),
    "preflight.wage.not_recommended": _(
        "Switching is NOT recommended: these salary codes are in use and are removed when the "
        "flow turns."
    ),
    "preflight.wage.none": _("No hourly or monthly wage salary codes in use."),
    # registers
    "preflight.categories.missing_in_payroll": _(
        "Missing in payroll (employees would fall back to STD): %(codes)s."
    ),
    "preflight.forms.missing_in_payroll": _(
        "Missing in payroll (would be created without LAS/AVA settings): %(codes)s."
    ),
    "preflight.forms.without_las": _("Without LAS settings in payroll: %(codes)s."),
    # emails
    "preflight.emails.malformed": _("Malformed in payroll (the export would fail): %(n)s."),
    "preflight.emails.only_in_hr": _("Only in HR (the final export would overwrite them): %(n)s."),
    "preflight.emails.missing": _("Missing in payroll: %(n)s."),
    "preflight.emails.ok": _("All employees have a well-formed email."),
    # position, bank
    "preflight.position.none": _("Employees without a position in payroll: %(n)s."),
    "preflight.position.unknown": _("Positions missing in HR (created by the export): %(p)s."),
    "preflight.position.ok": _("Every employee has a position known on both sides."),
    "preflight.bank.missing": _("Employees without clearing or account number in payroll: %(n)s."),
    "preflight.bank.ok": _("Every employee has clearing and account number."),
    # name order
    "preflight.name_order.hr_undefined": _("HR's name order is 'undefined'."),
    "preflight.name_order.payroll_undefined": _("The payroll system's name order is 'undefined'."),
    "preflight.name_order.file_reason": _(
        "the payroll system's name order setting is not in a personnel file."
    ),
    "preflight.name_order.differs": _("Payroll uses %(p)s, HR uses %(h)s."),
    "preflight.name_order.same": _("Both use %(order)s."),
    # templates
    "preflight.templates.file_reason": _("person templates are not in a personnel file."),
    "preflight.templates.differs": _("%(code)s: HR '%(hr)s' / payroll '%(payroll)s'"),
    "preflight.templates.hr_only": _("%(code)s (HR only)"),
    "preflight.templates.payroll_only": _("%(code)s (payroll only)"),
    "preflight.templates.summary": _("Templates differ: %(n)s; on one side only: %(m)s."),
    "preflight.templates.ok": _("The templates match."),
    # employment rates, onboarding
    "preflight.rates.missing": ngettext_lazy(
        "Employment rates without a start date: %(n)s employee.",
        "Employment rates without a start date: %(n)s employees.",
        "n",
    ),
    "preflight.rates.ok": _("Every employment rate has a start date."),
    "preflight.onboarding.active": _("Pause these onboarding flows during the export."),
    "preflight.onboarding.none": _("No active onboarding flows."),
    # web service
    "preflight.web.file_reason": _(
        "a file-based payroll system has no web service and no integration user; files are "
        "exchanged by hand instead."
    ),
    "preflight.web.off": _("'Use HR web service' is off in payroll."),
    "preflight.web.no_user": _("The user %(u)s does not exist."),
    "preflight.web.inactive": _("The user %(u)s is not active."),
    "preflight.web.ok": _("On, and %(u)s is active."),
    # accountings, diff, termination reason
    "preflight.accountings.file_reason": _(
        "the payroll system's accounting distributions are not in a personnel file."
    ),
    "preflight.accountings.overwrite": _(
        "Sending accountings overwrites %(n)s accounting distributions in payroll."
    ),
    "preflight.accountings.sent": _("Accountings are sent: %(on)s."),
    "preflight.diff": _("%(d)s employees differ, %(p)s only in payroll, %(h)s only in HR."),
    "preflight.termination": _(
        "Ending an employment creates a task to enter the termination reason in payroll."
    ),
}
_IDS = frozenset(_MESSAGES)

register_job_messages(_MESSAGES)
