"""The preflight's items and log lines are stored as message ids with parameters: written in
one language, read in the other (page, API, log line, shell)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from integrations import switchover as sw
from integrations.switchover.messages import preflight_item_texts
from jobs.models import Job
from tests.integrations.helpers import run

pytestmark = pytest.mark.django_db


def preflight_in(language: str, user, company) -> Job:
    with translation.override(language):
        return run(user, company, "preflight")


def items(company) -> dict:
    return {
        i["key"]: i for i in sw.switchover_current(company=company).results["preflight"]["items"]
    }


@pytest.fixture
def differences(sandbox):
    sandbox.settings["use_hr_web_service"] = False
    sandbox.salary_codes[1]["in_use"] = True


def test_written_in_swedish_read_in_english(user, company, link, differences):
    job = preflight_in("sv", user, company)
    stored = items(company)["web_service"]
    assert "är inte markerad i lönesystemet" in stored["message"]  # the writer's language
    with translation.override("en"):
        item = preflight_item_texts(stored)
        assert item["label"] == "'Use HR web service' on and the integration user active"
        assert item["message"] == "'Use HR web service' is off in payroll."
        line = job.log_lines.get(item="web_service")
        assert line.text == (
            "'Use HR web service' on and the integration user active: "
            "'Use HR web service' is off in payroll."
        )
        wage = job.log_lines.get(item="salary_codes").text
        assert wage.startswith("Salary codes for hourly or monthly wage: Switching is NOT")
        assert wage.endswith(" — 120 Timlön")


def test_written_in_english_read_in_swedish(user, company, link, differences):
    job = preflight_in("en", user, company)
    stored = items(company)["web_service"]
    assert stored["message"] == "'Use HR web service' is off in payroll."
    with translation.override("sv"):
        item = preflight_item_texts(stored)
        assert item["message"] == "'Använd HR webbservice' är inte markerad i lönesystemet."
        assert item["label"] != stored["label"]
        assert job.log_lines.get(item="web_service").text.endswith(item["message"])
        accountings = preflight_item_texts(items(company)["accountings"])["message"]
        assert accountings.endswith("nej.")  # "no" is a part of its own, in Swedish too


def test_nested_words_follow_the_reader(user, company, link, sandbox):
    company.name_order = "first_last"
    company.save()
    sandbox.settings["name_order"] = "last_first"
    preflight_in("sv", user, company)
    stored = items(company)["name_order"]
    with translation.override("en"):
        assert preflight_item_texts(stored)["message"] == (
            "Payroll uses Last name, first name, HR uses First name, last name."
        )


def test_template_offenders_are_read_in_the_readers_language(user, company, link, sandbox):
    sandbox.templates.append({"code": "EXTRA", "name": "Extra"})
    preflight_in("sv", user, company)
    stored = items(company)["templates"]
    assert "EXTRA (endast i lönesystemet)" in stored["offenders"]
    with translation.override("en"):
        assert "EXTRA (payroll only)" in preflight_item_texts(stored)["offenders"]


def test_page_api_and_shell_show_the_readers_language(
    client, api, user, company, link, differences
):
    preflight_in("sv", user, company)
    client.force_login(user)
    page = client.get(
        reverse("switchover:page") + "?company=acme", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "is off in payroll." in page
    assert "är inte markerad" not in page
    with translation.override("en"):
        data = api.get("/api/v1/switchovers/", HTTP_ACCEPT_LANGUAGE="en").json()
    results = data["results"][0]["results"]
    web = next(i for i in results["preflight"]["items"] if i["key"] == "web_service")
    assert web["message"] == "'Use HR web service' is off in payroll."
    out = io.StringIO()
    with translation.override("en"), pytest.raises(SystemExit):
        call_command("switchover", company="acme", step="preflight", user=user.username, stdout=out)
    assert "'Use HR web service' is off in payroll." in out.getvalue()


def test_old_reports_without_ids_still_read(user, company):
    old = {
        "key": "web_service",
        "label": "Gammal etikett",
        "status": "fail",
        "message": "Gammalt meddelande",
        "offenders": ["1"],
        "offender_count": 1,
        "strong": False,
    }
    with translation.override("en"):
        item = preflight_item_texts(old)
    assert item["message"] == "Gammalt meddelande" and item["offenders"] == ["1"]
    assert item["label"] == "'Use HR web service' on and the integration user active"
