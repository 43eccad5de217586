"""The Celery application.

A separate worker process runs the tasks: on Redis (``REDIS_URL``) in production, on files
in the embedded first run (``run_embedded``, ``EMBEDDED_WORKER``). Tests and management
commands without either run tasks in-process when they are enqueued.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexbridge.settings")

app = Celery("flexbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
