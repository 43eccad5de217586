from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CompaniesConfig(AppConfig):
    name = "companies"
    verbose_name = _("Companies and roles")

    def ready(self) -> None:
        from . import services

        # Once per app, right after Django created that app's permissions.
        post_migrate.connect(services.roles_sync_on_migrate, dispatch_uid="companies.roles_sync")
