from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from employees import events
        from employees.services import payroll_number_check_register

        from . import jobs  # noqa: F401  (registers the job kinds)
        from . import payroll_sync as sync

        # The seed's rule: a new employee number goes into payroll first, then HR.
        payroll_number_check_register(sync.payroll_number_check)
        # The payroll sync learns of employee changes from the register's events.
        events.employee_saved.connect(
            sync.payroll_sync_on_employee_saved, dispatch_uid="integrations.payroll_sync.saved"
        )
        events.employee_dated_value_changed.connect(
            sync.payroll_sync_on_dated_value_changed,
            dispatch_uid="integrations.payroll_sync.dated_value",
        )
