from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PAXmlConfig(AppConfig):
    name = "paxml"
    verbose_name = _("PAXml")
