"""The extended project register: a tree of main, sub and registrable projects and the
rows behind each of its tabs (controls, prices, staffing, competences, participants ...)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import CompanyOwned, CompanyScopedQuerySet

from .accounting import AccountingDimension, AccountingDimensionValue, AccountingRule

# A node's path is its ancestors' ids and its own, each zero-padded to this width, so that
# "all descendants" is a prefix match and "ancestor at level k" is a fixed-length prefix.
PATH_STEP = 10
CODE_SEPARATOR = "."

hex_color = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Give a colour as #RRGGBB."))


def path_segment(pk: int) -> str:
    return str(pk).zfill(PATH_STEP)


class Project(CompanyOwned):
    """A node of the project tree. Only registrable projects take registrations; they have
    no children. ``code`` is the full code, the parent's code and a segment joined by ``.``."""

    class Status(models.TextChoices):
        ONGOING = "ongoing", _("Ongoing")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    class FollowUpUnit(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")

    class Billing(models.TextChoices):
        ALWAYS = "always", _("Yes – always")
        NEVER = "never", _("No – never")
        MAY_YES = "may_yes", _("May be billed, suggest yes")
        MAY_NO = "may_no", _("May be billed, suggest no")

    class BillingModel(models.TextChoices):
        TIME_AND_MATERIALS = "time_and_materials", _("Running (time and materials)")
        FIXED_PRICE = "fixed_price", _("Fixed price")

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent project"),
    )
    path = models.CharField(_("tree path"), max_length=255, blank=True, db_index=True)
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    code = models.CharField(_("code"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    registrable = models.BooleanField(
        _("registrable"), default=True, help_text=_("Takes registrations; has no children.")
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ONGOING
    )
    budget_hours = models.DecimalField(
        _("budget hours"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    budget_amount = models.DecimalField(
        _("budget amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    internal_comment_required = models.BooleanField(
        _("internal comment required when reporting"), default=False
    )
    never_transfer = models.BooleanField(
        _("never transfer to downstream system"),
        default=False,
        help_text=_("Only on sub projects."),
    )
    time_code = models.ForeignKey(
        "projects.TimeCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deviating time code"),
    )
    # Comments tab
    internal_comment = models.TextField(_("internal comment"), blank=True)
    external_comment = models.TextField(_("external comment"), blank=True)
    # Staffing tab
    color = models.CharField(_("colour"), max_length=7, blank=True, validators=[hex_color])
    text_color = models.CharField(
        _("text colour"),
        max_length=7,
        blank=True,
        validators=[hex_color],
        help_text=_("Empty: black or white, whichever reads better on the colour."),
    )
    inherit_color = models.BooleanField(_("inherit colour"), default=False)
    followup_unit = models.CharField(
        _("budgeted/actual default values per"),
        max_length=8,
        choices=FollowUpUnit.choices,
        default=FollowUpUnit.WEEK,
    )
    sales_value_per_hour = models.DecimalField(
        _("normal sales value per scheduled hour"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
    )
    staffing_comment = models.TextField(_("staffing comment"), blank=True)
    # Competences and participants tabs
    inherit_competences = models.BooleanField(_("inherit competences"), default=False)
    all_employees_participate = models.BooleanField(
        _("all employees are participants"), default=False
    )
    inherit_participants = models.BooleanField(_("inherit participants"), default=False)
    # Billing tab
    billing = models.CharField(
        _("billing"), max_length=8, choices=Billing.choices, default=Billing.MAY_YES
    )
    hourly_price = models.DecimalField(
        _("hourly price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    billing_model = models.CharField(
        _("billing model"),
        max_length=20,
        choices=BillingModel.choices,
        default=BillingModel.TIME_AND_MATERIALS,
    )
    fixed_price = models.DecimalField(
        _("fixed price"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    places = models.ManyToManyField(
        "projects.Place", blank=True, related_name="projects", verbose_name=_("places")
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["path", "level"])

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="project_code_unique"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="project_dates_in_order",
            ),
        ]
        indexes = [models.Index(fields=["company", "path"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", args=[self.pk])

    @property
    def segment(self) -> str:
        return self.code.rsplit(CODE_SEPARATOR, 1)[-1]

    @property
    def is_main(self) -> bool:
        return self.parent_id is None

    @property
    def ancestor_paths(self) -> list[str]:
        """Paths of the ancestors, root first (derived from the path, no query)."""
        return [self.path[: PATH_STEP * k] for k in range(1, self.level + 1)]

    @property
    def takes_registrations(self) -> bool:
        return self.registrable and self.status == self.Status.ONGOING


class ProjectAccountingDefault(models.Model):
    """Accounting a project lays out on registrations for one dimension, and its rule."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="accounting_defaults"
    )
    dimension = models.ForeignKey(
        AccountingDimension, on_delete=models.CASCADE, related_name="+", verbose_name=_("dimension")
    )
    value = models.ForeignKey(
        AccountingDimensionValue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("value"),
    )
    leave_blank = models.BooleanField(_("leave blank"), default=False)
    rule = models.CharField(
        _("rule"), max_length=8, choices=AccountingRule.choices, default=AccountingRule.INHERIT
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("accounting default")
        verbose_name_plural = _("accounting defaults")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "dimension"], name="project_accounting_one_per_dimension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.code}: {self.dimension.code}"

    def clean(self) -> None:
        if self.value_id and self.dimension_id and self.value.dimension_id != self.dimension_id:
            raise ValidationError({"value": _("The value belongs to another dimension.")})
        if self.value_id and self.leave_blank:
            raise ValidationError({"leave_blank": _("Give a value or leave blank, not both.")})
        if self.dimension_id and self.dimension.is_project:
            raise ValidationError({"dimension": _("A project cannot default another project.")})


class ProjectControl(models.Model):
    """A budget control: on reported time (percent of budget hours) or on reviewed billable
    time (SEK). On a parent it covers the sum over all its children."""

    class Kind(models.TextChoices):
        TIME = "time", _("Time reporting")
        BILLABLE = "billable", _("Billable time")

    class Action(models.TextChoices):
        WARNING = "warning", _("Warning")
        STOP = "stop", _("Registration stop")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="controls")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    action = models.CharField(_("type"), max_length=8, choices=Action.choices)
    threshold_percent = models.DecimalField(
        # xgettext:no-python-format
        _("threshold (% of budget)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    threshold_amount = models.DecimalField(
        _("threshold (SEK)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("control")
        verbose_name_plural = _("controls")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="time", threshold_percent__isnull=False)
                    | models.Q(kind="billable", threshold_amount__isnull=False)
                ),
                name="project_control_threshold_given",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.code}: {self.get_kind_display()} {self.get_action_display()}"

    def clean(self) -> None:
        if self.kind == self.Kind.TIME and self.threshold_percent is None:
            raise ValidationError({"threshold_percent": _("Give the threshold in percent.")})
        if self.kind == self.Kind.BILLABLE and self.threshold_amount is None:
            raise ValidationError({"threshold_amount": _("Give the threshold in SEK.")})


class ProjectPrice(models.Model):
    """An hourly price that applies instead of the project's when a registration carries
    the given value of another dimension (e.g. 2 200 SEK/h for customer M3)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prices")
    value = models.ForeignKey(
        AccountingDimensionValue,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("when the registration has"),
    )
    hourly_price = models.DecimalField(_("hourly price"), max_digits=12, decimal_places=2)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("price override")
        verbose_name_plural = _("price overrides")
        constraints = [
            models.UniqueConstraint(fields=["project", "value"], name="project_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project.code}: {self.value.code} {self.hourly_price}"


class ProjectAttachment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="projects/attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    description = models.CharField(_("description"), max_length=255, blank=True)
    show_at_registration = models.BooleanField(_("show at registration"), default=False)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class ProjectShift(models.Model):
    """A recurring shift: staffing need on a weekday, repeated every N weeks."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("start"))
    end_time = models.TimeField(_("end"))
    people = models.PositiveSmallIntegerField(
        _("number of people"), default=1, validators=[MinValueValidator(1)]
    )
    repeat_weeks = models.PositiveSmallIntegerField(
        _("repeat every N weeks"), default=1, validators=[MinValueValidator(1)]
    )
    comment = models.CharField(_("comment"), max_length=255, blank=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("recurring shift")
        verbose_name_plural = _("recurring shifts")
        ordering = ["weekday", "start_time"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time}–{self.end_time}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time == self.start_time:
            raise ValidationError({"end_time": _("A shift must not end when it starts.")})


class CompetenceGroup(CompanyOwned):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("competence group")
        verbose_name_plural = _("competence groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="competence_group_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Competence(CompanyOwned):
    group = models.ForeignKey(CompetenceGroup, on_delete=models.PROTECT, related_name="competences")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("competence")
        verbose_name_plural = _("competences")
        ordering = ["group__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="competence_unique")
        ]

    def __str__(self) -> str:
        return self.name


level_validators = [MinValueValidator(1), MaxValueValidator(5)]


class ProjectCompetence(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="competences")
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"), default=1, validators=level_validators)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("project competence")
        verbose_name_plural = _("project competences")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "competence"], name="project_competence_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="project_competence_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competence} ({self.level})"


class ProjectReviewer(models.Model):
    """A user who may partially approve registrations on the project (delattest)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("reviewer")
        verbose_name_plural = _("reviewers")
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="reviewer_unique")]

    def __str__(self) -> str:
        return str(self.user)


class ProjectAuthorization(models.Model):
    """A user reaches the project (and its children) through a role."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="authorizations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey("companies.Role", on_delete=models.PROTECT, related_name="+")

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "project__company"

    class Meta:
        verbose_name = _("project authorization")
        verbose_name_plural = _("project authorizations")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user", "role"], name="project_authorization_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.role}"


class Place(CompanyOwned):
    """A geofence for clocking in; an empty radius means the company default."""

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    radius_m = models.PositiveIntegerField(_("radius (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
