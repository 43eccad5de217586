"""REST: payroll runs (validated import), payslips (scoped, PDF) and the dispatch command."""

import datetime

import pytest

from jobs.models import Job
from payslips.models import PayrollRun, Payslip
from tests.employees.factories import EmployeeFactory
from tests.payslips.factories import KivraLinkFactory, make_run, payslip_data


@pytest.fixture
def employees(company):
    return [EmployeeFactory(company=company, kivra_send_payslips=True) for _ in range(2)]


def run_body(company, employees, **changes):
    body = {
        "company": company.pk,
        "payment_date": "2026-02-25",
        "period_start": "2026-02-01",
        "period_end": "2026-02-28",
        "status": "final",
        "external_id": "run-2026-02",
        "payslips": [payslip_data(e) for e in employees],
    }
    body.update(changes)
    return body


def test_create_payroll_run(api, company, employees):
    answer = api.post("/api/v1/payroll-runs/", run_body(company, employees), format="json")
    assert answer.status_code == 201, answer.json()
    run = PayrollRun.objects.get(pk=answer.json()["id"])
    assert run.payslips.count() == 2 and answer.json()["payslip_count"] == 2
    slip = run.payslips.get(employee=employees[0])
    assert str(slip.net_pay) == "23450.00"
    assert [line.salary_type for line in slip.lines.all()] == ["110", "310", "820"]
    assert slip.lines.get(salary_type="310").dimensions == {"1": "100", "6": "P1"}
    again = api.post("/api/v1/payroll-runs/", run_body(company, employees), format="json")
    assert again.status_code == 400
    assert "external_id" in str(again.json()["error"]["fields"])


def test_unknown_employee_and_totals_that_do_not_add_up(api, company, employees):
    body = run_body(company, employees)
    body["payslips"][0]["employee_number"] = "NOPE"
    body["payslips"][1]["net_pay"] = "1.00"
    body["payslips"][1]["lines"][1]["amount"] = "1499.00"
    answer = api.post("/api/v1/payroll-runs/", body, format="json")
    assert answer.status_code == 400
    fields = answer.json()["error"]["fields"]
    assert "Unknown employee number NOPE" in str(fields["payslips[0]"])
    text = str(fields["payslips[1]"])
    assert "Net pay 1.00" in text and "Gross pay" in text and "Line 2" in text
    assert not PayrollRun.objects.exists()


def test_other_company_cannot_be_targeted_or_seen(api, company, other_company, employees):
    other_employee = EmployeeFactory(company=other_company)
    make_run(other_company, [other_employee])
    answer = api.post("/api/v1/payroll-runs/", run_body(other_company, []), format="json")
    assert answer.status_code == 400
    assert api.get("/api/v1/payroll-runs/").json()["count"] == 0
    assert api.get("/api/v1/payslips/").json()["count"] == 0


def test_payslips_and_pdf_same_bytes(api, company, employees):
    make_run(company, employees)
    listing = api.get("/api/v1/payslips/").json()
    assert listing["count"] == 2
    payslip_id = listing["results"][0]["id"]
    first = api.get(f"/api/v1/payslips/{payslip_id}/pdf/")
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    second = api.get(f"/api/v1/payslips/{payslip_id}/pdf/")
    assert first.content == second.content and first.content.startswith(b"%PDF")
    assert Payslip.objects.get(pk=payslip_id).pdf_sha256 in first["ETag"]


def test_kivra_dispatch_command(api, company, employees, django_capture_on_commit_callbacks):
    KivraLinkFactory(company=company)
    make_run(company, employees)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = api.post(
            "/api/v1/payslips/kivra-dispatches/",
            {"company": company.pk, "payment_date": "2026-01-25", "employees": [employees[0].pk]},
            format="json",
        )
    assert answer.status_code == 202, answer.json()
    assert answer.json()["kind"] == "kivra_dispatch"
    assert len(callbacks) == 1  # enqueued after commit
    job = Job.objects.get(pk=answer.json()["id"])
    assert job.parameters == {
        "payment_date": "2026-01-25",
        "status": "final",
        "employees": [employees[0].pk],
    }


def test_kivra_dispatch_needs_link_and_permission(api_client, company, employees, make_user):
    make_run(company, employees)
    payroll = make_user(company, role="payroll")
    api_client.force_authenticate(payroll)
    body = {"company": company.pk, "payment_date": datetime.date(2026, 1, 25).isoformat()}
    answer = api_client.post("/api/v1/payslips/kivra-dispatches/", body, format="json")
    assert answer.status_code == 400
    assert "no Kivra link" in str(answer.json())
    KivraLinkFactory(company=company)
    viewer = make_user(company, role="viewer")
    api_client.force_authenticate(viewer)
    answer = api_client.post("/api/v1/payslips/kivra-dispatches/", body, format="json")
    assert answer.status_code == 403
