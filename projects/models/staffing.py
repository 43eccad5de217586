"""Staffing: dated shifts on a project (one-off, or an occurrence of a recurring shift)
and the employees staffed on them, with a comment per employee and shift."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyScopedQuerySet

from .accounting import SIE_PROJECT, AccountingDimension
from .project import Project, ProjectShift


class Shift(models.Model):
    """A shift on a day. ``recurring`` is set when it is an occurrence of a recurring shift
    (created the first time someone is staffed on it)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="dated_shifts", verbose_name=_("project")
    )
    recurring = models.ForeignKey(
        ProjectShift,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="occurrences",
        verbose_name=_("recurring shift"),
    )
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    people = models.PositiveSmallIntegerField(
        _("number of people"), default=1, validators=[MinValueValidator(1)]
    )
    comment = models.CharField(_("comment"), max_length=255, blank=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["date", "start_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring", "date"],
                condition=models.Q(recurring__isnull=False),
                name="shift_one_occurrence_per_day",
            )
        ]
        indexes = [models.Index(fields=["project", "date"])]

    def __str__(self) -> str:
        return f"{self.project.code} {self.date} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time == self.start_time:
            raise ValidationError({"end_time": _("A shift must not end when it starts.")})
        if (
            self.project_id
            and not AccountingDimension.objects.filter(
                company_id=self.project.company_id, sie_number=SIE_PROJECT, used_for_staffing=True
            ).exists()
        ):
            raise ValidationError(
                _(
                    "The project dimension is not used for staffing (Settings > Accounting "
                    "dimensions)."
                )
            )


class ShiftAssignment(models.Model):
    """An employee staffed on a shift; the comment is for that employee on that shift."""

    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("shift")
    )
    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.CASCADE,
        related_name="shift_assignments",
        verbose_name=_("employee"),
    )
    comment = models.CharField(_("comment"), max_length=255, blank=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "shift__project__company"

    class Meta:
        verbose_name = _("staffing")
        verbose_name_plural = _("staffing")
        constraints = [
            models.UniqueConstraint(fields=["shift", "employee"], name="shift_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.employee} – {self.shift}"
