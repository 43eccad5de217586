"""Time registration: the week view, the projects an employee may register on, what a
registration form shows, the home accounting and work schedule in force, and which
registrations a user sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from companies.selectors import company_ids_for_user, user_has_company_perm

from ..models import AccountingDimension, Project
from ..models.accounting import SIE_PROJECT
from .access import (
    PERM_REGISTER_FOR_OTHERS,
    PERM_REGISTER_TIME,
    PERM_REVIEW_TIME,
    PERM_VIEW_OTHERS_TIME,
    project_authorized_paths,
    projects_on_branches_q,
)
from .base import ZERO, _dec, _model, _model_employee
from .inherited import projects_for_participant
from .review import project_reviewer_paths


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def registration_projects(
    *, employee, user=None, date_from: dt.date, date_to: dt.date
) -> list[Project]:
    """The projects ``employee`` may register on between the two dates, as the
    registration service would accept them: registrable, ongoing with every ancestor
    ongoing, running on at least one of the days, the employee a participant where the
    project dimension asks for it, and ``user`` authorized where the dimension is used for
    authorization. A fixed number of queries whatever the number of projects (five; a
    few more for the authorization check when the dimension is used for it)."""
    company_id = employee.company_id
    projects = Project.objects.filter(
        company_id=company_id, registrable=True, status=Project.Status.ONGOING
    ).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=date_to),
        Q(end_date__isnull=True) | Q(end_date__gte=date_from),
    )
    stopped = list(
        Project.objects.filter(company_id=company_id)
        .exclude(status=Project.Status.ONGOING)
        .values_list("path", flat=True)
    )
    dimension = AccountingDimension.objects.filter(
        company_id=company_id, sie_number=SIE_PROJECT
    ).first()
    if dimension is not None and dimension.only_participants_may_register:
        projects = projects.filter(pk__in=projects_for_participant(employee=employee))
    if user is not None:
        paths = project_authorized_paths(user=user, company=company_id, perm=PERM_REGISTER_TIME)
        if paths is not None:
            projects = projects.filter(projects_on_branches_q(paths=paths))
    return [
        p for p in projects.order_by("code") if not any(p.path.startswith(path) for path in stopped)
    ]


@dataclass
class WeekDay:
    date: dt.date
    registrations: list
    scheduled: Decimal
    total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.total - self.scheduled


@dataclass
class TimeWeek:
    employee: object
    start: dt.date
    days: list[WeekDay]

    @property
    def total(self) -> Decimal:
        return sum((d.total for d in self.days), ZERO)

    @property
    def scheduled(self) -> Decimal:
        return sum((d.scheduled for d in self.days), ZERO)

    @property
    def difference(self) -> Decimal:
        return self.total - self.scheduled


def time_week(*, employee, start: dt.date) -> TimeWeek:
    """An employee's registrations of the week from ``start`` (a Monday) with the day and
    week totals against the work schedule in force each day. Two queries."""
    end = start + dt.timedelta(days=6)
    registrations = list(
        _model("TimeRegistration")
        .objects.filter(employee=employee, date__gte=start, date__lte=end)
        .select_related("time_code", "project", "cost_center", "reviewed_by")
        .order_by("date", "pk")
    )
    schedules = list(
        _model("WorkSchedule")
        .objects.filter(employee=employee, valid_from__lte=end)
        .order_by("-valid_from")
    )
    days = []
    for offset in range(7):
        day = start + dt.timedelta(days=offset)
        schedule = next((s for s in schedules if s.valid_from <= day), None)
        rows = [r for r in registrations if r.date == day]
        days.append(
            WeekDay(
                date=day,
                registrations=rows,
                scheduled=_dec(schedule.hours_on(day)) if schedule else ZERO,
                total=sum((r.hours for r in rows), ZERO),
            )
        )
    return TimeWeek(employee=employee, start=start, days=days)


def time_registrations_visible_q(*, user) -> Q:
    """Which registrations ``user`` sees, per company: all of them with
    ``companies.view_others_time`` (HR, payroll ...); otherwise their own employee's and
    those on the projects they review (the self-service and reviewer roles)."""
    if getattr(user, "is_superuser", False):
        return ~Q(pk__in=[])
    q = Q(pk__in=[])
    for company_id in company_ids_for_user(user=user):
        company_q = Q(company_id=company_id)
        if user_has_company_perm(user=user, perm=PERM_VIEW_OTHERS_TIME, company=company_id):
            q |= company_q
            continue
        mine = Q(employee__user_id=user.pk)
        if user_has_company_perm(user=user, perm=PERM_REVIEW_TIME, company=company_id):
            paths = project_reviewer_paths(user=user, company=company_id)
            mine |= projects_on_branches_q(paths=paths, prefix="project__")
        q |= company_q & mine
    return q


def employees_registrable_by(*, user, company):
    """The employees ``user`` may register time for in ``company``: everyone with
    ``companies.register_time_for_others`` (HR, administrators), else only their own."""
    employees = _model_employee().objects.filter(company=company).select_related("company")
    if user_has_company_perm(user=user, perm=PERM_REGISTER_FOR_OTHERS, company=company):
        return employees.order_by("last_name", "first_name")
    return employees.filter(user_id=user.pk)


def project_registration_info(*, project: Project) -> dict:
    """What a registration form shows when the project is picked: the internal comment and
    the attachments marked "show at registration"."""
    return {
        "internal_comment": project.internal_comment,
        "internal_comment_required": project.internal_comment_required,
        "attachments": list(project.attachments.filter(show_at_registration=True)),
    }


def home_accounting_on(*, employee, day: dt.date):
    """The home accounting in force on ``day`` (latest ``valid_from`` on or before it)."""
    return (
        _model("HomeAccounting")
        .objects.filter(employee=employee, valid_from__lte=day)
        .select_related("cost_center", "project")
        .order_by("-valid_from")
        .first()
    )


def work_schedule_on(*, employee, day: dt.date):
    return (
        _model("WorkSchedule")
        .objects.filter(employee=employee, valid_from__lte=day)
        .order_by("-valid_from")
        .first()
    )
