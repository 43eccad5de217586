"""The dashboard, login and the language switch."""

from django.urls import reverse
from django.utils import timezone

from companies.models import Task
from jobs import runner
from tests.factories import JobFactory


def test_dashboard_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_renders_in_swedish_by_default(client, settings):
    settings.LANGUAGE_CODE = "sv"
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="sv"' in html
    assert "Logga in" in html


def test_dashboard_lists_companies_tasks_and_jobs_of_the_user(client, user, company, other_company):
    mine = JobFactory(company=company, parameters={"items": 2})
    runner.job_execute(job_id=mine.pk)
    theirs = JobFactory(company=other_company)
    Task.objects.create(company=company, title="Enter the termination reason in payroll")
    Task.objects.create(company=other_company, title="Not yours")
    Task.objects.create(company=company, title="Done already", done_at=timezone.now())
    client.force_login(user)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme AB" in html and "Other AB" not in html
    assert "Enter the termination reason in payroll" in html
    assert "Not yours" not in html and "Done already" not in html
    assert f'data-job-id="{mine.pk}"' in html and f'data-job-id="{theirs.pk}"' not in html
    assert "100 %" in html


def test_job_page_and_log_download(client, user, company, other_company):
    job = JobFactory(company=company, parameters={"items": 2})
    runner.job_execute(job_id=job.pk)
    client.force_login(user)
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert page.status_code == 200
    assert "item 2" in page.content.decode()
    download = client.get(reverse("jobs:log-csv", args=[job.pk]))
    assert download["Content-Disposition"] == (
        f'attachment; filename="system-self-test-{job.company.code}-{job.pk}-log.csv"'
    )
    assert b";Info;item 1;Done." in download.content
    foreign = JobFactory(company=other_company)
    assert client.get(reverse("jobs:detail", args=[foreign.pk])).status_code == 404


def test_language_switch(client, user):
    client.force_login(user)
    assert 'lang="en"' in client.get("/").content.decode()
    response = client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert 'lang="sv"' in html
    assert "Startsida" in html and "Dashboard" not in html


def test_admin_job_list_shows_progress_and_log_link(client, user, company):
    job = JobFactory(company=company, parameters={"items": 2})
    runner.job_execute(job_id=job.pk)
    client.force_login(user)
    listing = client.get(reverse("admin:jobs_job_changelist"))
    assert 'class="job-progress"' in listing.content.decode()
    detail = client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    html = detail.content.decode()
    assert reverse("admin:jobs_job_log", args=[job.pk]) in html
    assert "item 2" in html
    csv = client.get(reverse("admin:jobs_job_log", args=[job.pk]))
    assert csv.status_code == 200 and b"item 2" in csv.content


def test_navigation_lists_the_sections(client, user):
    client.force_login(user)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    for label, url in [
        ("Employees", reverse("admin:employees_employee_changelist")),
        ("Projects", reverse("projects:tree")),
        ("Send payslips to Kivra", reverse("payslips:kivra-dispatch")),
        ("Accounting", reverse("ledger:accounting")),
        ("PAXml import", reverse("admin:paxml_upload")),
        ("PAXml export", reverse("admin:paxml_export")),
        ("Switchover", reverse("switchover:page")),
        ("Jobs", reverse("jobs:list")),
    ]:
        assert f'<a href="{url}"' in nav and label in nav, label
    assert "<summary>Payroll</summary>" in nav


def test_admin_job_filter_lists_kinds_by_name(client, user, company):
    client.force_login(user)
    html = client.get(
        reverse("admin:jobs_job_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Send payslips to Kivra" in html and "?kind=kivra_dispatch" in html
    assert ">kivra_dispatch<" not in html


def test_admin_has_a_language_switch(client, user):
    client.force_login(user)
    html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert '<option value="en">' in html and '<option value="sv" selected>' in html


def test_history_page_reads_in_swedish(client, user, company):
    from tests.employees.factories import EmployeeFactory

    employee = EmployeeFactory(company=company)
    client.force_login(user)
    html = client.get(
        reverse("admin:employees_employee_history", args=[employee.pk]),
        HTTP_ACCEPT_LANGUAGE="sv",
    ).content.decode()
    assert "Ändrad av" in html and "Changed by" not in html


def test_custom_404_and_500_pages(client, user, settings):
    settings.DEBUG = False
    client.force_login(user)
    missing = client.get("/jobs/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 404
    assert "Page not found" in missing.content.decode()
    assert '<nav class="mainnav"' in missing.content.decode()
    from flexbridge.views import server_error

    request = client.get("/").wsgi_request
    with __import__("django.utils.translation", fromlist=["override"]).override("sv"):
        page = server_error(request)
    assert page.status_code == 500
    assert "Något gick fel" in page.content.decode()


def test_a_refusal_no_page_caught_is_a_page_error_not_a_500(client, user):
    """The backstop: a ValidationError escaping a page reads as a 400 page with the reason,
    in the reader's language and with the site's navigation (API errors keep their shape)."""
    from django.core.exceptions import ValidationError

    from flexbridge.middleware import ServiceRefusalMiddleware

    client.force_login(user)
    request = client.get("/", HTTP_ACCEPT_LANGUAGE="en").wsgi_request
    middleware = ServiceRefusalMiddleware(lambda r: None)
    refusal = ValidationError({"budget_hours": ["Sub projects have budgets."]})
    response = middleware.process_exception(request, refusal)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not possible" in html and "Sub projects have budgets." in html
    assert '<nav class="mainnav"' in html
    api_request = client.get("/api/v1/jobs/").wsgi_request
    assert middleware.process_exception(api_request, refusal) is None


def test_not_found_is_the_sites_page_even_with_debug_on(client, user, settings):
    settings.DEBUG = True
    client.force_login(user)
    for path in ("/no-such-page/", "/jobs/999999/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404
        html = response.content.decode()
        assert "Page not found" in html and "Django tried these URL patterns" not in html
    assert client.get("/api/v1/jobs/999999/").status_code == 404
