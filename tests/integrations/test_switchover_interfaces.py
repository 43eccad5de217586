"""The switchover from the shell, over REST and on its page."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from integrations import switchover as sw
from integrations.models import Switchover
from jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(company, make_user):
    return make_user(company, role="admin", is_superuser=True)


def test_command_preflight_prints_report_and_exits_0(company, link, superuser, capsys):
    call_command("switchover", company="acme", step="preflight")
    out = capsys.readouterr().out
    assert "[ OK ] Personnel categories match by code" in out
    assert "Step preflight: passed" in out


def test_command_exits_1_when_a_check_fails(company, link, superuser, sandbox, capsys):
    sandbox.settings["use_hr_web_service"] = False
    with pytest.raises(SystemExit) as exit_info:
        call_command("switchover", company="acme", step="preflight")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "[FAIL] 'Use HR web service' on and the integration user active" in out


def test_command_runs_the_other_steps_by_name(company, link, superuser, sandbox, capsys):
    call_command("switchover", company="acme", step="preflight")
    call_command("switchover", company="acme", step="test_export", employee_number="1002")
    call_command("switchover", company="acme", step="approve")
    call_command("switchover", company="acme", step="export_all")
    call_command("switchover", company="acme", step="payroll_off")
    call_command("switchover", company="acme", step="abort", reason="testing")
    out = capsys.readouterr().out
    assert "Count check: 12 employees on both sides." in out
    assert "Aborted" in out
    assert sandbox.settings["export_personal_data"] is True


def test_api_action_per_step_answers_202_with_the_job(api, company, link):
    response = api.post("/api/v1/switchovers/preflight/", {"company": company.pk}, format="json")
    assert response.status_code == 202, response.content
    assert response.data["kind"] == "switchover_preflight"
    job = Job.objects.get(pk=response.data["id"])
    if not job.is_finished:
        from jobs.runner import job_execute

        job_execute(job_id=job.pk)
    listing = api.get("/api/v1/switchovers/")
    assert listing.status_code == 200
    switchover_id = listing.data["results"][0]["id"]
    # Out of order → 409 in the one error shape.
    response = api.post("/api/v1/switchovers/export-all/", {"company": company.pk}, format="json")
    assert response.status_code == 409
    assert "error" in response.data or "error" in response.json()
    detail = api.get(f"/api/v1/switchovers/{switchover_id}/")
    assert detail.data["state"] == "preflight"
    assert detail.data["events"][0]["kind"] == "step_started"


def test_api_override_and_abort(api, company, link, sandbox):
    sandbox.settings["name_order"] = "undefined"
    api.post("/api/v1/switchovers/preflight/", {"company": company.pk}, format="json")
    job = Job.objects.get(kind="switchover_preflight")
    if not job.is_finished:
        from jobs.runner import job_execute

        job_execute(job_id=job.pk)
    switchover = Switchover.objects.get(company=company)
    response = api.post(f"/api/v1/switchovers/{switchover.pk}/override/", {"reason": ""})
    assert response.status_code == 400
    response = api.post(f"/api/v1/switchovers/{switchover.pk}/override/", {"reason": "known"})
    assert response.status_code == 200 and response.data["state"] == "preflight"
    response = api.post(f"/api/v1/switchovers/{switchover.pk}/abort/", {"reason": "later"})
    assert response.status_code == 200 and response.data["state"] == "aborted"


def test_api_other_company_is_invisible(api, other_company, company, link):
    response = api.post(
        "/api/v1/switchovers/preflight/", {"company": other_company.pk}, format="json"
    )
    assert response.status_code == 400


def test_api_viewer_may_not_start(api_client, company, link, make_user):
    api_client.force_authenticate(make_user(company, role="viewer"))
    response = api_client.post(
        "/api/v1/switchovers/preflight/", {"company": company.pk}, format="json"
    )
    assert response.status_code == 403


def test_page_shows_checklist_in_colours(client, user, company, link, sandbox):
    sandbox.settings["use_hr_web_service"] = False
    sandbox.salary_codes[1]["in_use"] = True
    client.force_login(user)
    url = reverse("switchover:page")
    response = client.post(url, {"company": "acme", "action": "preflight"})
    assert response.status_code == 302
    job = Job.objects.get(kind="switchover_preflight")
    if not job.is_finished:
        from jobs.runner import job_execute

        job_execute(job_id=job.pk)
    page = client.get(url + "?company=acme").content.decode()
    assert 'class="sw-red"' in page and 'class="sw-green"' in page
    assert "Switching is not recommended" in page or "rekommenderas" in page
    assert "120 Timlön" in page
    # Override from the page: logged with the reason.
    client.post(url, {"company": "acme", "action": "override", "reason": "we accept"})
    switchover = sw.switchover_current(company=company)
    assert switchover.state == "preflight"
    assert switchover.events.filter(kind="override", reason="we accept").exists()


def test_page_refuses_users_without_permission(client, company, make_user, link):
    client.force_login(make_user(company, role="viewer"))
    assert client.get(reverse("switchover:page")).status_code == 403


def test_checklist_names_its_checks_in_the_readers_language(client, user, company, link):
    from django.utils import translation

    from jobs.runner import job_execute

    client.force_login(user)
    url = reverse("switchover:page")
    with translation.override("sv"):  # run by a Swedish worker
        client.post(url, {"company": "acme", "action": "preflight"}, HTTP_ACCEPT_LANGUAGE="sv")
        job = Job.objects.get(kind="switchover_preflight")
        if not job.is_finished:
            job_execute(job_id=job.pk)
    english = client.get(url + "?company=acme", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Employment rates have start dates" in english
    assert "Step finished: 1. Preflight report" in english
    swedish = client.get(url + "?company=acme", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Employment rates have start dates" not in swedish


def test_side_by_side_names_fields_by_their_names_in_the_readers_language(
    client, user, company, link, sandbox
):
    from tests.integrations.helpers import run

    run(user, company, "preflight")
    run(user, company, "test_export", employee_number="1003")
    client.force_login(user)
    url = reverse("switchover:page") + "?company=acme"
    swedish = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "<td>Efternamn</td>" in swedish and "<td>Anställningsmall</td>" in swedish
    assert "<td>last_name</td>" not in swedish and "<td>person_template</td>" not in swedish
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<td>Last name</td>" in english and "<td>Employment template</td>" in english
    assert "start_date" not in swedish and "{'percent'" not in swedish
    assert "<td>Sysselsättningsgrader</td>" in swedish and " % från " in swedish
