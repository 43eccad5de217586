from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        # Per-company defaults (the cost centre and project dimensions, the settings row).
        from . import defaults  # noqa: F401
