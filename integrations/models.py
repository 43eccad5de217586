"""The payroll system's program link, the switchover and the sync outbox."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import CompanyOwned, CompanyScopedQuerySet
from flexbridge.fields import EncryptedTextField
from flexbridge.outbox import Outbox
from jobs.models import Job

from .clients.outbound import private_addresses_allowed, url_problems

# --- the payroll system: program link, switchover, sync outbox ---------------------------------


class MasterSystem(models.TextChoices):
    """Which system owns personal data; the other one receives changes."""

    PAYROLL = "payroll", _("Payroll system")
    HR = "hr", _("HR (flexbridge)")


class PayrollLink(CompanyOwned):
    """The company's program link to its payroll system ("Flex API").

    Holds where the payroll web service is and its token (encrypted), which system is
    master of personal data, what HR sends when it is master, and whether home accountings
    are sent (which overwrites payroll's accounting distributions).
    """

    class Variant(models.TextChoices):
        WEB_SERVICE = "web_service", _("Web service (JSON over HTTPS)")
        PAXML_FILE = "paxml_file", _("PAXml file (Fortnox Lön and others)")

    class TransferEmploymentData(models.TextChoices):
        NONE = "none", _("None")
        ALL = "all", _("All employment data")
        SELECTION = "selection", _("A selection")

    variant = models.CharField(
        _("variant"), max_length=16, choices=Variant.choices, default=Variant.WEB_SERVICE
    )
    base_url = models.URLField(_("base URL"), blank=True)
    api_token = EncryptedTextField(_("API token"), blank=True)
    is_sandbox = models.BooleanField(
        _("sandbox link"),
        default=False,
        help_text=_("A link to a local sandbox or test system: its addresses may be private ones."),
    )
    master = models.CharField(
        _("master of personal data"),
        max_length=16,
        choices=MasterSystem.choices,
        default=MasterSystem.PAYROLL,
    )
    transfer_employment_data = models.CharField(
        _("transfer employment data"),
        max_length=16,
        choices=TransferEmploymentData.choices,
        default=TransferEmploymentData.NONE,
    )
    selection = models.JSONField(
        _("selection"),
        default=dict,
        blank=True,
        help_text=_(
            'Which employees are sent when "a selection": {"employment_forms": ["TV"], '
            '"personnel_categories": ["TJM"]}.'
        ),
    )
    send_home_accounting = models.BooleanField(
        _("send home accountings"),
        default=False,
        help_text=_(
            "Sending accountings overwrites the accounting distributions in the payroll system."
        ),
    )
    accounting_warning_acknowledged_at = models.DateTimeField(
        _("accounting warning acknowledged"), null=True, blank=True
    )
    accounting_warning_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("accounting warning acknowledged by"),
    )
    integration_username = models.CharField(
        _("integration user"), max_length=100, default="FlexIntegrationHRM"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["api_token"])

    class Meta:
        verbose_name = _("payroll link")
        verbose_name_plural = _("payroll links")
        constraints = [models.UniqueConstraint(fields=["company"], name="payrolllink_company")]

    def __str__(self) -> str:
        return str(_("Payroll link of %(company)s") % {"company": self.company_id})

    @property
    def hr_is_master(self) -> bool:
        return self.master == MasterSystem.HR

    def clean(self) -> None:
        problems = url_problems(self.base_url, allow_private=private_addresses_allowed(link=self))
        if problems:
            raise ValidationError({"base_url": problems})


class Switchover(CompanyOwned):
    """One master switchover of personal data, payroll → HR, walked through step by step.

    ``state`` is the last step that finished (passed, or failed and overridden); a step can be
    re-run any time until HR is turned on as master. ``results`` holds each step's outcome
    (``passed``/``warning``/``failed``/``awaiting_approval``), its job and its report.
    """

    class State(models.TextChoices):
        NEW = "new", _("Not started")
        PREFLIGHT = "preflight", _("Preflight report done")
        TEST_EXPORT = "test_export", _("Test export approved")
        EXPORT_ALL = "export_all", _("All employees exported")
        PAYROLL_OFF = "payroll_off", _("Payroll turned off as master")
        HR_ON = "hr_on", _("HR turned on as master")
        VERIFY = "verify", _("Verified — done")
        ABORTED = "aborted", _("Aborted")

    FINISHED = (State.VERIFY, State.ABORTED)

    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.NEW, db_index=True
    )
    results = models.JSONField(_("step results"), default=dict, blank=True)
    payroll_settings_before = models.JSONField(
        _("payroll switches before"), default=dict, blank=True
    )
    link_before = models.JSONField(_("link before"), default=dict, blank=True)
    personnel_file = models.FileField(
        _("personnel file from payroll"),
        upload_to="switchover/",
        blank=True,
        help_text=_(
            "For a file-based payroll system: the personnel register exported from it as "
            "PAXml, which the preflight and the exports read."
        ),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("switchover")
        verbose_name_plural = _("switchovers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=~models.Q(state__in=["verify", "aborted"]),
                name="switchover_one_open_per_company",
            )
        ]

    def __str__(self) -> str:
        return f"{_('Switchover')} #{self.pk} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED


class SwitchoverEvent(models.Model):
    """The switchover's own log: steps started and finished, approvals, overrides, abort.

    An override is the only way past a failed check, and it is kept here with who, when
    and why.
    """

    class Kind(models.TextChoices):
        STEP_STARTED = "step_started", _("Step started")
        STEP_FINISHED = "step_finished", _("Step finished")
        APPROVED = "approved", _("Approved")
        OVERRIDE = "override", _("Override")
        ABORTED = "aborted", _("Aborted")

    switchover = models.ForeignKey(Switchover, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    step = models.CharField(_("step"), max_length=16, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "switchover__company"

    class Meta:
        verbose_name = _("switchover event")
        verbose_name_plural = _("switchover events")
        ordering = ["switchover", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.step}"


class SwitchoverHrChange(models.Model):
    """What a switchover's export did to HR, so an abort can undo exactly that.

    One row per employee the export created (``created``) or changed (``changed``, with
    ``before``: the imported fields and the employment rates as they were before the first
    change by this switchover), and per register row it created (``register``: a position
    or an employment form). Written in the page's transaction; the first row per object
    wins, so a re-run never overwrites the snapshot of how things were.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Employee created")
        CHANGED = "changed", _("Employee changed")
        REGISTER = "register", _("Register row created")

    switchover = models.ForeignKey(Switchover, on_delete=models.CASCADE, related_name="hr_changes")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    employee = models.ForeignKey(
        "employees.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    employee_number = models.CharField(_("employee number"), max_length=20, blank=True)
    register = models.CharField(_("register"), max_length=64, blank=True)
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "switchover__company"

    class Meta:
        verbose_name = _("switchover HR change")
        verbose_name_plural = _("switchover HR changes")
        ordering = ["switchover", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["switchover", "employee"],
                condition=models.Q(employee__isnull=False),
                name="switchoverhrchange_once_per_employee",
            ),
            models.UniqueConstraint(
                fields=["switchover", "register", "object_id"],
                condition=models.Q(object_id__isnull=False),
                name="switchoverhrchange_once_per_register_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.employee_number or self.register}"


class PayrollSyncChange(CompanyOwned):
    """Outbox: one row per change to a synced employee field, written in the same
    transaction as the change. A delivery picks the pending rows of an employee up (the
    changes coalesce) and the row is done when its delivery is."""

    employee = models.ForeignKey("employees.Employee", on_delete=models.CASCADE, related_name="+")
    fields = models.JSONField(_("fields"), default=list)
    delivery = models.ForeignKey(
        "PayrollSyncDelivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payroll sync change")
        verbose_name_plural = _("payroll sync changes")
        ordering = ["pk"]
        indexes = [models.Index(fields=["company", "delivery"])]

    def __str__(self) -> str:
        return f"{self.employee_id}: {', '.join(self.fields)}"


class PayrollSyncDelivery(CompanyOwned, Outbox):
    """One send of an employee's data to payroll, holding the exact bytes sent
    (``request_body``), so a resend after a lost answer or a failure is identical.
    PENDING → SENDING → SENT, or FAILED (retried later) / REJECTED (the payroll system
    refused it; an admin must look)."""

    class Kind(models.TextChoices):
        EMPLOYEE = "employee", _("Employee data")
        ACCOUNTING = "accounting", _("Home accounting")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        REJECTED = "rejected", _("Rejected by payroll")

    CLAIMABLE = (Status.PENDING, Status.FAILED, Status.SENDING)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.EMPLOYEE)
    employee = models.ForeignKey("employees.Employee", on_delete=models.CASCADE, related_name="+")
    employee_number = models.CharField(_("employee number"), max_length=20)
    request_body = models.BinaryField(_("payload"), editable=False, db_column="payload")
    key = models.CharField(
        _("key"),
        max_length=64,
        blank=True,
        help_text=_("For accountings: the day sent, so a night's value is sent once."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    error_message = models.TextField(_("last error"), blank=True, db_column="last_error")
    notices = models.JSONField(_("notices from payroll"), default=list, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("payroll sync delivery")
        verbose_name_plural = _("payroll sync deliveries")
        ordering = ["pk"]
        indexes = [models.Index(fields=["company", "status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "employee", "key"],
                condition=~models.Q(key=""),
                name="payrollsyncdelivery_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.employee_number} ({self.status})"
