"""Helpers for end-to-end tests: a real Celery worker process on the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _worker_env(extra: dict | None = None) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_SETTINGS_MODULE": "flexbridge.settings",
        **(extra or {}),
    }


def start_worker(log_path: Path, *, env: dict | None = None) -> subprocess.Popen:
    """A ``celery worker --pool=solo`` subprocess; returns once it is ready."""
    log = open(log_path, "w+")  # noqa: SIM115 - closed by stop_worker
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "flexbridge",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={log_path.stem}@%h",
        ],
        cwd=ROOT,
        env=_worker_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log.seek(0)
        if "ready." in log.read():
            return process
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"celery worker exited early:\n{log.read()}")
        time.sleep(0.2)
    process.kill()
    log.seek(0)
    pytest.fail(f"celery worker did not start:\n{log.read()}")


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()


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


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
