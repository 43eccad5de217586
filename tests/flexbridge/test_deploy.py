"""With DEBUG off and the documented production variables, the deploy checks pass; without
a SECRET_KEY or FIELD_ENCRYPTION_KEY the app refuses to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "test-deploy-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
    "ALLOWED_HOSTS": "hr.example.se",
    "FIELD_ENCRYPTION_KEY": "Zm9vYmFyYmF6cXV4cXV1eHF1dXhmb29iYXJiYXpxdXg=",
    "DATABASE_URL": "sqlite:///" + str(ROOT / "unused-deploy-check.sqlite3"),
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_field_encryption_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "FIELD_ENCRYPTION_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is required" in result.stderr
