"""The Celery application.

A separate worker process runs the tasks: on Redis (``REDIS_URL``) in production, on files
in the embedded first run (``run_embedded``, ``EMBEDDED_WORKER``). Tests and management
commands without either run tasks in-process when they are enqueued.
"""

import os

from celery import Celery, signals

from .logging import mask_handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexbridge.settings")

app = Celery("flexbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _mask_worker_logs(logger, *args, **kwargs):
    """The worker sets up its own log handlers: personnummer are masked there too."""
    mask_handlers(logger)
