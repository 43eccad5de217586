from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmployeesConfig(AppConfig):
    name = "employees"
    verbose_name = _("Employees")

    def ready(self) -> None:
        # The per-company defaults (STD category, default template) and the history hook
        # that keeps personal identity numbers masked register themselves on import.
        from . import services, signals  # noqa: F401
