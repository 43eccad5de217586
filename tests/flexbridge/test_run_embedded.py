"""``run_embedded`` (``make run``): a worker and beat beside the web server, on files only.

Runs the real command in a subprocess on its own SQLite file and broker folder, without
Redis: a job queued before the start is picked up, and two jobs started at once through
the API both run, side by side, with their progress visible while they run.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_browser import browser_page
from tests.workers import wait_for

pytestmark = pytest.mark.e2e
_ = browser_page  # the fixture, for the browser test below

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from companies.models import Membership, Role
from jobs.models import Job
from tests.factories import CompanyFactory
company = CompanyFactory(code="emb", name="Embedded AB")
user = get_user_model().objects.create_user("emb", password="a-long-test-password")
Membership.objects.create(user=user, company=company, role=Role.objects.get(code="admin"))
Job.objects.create(company=company, kind="selftest", parameters={"items": 3})
print(json.dumps({"company": company.pk, "token": Token.objects.create(user=user).key}))
"""


def _free_port() -> int:
    if os.environ.get("FLEXBRIDGE_TEST_PORT"):
        return int(os.environ["FLEXBRIDGE_TEST_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "EMBEDDED_WORKER", "DATABASE_URL")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        EMBEDDED_BROKER_DIR=str(tmp_path / "broker"),
        MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="flexbridge.settings",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    shell = subprocess.run(
        [*manage, "shell", "-c", "import json\n" + SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    setup = json.loads(shell.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [*manage, "run_embedded", "--no-sandboxes", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def call(path, body=None):
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Token {setup['token']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def up():
        try:
            return call("/api/v1/jobs/")
        except OSError:
            assert process.poll() is None, "run_embedded exited early"
            return None

    try:
        wait_for(up, timeout=120, interval=0.5)
        yield {"call": call, "company": setup["company"], "log": log, "base": base}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_queued_job_runs_on_start_and_two_jobs_run_side_by_side(embedded):
    call = embedded["call"]
    # The job queued before the server started (no worker then) is picked up.
    first = wait_for(
        lambda: (job := call("/api/v1/jobs/1/"))["status"] == "succeeded" and job,
        timeout=90,
        interval=0.1,
    )
    assert first["progress_done"] == 3

    # Two jobs started at once: the request only queues them; the worker runs both.
    started = [
        call("/api/v1/jobs/selftest/", {"company": embedded["company"], "items": 15, "delay": 0.2})
        for _ in range(2)
    ]
    assert [job["status"] for job in started] == ["queued", "queued"]
    ids = [job["id"] for job in started]
    seen_running_together = False
    seen_between = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        jobs = [call(f"/api/v1/jobs/{job_id}/") for job_id in ids]
        statuses = [job["status"] for job in jobs]
        seen_running_together |= statuses == ["running", "running"]
        seen_between |= any(0 < job["progress_done"] < 15 for job in jobs)
        if all(
            status in ("succeeded", "failed", "partly_failed", "cancelled") for status in statuses
        ):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the jobs did not finish: {statuses}")
    assert statuses == ["succeeded", "succeeded"]
    assert all(job["progress_done"] == 15 for job in jobs)
    assert seen_running_together, "the two jobs did not run at the same time"
    assert seen_between, "no progress was visible while the jobs ran"
    # Beat runs beside them with the schedules (payroll sync retries, nightly accountings).
    log = embedded["log"]
    log.flush()
    log.seek(0)
    text = log.read()
    assert "beat: Starting..." in text
    assert "integrations.payroll_accounting_nightly" in text  # the worker knows the task
    assert "Jobs queued again: 1" in text


def test_a_job_page_shows_the_bar_moving_to_done(embedded, browser_page):
    """In a real browser against the embedded run: the job page's bar moves while the
    worker runs the job (no reload), then reaches 100 %."""
    page = browser_page
    base = embedded["base"]
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "emb")
    page.fill("input[name=password]", "a-long-test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    job = embedded["call"](
        "/api/v1/jobs/selftest/", {"company": embedded["company"], "items": 20, "delay": 0.25}
    )
    page.goto(f"{base}/jobs/{job['id']}/")
    percent = ".job-progress .percent"
    # Somewhere between start and end, without the page being reloaded ...
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('{percent}').textContent;"
        " const n = parseInt(t, 10); return n > 0 && n < 100; }",
        timeout=60_000,
    )
    # ... and then done (the page reloads once to show the whole log).
    page.wait_for_function(
        f"() => document.querySelector('{percent}').textContent.trim() === '100 %'",
        timeout=60_000,
    )
    page.locator("table.log tbody tr").nth(19).wait_for(timeout=30_000)
    assert page.locator("table.log tbody tr").count() == 20
