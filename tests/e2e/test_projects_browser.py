"""The project register in daily use, in a real browser (Debian's chromium through
Playwright): registering a week with a warning and a stop, a reviewer approving part of a
project's hours, releasing to billing and seeing the Status bar, and staffing refused for
a missing competence.

Set ``E2E_SCREENSHOTS=<dir>`` to keep a screenshot of each page for a person to look at.
"""

import datetime
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from companies.models import Role
from projects.models import (
    AccountingDimension,
    Competence,
    CompetenceGroup,
    EmployeeCompetence,
    ProjectCompetence,
    ProjectControl,
    ProjectShift,
    TimeRegistration,
)
from projects.models.accounting import SIE_PROJECT
from projects.services import project_attachment_create
from tests.e2e.test_browser import browser_page, short_lived_connections  # noqa: F401
from tests.employees.factories import EmployeeFactory
from tests.factories import CompanyFactory, MembershipFactory
from tests.projects.factories import (
    TimeCodeFactory,
    approve,
    make_project,
    register,
    reviewer,
    use_billing,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"
MONDAY = datetime.date(2025, 3, 3)


def _shot(page, name: str) -> None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _member(company, username: str, role: str):
    return MembershipFactory(
        company=company,
        role=Role.objects.get(code=role),
        user__username=username,
        user__password=PASSWORD,
    ).user


def test_register_a_week_with_a_warning_and_a_stop(
    browser_page,  # noqa: F811
    live_server,
    short_lived_connections,  # noqa: F811
    tmp_path,
):
    company = CompanyFactory(code="week", name="Week AB")
    user = _member(company, "anna", "self_service")
    employee = EmployeeFactory(company=company, user=user, first_name="Anna", last_name="Ek")
    TimeCodeFactory(company=company)
    leaf = make_project(
        company, "KUND", budget_hours=Decimal("10"), internal_comment="Badge at the gate"
    )
    ProjectControl.objects.create(
        project=leaf, kind="time", action="warning", threshold_percent=Decimal("80")
    )
    ProjectControl.objects.create(
        project=leaf, kind="time", action="stop", threshold_percent=Decimal("100")
    )
    with override_settings(MEDIA_ROOT=tmp_path):
        project_attachment_create(
            project=leaf,
            file=SimpleUploadedFile("site-map.pdf", b"%PDF-1.4 map"),
            show_at_registration=True,
        )
    page = browser_page
    _login(page, live_server, "anna")
    page.goto(f"{live_server.url}/projects/time/?week={MONDAY}")
    page.select_option("#id_project", label=str(leaf))
    page.wait_for_selector("#project-info:not([hidden])")
    assert "Badge at the gate" in page.inner_text("#project-info")
    assert page.locator("#project-info a", has_text="site-map.pdf").count() == 1

    def register_hours(day: datetime.date, hours: str) -> None:
        page.select_option("#id_project", label=str(leaf))
        page.select_option("#id_date", value=day.isoformat())
        page.fill("#id_hours", hours)
        page.click("#register-form button[type=submit]")
        page.wait_for_load_state()

    register_hours(MONDAY, "7")
    assert "The registration was saved." in page.inner_text(".messages")
    register_hours(MONDAY + datetime.timedelta(days=1), "2")  # 9 of 10: warning, saved
    assert "9.00 of 10.00 budgeted hours" in page.inner_text(".messages")
    _shot(page, "week-warning")
    register_hours(MONDAY + datetime.timedelta(days=2), "4")  # 13 of 10: stopped
    assert "Not saved:" in page.inner_text(".messages")
    _shot(page, "week-stop")
    assert "9.00 / 0.00" in page.inner_text("#week-total")
    assert sorted(
        TimeRegistration.objects.filter(employee=employee).values_list("hours", flat=True)
    ) == [Decimal("2.00"), Decimal("7.00")]


def test_a_reviewer_approves_part_of_a_projects_hours(
    browser_page,  # noqa: F811
    live_server,
    short_lived_connections,  # noqa: F811
):
    company = CompanyFactory(code="review", name="Review AB")
    main = make_project(company, "BS", registrable=False)
    bem = make_project(company, "Bem", parent=main)
    rek = make_project(company, "Rek", parent=main)
    anna = EmployeeFactory(company=company, first_name="Anna", last_name="Ek")
    on_bem, _w = register(anna, bem, "4")
    on_rek, _w = register(anna, rek, "3")
    reviewer(company, main, username="greta", password=PASSWORD)
    page = browser_page
    _login(page, live_server, "greta")
    page.goto(f"{live_server.url}/projects/review/?company={company.pk}")
    page.check(f'tr[data-registration="{on_bem.pk}"] input[name=registration]')
    page.click("button[value=approve]")
    page.wait_for_load_state()
    assert "1 registration approved." in page.inner_text(".messages")
    row = page.inner_text(f'tr[data-registration="{on_bem.pk}"] .review-status')
    other = page.inner_text(f'tr[data-registration="{on_rek.pk}"] .review-status')
    assert row.startswith("Approved") and other == "Not reviewed"
    _shot(page, "review-part")
    on_bem.refresh_from_db()
    on_rek.refresh_from_db()
    assert (on_bem.review_status, on_rek.review_status) == ("approved", "pending")


def test_release_to_billing_and_see_the_bar(
    browser_page,  # noqa: F811
    live_server,
    short_lived_connections,  # noqa: F811
):
    company = CompanyFactory(code="bill", name="Bill AB")
    _member(company, "hr", "hr_admin")
    use_billing(company)
    leaf = make_project(
        company, "DEV", billing="always", hourly_price=Decimal("1000"), budget_hours=Decimal("20")
    )
    anna = EmployeeFactory(company=company, first_name="Anna", last_name="Ek")
    approved, _w = register(anna, leaf, "5")
    register(anna, leaf, "3")  # not approved: stays unreleased
    approve(approved)
    page = browser_page
    _login(page, live_server, "hr")
    page.goto(f"{live_server.url}/projects/billing/?company={company.pk}")
    page.click("#release-form button[type=submit]")
    page.wait_for_load_state()
    assert "1 approved registration released for billing." in page.inner_text(".messages")
    assert "5000.00" in page.inner_text("#billing-basis")
    _shot(page, "billing-basis")
    page.goto(f"{live_server.url}/projects/{leaf.pk}/?tab=status")
    assert "Released for billing: 5" in page.inner_text("#bar-released")
    width = page.eval_on_selector("#bar-released + .b", "el => el.getBoundingClientRect().width")
    worked = page.eval_on_selector("#bar-worked + .b", "el => el.getBoundingClientRect().width")
    assert 0 < width < worked
    page.click("#bar-released")
    page.wait_for_selector("table.per-employee")
    assert "Anna Ek" in page.inner_text("table.per-employee")
    assert "Anna Ek\t5" in page.inner_text("table.per-employee")
    _shot(page, "status-released")


def test_staffing_an_employee_without_the_competence_is_refused(
    browser_page,  # noqa: F811
    live_server,
    short_lived_connections,  # noqa: F811
):
    company = CompanyFactory(code="staff", name="Staff AB")
    _member(company, "boss", "admin")
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        used_for_staffing=True
    )
    group = CompetenceGroup.objects.create(company=company, code="K", name="Körkort")
    driving = Competence.objects.create(company=company, group=group, code="B", name="B-körkort")
    main = make_project(company, "LO", registrable=False)
    ProjectCompetence.objects.create(project=main, competence=driving, level=1)
    leaf = make_project(company, "101", parent=main, inherit_competences=True)
    ProjectShift.objects.create(
        project=leaf, weekday=0, start_time=datetime.time(7), end_time=datetime.time(16)
    )
    novice = EmployeeFactory(company=company, first_name="Nils", last_name="Ny")
    driver = EmployeeFactory(company=company, first_name="Dora", last_name="Driver")
    EmployeeCompetence.objects.create(employee=driver, competence=driving, level=2)
    page = browser_page
    _login(page, live_server, "boss")
    page.goto(f"{live_server.url}/projects/staffing/?company={company.pk}&week={MONDAY}")
    page.select_option(".staff-form select[name=employee]", label=novice.display_name)
    page.click(".staff-form button[type=submit]")
    page.wait_for_load_state()
    message = page.inner_text(".messages")
    assert "Nils Ny cannot be staffed on LO.101: missing B-körkort" in message
    _shot(page, "staffing-refused")
    page.select_option(".staff-form select[name=employee]", label=driver.display_name)
    page.fill(".staff-form input[name=comment]", "Take the van")
    page.click(".staff-form button[type=submit]")
    page.wait_for_load_state()
    assert "Dora Driver was staffed." in page.inner_text(".messages")
    assert "Dora Driver" in page.inner_text("#staffing-shifts")
    _shot(page, "staffing-done")
