from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        # Per-company defaults, job kinds and job messages register themselves on import.
        from . import defaults, jobs, messages  # noqa: F401
