from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations and batch jobs")

    def ready(self) -> None:
        # Job handlers register themselves on import.
        from employees.services import payroll_number_check_register

        from . import jobs  # noqa: F401
        from .payroll_sync import payroll_number_check

        # The seed's rule: a new employee number goes into payroll first, then HR.
        payroll_number_check_register(payroll_number_check)
