"""Accounting dimensions (konteringsdimensioner), their simple registers and home accounting."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyOwned, CompanyScopedQuerySet

SIE_COST_CENTER = 1
SIE_PROJECT = 6
SIE_FREE_FROM = 20


class AccountingRule(models.TextChoices):
    """How a dimension must be filled in on a registration (the three levels share it)."""

    INHERIT = "inherit", _("Inherit rule")
    MUST = "must", _("Must be given")
    MAY = "may", _("May be given")
    LOCKED = "locked", _("Locked")


class AccountingDimension(CompanyOwned):
    """A register used for accounting: cost centre (SIE 1), project (SIE 6), free ones (20+).

    Its settings decide whether a project's accounting is laid out on registrations, whether
    projects may carry a deviating time code, and how participants limit registration.
    """

    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    sie_number = models.PositiveSmallIntegerField(
        _("SIE dimension number"),
        help_text=_("1 = cost centre, 6 = project, 20 and up = free dimensions."),
    )
    rule = models.CharField(
        _("general rule"),
        max_length=8,
        choices=[c for c in AccountingRule.choices if c[0] != AccountingRule.INHERIT],
        default=AccountingRule.MAY,
    )
    lay_out_from_project_time = models.BooleanField(
        _("lay out accounting from project (time)"), default=False
    )
    lay_out_from_project_travel = models.BooleanField(
        _("lay out accounting from project (travel)"), default=False
    )
    lay_out_from_project_pay = models.BooleanField(
        _("lay out accounting from project (pay)"), default=False
    )
    use_deviating_time_codes = models.BooleanField(_("use deviating time codes"), default=False)
    only_participants_may_register = models.BooleanField(
        _("only participants may register"), default=False
    )
    show_only_my_projects = models.BooleanField(
        _("by default show only projects I take part in"), default=False
    )
    used_for_authorization = models.BooleanField(
        _("used for authorization and selection"), default=False
    )
    used_for_billing_price = models.BooleanField(
        _("controls the billing price"),
        default=False,
        help_text=_("Values of this dimension may override a project's hourly price."),
    )
    used_for_staffing = models.BooleanField(
        _("used for staffing"),
        default=False,
        help_text=_("Its registers get the Staffing tab and their shifts the staffing overview."),
    )

    class Meta:
        verbose_name = _("accounting dimension")
        verbose_name_plural = _("accounting dimensions")
        ordering = ["company", "sie_number"]
        constraints = [
            models.UniqueConstraint(fields=["company", "sie_number"], name="dimension_sie_unique"),
            models.UniqueConstraint(fields=["company", "code"], name="dimension_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sie_number})"

    def clean(self) -> None:
        if self.sie_number not in (SIE_COST_CENTER, SIE_PROJECT) and (
            self.sie_number < SIE_FREE_FROM
        ):
            raise ValidationError(
                {"sie_number": _("Use 1 (cost centre), 6 (project) or a number from 20.")}
            )

    @property
    def is_project(self) -> bool:
        return self.sie_number == SIE_PROJECT

    @property
    def is_cost_center(self) -> bool:
        return self.sie_number == SIE_COST_CENTER


class AccountingDimensionValue(CompanyOwned):
    """A row of a simple register: code, name and a validity interval."""

    dimension = models.ForeignKey(
        AccountingDimension,
        on_delete=models.PROTECT,
        related_name="values",
        verbose_name=_("dimension"),
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("accounting dimension value")
        verbose_name_plural = _("accounting dimension values")
        ordering = ["dimension__sie_number", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="dimension_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("Valid to must not be before valid from.")})
        if self.dimension_id and self.company_id and self.dimension.company_id != self.company_id:
            raise ValidationError({"dimension": _("The dimension belongs to another company.")})

    def is_valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class CostCenterQuerySet(CompanyScopedQuerySet):
    pass


class CostCenterManager(models.Manager.from_queryset(CostCenterQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(dimension__sie_number=SIE_COST_CENTER)


class CostCenter(AccountingDimensionValue):
    """Cost centres (kostnadsställen): the values of the SIE 1 dimension."""

    objects = CostCenterManager()

    class Meta:
        proxy = True
        verbose_name = _("cost centre")
        verbose_name_plural = _("cost centres")


class ProjectRegisterSettings(CompanyOwned):
    """Company-wide defaults the project register falls back on."""

    default_place_radius_m = models.PositiveIntegerField(
        _("default place radius (m)"), default=100, validators=[MinValueValidator(1)]
    )
    normal_sales_value_per_hour = models.DecimalField(
        _("normal sales value per scheduled hour"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
    )
    # Settings > General > Billing
    billing_time = models.BooleanField(
        _("use billing of time"),
        default=False,
        help_text=_("Approved billable hours can be released for billing."),
    )
    billing_travel = models.BooleanField(
        _("use billing of travel"),
        default=False,
        help_text=_("Kept for when travel registrations are stored; no effect yet."),
    )
    billed_time_codes = models.ManyToManyField(
        "projects.TimeCode",
        blank=True,
        related_name="+",
        verbose_name=_("what is billed (time codes)"),
        help_text=_("Empty: every attendance time code."),
    )

    class Meta:
        verbose_name = _("project register settings")
        verbose_name_plural = _("project register settings")
        constraints = [
            models.UniqueConstraint(fields=["company"], name="project_settings_one_per_company")
        ]

    def __str__(self) -> str:
        return str(_("Project register settings"))
