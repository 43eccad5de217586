from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Jobs")

    def ready(self) -> None:
        # The built-in self-test kind registers itself on import; every other app registers
        # its kinds in its own AppConfig.ready.
        from . import selftest  # noqa: F401
