from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayslipsConfig(AppConfig):
    name = "payslips"
    verbose_name = _("Payslips")

    def ready(self) -> None:
        from employees.selectors import print_handling_source_register

        from . import jobs  # noqa: F401  (registers the job kinds)
        from .selectors import kivra_print_handling_on

        # The employee register asks whether print handling is on; the Kivra link answers.
        print_handling_source_register(kivra_print_handling_on)
