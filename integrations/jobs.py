from django.utils.translation import gettext_lazy as _

from .jobs_registry import register_job_kind
from .services import selftest_run

register_job_kind(
    "selftest", _("System self-test"), handler=selftest_run, permission="integrations.add_job"
)
