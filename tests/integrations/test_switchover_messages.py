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
        line = job.log_lines.get(message_params__key="web_service")
        assert line.item == ""  # the check's key is a code: its label begins the message
        assert line.text == (
            "'Use HR web service' on and the integration user active: "
            "'Use HR web service' is off in payroll."
        )
        wage = job.log_lines.get(message_params__key="salary_codes").text
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
        assert job.log_lines.get(message_params__key="web_service").text.endswith(item["message"])
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


# --- the steps' and the sync's log lines (issue 16) -------------------------------------------


def test_test_export_line_written_in_swedish_read_in_english(user, company, link, sandbox):
    with translation.override("sv"):
        run(user, company, "preflight")
        job = run(user, company, "test_export", employee_number="9999")
    line = job.log_lines.get(item="9999")
    assert line.message_id == "switchover.no_employee"
    assert line.message_params == {"n": "9999"}
    with translation.override("en"):
        assert line.text == "The payroll system has no employee 9999."


def test_abort_and_payroll_off_lines_follow_the_reader(user, company, link, sandbox):
    from tests.integrations.test_switchover_abort import to_payroll_off

    with translation.override("sv"):
        to_payroll_off(user, company)
        sw.switchover_abort(user=user, switchover=sw.switchover_current(company=company))
    payroll_off = Job.objects.get(kind="switchover_payroll_off")
    switched = payroll_off.log_lines.get(message_id="switchover.payroll_switched")
    abort = Job.objects.get(kind="switchover_abort")
    back = abort.log_lines.get(message_id="switchover.switches_back")
    assert back.message_params == {"s": {"export_personal_data": True, "export_balances": True}}
    assert back.message.startswith("Lönesystemets inställningar är återställda: ")
    with translation.override("en"):
        assert switched.text == "Payroll: 'export personal data' off, 'export balances' on."
        # the dict reads as labelled values, not as a Python dict
        assert back.text == (
            "Payroll's switches are back: Export personal data: yes, Export balances: yes."
        )
        link_back = abort.log_lines.get(message_id="switchover.link_back").text
        assert link_back == (
            "The payroll link is back: Master of personal data: Payroll system, "
            "Transfer employment data: None, Selection: –."
        )
    with translation.override("sv"):
        assert back.text.startswith("Lönesystemets inställningar är återställda: ")


def test_file_manual_steps_are_kept_by_id_and_read_in_the_readers_language():
    from integrations.switchover import master
    from jobs.messages import JobMessage

    steps = zip(master.FILE_PAYROLL_OFF_STEP_IDS, master.FILE_PAYROLL_OFF_STEPS, strict=True)
    with translation.override("en"):
        for step_id, text in steps:
            line = JobMessage("switchover.manual_step", step=step_id)
            assert str(line) == f"Manual step: {text}"
    with translation.override("sv"):
        line = JobMessage("switchover.manual_step", step=master.FILE_HR_ON_STEP_IDS[1])
        assert str(line) == (
            "Manuellt steg: Från och med nu ändras personuppgifter endast i HR, "
            "inte i lönesystemet."
        )


@pytest.fixture
def hr_master(company, link, sandbox):
    from integrations.clients.payroll import PayrollEmployee
    from integrations.payroll_import import Registers, employees_import_page

    records = [PayrollEmployee.from_json(r) for r in sandbox.employees.values()]
    employees_import_page(company=company, records=records, registers=Registers.load(company))
    link.master = "hr"
    link.transfer_employment_data = "all"
    link.save()
    return link


def test_sync_lines_written_in_english_read_in_swedish(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    from employees.models import Employee
    from integrations import payroll_sync

    employee = Employee.objects.get(company=company, employee_number="1001")
    employee.city = "Lund"
    employee.save()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        payroll_sync.payroll_sync_enqueue(employee=employee, fields=["city"])
    job = Job.objects.get(kind="payroll_sync")
    sent = job.log_lines.get(item="1001", message_id="payroll_sync.sent")
    assert sent.message == "Sent to payroll."
    with translation.override("sv"):
        assert sent.text == "Skickad till lönesystemet."


def test_sync_refusal_keeps_payrolls_words_as_a_parameter(
    company, hr_master, sandbox, django_capture_on_commit_callbacks
):
    from employees.models import Employee
    from integrations import payroll_sync

    Employee.objects.filter(company=company, employee_number="1001").update(work_email="broken")
    employee = Employee.objects.get(company=company, employee_number="1001")
    with translation.override("sv"), django_capture_on_commit_callbacks(execute=True):
        payroll_sync.payroll_sync_enqueue(employee=employee, fields=["work_email"])
    line = Job.objects.get(kind="payroll_sync").log_lines.get(level="error", item="1001")
    assert line.message_id == "payroll_sync.refused"
    assert "not a valid email" in line.message_params["error"]
    with translation.override("en"):
        assert line.text.startswith("Refused by payroll: ")
        assert "not a valid email" in line.text


def test_preflight_diff_line_keeps_fields_and_masks_the_personnummer():
    from integrations.switchover.preflight import _diff_params
    from jobs.messages import JobMessage

    fields = _diff_params(
        [
            {"field": "city", "hr": "Lund", "payroll": "Malmö"},
            {
                "field": "personal_identity_number",
                "hr": "19800101-1234",
                "payroll": "19800101-4321",
            },
        ]
    )
    assert "1234" not in str(fields) and "4321" not in str(fields)
    line = str(JobMessage("switchover.field_diff", fields=fields))
    assert line.startswith("City: 'Lund' → 'Malmö'; Personal identity number: ")
    with translation.override("sv"):
        swedish = str(JobMessage("switchover.field_diff", fields=fields))
    assert swedish.startswith("Ort: 'Lund' → 'Malmö'; Personnummer: ")


def test_field_diff_shows_nothing_and_employment_rates_as_a_person_reads_them():
    from jobs.messages import JobMessage

    fields = [
        {"field": "employment_end", "hr": None, "payroll": "2024-06-30"},
        {
            "field": "employment_rates",
            "hr": [{"percent": "100.00", "start_date": "2016-02-01"}],
            "payroll": [{"percent": "50.00", "start_date": "2015-02-07"}],
        },
    ]
    with translation.override("en"):
        assert str(JobMessage("switchover.field_diff", fields=fields)) == (
            "Employment end date: – → '2024-06-30'; "
            "Employment rates: 100.00 % from 2016-02-01 → 50.00 % from 2015-02-07"
        )
    with translation.override("sv"):
        assert str(JobMessage("switchover.field_diff", fields=fields)) == (
            "Slutdatum för anställning: – → '2024-06-30'; "
            "Sysselsättningsgrader: 100,00 % från 2016-02-01 → 50,00 % från 2015-02-07"
        )
