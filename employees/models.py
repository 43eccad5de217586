"""The employee register and the registers it points at.

Registers (personnel category, employment form, employment template, position) are per
company and matched with the payroll system on ``code``. Employees are matched on
``employee_number``. Employment rate, monthly salary and hourly wage are dated: a row per
change with ``valid_from``; the value in force on a day is the latest row on or before it.
Home accounting (cost centre / project) lives in the projects app.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import Company, CompanyOwned, CompanyScopedQuerySet
from flexbridge.masking import mask_personal_identity_number

from .validators import (
    COORDINATION_DAY_OFFSET,
    POSTAL_CODE_SE_RE,
    TAX_COLUMN_MAX,
    TAX_COLUMN_MIN,
    TAX_TABLE_MAX,
    TAX_TABLE_MIN,
    validate_bank_account,
    validate_country,
    validate_email_address,
    validate_employee_number,
    validate_personal_identity_number,
    validate_phone,
)

STANDARD_CATEGORY_CODE = "STD"


class PayForm(models.TextChoices):
    MONTHLY = "monthly", _("Monthly salary")
    HOURLY = "hourly", _("Hourly wage")


class Register(CompanyOwned):
    """Common shape of the per-company registers: a code unique in the company."""

    code = models.CharField(_("code"), max_length=20)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {getattr(self, 'name', '')}".strip()


class PersonnelCategory(Register):
    """Personalkategori. Every company has ``STD``, the fallback the payroll system uses."""

    name = models.CharField(_("name"), max_length=100)
    history = HistoricalRecords()

    class Meta(Register.Meta):
        verbose_name = _("personnel category")
        verbose_name_plural = _("personnel categories")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="personnelcategory_code")
        ]


class EmploymentForm(Register):
    """Anställningsform, with the LAS/AVA settings the payroll system needs for it."""

    class FixedTermKind(models.TextChoices):
        NONE = "none", _("Not fixed-term (permanent)")
        GENERAL = "general", _("General fixed-term employment")
        SUBSTITUTE = "substitute", _("Substitute")
        SEASONAL = "seasonal", _("Seasonal")
        PROBATIONARY = "probationary", _("Probationary")
        OTHER = "other", _("Other fixed-term")

    name = models.CharField(_("name"), max_length=100)
    counts_toward_las_days = models.BooleanField(
        _("counts toward LAS days"),
        default=False,
        help_text=_("Days in this form count toward the employment-protection (LAS) limits."),
    )
    fixed_term_kind = models.CharField(
        _("fixed-term kind"), max_length=20, choices=FixedTermKind.choices, default="none"
    )
    notice_period_employer_months = models.PositiveSmallIntegerField(
        _("notice period, employer (months)"), default=0, validators=[MaxValueValidator(24)]
    )
    notice_period_employee_months = models.PositiveSmallIntegerField(
        _("notice period, employee (months)"), default=0, validators=[MaxValueValidator(24)]
    )
    end_notice_days = models.PositiveSmallIntegerField(
        _("notice before a fixed term ends (days)"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("Written notice the employee must get before the fixed term ends."),
    )
    history = HistoricalRecords()

    class Meta(Register.Meta):
        verbose_name = _("employment form")
        verbose_name_plural = _("employment forms")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="employmentform_code")
        ]


class Position(Register):
    """Befattning (job title)."""

    title = models.CharField(_("title"), max_length=100)
    history = HistoricalRecords()

    class Meta(Register.Meta):
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="position_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class EmploymentTemplate(Register):
    """Anställningsmall: the defaults a new employee gets. One per company is the default;
    the payroll system's person template with the same code matches it."""

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default template"), default=False)
    personnel_category = models.ForeignKey(
        PersonnelCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("personnel category"),
    )
    employment_form = models.ForeignKey(
        EmploymentForm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("employment form"),
    )
    position = models.ForeignKey(
        Position,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("position"),
    )
    pay_form = models.CharField(_("pay form"), max_length=10, choices=PayForm.choices, blank=True)
    tax_table = models.PositiveSmallIntegerField(
        _("tax table"),
        null=True,
        blank=True,
        validators=[MinValueValidator(TAX_TABLE_MIN), MaxValueValidator(TAX_TABLE_MAX)],
    )
    tax_column = models.PositiveSmallIntegerField(
        _("tax column"),
        null=True,
        blank=True,
        validators=[MinValueValidator(TAX_COLUMN_MIN), MaxValueValidator(TAX_COLUMN_MAX)],
    )
    history = HistoricalRecords()

    class Meta(Register.Meta):
        verbose_name = _("employment template")
        verbose_name_plural = _("employment templates")
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="employmenttemplate_code"),
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(is_default=True),
                name="employmenttemplate_one_default",
            ),
        ]

    def clean(self) -> None:
        _check_same_company(self, ["personnel_category", "employment_form", "position"])


def _check_same_company(obj, fields: list[str]) -> None:
    errors = {}
    for name in fields:
        related = getattr(obj, name, None)
        if related is not None and obj.company_id and related.company_id != obj.company_id:
            errors[name] = ValidationError(
                _("Choose a value of the employee's own company."), code="other_company"
            )
    if errors:
        raise ValidationError(errors)


class HistoricalEmployeeBase(models.Model):
    """Extra column of the employee history: the personal identity number, masked only.

    The clear number is excluded from the history table; ``employees.signals`` fills this.
    """

    personal_identity_number_masked = models.CharField(
        _("personal identity number (masked)"), max_length=13, blank=True
    )

    class Meta:
        abstract = True


class Employee(CompanyOwned):
    """A person employed by a company — the HR side of the payroll system's personnel card."""

    employee_number = models.CharField(
        _("employee number"),
        max_length=20,
        validators=[validate_employee_number],
        help_text=_("Letters and digits; the key that matches the payroll system."),
    )
    personal_identity_number = models.CharField(
        _("personal identity number"),
        max_length=12,
        blank=True,
        validators=[validate_personal_identity_number],
        help_text=_("Personnummer or samordningsnummer, stored as 12 digits."),
    )
    is_coordination_number = models.BooleanField(
        _("samordningsnummer"),
        default=False,
        editable=False,
        help_text=_("The personal identity number is a coordination number (day + 60)."),
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    # Address
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    care_of = models.CharField(_("c/o"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(
        _("country"), max_length=2, default="SE", blank=True, validators=[validate_country]
    )
    # Contact
    mobile_phone = models.CharField(
        _("mobile phone"), max_length=30, blank=True, validators=[validate_phone]
    )
    home_phone = models.CharField(
        _("home phone"), max_length=30, blank=True, validators=[validate_phone]
    )
    work_phone = models.CharField(
        _("work phone"), max_length=30, blank=True, validators=[validate_phone]
    )
    work_email = models.CharField(
        _("work e-mail"), max_length=254, blank=True, validators=[validate_email_address]
    )
    private_email = models.CharField(
        _("private e-mail"), max_length=254, blank=True, validators=[validate_email_address]
    )
    # Employment
    personnel_category = models.ForeignKey(
        PersonnelCategory,
        on_delete=models.PROTECT,
        related_name="employees",
        verbose_name=_("personnel category"),
    )
    employment_form = models.ForeignKey(
        EmploymentForm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
        verbose_name=_("employment form"),
    )
    template = models.ForeignKey(
        EmploymentTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
        verbose_name=_("employment template"),
    )
    position = models.ForeignKey(
        Position,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
        verbose_name=_("position"),
    )
    employment_start_date = models.DateField(_("employment start date"))
    employment_end_date = models.DateField(_("employment end date"), null=True, blank=True)
    termination_reason = models.CharField(_("termination reason"), max_length=200, blank=True)
    # Pay
    pay_form = models.CharField(
        _("pay form"), max_length=10, choices=PayForm.choices, default=PayForm.MONTHLY
    )
    tax_table = models.PositiveSmallIntegerField(
        _("tax table"),
        null=True,
        blank=True,
        validators=[MinValueValidator(TAX_TABLE_MIN), MaxValueValidator(TAX_TABLE_MAX)],
    )
    tax_column = models.PositiveSmallIntegerField(
        _("tax column"),
        null=True,
        blank=True,
        validators=[MinValueValidator(TAX_COLUMN_MIN), MaxValueValidator(TAX_COLUMN_MAX)],
    )
    clearing_number = models.CharField(_("clearing number"), max_length=5, blank=True)
    bank_account_number = models.CharField(_("bank account number"), max_length=15, blank=True)
    # Kivra
    kivra_send_payslips = models.BooleanField(_("send payslips via Kivra"), default=False)
    kivra_allow_print = models.BooleanField(_("allow Kivra print handling"), default=False)
    # The login of the person, if they have one: "projects I take part in", "only
    # participants may register" and accounting-based authorization ask who the user is.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="employee",
        verbose_name=_("user"),
        help_text=_("The login of this employee (a user of the employee's company)."),
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["personal_identity_number"], bases=[HistoricalEmployeeBase]
    )

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["company_id", "employee_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "employee_number"], name="employee_number_per_company"
            ),
            models.UniqueConstraint(
                fields=["company", "personal_identity_number"],
                condition=~Q(personal_identity_number=""),
                name="employee_pin_per_company",
            ),
            models.CheckConstraint(
                condition=Q(employment_end_date__isnull=True)
                | Q(employment_end_date__gte=models.F("employment_start_date")),
                name="employee_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "last_name", "first_name"]),
            models.Index(fields=["company", "employment_end_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.employee_number} {self.display_name}"

    @property
    def display_name(self) -> str:
        """The name in the company's name order (first-last unless set to last-first)."""
        order = self.company.name_order if self.company_id else None
        if order == Company.NameOrder.LAST_FIRST:
            return f"{self.last_name}, {self.first_name}"
        return f"{self.first_name} {self.last_name}"

    @property
    def personal_identity_number_masked(self) -> str:
        return mask_personal_identity_number(self.personal_identity_number)

    def is_active_on(self, day: datetime.date) -> bool:
        return self.employment_start_date <= day and (
            self.employment_end_date is None or self.employment_end_date >= day
        )

    def clean(self) -> None:
        errors: dict[str, list] = {}
        pin = self.personal_identity_number
        self.is_coordination_number = bool(
            len(pin) == 12 and pin.isdigit() and int(pin[6:8]) > COORDINATION_DAY_OFFSET
        )
        if (
            self.employment_end_date
            and self.employment_start_date
            and self.employment_end_date < self.employment_start_date
        ):
            errors["employment_end_date"] = [
                ValidationError(
                    _("The end date cannot be before the start date."), code="end_before_start"
                )
            ]
        if (
            self.country == "SE"
            and self.postal_code
            and not POSTAL_CODE_SE_RE.match(self.postal_code)
        ):
            errors["postal_code"] = [
                ValidationError(
                    _("A Swedish postal code has five digits (NNN NN)."),
                    code="invalid_postal_code",
                )
            ]
        if self.clearing_number or self.bank_account_number:
            try:
                self.clearing_number, self.bank_account_number = validate_bank_account(
                    self.clearing_number, self.bank_account_number
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault(field, []).extend(messages)
        try:
            _check_same_company(
                self, ["personnel_category", "employment_form", "template", "position"]
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)


class DatedValue(models.Model):
    """A value of an employee that changes over time: one row per change, from ``valid_from``."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, verbose_name=_("employee"))
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "employee__company"

    class Meta:
        abstract = True
        ordering = ["employee_id", "-valid_from"]

    @property
    def company_id(self) -> int | None:
        return self.employee.company_id if self.employee_id else None


class EmploymentRate(DatedValue):
    """Sysselsättningsgrad: percent of full time. Always has a start date — the payroll
    system needs it."""

    rate_percent = models.DecimalField(
        _("employment rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    history = HistoricalRecords()

    class Meta(DatedValue.Meta):
        verbose_name = _("employment rate")
        verbose_name_plural = _("employment rates")
        default_related_name = "employment_rates"
        constraints = [
            models.UniqueConstraint(fields=["employee", "valid_from"], name="employmentrate_day"),
            models.CheckConstraint(
                condition=Q(rate_percent__gte=0) & Q(rate_percent__lte=100),
                name="employmentrate_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate_percent} % ({self.valid_from})"


class MonthlySalary(DatedValue):
    amount = models.DecimalField(
        _("monthly salary (SEK)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    history = HistoricalRecords()

    class Meta(DatedValue.Meta):
        verbose_name = _("monthly salary")
        verbose_name_plural = _("monthly salaries")
        default_related_name = "monthly_salaries"
        constraints = [
            models.UniqueConstraint(fields=["employee", "valid_from"], name="monthlysalary_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="monthlysalary_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.valid_from})"


class HourlyWage(DatedValue):
    amount = models.DecimalField(
        _("hourly wage (SEK)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    history = HistoricalRecords()

    class Meta(DatedValue.Meta):
        verbose_name = _("hourly wage")
        verbose_name_plural = _("hourly wages")
        default_related_name = "hourly_wages"
        constraints = [
            models.UniqueConstraint(fields=["employee", "valid_from"], name="hourlywage_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="hourlywage_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.valid_from})"
