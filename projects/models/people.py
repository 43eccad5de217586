"""Rows that hang on an employee: home accounting, competences, project participation,
time registrations and work schedules."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyOwned, CompanyScopedQuerySet

from .accounting import SIE_COST_CENTER, AccountingDimensionValue
from .project import Competence, Project, level_validators
from .time import TimeCode


class HomeAccounting(models.Model):
    """An employee's default accounting (hemkontering), dated: the row with the latest
    ``valid_from`` on or before a day is in force that day; future rows are allowed."""

    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.CASCADE,
        related_name="home_accountings",
        verbose_name=_("employee"),
    )
    valid_from = models.DateField(_("valid from"))
    cost_center = models.ForeignKey(
        AccountingDimensionValue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cost centre"),
        limit_choices_to={"dimension__sie_number": SIE_COST_CENTER},
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "employee__company"

    class Meta:
        verbose_name = _("home accounting")
        verbose_name_plural = _("home accountings")
        ordering = ["employee", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "valid_from"], name="home_accounting_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.employee} {self.valid_from}"

    @property
    def company_id(self):
        return self.employee.company_id if self.employee_id else None

    def clean(self) -> None:
        company_id = self.company_id
        if self.cost_center_id and self.cost_center.company_id != company_id:
            raise ValidationError({"cost_center": _("The cost centre belongs to another company.")})
        if self.cost_center_id and not self.cost_center.dimension.is_cost_center:
            raise ValidationError({"cost_center": _("Choose a cost centre.")})
        if self.project_id and self.project.company_id != company_id:
            raise ValidationError({"project": _("The project belongs to another company.")})


class EmployeeCompetence(models.Model):
    employee = models.ForeignKey(
        "employees.Employee", on_delete=models.CASCADE, related_name="competences"
    )
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), default=1, validators=level_validators)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "employee__company"

    class Meta:
        verbose_name = _("employee competence")
        verbose_name_plural = _("employee competences")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "competence"], name="employee_competence_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="employee_competence_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competence} ({self.level})"


class ProjectParticipant(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        PROJECT_LEAD = "project_lead", _("Project lead")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="participants")
    employee = models.ForeignKey(
        "employees.Employee", on_delete=models.CASCADE, related_name="project_participations"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["project", "employee"], name="participant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.employee} ({self.get_role_display()})"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Not reviewed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TimeRegistration(CompanyOwned):
    """Hours an employee registered on a day, with their accounting.

    Only ``projects.services.time_registration_create`` writes them: it validates every
    rule of the project register and stores the billing price in force at that moment.
    An approved registration (``review_status`` approved, ``reviewed`` true) is locked.
    """

    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.PROTECT,
        related_name="time_registrations",
        verbose_name=_("employee"),
    )
    date = models.DateField(_("date"))
    time_code = models.ForeignKey(
        TimeCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("time code")
    )
    hours = models.DecimalField(
        _("hours"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("-24")), MaxValueValidator(Decimal("24"))],
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="time_registrations",
        verbose_name=_("project"),
    )
    cost_center = models.ForeignKey(
        AccountingDimensionValue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cost centre"),
    )
    dimension_values = models.ManyToManyField(
        AccountingDimensionValue,
        blank=True,
        related_name="+",
        verbose_name=_("other accounting"),
    )
    internal_comment = models.TextField(_("internal comment"), blank=True)
    external_comment = models.TextField(_("external comment"), blank=True)
    billable = models.BooleanField(_("billable"), default=False)
    reviewed = models.BooleanField(_("reviewed"), default=False)
    review_status = models.CharField(
        _("review"), max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    released_for_billing = models.BooleanField(_("released for billing"), default=False)
    billing_price = models.DecimalField(
        _("hourly billing price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("time registration")
        verbose_name_plural = _("time registrations")
        ordering = ["-date", "employee"]
        indexes = [
            models.Index(fields=["project", "date"]),
            models.Index(fields=["employee", "date"]),
            models.Index(fields=["company", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.employee} {self.date} {self.time_code.code} {self.hours}"

    @property
    def locked(self) -> bool:
        """Approved registrations are locked: not changed, not deleted."""
        return self.review_status == ReviewStatus.APPROVED


class WorkSchedule(models.Model):
    """An employee's weekly schedule (hours per weekday) from a date; PAXml exports it as
    schedule transactions."""

    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.CASCADE,
        related_name="work_schedules",
        verbose_name=_("employee"),
    )
    valid_from = models.DateField(_("valid from"))
    monday = models.DecimalField(_("Monday"), max_digits=4, decimal_places=2, default=0)
    tuesday = models.DecimalField(_("Tuesday"), max_digits=4, decimal_places=2, default=0)
    wednesday = models.DecimalField(_("Wednesday"), max_digits=4, decimal_places=2, default=0)
    thursday = models.DecimalField(_("Thursday"), max_digits=4, decimal_places=2, default=0)
    friday = models.DecimalField(_("Friday"), max_digits=4, decimal_places=2, default=0)
    saturday = models.DecimalField(_("Saturday"), max_digits=4, decimal_places=2, default=0)
    sunday = models.DecimalField(_("Sunday"), max_digits=4, decimal_places=2, default=0)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "employee__company"

    WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

    class Meta:
        verbose_name = _("work schedule")
        verbose_name_plural = _("work schedules")
        ordering = ["employee", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["employee", "valid_from"], name="work_schedule_unique"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{day}__gte": 0, f"{day}__lte": 24}),
                    name=f"work_schedule_{day}_hours",
                )
                for day in (
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                )
            ],
        ]

    def __str__(self) -> str:
        return f"{self.employee} {self.valid_from}"

    @property
    def company_id(self):
        return self.employee.company_id if self.employee_id else None

    def hours_on(self, day) -> Decimal:
        """Scheduled hours on ``day`` (a date) by its weekday."""
        return getattr(self, self.WEEKDAYS[day.weekday()])

    @property
    def week_hours(self) -> Decimal:
        return sum((getattr(self, day) for day in self.WEEKDAYS), Decimal(0))
