"""A person logs in, opens the dashboard and watches a job's progress reach 100 %.

Playwright for Python drives Debian's ``chromium`` (never a downloaded browser).
"""

import os
import shutil
import threading

import pytest
from django.db import connections

from jobs.runner import job_execute
from tests.factories import CompanyFactory, JobFactory, MembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        page = browser.new_page(locale="en-GB")
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get their own connection (Django's
        # connections are context-local): close it, or the test database can't be dropped.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def short_lived_connections():
    """The live server answers each request in a new thread: close its connection after the
    request instead of keeping it for reuse, so the test database can be dropped."""
    db = connections.settings["default"]
    previous = db.get("CONN_MAX_AGE", 0)
    db["CONN_MAX_AGE"] = 0
    yield
    db["CONN_MAX_AGE"] = previous


def test_dashboard_shows_job_progress_reaching_100(
    browser_page, live_server, short_lived_connections
):
    membership = MembershipFactory(
        company=CompanyFactory(code="browser", name="Browser AB"),
        user__username="hr",
        user__password="a-long-test-password",
    )
    job = JobFactory(company=membership.company, parameters={"items": 20, "delay": 0.15})
    page = browser_page

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", "a-long-test-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "Browser AB" in page.content()

    progress = page.locator(f'.job-progress[data-job-id="{job.pk}"] .percent')
    assert progress.inner_text() == "0 %"

    def run_job():
        try:
            job_execute(job_id=job.pk)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run_job)
    worker.start()
    try:
        # The bar can read 100 % one poll before the job is marked finished: wait for the
        # finished mark the page sets from a finished job, then read what it shows.
        page.wait_for_function(
            'id => document.querySelector(`.job-progress[data-job-id="${id}"]`)'
            ".dataset.finished === '1'",
            arg=job.pk,
            timeout=60_000,
        )
    finally:
        worker.join(timeout=60)
        connections.close_all()
    assert progress.inner_text() == "100 %"
    status = page.locator(f'.job-progress[data-job-id="{job.pk}"] .status').inner_text()
    assert status in ("Succeeded", "Lyckades")
