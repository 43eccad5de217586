"""Helpers for end-to-end tests: a real Celery worker process on the test database."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.workers import WorkerNotStarted, worker_start, worker_stop


def start_worker(log_path: Path, *, env: dict | None = None) -> subprocess.Popen:
    """A ``celery worker --pool=solo`` subprocess named after its log; returns once it is
    ready (the test fails if it does not start)."""
    try:
        return worker_start(name=log_path.stem, log_path=log_path, env=env)
    except WorkerNotStarted as exc:
        pytest.fail(str(exc))


stop_worker = worker_stop


@pytest.fixture
def broker(transactional_db):
    """Redis and PostgreSQL as the workers need them; the test process enqueues for real."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a broker) for a real worker")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL so a second process sees the test database")
    from flexbridge.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    yield app
    app.control.purge()


@pytest.fixture
def celery_worker_process(broker, tmp_path):
    """A ``celery worker`` subprocess against Redis and the test database."""
    process = start_worker(tmp_path / "worker.log")
    yield process
    stop_worker(process)


@pytest.fixture
def celery_workers(broker, tmp_path):
    """Start workers with ``celery_workers(name, env={...})``; all are stopped at the end."""
    started: list[subprocess.Popen] = []

    def start(name: str, *, env: dict | None = None) -> subprocess.Popen:
        process = start_worker(tmp_path / f"{name}.log", env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_worker(process)
