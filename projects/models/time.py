"""Time codes, time registrations and weekly work schedules."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyOwned, CompanyScopedQuerySet

from .accounting import AccountingDimension, AccountingRule


class TimeCode(CompanyOwned):
    """What a registered hour is: worked, sick, vacation, overtime ..."""

    class Kind(models.TextChoices):
        ATTENDANCE = "attendance", _("Attendance")
        ABSENCE = "absence", _("Absence")
        BALANCE = "balance", _("Balance")

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    paxml_code = models.CharField(
        _("PAXml code"), max_length=10, blank=True, help_text=_("e.g. ARB, SJK, SEM, ÖT1.")
    )
    salary_type_code = models.CharField(_("salary type code"), max_length=20, blank=True)
    replaceable_by_accounting = models.BooleanField(
        _("may be replaced by time code from accounting"), default=False
    )

    class Meta:
        verbose_name = _("time code")
        verbose_name_plural = _("time codes")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="time_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TimeCodeDimensionRule(models.Model):
    """The code's own rule for a dimension; it yields to the project's rule."""

    time_code = models.ForeignKey(TimeCode, on_delete=models.CASCADE, related_name="rules")
    dimension = models.ForeignKey(AccountingDimension, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(
        _("rule"), max_length=8, choices=AccountingRule.choices, default=AccountingRule.INHERIT
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "time_code__company"

    class Meta:
        verbose_name = _("time code rule")
        verbose_name_plural = _("time code rules")
        constraints = [
            models.UniqueConstraint(fields=["time_code", "dimension"], name="time_code_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.time_code.code}: {self.dimension.code} {self.rule}"


class ExpenseCode(CompanyOwned):
    """What an expense (utlägg) on a travel claim is: taxi, hotel, meals ... Its rule per
    dimension comes after the project's and before the dimension's general rule."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    paxml_code = models.CharField(
        _("PAXml code"),
        max_length=10,
        blank=True,
        help_text=_("The code (varugrupp) the expense is transferred with."),
    )
    salary_type_code = models.CharField(_("salary type code"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("expense code")
        verbose_name_plural = _("expense codes")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="expense_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ExpenseCodeDimensionRule(models.Model):
    """The expense code's own rule for a dimension; it yields to the project's rule."""

    expense_code = models.ForeignKey(ExpenseCode, on_delete=models.CASCADE, related_name="rules")
    dimension = models.ForeignKey(AccountingDimension, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(
        _("rule"), max_length=8, choices=AccountingRule.choices, default=AccountingRule.INHERIT
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "expense_code__company"

    class Meta:
        verbose_name = _("expense code rule")
        verbose_name_plural = _("expense code rules")
        constraints = [
            models.UniqueConstraint(
                fields=["expense_code", "dimension"], name="expense_code_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.expense_code.code}: {self.dimension.code} {self.rule}"
