"""Events (Händelser) on a project: rules that add an extra compensation line to the
payroll for time registered on the project (e.g. a supplement per hour worked on it)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyScopedQuerySet

from .project import Project
from .time import TimeCode


class ProjectEvent(models.Model):
    """An extra compensation for time registered on the project (and, when flagged, on
    every project under it): an amount per hour worked or a fixed amount per day with
    registrations, transferred with the payroll system's salary type code."""

    class Kind(models.TextChoices):
        PER_HOUR = "per_hour", _("Amount per hour worked")
        PER_DAY = "per_day", _("Fixed amount per registration day")

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="events", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=100)
    salary_type_code = models.CharField(
        _("salary type code"),
        max_length=20,
        help_text=_("The payroll system's salary type (lönart) the compensation is paid with."),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PER_HOUR)
    amount = models.DecimalField(
        _("amount (SEK)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("Per hour worked, or per day with registrations."),
    )
    time_codes = models.ManyToManyField(
        TimeCode,
        blank=True,
        related_name="+",
        verbose_name=_("only time codes"),
        help_text=_("Empty: every attendance time code."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    applies_to_sub_projects = models.BooleanField(
        _("applies to sub projects"),
        default=True,
        help_text=_("Also for time registered on every project under this one."),
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["project", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="project_event_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(valid_from__isnull=True)
                    | models.Q(valid_to__isnull=True)
                    | models.Q(valid_to__gte=models.F("valid_from"))
                ),
                name="project_event_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code}: {self.name}"

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The event must not end before it starts.")})

    def valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )
