from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PAXmlConfig(AppConfig):
    name = "paxml"
    verbose_name = _("PAXml")

    def ready(self) -> None:
        # The code-list defaults and the job kinds register themselves on import.
        from . import jobs  # noqa: F401
        from .services import defaults  # noqa: F401
