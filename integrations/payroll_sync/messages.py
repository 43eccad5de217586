"""The payroll sync's stored job messages, and payroll's notices in our words."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jobs.messages import register_job_messages

# Payroll's notice codes in our words (the reader's language); payroll's own words follow.
NOTICE_MESSAGES = {
    "CATEGORY_FALLBACK": gettext_lazy(
        "Payroll lacks the personnel category; the employee got STD."
    ),
    "EMPLOYMENT_FORM_CREATED": gettext_lazy(
        "Payroll created the employment form: LAS settings missing."
    ),
}


class _Notice:
    """Payroll's notice on a sent employee: our words for its code, in the reader's
    language, then payroll's own words quoted. A code we do not know is not shown."""

    def __mod__(self, params) -> str:
        explained = NOTICE_MESSAGES.get(params.get("code"))
        theirs = str(params.get("message") or "").strip()
        if explained is None:
            return _("Payroll's notice: “%(message)s”") % {"message": theirs}
        if not theirs:
            return str(explained)
        return _("%(explained)s Payroll's words: “%(message)s”") % {
            "explained": explained,
            "message": theirs,
        }


register_job_messages(
    {
        "payroll_sync.nothing_new": gettext_lazy(
            "Nothing new for the payroll system: no file written."
        ),
        "payroll_sync.no_accounting_unit": gettext_lazy(
            "No cost centre or project in force: a PAXml file cannot clear "
            "payroll's accounting, change it in the payroll system by hand."
        ),
        "payroll_sync.accounting_written": gettext_lazy(
            "Home accounting written to the file: %(units)s"
        ),
        "payroll_sync.personnel_written": gettext_lazy(
            "Written to the personnel file for payroll."
        ),
        "payroll_sync.number_changed": gettext_lazy(
            "Employee number changed from %(old)s to %(new)s: sent under the new one."
        ),
        "payroll_sync.retry": gettext_lazy("Not sent yet, will retry: %(error)s"),
        "payroll_sync.refused": gettext_lazy("Refused by payroll: %(error)s"),
        "payroll_sync.notice": _Notice(),
        "payroll_sync.sent": gettext_lazy("Sent to payroll."),
        "payroll_sync.no_home_accounting": gettext_lazy(
            "Home accountings are not sent for this company."
        ),
    }
)
