"""Demo data for ``seed_demo``: cost centres, a customer dimension, a three-level project
tree with budgets, controls and prices, competences, a reviewer, a recurring shift, and
validated time registrations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.apps import apps

from .models import (
    AccountingDimension,
    Competence,
    CompetenceGroup,
    EmployeeCompetence,
    Place,
    Project,
    ProjectCompetence,
    ProjectControl,
    ProjectParticipant,
    ProjectPrice,
    ProjectRegisterSettings,
    ProjectReviewer,
    ProjectShift,
    TimeCode,
    WorkSchedule,
)
from .models.accounting import SIE_COST_CENTER, SIE_PROJECT
from .services import (
    TimeRegistrationRejected,
    cost_center_create,
    dimension_value_create,
    home_accounting_set,
    project_create,
    time_registration_create,
)


def seed(*, company, admin, stdout) -> None:
    if Project.objects.filter(company=company, code="BS").exists():
        return
    centres = {
        code: cost_center_create(company=company, code=code, name=name)
        for code, name in [("100", "Ekonomi"), ("200", "HR"), ("300", "IT")]
    }
    customers, _created = AccountingDimension.objects.get_or_create(
        company=company,
        sie_number=20,
        defaults={"code": "kund", "name": "Kund", "used_for_billing_price": True},
    )
    m3 = dimension_value_create(dimension=customers, code="M3", name="Kund M3 AB")
    dimension_value_create(dimension=customers, code="M4", name="Kund M4 AB")
    AccountingDimension.objects.filter(company=company, sie_number=SIE_COST_CENTER).update(
        lay_out_from_project_time=True
    )

    group = CompetenceGroup.objects.create(company=company, code="KORK", name="Körkort")
    driving = Competence.objects.create(company=company, group=group, code="B", name="B-körkort")
    fire = Competence.objects.create(
        company=company, group=group, code="BRAND", name="Brandutbildning"
    )
    office = Place.objects.create(
        company=company,
        name="Kontoret",
        latitude=Decimal("59.334591"),
        longitude=Decimal("18.063240"),
    )

    bs = project_create(
        company=company,
        code="BS",
        name="Bemanningsservice",
        registrable=False,
        color="#14532D",
        staffing_comment="Ta med passerkort.",
    )
    hr = project_create(
        company=company, code="HR", name="HR-tjänster", parent=bs, registrable=False
    )
    bem = project_create(
        company=company,
        code="Bem",
        name="Bemanning",
        parent=hr,
        budget_hours=Decimal("120"),
        budget_amount=Decimal("300000"),
        billing=Project.Billing.ALWAYS,
        hourly_price=Decimal("2500"),
    )
    rek = project_create(
        company=company,
        code="Rek",
        name="Rekrytering",
        parent=hr,
        budget_hours=Decimal("40"),
        internal_comment_required=True,
        internal_comment="Ange kandidatens referens.",
    )
    it = project_create(company=company, code="IT", name="IT-drift", parent=bs, registrable=False)
    sup = project_create(
        company=company,
        code="Sup",
        name="Support",
        parent=it,
        budget_hours=Decimal("60"),
        billing=Project.Billing.MAY_NO,
        billing_model=Project.BillingModel.FIXED_PRICE,
        fixed_price=Decimal("90000"),
        external_comment="Fast pris enligt avtal 2025-01.",
    )
    bem.accounting_defaults.create(dimension=centres["200"].dimension, value=centres["200"])
    ProjectPrice.objects.create(project=bem, value=m3, hourly_price=Decimal("2200"))
    ProjectControl.objects.create(
        project=bs, kind="time", action="warning", threshold_percent=Decimal("80")
    )
    ProjectControl.objects.create(
        project=rek, kind="time", action="stop", threshold_percent=Decimal("110")
    )
    ProjectControl.objects.create(
        project=bem, kind="billable", action="warning", threshold_amount=Decimal("250000")
    )
    ProjectCompetence.objects.create(project=bs, competence=driving, level=2)
    ProjectCompetence.objects.create(project=sup, competence=fire, level=3)
    sup.places.add(office)
    # Daily use: billing of time on, the project dimension staffs, the admin reviews BS,
    # and Bemanning needs two people every Monday morning.
    ProjectRegisterSettings.objects.filter(company=company).update(billing_time=True)
    AccountingDimension.objects.filter(company=company, sie_number=SIE_PROJECT).update(
        used_for_staffing=True
    )
    if admin is not None:
        ProjectReviewer.objects.get_or_create(project=bs, user=admin)
    ProjectShift.objects.create(
        project=bem,
        weekday=0,
        start_time=dt.time(7),
        end_time=dt.time(16),
        people=2,
        comment="Samling vid entrén.",
    )

    employees = list(apps.get_model("employees", "Employee").objects.filter(company=company)[:6])
    worked = TimeCode.objects.filter(company=company, kind=TimeCode.Kind.ATTENDANCE).order_by(
        "code"
    ).first() or TimeCode.objects.create(
        company=company,
        code="ARB",
        name="Arbetad tid",
        kind=TimeCode.Kind.ATTENDANCE,
        paxml_code="ARB",
    )
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 21)
    saved = warnings = 0
    for index, employee in enumerate(employees):
        ProjectParticipant.objects.get_or_create(
            project=hr if index % 2 == 0 else it,
            employee=employee,
            defaults={"role": "project_lead" if index < 2 else "member"},
        )
        EmployeeCompetence.objects.get_or_create(
            employee=employee, competence=driving, defaults={"level": 3}
        )
        WorkSchedule.objects.get_or_create(
            employee=employee,
            valid_from=dt.date(2025, 1, 1),
            defaults={day: Decimal("8") for day in WorkSchedule.WEEKDAYS[:5]},
        )
        home_accounting_set(
            employee=employee,
            valid_from=dt.date(2025, 1, 1),
            cost_center=centres[["100", "200", "300"][index % 3]],
        )
        leaves = [bem, rek, sup]
        for day in range(15):
            date = monday + dt.timedelta(days=day)
            if date.weekday() >= 5:
                continue
            project = leaves[(index + day) % 3]
            try:
                _registration, found = time_registration_create(
                    employee=employee,
                    date=date,
                    time_code=worked,
                    hours=Decimal("4"),
                    project=project,
                    internal_comment="Demo" if project == rek else "",
                    dimension_values=[m3] if project == bem and day % 2 else [],
                    reviewed=day < 5,
                )
            except TimeRegistrationRejected:
                continue
            saved += 1
            warnings += len(found)
    stdout.write(
        f"Projects: tree BS with {Project.objects.filter(company=company).count()} projects, "
        f"{saved} time registrations ({warnings} warnings)."
    )
