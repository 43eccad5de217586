"""Job kinds of the payslips app."""

from django.utils.translation import gettext_lazy as _

from integrations.jobs_registry import register_job_kind

from .services import kivra_dispatch_run, payroll_run_fetch

register_job_kind(
    "kivra_dispatch",
    _("Send payslips to Kivra"),
    handler=kivra_dispatch_run,
    permission="companies.run_kivra_dispatch",
)

register_job_kind(
    "payroll_run_fetch",
    _("Fetch payroll run"),
    handler=payroll_run_fetch,
    permission="payslips.add_payrollrun",
)
