"""PAXml: the files imported and exported, the salary-code register, salary transactions and
schedule days — the rows a PAXml file carries that no other app holds.

Time transactions become ``projects.TimeRegistration`` rows; :class:`ImportedTimeRegistration`
remembers which file (and ``postid``) each came from, so a second import of the same post
replaces it and a ``nyexport`` replaces the rows of its period.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import CompanyOwned, CompanyScopedQuerySet

from .codes import Category


class PaxmlFile(CompanyOwned):
    """One PAXml file read or written, identified by its SHA-256 fingerprint."""

    class Direction(models.TextChoices):
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")

    class Status(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        REJECTED = "rejected", _("Rejected")
        DRY_RUN = "dry_run", _("Checked (dry run)")
        EXPORTED = "exported", _("Exported")

    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    name = models.CharField(_("file name"), max_length=255, blank=True)
    fingerprint = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    profile = models.CharField(_("profile"), max_length=20, default="standard")
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    format = models.CharField(_("format"), max_length=20, blank=True)
    program_name = models.CharField(_("program"), max_length=200, blank=True)
    source = models.CharField(
        _("source"),
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_(
            "Whose rows the file's postids and nyexport may replace: the header's foretagid "
            "and program, or a source chosen on upload."
        ),
    )
    period_from = models.DateField(_("period from"), null=True, blank=True)
    period_to = models.DateField(_("period to"), null=True, blank=True)
    is_reexport = models.BooleanField(_("re-export (nyexport)"), default=False)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    job = models.ForeignKey(
        "jobs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("job"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("PAXml file")
        verbose_name_plural = _("PAXml files")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "fingerprint"],
                condition=models.Q(direction="import", status="imported"),
                name="paxml_file_imported_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.name or self.fingerprint[:12]}"


class SalaryCode(CompanyOwned):
    """A PAXml ``lonkod`` (MÅNLÖN, UTLÄGG, ÖT1 …) in the company's register, with the salary
    type (löneart) of the payroll system it stands for, where known."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(
        _("category"), max_length=12, choices=[(c.value, c.name.title()) for c in Category]
    )
    salary_type = models.CharField(
        _("salary type (löneart)"),
        max_length=20,
        blank=True,
        help_text=_("The payroll system's own number for this code, if it should be written."),
    )
    is_expense = models.BooleanField(
        _("expense"), default=False, help_text=_("Expenses carry their expense code in varugrupp.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("salary code")
        verbose_name_plural = _("salary codes")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="paxml_salary_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SalaryTransaction(CompanyOwned):
    """Lönetransaktion: a salary item that is not time — bonus, expense, allowance …

    ``salary_code`` is the PAXml ``lonkod``; ``salary_type`` is ``lonart`` exactly as given
    (the payroll system's own number, which wins over the code when both are there).
    """

    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.PROTECT,
        related_name="paxml_salary_transactions",
        verbose_name=_("employee"),
    )
    salary_code = models.CharField(_("salary code (lonkod)"), max_length=20, blank=True)
    salary_type = models.CharField(_("salary type (lonart)"), max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    comment = models.CharField(_("comment"), max_length=255, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    date_from = models.DateTimeField(_("from"), null=True, blank=True)
    date_to = models.DateTimeField(_("to"), null=True, blank=True)
    period_date = models.DateField(
        _("period date"), db_index=True, help_text=_("The day the row counts on: date or from.")
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    vat = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2, null=True, blank=True)
    product_group = models.CharField(
        _("product group (varugrupp)"), max_length=40, blank=True, help_text=_("Expense code.")
    )
    account = models.CharField(_("account"), max_length=20, blank=True)
    customer = models.CharField(_("customer"), max_length=40, blank=True)
    cost_center = models.ForeignKey(
        "projects.AccountingDimensionValue",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cost centre"),
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
    )
    source_file = models.ForeignKey(
        PaxmlFile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported from"),
    )
    postid = models.IntegerField(_("postid"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("salary transaction")
        verbose_name_plural = _("salary transactions")
        ordering = ["period_date", "employee_id", "pk"]
        indexes = [
            models.Index(fields=["company", "period_date"]),
            models.Index(fields=["company", "postid"]),
        ]

    def __str__(self) -> str:
        return f"{self.salary_type or self.salary_code} {self.period_date}"


class ScheduleDay(CompanyOwned):
    """Schematransaktion: an employee's scheduled hours on one day, as a PAXml file gave it."""

    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.CASCADE,
        related_name="paxml_schedule_days",
        verbose_name=_("employee"),
    )
    date = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2, null=True, blank=True)
    start_time = models.TimeField(_("start"), null=True, blank=True)
    end_time = models.TimeField(_("end"), null=True, blank=True)
    source_file = models.ForeignKey(
        PaxmlFile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported from"),
    )

    class Meta:
        verbose_name = _("schedule day")
        verbose_name_plural = _("schedule days")
        ordering = ["employee_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["employee", "date"], name="paxml_schedule_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.hours}"


class ImportedTimeRegistration(models.Model):
    """Which PAXml file (and ``postid``) a time registration came from."""

    time_registration = models.OneToOneField(
        "projects.TimeRegistration",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="paxml_source",
    )
    source_file = models.ForeignKey(PaxmlFile, on_delete=models.CASCADE, related_name="+")
    postid = models.IntegerField(null=True, blank=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "source_file__company"

    class Meta:
        verbose_name = _("imported time registration")
        verbose_name_plural = _("imported time registrations")
        indexes = [models.Index(fields=["postid"])]

    def __str__(self) -> str:
        return f"{self.time_registration_id} ← {self.source_file_id}"
