"""Billing basis, what a registration form shows, schedules and home accounting in force."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import Project, ProjectPrice, TimeRegistration, WorkSchedule
from projects.selectors import (
    home_accounting_on,
    project_billing_basis,
    project_billing_price,
    project_registration_info,
    work_schedule_on,
)
from projects.services import (
    home_accounting_set,
    project_attachment_create,
    project_set_status,
    time_registrations_release,
)
from tests.projects.factories import (
    DimensionValueFactory,
    approve,
    dimension,
    make_project,
    register,
    use_billing,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def test_external_comment_goes_to_billing_basis_only_with_fixed_price(company, employee):
    running = make_project(
        company,
        "R",
        billing=Project.Billing.ALWAYS,
        hourly_price=Decimal("1000"),
        external_comment="Not sent",
    )
    fixed = make_project(
        company,
        "F",
        billing=Project.Billing.ALWAYS,
        billing_model=Project.BillingModel.FIXED_PRICE,
        fixed_price=Decimal("40000"),
        external_comment="Fixed price as agreed",
    )
    use_billing(company)
    approve(register(employee, running, "3")[0])
    register(employee, fixed, "5")
    time_registrations_release(registrations=TimeRegistration.objects.filter(project=running))
    project_set_status(project=fixed, status=Project.Status.CLOSED)
    fixed.refresh_from_db()
    assert project_billing_basis(project=running) == {
        "project": "R",
        "hours": Decimal("3.00"),
        "amount": Decimal("3000.00"),
        "external_comment": "",
    }
    assert project_billing_basis(project=fixed) == {
        "project": "F",
        "hours": Decimal("5.00"),
        "amount": Decimal("40000.00"),
        "external_comment": "Fixed price as agreed",
    }


def test_price_override_is_inherited_from_the_parent(company):
    customers = dimension(company, 20, code="kund")
    m3 = DimensionValueFactory(company=company, dimension=customers, code="M3")
    main = make_project(company, "M", registrable=False, hourly_price=Decimal("2500"))
    ProjectPrice.objects.create(project=main, value=m3, hourly_price=Decimal("2200"))
    leaf = make_project(company, "L", parent=main)
    assert project_billing_price(project=leaf) == Decimal("2500")
    assert project_billing_price(project=leaf, values=[m3]) == Decimal("2200")


def test_registration_info_shows_internal_comment_and_chosen_attachments(company):
    leaf = make_project(company, "A", internal_comment="Use the customer's reference")
    shown = project_attachment_create(
        project=leaf, file=SimpleUploadedFile("a.pdf", b"%PDF"), show_at_registration=True
    )
    project_attachment_create(project=leaf, file=SimpleUploadedFile("b.pdf", b"%PDF"))
    info = project_registration_info(project=leaf)
    assert info["internal_comment"] == "Use the customer's reference"
    assert info["attachments"] == [shown]


def test_work_schedule_and_home_accounting_in_force(company, employee):
    WorkSchedule.objects.create(
        employee=employee,
        valid_from=datetime.date(2025, 1, 1),
        monday=Decimal("8"),
        friday=Decimal("6"),
    )
    later = WorkSchedule.objects.create(
        employee=employee, valid_from=datetime.date(2025, 6, 1), monday=Decimal("4")
    )
    schedule = work_schedule_on(employee=employee, day=datetime.date(2025, 3, 7))  # a Friday
    assert schedule.hours_on(datetime.date(2025, 3, 7)) == Decimal("6")
    assert schedule.week_hours == Decimal("14")
    assert work_schedule_on(employee=employee, day=datetime.date(2025, 6, 2)) == later
    future = home_accounting_set(employee=employee, valid_from=datetime.date(2099, 1, 1))
    assert home_accounting_on(employee=employee, day=datetime.date(2025, 1, 1)) is None
    assert home_accounting_on(employee=employee, day=datetime.date(2099, 1, 2)) == future
