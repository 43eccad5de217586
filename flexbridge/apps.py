from django.apps import AppConfig


class FlexbridgeConfig(AppConfig):
    """The project package itself: management commands such as ``seed_demo``."""

    name = "flexbridge"
    verbose_name = "flexbridge"
