"""Job kinds of the payslips app."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from jobs.messages import ValidationErrorsText, register_job_messages, register_summary_labels
from jobs.registry import FanOut, register_job_kind

from .services import (
    kivra_dispatch_chunk,
    kivra_dispatch_finish,
    kivra_dispatch_plan,
    payroll_run_fetch,
    payslip_render_chunk,
    payslip_render_plan,
)

register_job_kind(
    "kivra_dispatch",
    _("Send payslips to Kivra"),
    fanout=FanOut(
        plan=kivra_dispatch_plan,
        run_chunk=kivra_dispatch_chunk,
        finish=kivra_dispatch_finish,
        chunk_size=("KIVRA_DISPATCH_CHUNK_SIZE", 2000),
        parallel=("KIVRA_DISPATCH_PARALLEL", 4),
    ),
    permission="companies.run_kivra_dispatch",
)

register_job_kind(
    "payslip_render",
    _("Render payslip PDFs"),
    fanout=FanOut(
        plan=payslip_render_plan,
        run_chunk=payslip_render_chunk,
        chunk_size=("PAYSLIP_RENDER_CHUNK_SIZE", 500),
        parallel=("PAYSLIP_RENDER_PARALLEL", 4),
    ),
    permission="payslips.add_payrollrun",
)

register_job_kind(
    "payroll_run_fetch",
    _("Fetch payroll run"),
    handler=payroll_run_fetch,
    permission="payslips.add_payrollrun",
)

# The log lines of these jobs, stored as ids with parameters and read in the reader's
# language (jobs.messages). Ids are kept forever: add new ones, never reuse one.
register_job_messages(
    {
        # Kivra dispatch
        "kivra.already_delivered": _("Already delivered earlier: not sent again."),
        "kivra.employee_not_via_kivra": _("The employee does not get payslips via Kivra."),
        "kivra.no_pin": _("The employee has no personal identity number."),
        "kivra.pin_invalid": _("The personal identity number is not valid."),
        "kivra.content_invalid": _("Not sent: %(error)s"),
        "kivra.not_deliverable": _(
            "Kivra could not deliver or keep it and the employee does not allow Kivra's "
            "print handling: not delivered, hand it over another way."
        ),
        "kivra.claimed_elsewhere": _("Already delivered or being sent by another job."),
        "kivra.no_longer_reachable": _(
            "No longer reachable in Kivra (40105): sent as for a non-user."
        ),
        "kivra.refused": _("Kivra refused it: %(error)s"),
        "kivra.sent": _("Sent to Kivra."),
        "kivra.sent_for_printing": _("Sent to Kivra for printing (Kivra's print handling)."),
        "kivra.retained": _("Retained by Kivra for %(days)s days (not a Kivra user yet)."),
        "kivra.retain_refused_not_deliverable": _(
            "Kivra refused to keep it as retained content (%(error)s). Kivra could not "
            "deliver or keep it and the employee does not allow Kivra's print handling: not "
            "delivered, hand it over another way."
        ),
        "kivra.retain_refused_to_kivra_print": _(
            "Kivra refused to keep it as retained content (%(error)s); not sent to Kivra "
            "again. It goes to Kivra's print handling."
        ),
        "kivra.retain_refused_to_print_batch": _(
            "Kivra refused to keep it as retained content (%(error)s); not sent to Kivra "
            "again. It goes into the print batch for posting."
        ),
        "kivra.unconfirmed": _(
            "Kivra did not confirm the payslip (%(error)s); the next dispatch resends the "
            "same bytes."
        ),
        "kivra.unconfirmed_no_duplicate_control": _(
            "Kivra did not confirm the payslip (%(error)s). This link has no duplicate "
            "control at Kivra (test environment or sandbox), so it is not sent again: check "
            "the recipient's mailbox in Kivra, then resolve the delivery in the admin (found, "
            "or send again)."
        ),
        "kivra.no_postal_address": _("No postal address for print handling."),
        "kivra.already_printed": _("Already in an earlier print batch."),
        "kivra.print_batch": _("Added to the print batch for posting."),
        # selection and PDFs
        "payslips.none_selected": _("No payslips match the selection."),
        "payslips.rendered": ngettext_lazy(
            "%(count)s payslip PDF rendered and stored.",
            "%(count)s payslip PDFs rendered and stored.",
            "count",
        ),
        # fetching payroll runs
        "payroll_run.no_link": _("The company has no payroll link."),
        "payroll_run.none_on_date": _("The payroll system has no payroll run on %(date)s."),
        "payroll_run.unreadable": _("The payroll system sent an unreadable run: %(error)s"),
        # errors: validation_error_data parts (a field by its name, a payslip by employee)
        "payroll_run.invalid": ValidationErrorsText(_("Not stored: %(errors)s")),
        "payroll_run.already_fetched": _("Already fetched: left unchanged."),
        "payroll_run.stored_final": ngettext_lazy(
            "Stored with %(count)s payslip (final).",
            "Stored with %(count)s payslips (final).",
            "count",
        ),
        "payroll_run.stored_preliminary": ngettext_lazy(
            "Stored with %(count)s payslip (preliminary).",
            "Stored with %(count)s payslips (preliminary).",
            "count",
        ),
    }
)

register_summary_labels(
    {
        "kivra_printing": _("Sent to Kivra for printing"),
        "unconfirmed": _("Not confirmed by Kivra"),
        "rendered": _("Rendered"),
        "already_rendered": _("Already rendered"),
    }
)
