from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

from .services import sie_export_run, visma_transfer_run

register_job_kind(
    "sie_export",
    _("Create the accounting file (SIE)"),
    handler=sie_export_run,
    permission="companies.run_sie_export",
)
register_job_kind(
    "visma_transfer",
    _("Direct transfer of accounting to Visma.Net"),
    handler=visma_transfer_run,
    permission="companies.run_visma_transfer",
)
