"""Companies, their licences, roles and the users' memberships — and the one scoping rule.

Every table that belongs to a company inherits :class:`CompanyOwned` (or, for rows that
belong to a company through a parent, sets ``company_path``), and every read for a user goes
through ``Model.objects.for_user(user)``. API views, admin pages and selectors use that one
queryset method, so no user ever sees or changes another company's rows.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from stdnum.se import orgnr

from .constants import COMPANY_PERMISSIONS


def validate_organisation_number(value: str) -> None:
    try:
        orgnr.validate(value)
    except Exception as exc:  # stdnum raises several ValidationError subclasses
        raise ValidationError(
            _("%(value)s is not a valid Swedish organisation number."),
            code="invalid_orgnr",
            params={"value": value},
        ) from exc


_IDS_CACHE = "_flexbridge_company_ids"


def company_ids_for_user(*, user) -> list[int]:
    """The ids of the companies a user belongs to (cached on the user object).

    Here rather than in ``selectors`` because the scoping queryset below needs it (and
    ``selectors`` imports the models); ``companies.selectors`` exports it with the other
    reads."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _IDS_CACHE, None)
    if cached is None:
        if user.is_superuser:
            cached = list(Company.objects.values_list("pk", flat=True))
        else:
            cached = list(Membership.objects.filter(user=user).values_list("company_id", flat=True))
        setattr(user, _IDS_CACHE, cached)
    return cached


class CompanyScopedQuerySet(models.QuerySet):
    """Querysets of company-owned rows know how to limit themselves to a user's companies."""

    def for_user(self, user) -> CompanyScopedQuerySet:
        path = getattr(self.model, "company_path", "company")
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(**{f"{path}__in": company_ids_for_user(user=user)})

    def for_company(self, company) -> CompanyScopedQuerySet:
        path = getattr(self.model, "company_path", "company")
        return self.filter(**{path: company})


class CompanyOwned(models.Model):
    """Abstract base for every table that belongs to one company."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "company"

    class Meta:
        abstract = True


class Company(models.Model):
    """An employer. Everything in flexbridge hangs off one."""

    class NameOrder(models.TextChoices):
        FIRST_LAST = "first_last", _("First name, last name")
        LAST_FIRST = "last_first", _("Last name, first name")
        UNDEFINED = "undefined", _("Undefined")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    organisation_number = models.CharField(
        _("organisation number"),
        max_length=11,
        unique=True,
        validators=[validate_organisation_number],
        help_text=_("Swedish organisation number, NNNNNN-NNNN."),
    )
    name_order = models.CharField(
        _("name order"), max_length=16, choices=NameOrder.choices, default=NameOrder.UNDEFINED
    )
    rounding_account = models.CharField(
        _("rounding account"), max_length=10, default="3740", help_text=_("Öre rounding.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "pk"
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        permissions = COMPANY_PERMISSIONS

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation_number})"

    def save(self, *args, **kwargs):
        if self.organisation_number:
            self.organisation_number = orgnr.format(self.organisation_number)
        super().save(*args, **kwargs)

    @property
    def company(self) -> Company:
        """Lets permission checks treat a company like any company-owned row."""
        return self


class CompanyLicense(models.Model):
    """Add-on modules switched on per company (Administration > Company > License)."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="license", verbose_name=_("company")
    )
    kivra_payslips = models.BooleanField(_("Kivra payslips add-on"), default=False)
    visma_net_transfer = models.BooleanField(_("Visma.Net direct transfer"), default=False)
    paxml = models.BooleanField(_("PAXml import and export"), default=False)
    payroll_sync = models.BooleanField(_("Payroll system web service"), default=False)

    objects = CompanyScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company license")
        verbose_name_plural = _("company licenses")

    def __str__(self) -> str:
        return str(_("License of %(company)s") % {"company": self.company.name})


class Role(models.Model):
    """A named bundle of Django permissions that a user holds in a company."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    permissions = models.ManyToManyField(
        "auth.Permission", blank=True, verbose_name=_("permissions")
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one company. A user may belong to several companies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("company")
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, verbose_name=_("role"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_user_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company.code}: {self.role}"


class Task(CompanyOwned):
    """A reminder for an HR or payroll admin, shown on the dashboard until done.

    Services create them where a person must act in another system, e.g. "enter the
    termination reason in payroll" when an employment ends without one.
    """

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("What the task is about.")
    )
    kind = models.SlugField(_("kind"), max_length=50, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "-created_at"]
        indexes = [models.Index(fields=["company", "done_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "reference"],
                condition=Q(done_at__isnull=True) & ~Q(kind=""),
                name="task_one_open_per_kind_reference",
            )
        ]

    def __str__(self) -> str:
        return self.title
