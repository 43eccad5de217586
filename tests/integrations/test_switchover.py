"""The whole switchover against the payroll sandbox over real HTTP."""

from __future__ import annotations

import pytest
from django.utils import translation

from employees.history_reasons import history_reason_text
from employees.models import Employee
from integrations import switchover as sw
from integrations.models import PayrollLink, Switchover, SwitchoverEvent
from jobs.models import Job
from jobs.runner import job_execute
from tests.integrations.helpers import current, items, run

pytestmark = pytest.mark.django_db


def test_preflight_all_green(user, company, link):
    job = run(user, company, "preflight")
    assert job.status == Job.Status.SUCCEEDED
    result = current(company).results["preflight"]
    assert {i["key"]: i["status"] for i in result["items"]}.get("emails") == "pass"
    assert all(i["status"] != "fail" for i in result["items"]), result["items"]
    # HR is empty: every payroll employee shows as "only in payroll" in the diff.
    assert result["diff_count"] == 12
    assert current(company).state == "preflight"


def test_preflight_warning_items_are_yellow_not_red(user, company, link):
    run(user, company, "preflight")
    statuses = {k: v["status"] for k, v in items(company).items()}
    assert statuses["personnel_categories"] == "pass"
    assert statuses["name_order"] == "pass"
    assert statuses["web_service"] == "pass"
    assert statuses["salary_codes"] == "pass"


@pytest.mark.parametrize(
    ("key", "breakage", "status"),
    [
        (
            "personnel_categories",
            lambda s, c: (
                s.categories.append({"code": "XX", "name": "X"})
                or next(iter(s.employees.values())).update(personnel_category="XX")
            ),
            "fail",
        ),
        ("personnel_categories", lambda s, c: s.categories.pop(), "warning"),
        (
            "employment_forms",
            lambda s, c: s.forms.append({"code": "VIK", "name": "Vikariat", "las_settings": None}),
            "warning",
        ),
        (
            "employment_forms",
            lambda s, c: next(iter(s.employees.values())).update(employment_form="ZZ"),
            "fail",
        ),
        (
            "emails",
            lambda s, c: next(iter(s.employees.values())).update(email="anna.example.se"),
            "fail",
        ),
        ("emails", lambda s, c: next(iter(s.employees.values())).update(email=""), "warning"),
        ("position", lambda s, c: next(iter(s.employees.values())).update(position=""), "warning"),
        (
            "bank_accounts",
            lambda s, c: next(iter(s.employees.values())).update(clearing_number=""),
            "warning",
        ),
        ("name_order", lambda s, c: s.settings.update(name_order="undefined"), "fail"),
        ("name_order", lambda s, c: s.settings.update(name_order="last_first"), "fail"),
        ("templates", lambda s, c: s.templates[0].update(name="Something else"), "fail"),
        (
            "employment_rates",
            lambda s, c: next(iter(s.employees.values())).update(
                employment_rates=[{"start_date": None, "percent": "50"}]
            ),
            "fail",
        ),
        ("web_service", lambda s, c: s.settings.update(use_hr_web_service=False), "fail"),
        ("web_service", lambda s, c: s.users[0].update(active=False), "fail"),
        ("web_service", lambda s, c: s.users.clear(), "fail"),
        ("salary_codes", lambda s, c: s.salary_codes[1].update(in_use=True), "warning"),
    ],
)
def test_each_check_fails_and_blocks(user, company, link, sandbox, key, breakage, status):
    breakage(sandbox, company)
    run(user, company, "preflight")
    item = items(company)[key]
    assert item["status"] == status, item
    outcome = current(company).results["preflight"]["outcome"]
    if status == "fail" or key == "salary_codes":
        assert outcome in ("failed", "strong_warning")
        with pytest.raises(sw.SwitchoverRefused):
            sw.switchover_step_start(user=user, company=company, step="test_export")
    else:
        assert outcome == "warning"
        sw.switchover_step_start(user=user, company=company, step="test_export")


def test_strong_warning_for_hourly_wage_codes_lists_them(user, company, link, sandbox):
    sandbox.salary_codes[1]["in_use"] = True
    run(user, company, "preflight")
    item = items(company)["salary_codes"]
    assert item["strong"] is True
    assert item["offenders"] == ["120 Timlön"]
    assert "NOT recommended" in item["message"]


def test_onboarding_flows_must_be_paused(user, company, link, monkeypatch):
    monkeypatch.setattr(
        sw.preflight, "ONBOARDING_FLOW_PROVIDERS", [lambda *, company: ["Nyanställning IT"]]
    )
    run(user, company, "preflight")
    assert items(company)["onboarding_flows"]["status"] == "fail"
    assert items(company)["onboarding_flows"]["offenders"] == ["Nyanställning IT"]


def test_email_only_in_hr_fails(user, company, link, sandbox):
    run(user, company, "preflight")
    run(user, company, "test_export", employee_number="1001")
    Employee.objects.filter(company=company, employee_number="1001").update(
        work_email="anna@hr.example.se"
    )
    sandbox.employees["1001"]["email"] = ""
    run(user, company, "preflight")
    item = items(company)["emails"]
    assert item["status"] == "fail"
    assert "1001" in item["offenders"]


def test_failed_check_needs_a_logged_override(user, company, link, sandbox):
    sandbox.settings["name_order"] = "undefined"
    run(user, company, "preflight")
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_step_start(user=user, company=company, step="test_export")
    with pytest.raises(Exception):  # noqa: B017 - a reason is required
        sw.switchover_override(user=user, switchover=current(company), step="preflight", reason=" ")
    sw.switchover_override(
        user=user, switchover=current(company), step="preflight", reason="Payroll fixed later"
    )
    event = SwitchoverEvent.objects.get(kind="override")
    assert event.user == user and event.reason == "Payroll fixed later"
    assert event.details["failed"] == ["name_order"]
    assert current(company).state == "preflight"
    job = run(user, company, "test_export")
    assert job.status == Job.Status.SUCCEEDED


def test_field_diff_lists_fields_per_employee(user, company, link, sandbox):
    run(user, company, "preflight")
    run(user, company, "test_export", employee_number="1002")
    sandbox.employees["1002"]["city"] = "Kiruna"
    run(user, company, "preflight")
    assert items(company)["field_diff"]["status"] == "warning"
    assert items(company)["field_diff"]["offenders"] == ["1002"]
    report = Job.objects.filter(kind="switchover_preflight").first().result_file.read()
    assert b'"field": "city"' in report and b"Kiruna" in report


def test_steps_run_in_order(user, company, link):
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_step_start(user=user, company=company, step="export_all")


def test_whole_switchover(user, company, link, sandbox):
    assert run(user, company, "preflight").status == Job.Status.SUCCEEDED
    # 2. one employee, side by side, waits for approval
    run(user, company, "test_export", employee_number="1003")
    result = current(company).results["test_export"]
    assert result["outcome"] == "awaiting_approval"
    rows = {r["field"]: r for r in result["side_by_side"]}
    assert rows["last_name"]["payroll"] == rows["last_name"]["hr"] == "Andersson"
    # New employees get HR's default template, as the seed says the export does.
    assert [r["field"] for r in result["side_by_side"] if not r["same"]] == ["person_template"]
    assert rows["person_template"]["hr"] == "STD"
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_step_start(user=user, company=company, step="export_all")
    sw.switchover_approve(user=user, switchover=current(company))
    # 3. everybody, ended ones included, then the count check
    job = run(user, company, "export_all")
    assert job.status == Job.Status.SUCCEEDED, list(job.log_lines.values_list("message", flat=True))
    assert Employee.objects.filter(company=company).count() == 12
    assert Employee.objects.filter(company=company, employment_end_date__isnull=False).count() == 2
    assert current(company).results["export_all"]["count_check"]["hr"] == 12
    employee = Employee.objects.get(company=company, employee_number="1005")
    with translation.override("en"):
        reason = history_reason_text(employee.history.first().history_change_reason)
    assert reason == f"Switchover {current(company).pk}: export from payroll"
    assert employee.employment_rates.count() == 1
    # 4. payroll off as master, balances left on
    run(user, company, "payroll_off")
    assert sandbox.settings["export_personal_data"] is False
    assert sandbox.settings["export_balances"] is True
    # 5. HR on as master
    run(user, company, "hr_on", transfer_employment_data="all")
    link.refresh_from_db()
    assert link.master == "hr" and link.transfer_employment_data == "all"
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_abort(user=user, switchover=current(company))
    # 6. a temporary address change reaches payroll and is reverted
    original = sandbox.employees["1001"]["street_address"]
    job = run(user, company, "verify", employee_number="1001")
    assert job.status == Job.Status.SUCCEEDED, list(job.log_lines.values_list("message", flat=True))
    address_puts = [r for r in sandbox.requests if r["path"] == "/v1/employees/1001"]
    assert len(address_puts) == 2
    assert sandbox.employees["1001"]["street_address"] == original
    finished = Switchover.objects.get(company=company)
    assert finished.state == "verify" and finished.finished_at is not None


def test_count_mismatch_lists_the_difference(user, company, link, sandbox):
    run(user, company, "preflight")
    run(user, company, "test_export")
    sw.switchover_approve(user=user, switchover=current(company))
    sandbox.employees["1004"]["personal_identity_number"] = "19800101-0000"  # invalid: not imported
    job = run(user, company, "export_all")
    counts = current(company).results["export_all"]["count_check"]
    assert counts["payroll"] == 12 and counts["hr"] == 11
    assert counts["only_in_payroll"] == ["1004"]
    assert current(company).results["export_all"]["outcome"] == "failed"
    assert job.log_lines.filter(level="error", item="1004").exists()
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_step_start(user=user, company=company, step="payroll_off")
    # Fixed in payroll, the step runs again and passes.
    sandbox.employees["1004"]["personal_identity_number"] = sandbox.employees["1005"][
        "personal_identity_number"
    ].replace("-", "-")
    from integrations.sandboxes.payroll import _pin

    sandbox.employees["1004"]["personal_identity_number"] = _pin(3)
    run(user, company, "export_all")
    assert current(company).results["export_all"]["outcome"] == "passed"


def test_export_in_rounds_with_selection_and_template(user, company, link, sandbox):
    run(user, company, "preflight")
    run(user, company, "test_export", employee_number="1002")
    sw.switchover_approve(user=user, switchover=current(company))
    run(user, company, "export_all", selection={"employment_forms": ["PRO"]}, template="2")
    assert current(company).results["export_all"]["outcome"] == "failed"  # not everybody yet
    pro = Employee.objects.filter(company=company, employment_form__code="PRO")
    assert pro.count() == 3 and all(e.template.code == "2" for e in pro)
    run(user, company, "export_all")
    assert current(company).results["export_all"]["outcome"] == "passed"


def test_resume_after_a_killed_worker(user, company, link, sandbox, monkeypatch):
    """The worker dies after the first page; the job runs again and goes on from page 2."""
    from integrations import payroll_import

    run(user, company, "preflight")
    run(user, company, "test_export")
    sw.switchover_approve(user=user, switchover=current(company))

    class Killed(BaseException):
        pass

    real = payroll_import.employees_import_page
    calls = []

    def dying(**kwargs):
        calls.append([r.employee_number for r in kwargs["records"]])
        if len(calls) == 2:
            raise Killed
        return real(**kwargs)

    monkeypatch.setattr(sw.export, "employees_import_page", dying)
    job = sw.switchover_step_start(
        user=user, company=company, step="export_all", parameters={"page_size": 5}
    )
    with pytest.raises(Killed):
        job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.summary["pages_done"] == 1
    monkeypatch.setattr(sw.export, "employees_import_page", real)
    fetched = []
    original_page = sandbox.employees_list

    def counting(request):
        fetched.append(request.arg("page"))
        return original_page(request)

    monkeypatch.setattr(sandbox, "employees_list", counting)
    sandbox._routes = [
        (m, r, counting if h.__name__ == "employees_list" else h) for m, r, h in sandbox._routes
    ]
    job = job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert fetched[:2] == ["2", "3"]  # pages 2 and 3 only, then the count check
    assert Employee.objects.filter(company=company).count() == 12
    assert current(company).results["export_all"]["outcome"] == "passed"


def test_step_handler_run_twice_changes_nothing(user, company, link):
    run(user, company, "preflight")
    run(user, company, "test_export")
    sw.switchover_approve(user=user, switchover=current(company))
    job = run(user, company, "export_all")
    history = Employee.history.count()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, summary={})
    job = job_execute(job_id=job.pk)
    assert job.summary["created"] == 0 and job.summary["updated"] == 0
    assert Employee.history.count() == history


def test_abort_before_hr_on_restores_both_systems(user, company, link, sandbox):
    run(user, company, "preflight")
    run(user, company, "test_export")
    sw.switchover_approve(user=user, switchover=current(company))
    run(user, company, "export_all")
    run(user, company, "payroll_off")
    assert sandbox.settings["export_personal_data"] is False
    switchover = sw.switchover_abort(user=user, switchover=current(company), reason="not now")
    assert switchover.state == "aborted"
    assert sandbox.settings["export_personal_data"] is True
    assert sandbox.settings["export_balances"] is True
    link.refresh_from_db()
    assert link.master == "payroll" and link.transfer_employment_data == "none"
    assert SwitchoverEvent.objects.filter(kind="aborted", reason="not now").exists()
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_abort(user=user, switchover=switchover)
    # A new switchover can start afresh.
    run(user, company, "preflight")
    assert Switchover.objects.filter(company=company).count() == 2


def test_switchover_needs_permission_and_link(company, make_user, link):
    viewer = make_user(company, role="viewer")
    with pytest.raises(Exception, match="may not"):
        sw.switchover_step_start(user=viewer, company=company, step="preflight")
    PayrollLink.objects.all().delete()
    admin = make_user(company, role="admin")
    with pytest.raises(sw.SwitchoverRefused):
        sw.switchover_step_start(user=admin, company=company, step="preflight")
