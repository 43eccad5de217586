"""Real ``celery worker`` processes on the current database and Redis: the one way the
end-to-end tests (``tests/e2e/conftest.py``) and the benchmarks (``bench/common.py``)
start and stop them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from flexbridge.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


class WorkerNotStarted(RuntimeError):
    """The worker exited, or was not ready in time; the message ends with its log."""


def database_url() -> str:
    """The database Django is connected to, as a ``DATABASE_URL`` for a worker (PostgreSQL:
    a second process must see the rows the first wrote)."""
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(extra: dict | None = None) -> dict:
    """This process's environment with the database, broker, media folder and keys it
    uses, so the worker reads and writes what this process does."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "DJANGO_SETTINGS_MODULE": "flexbridge.settings",
        **(extra or {}),
    }


def worker_start(
    *,
    name: str,
    log_path: Path,
    env: dict | None = None,
    loglevel: str = "INFO",
    timeout: float = 60,
) -> subprocess.Popen:
    """A ``celery worker --pool=solo`` subprocess named ``name@<host>``, its output in
    ``log_path`` (``process.log``); returns once it is ready, else raises
    :class:`WorkerNotStarted` (the process killed)."""
    log = open(log_path, "w+")  # noqa: SIM115 - closed by worker_stop
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "flexbridge",
            "worker",
            "--pool=solo",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={name}@%h",
        ],
        cwd=ROOT,
        env=worker_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkerNotStarted(f"celery worker exited early:\n{_log_text(log)}")
        if _ready(name, log):
            return process
        time.sleep(0.2)
    process.kill()
    process.wait()
    raise WorkerNotStarted(f"celery worker did not start:\n{_log_text(log)}")


def worker_stop(process: subprocess.Popen) -> None:
    """Stop it (terminate, then kill after 20 s) and close its log."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()


def _ready(name: str, log) -> bool:
    """Its log says ``ready.`` (at INFO), or it answers a ping (at any log level)."""
    if " ready." in _log_text(log):
        return True
    try:
        destination = [f"{name}@{socket.gethostname()}"]
        return bool(celery_app.control.ping(destination=destination, timeout=0.5))
    except Exception:  # the broker not answering yet is "not ready"
        return False


def _log_text(log) -> str:
    log.seek(0)
    return log.read()


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2):
    """Poll ``predicate`` until it returns something true (returned), else fail the test
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
