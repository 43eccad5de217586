from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayslipsConfig(AppConfig):
    name = "payslips"
    verbose_name = _("Payslips")

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the job kinds)
