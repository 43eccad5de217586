"""The switchover with a file-based payroll system (PAXml only, Fortnox Lön and others):
preflight and exports from an uploaded personnel file, manual steps for the switches, and
HR on producing a personnel file for the payroll system to import — through the job runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from employees.models import Employee
from integrations import switchover as sw
from integrations.payroll_backend import PaxmlFileBackend
from jobs.models import Job
from tests.integrations.helpers import current, items, personnel_file, run

pytestmark = pytest.mark.django_db

OFFICIAL = Path("/work/shared/contracts/paxml/samples/official-example-2.0.pax")
if not OFFICIAL.exists():
    OFFICIAL = (
        Path(__file__).resolve().parents[3]
        / "shared/contracts/paxml/samples/official-example-2.0.pax"
    )


def test_steps_need_the_file_first(user, company, file_link):
    job = run(user, company, "preflight")
    assert job.status == Job.Status.FAILED and "Upload the personnel register" in job.message


def test_upload_refuses_a_file_without_employees(user, company, file_link):
    from tests.paxml.helpers import doc

    with pytest.raises(ValidationError, match="no employees"):
        sw.switchover_personnel_file_upload(user=user, company=company, content=doc(""))
    with pytest.raises(ValidationError):
        sw.switchover_personnel_file_upload(user=user, company=company, content=b"<nonsense")


def test_preflight_from_the_official_paxml_personnel_file(user, company, file_link):
    if not OFFICIAL.exists():
        pytest.skip("contracts/paxml/samples not available")
    sw.switchover_personnel_file_upload(
        user=user, company=company, content=OFFICIAL.read_bytes(), name="official.pax"
    )
    job = run(user, company, "preflight")
    assert job.status != Job.Status.FAILED or job.message == "", job.message
    checks = items(company)
    # The file's <manlon> on employee 51: the seed's strong warning, from the file.
    assert checks["salary_codes"]["strong"] and checks["salary_codes"]["offenders"] == [
        "51 (manlon)"
    ]
    # <sysgrad> without datum: an employment rate without a start date.
    assert checks["employment_rates"]["status"] == "fail"
    assert checks["employment_rates"]["offenders"] == ["51"]
    # What a file cannot answer is yellow, not checkable, with the reason.
    for key in ("web_service", "templates", "name_order"):
        assert checks[key]["status"] == "warning" and checks[key]["not_checkable"], key
        assert checks[key]["message"].startswith("Not checkable with a file-based payroll system:")
    assert "no web service" in checks["web_service"]["message"]
    assert checks["emails"]["status"] == "warning"  # Siv has no email in the file
    assert current(company).results["preflight"]["outcome"] == "failed"
    assert b'"employee_number": "51"' in job.result_file.read()


def test_whole_switchover_with_a_file_based_payroll_system(user, company, file_link, payroll):
    sw.switchover_personnel_file_upload(user=user, company=company, content=personnel_file(payroll))
    assert run(user, company, "preflight").status == Job.Status.SUCCEEDED
    checks = items(company)
    assert checks["salary_codes"]["not_checkable"] and not checks["salary_codes"]["strong"]
    assert checks["personnel_categories"]["status"] == "pass"
    assert checks["bank_accounts"]["status"] == "pass"
    assert current(company).results["preflight"]["outcome"] == "warning"  # yellow only

    run(user, company, "test_export", employee_number="1002")
    assert current(company).results["test_export"]["outcome"] == "awaiting_approval"
    sw.switchover_approve(user=user, switchover=current(company))
    job = run(user, company, "export_all")
    assert job.status == Job.Status.SUCCEEDED, list(job.log_lines.values_list("message", flat=True))
    assert Employee.objects.filter(company=company).count() == 5
    e = Employee.objects.get(company=company, employee_number="1003")
    assert (e.first_name, e.work_email) == (
        payroll.employees["1003"]["first_name"],
        payroll.employees["1003"]["email"],
    )

    # 4: no switches to call: manual steps, confirmed by the admin.
    job = run(user, company, "payroll_off")
    assert current(company).results["payroll_off"]["outcome"] == "awaiting_approval"
    assert job.log_lines.filter(item="manual", message__contains="stop exporting").exists()
    with pytest.raises(sw.SwitchoverRefused, match="Confirm the manual steps"):
        sw.switchover_step_start(user=user, company=company, step="hr_on")
    sw.switchover_approve(user=user, switchover=current(company))
    assert current(company).state == "payroll_off"

    # 5: HR master, and a personnel file for the payroll system to import.
    Employee.objects.filter(pk=e.pk).update(city="Ändrad i HR")
    job = run(user, company, "hr_on", transfer_employment_data="all")
    assert job.status == Job.Status.SUCCEEDED
    file_link.refresh_from_db()
    assert file_link.master == "hr"
    assert job.result_file.name.endswith(".pax")
    out = PaxmlFileBackend(content=job.result_file.read())
    assert out.employees_page(page=1, page_size=100).total == 5
    assert out.employee_get(employee_number="1003").city == "Ändrad i HR"
    assert current(company).results["hr_on"]["file_employees"] == 5

    # 6: verification is a manual check too.
    run(user, company, "verify")
    assert current(company).results["verify"]["outcome"] == "awaiting_approval"
    done = sw.switchover_approve(user=user, switchover=current(company))
    assert done.state == "verify" and done.finished_at is not None


def test_abort_with_a_file_based_payroll_system(user, company, file_link, payroll):
    sw.switchover_personnel_file_upload(user=user, company=company, content=personnel_file(payroll))
    run(user, company, "preflight")
    run(user, company, "test_export")
    sw.switchover_approve(user=user, switchover=current(company))
    run(user, company, "export_all")
    run(user, company, "payroll_off")
    sw.switchover_approve(user=user, switchover=current(company))
    sw.switchover_abort(user=user, switchover=current(company))
    assert Employee.objects.filter(company=company).count() == 0
    job = Job.objects.get(kind="switchover_abort")
    assert job.log_lines.filter(item="manual", message__contains="back on").exists()


def test_page_shows_upload_and_manual_steps(client, user, company, file_link, payroll):
    client.force_login(user)
    page = client.get(
        f"/integrations/switchover/?company={company.code}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert b'name="personnel_file"' in page.content
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        "/integrations/switchover/",
        {
            "company": company.code,
            "action": "upload_file",
            "personnel_file": SimpleUploadedFile("personnel.pax", personnel_file(payroll)),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert current(company).personnel_file
