"""The Celery application.

With ``REDIS_URL`` set, a separate worker process runs the tasks; without it (the embedded
default) tasks run in-process when they are enqueued, so a first run needs no broker.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexbridge.settings")

app = Celery("flexbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _mask_worker_logs(logger, *args, **kwargs):
    """The worker sets up its own log handlers: personnummer are masked there too."""
    from .logging import mask_handlers

    mask_handlers(logger)
