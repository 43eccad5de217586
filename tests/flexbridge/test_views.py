"""The dashboard, login and the language switch."""

from django.urls import reverse
from django.utils import timezone

from companies.models import Task
from integrations import services
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
    services.job_execute(job_id=mine.pk)
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
    services.job_execute(job_id=job.pk)
    client.force_login(user)
    page = client.get(reverse("jobs:detail", args=[job.pk]))
    assert page.status_code == 200
    assert "item 2" in page.content.decode()
    download = client.get(reverse("jobs:log-csv", args=[job.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="job-{job.pk}-log.csv"'
    assert b";info;item 1;Done." in download.content
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
    services.job_execute(job_id=job.pk)
    client.force_login(user)
    listing = client.get(reverse("admin:integrations_job_changelist"))
    assert 'class="job-progress"' in listing.content.decode()
    detail = client.get(reverse("admin:integrations_job_change", args=[job.pk]))
    html = detail.content.decode()
    assert reverse("admin:integrations_job_log", args=[job.pk]) in html
    assert "item 2" in html
    csv = client.get(reverse("admin:integrations_job_log", args=[job.pk]))
    assert csv.status_code == 200 and b"item 2" in csv.content
