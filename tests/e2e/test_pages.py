"""The main flows in a real browser, as HR and payroll staff click through them.

Playwright drives Debian's ``chromium``. Jobs run in a thread beside the live server (as a
worker would), so the pages see them queued, running and finished. Every main page is
saved as a screenshot under ``artefacts/screenshots/`` (not committed) for a person to
look at.
"""

from __future__ import annotations

import datetime
import re
import threading
from pathlib import Path

import pytest
from django.db import connections

from integrations.sandboxes.kivra import KivraSandbox
from jobs import tasks
from jobs.runner import job_execute
from tests.e2e.test_browser import browser_page, short_lived_connections
from tests.employees.factories import EmployeeFactory
from tests.integrations import conftest as payroll_fixtures
from tests.ledger.test_views import run_with_payslip
from tests.payslips.factories import KivraLinkFactory, make_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Fixtures shared with the other tests (the names pytest looks for).
_ = (browser_page, short_lived_connections)
# The payroll sandbox and the company's link to it (the switchover's tests' fixtures).
fast_client, sandbox, served, link = (
    payroll_fixtures.fast_client,
    payroll_fixtures.sandbox,
    payroll_fixtures.served,
    payroll_fixtures.link,
)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artefacts" / "screenshots"
FIXTURES = ROOT / "tests" / "fixtures" / "paxml"
PASSWORD = "a-long-test-password"


@pytest.fixture
def in_request():
    """Jobs run when the request that starts them commits (the dispatch's own threads
    and the pages' polling would lock the tests' shared in-memory SQLite otherwise)."""
    from flexbridge.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def thread_worker(monkeypatch):
    """Enqueued jobs run in their own thread, like a worker beside the web server."""
    threads: list[threading.Thread] = []

    def run(job_id):
        try:
            job_execute(job_id=job_id)
        finally:
            connections.close_all()

    def delay(job_id):
        thread = threading.Thread(target=run, args=(job_id,))
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.run_job, "delay", delay)
    yield
    for thread in threads:
        thread.join(timeout=60)
    connections.close_all()


@pytest.fixture
def visma(company, monkeypatch):
    """A Visma.Net sandbox and the company's link to it (as in the ledger's tests)."""
    from tests.ledger.conftest import link as ledger_link
    from tests.ledger.conftest import sandbox as ledger_sandbox

    served_visma = ledger_sandbox.__wrapped__()
    visma_sandbox = next(served_visma)
    try:
        yield ledger_link.__wrapped__(company, visma_sandbox, monkeypatch)
    finally:
        next(served_visma, None)


@pytest.fixture
def person(company, make_user):
    user = make_user(company, role="admin", username="payroll")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def page(browser_page, live_server, short_lived_connections, person):
    browser_page.set_viewport_size({"width": 1400, "height": 900})
    browser_page.goto(f"{live_server.url}/login/")
    browser_page.fill("input[name=username]", "payroll")
    browser_page.fill("input[name=password]", PASSWORD)
    browser_page.click("button[type=submit]")
    browser_page.wait_for_url(f"{live_server.url}/")
    browser_page.base = live_server.url
    return browser_page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def visible_text(page) -> str:
    return page.inner_text("main")


def assert_for_people(text: str) -> None:
    """No raw dict and no code where a name belongs."""
    assert "{'" not in text and '{"' not in text, text
    for code in ("kivra_dispatch", "visma_transfer", "first_last", "partly_failed"):
        assert code not in text, code


def test_edit_an_employee_with_an_invalid_value_shows_the_field_error(page, company):
    employee = EmployeeFactory(company=company)
    page.goto(f"{page.base}/admin/employees/employee/{employee.pk}/change/")
    page.fill("input[name=personal_identity_number]", "19900101-1235")
    page.click("input[name=_save]")
    error = page.locator(".field-personal_identity_number .errorlist")
    error.wait_for()
    assert error.inner_text().strip()
    shot(page, "employee-field-error")


def test_run_the_preflight_and_read_it(page, company, link, thread_worker):
    page.goto(f"{page.base}/integrations/switchover/?company={company.code}")
    page.locator("form:has(input[name=action][value=preflight]) button[type=submit]").click()
    page.wait_for_load_state()
    # The worker runs it; the checklist is on the page once it has finished.
    for _attempt in range(60):
        if page.locator("table.checklist").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    checklist = page.locator("table.checklist")
    assert checklist.count() == 1
    text = visible_text(page)
    assert "Preflight checklist" in text
    assert_for_people(text)
    shot(page, "switchover-preflight")


def test_start_a_kivra_dispatch_and_read_the_outcome(page, company, in_request):
    staff = [EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(6)]
    kivra = KivraSandbox(users=[e.personal_identity_number for e in staff])
    make_run(company, staff, payment_date=datetime.date(2026, 1, 25))
    with kivra.serving() as url:
        KivraLinkFactory(company=company, base_url=url)
        page.goto(f"{page.base}/payslips/kivra-dispatch/")
        page.select_option("select[name=payment_date]", "2026-01-25")
        page.click("#selection button[type=submit]")
        page.wait_for_load_state()
        page.locator("#log .mark.ok").wait_for(timeout=60_000)
    text = visible_text(page)
    assert "Sending payslips to Kivra has finished" in text
    assert "6 sent" in text
    assert_for_people(text)
    shot(page, "kivra-dispatch-done")


PROGRESS_BETWEEN = """() => {
    const percent = document.querySelector("#log .job-progress .percent");
    if (!percent) { return false; }
    const value = parseInt(percent.textContent, 10);
    return value > 0 && value < 100;
}"""


def test_the_kivra_progress_bar_moves_to_done(page, company, thread_worker, settings):
    """A dispatch run by a worker beside the web server: the page's bar shows a value
    strictly between 0 and 100 before the finished mark. One sender and a sandbox that
    answers after 1.5 s make six payslips take about 12 s, so the page's polling (every
    second) sees them part-way whatever the machine's load."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker thread beside the live server needs PostgreSQL")
    settings.KIVRA_DISPATCH_CONCURRENCY = 1
    settings.KIVRA_DISPATCH_PARALLEL = 1  # no helper tasks: the worker thread runs it all
    staff = [EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(6)]
    kivra = KivraSandbox(users=[e.personal_identity_number for e in staff], latency_ms=1500)
    make_run(company, staff, payment_date=datetime.date(2026, 1, 25))
    with kivra.serving() as url:
        KivraLinkFactory(company=company, base_url=url)
        page.goto(f"{page.base}/payslips/kivra-dispatch/")
        page.select_option("select[name=payment_date]", "2026-01-25")
        page.click("#selection button[type=submit]")
        page.wait_for_load_state()
        page.wait_for_function(PROGRESS_BETWEEN, timeout=60_000)
        shot(page, "kivra-dispatch-running")
        page.locator("#log .mark.ok").wait_for(timeout=90_000)
    text = visible_text(page)
    assert "6 sent" in text
    assert_for_people(text)


def test_transfer_accounting_and_get_the_notice(page, company, visma, in_request):
    run = run_with_payslip(company)
    page.goto(f"{page.base}/payroll/accounting/")
    page.click("text=Direct transfer")
    dialog = page.locator("dialog#selection")
    dialog.wait_for()
    shot(page, "accounting-dialog")
    page.select_option("select[name=company]", str(company.pk))
    page.select_option("select[name=payroll_run]", str(run.pk))
    dialog.locator("button[value=transfer]").click()
    notice = page.locator(".notice.success")
    notice.wait_for(timeout=60_000)
    assert "The accounting was transferred to Visma.Net." in notice.inner_text()
    assert_for_people(visible_text(page))
    shot(page, "accounting-notice")


def test_import_a_paxml_file_with_an_error_and_read_the_line(page, company, in_request):
    page.goto(f"{page.base}/admin/paxml/paxmlfile/upload/")
    page.select_option("select[name=company]", str(company.pk))
    page.set_input_files("input[name=file]", str(FIXTURES / "invalid-persnr-10-digits.xml"))
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+/$"))
    page.locator(".job-progress[data-finished='1']").wait_for(state="attached", timeout=60_000)
    page.locator("tr.level-error").first.wait_for(timeout=60_000)
    row = page.locator("tr.level-error").first.inner_text()
    assert "line" in row
    assert_for_people(visible_text(page))
    shot(page, "paxml-import-error")


def test_switch_language_and_read_the_same_job_in_english(page, company):
    from tests.factories import JobFactory

    job = JobFactory(company=company, parameters={"items": 2, "fail_at": 2})
    job_execute(job_id=job.pk)
    page.goto(f"{page.base}/jobs/{job.pk}/")
    with page.expect_navigation():  # the switch submits its form: wait for the new page
        page.select_option("header select[name=language]", "sv")
    page.wait_for_load_state()
    swedish = visible_text(page)
    assert "1 fel." in swedish and "Misslyckades med avsikt." in swedish
    assert_for_people(swedish)
    shot(page, "job-sv")
    with page.expect_navigation():  # the switch submits its form: wait for the new page
        page.select_option("header select[name=language]", "en")
    page.wait_for_load_state()
    english = visible_text(page)
    assert "1 error." in english and "Failed on purpose." in english
    assert "Misslyckades" not in english
    assert_for_people(english)
    shot(page, "job-en")


def test_screenshots_of_the_main_pages(page, company):
    from tests.projects.factories import make_project, make_tree

    make_tree(company, budget_hours=None)
    make_project(company, "B2", budget_hours=40)
    for number in ("2", "10", "1"):
        EmployeeFactory(company=company, employee_number=number)
    for name, path in [
        ("dashboard", "/"),
        ("projects", "/projects/"),
        ("jobs", "/jobs/"),
        ("employees", "/admin/employees/employee/"),
        ("accounting", "/payroll/accounting/"),
        ("kivra", "/payslips/kivra-dispatch/"),
        ("not-found", "/jobs/999999/"),
    ]:
        page.goto(f"{page.base}{path}")
        shot(page, name)
        assert_for_people(visible_text(page) if page.locator("main").count() else "")
    # Tables sort numbers as numbers: 2 before 10.
    from tests.factories import JobFactory

    for _n in range(11):
        JobFactory(company=company)
    page.goto(f"{page.base}/jobs/")
    page.click("table.sortable thead th >> nth=0")
    ids = page.locator("table.sortable tbody tr td:first-child").all_inner_texts()
    assert ids == sorted(ids, key=int)
    # The project tree's search keeps the matches and their parents.
    page.goto(f"{page.base}/projects/")
    page.fill("#ptree-search", "rek")
    states = page.evaluate(
        "() => [...document.querySelectorAll('.ptree li.pnode')]"
        ".map(li => [li.querySelector('.code a').textContent, li.hidden])"
    )
    assert [code for code, hidden in states if not hidden] == ["BS", "BS.HR", "BS.HR.Rek"], states
    # The employee list fits the page at 1 400 px: no scrolling box inside it.
    page.goto(f"{page.base}/admin/employees/employee/")
    widths = page.evaluate(
        "() => { const box = document.querySelector('#changelist .results');"
        " return [box.scrollWidth, box.clientWidth]; }"
    )
    assert widths[0] <= widths[1], widths
