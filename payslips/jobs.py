"""Job kinds of the payslips app."""

from django.utils.translation import gettext_lazy as _

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
