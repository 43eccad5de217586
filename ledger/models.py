"""The accounting basis of payroll: chart of accounts, where each salary type is posted,
the program link to Visma.Net Financials and the outbox of transfers to it.

A payroll run becomes one balanced voucher (see ``services.voucher_build``): each payslip
line is debited on its salary type's debit account and credited on its credit account,
aggregated per account and dimension values. The voucher is written as an SIE 4 file or
posted to Visma.Net; each post is a :class:`LedgerTransfer` row so it is never made twice.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import CompanyOwned
from flexbridge.fields import EncryptedTextField
from flexbridge.outbox import Outbox
from integrations.clients.outbound import private_addresses_allowed, url_problems

account_number_validator = RegexValidator(
    r"^[0-9]{4,10}$", _("An account number has 4 to 10 digits (BAS: 4).")
)


class Account(CompanyOwned):
    """An account of the company's chart of accounts (BAS numbering)."""

    number = models.CharField(_("number"), max_length=10, validators=[account_number_validator])
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("chart of accounts")
        ordering = ["company", "number"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="ledger_account_number")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_result_account(self) -> bool:
        """BAS classes 3–8 (income and costs): the accounts that take cost centres and
        projects. Balance-sheet accounts (classes 1–2) are posted without objects."""
        return self.number[:1] in "345678"


class SalaryTypeAccounting(CompanyOwned):
    """Where a salary type (löneart) is posted. A line's amount is debited on
    ``debit_account``. Its other side is normally the payslip itself (net pay and tax);
    a salary type that is not paid out — a taxable benefit — names the ``credit_account``
    that takes the other side instead. The flags say which dimensions its postings on
    result accounts carry."""

    salary_type_code = models.CharField(_("salary type code"), max_length=20)
    name = models.CharField(_("name"), max_length=100, blank=True)
    debit_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("debit account")
    )
    credit_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit account"),
    )
    carries_cost_center = models.BooleanField(_("carries cost centre"), default=True)
    carries_project = models.BooleanField(_("carries project"), default=True)
    carries_employee = models.BooleanField(_("carries employee"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("salary type accounting")
        verbose_name_plural = _("salary type accounting")
        ordering = ["company", "salary_type_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "salary_type_code"], name="ledger_salarytype_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.salary_type_code} {self.name}".strip()

    def clean(self) -> None:
        for name in ("debit_account", "credit_account"):
            account = getattr(self, name)
            if account is not None and self.company_id and account.company_id != self.company_id:
                raise ValidationError({name: _("The account belongs to another company.")})


class VismaLink(CompanyOwned):
    """The program link to Visma.Net Financials: the company posts into the Visma company
    identified by ``tenant_id``, to the ledger whose balance type is Actual (chosen
    automatically on every transfer)."""

    DEFAULT_BASE_URL = "https://api.finance.visma.net"
    DEFAULT_TOKEN_URL = "https://connect.visma.com/connect/token"  # noqa: S105 (a URL)

    base_url = models.URLField(_("API address"), default=DEFAULT_BASE_URL)
    token_url = models.URLField(_("Visma Connect token address"), default=DEFAULT_TOKEN_URL)
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret = EncryptedTextField(_("client secret"))
    tenant_id = models.CharField(
        _("company tenant id"),
        max_length=100,
        help_text=_("The Visma.Net company the accounting is posted to."),
    )
    target_company_name = models.CharField(
        _("Visma.Net company"), max_length=200, blank=True, help_text=_("For display only.")
    )
    cost_center_segment = models.PositiveSmallIntegerField(
        _("subaccount segment for the cost centre"),
        null=True,
        blank=True,
        default=1,
        help_text=_("Leave empty to not send cost centres."),
    )
    project_segment = models.PositiveSmallIntegerField(
        _("subaccount segment for the project"),
        null=True,
        blank=True,
        help_text=_("Leave empty to send the project in the line's project field."),
    )
    is_sandbox = models.BooleanField(
        _("sandbox link"),
        default=False,
        help_text=_("A link to a local sandbox or test system: its addresses may be private ones."),
    )
    release_after_post = models.BooleanField(
        _("release the batch after posting"),
        default=False,
        help_text=_(
            "Release each posted batch in Visma.Net right away. Off: the batch stays "
            "balanced for someone to review and release in Visma.Net."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["client_secret"])

    class Meta:
        verbose_name = _("Visma.Net link")
        verbose_name_plural = _("Visma.Net links")
        constraints = [models.UniqueConstraint(fields=["company"], name="ledger_visma_link_one")]

    def __str__(self) -> str:
        return f"Visma.Net {self.target_company_name or self.tenant_id}"

    def clean(self) -> None:
        allow = private_addresses_allowed(link=self)
        errors = {
            name: problems
            for name in ("base_url", "token_url")
            if (problems := url_problems(getattr(self, name), allow_private=allow))
        }
        if errors:
            raise ValidationError(errors)


class LedgerSettings(CompanyOwned):
    """Where the payslip totals are posted. The lines of a payslip are debited on their
    salary types' accounts; their other side is the payslip's tax and net pay — except for
    taxable benefits (not paid out), whose other side is the salary type's credit account or
    ``benefit_credit_account``."""

    net_pay_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("net pay (bank)")
    )
    tax_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("preliminary tax")
    )
    contributions_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("employer contributions (cost)"),
    )
    contributions_liability_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("employer contributions (payable)"),
    )
    benefit_credit_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("benefits (counter account)"),
        help_text=_(
            "Credited for taxable benefit lines whose salary type names no credit account "
            "(BAS 7399)."
        ),
    )
    voucher_series = models.CharField(
        _("voucher series"),
        max_length=10,
        blank=True,
        help_text=_("SIE #VER series; may be empty."),
    )

    class Meta:
        verbose_name = _("ledger settings")
        verbose_name_plural = _("ledger settings")
        constraints = [models.UniqueConstraint(fields=["company"], name="ledger_settings_one")]

    def __str__(self) -> str:
        return str(_("Ledger settings"))


class LedgerTransfer(CompanyOwned, Outbox):
    """The outbox row of one voucher sent to one target (Visma.Net).

    ``PENDING → SENDING → SENT | FAILED``; ``UNCERTAIN`` when the answer to the POST was
    lost — the next attempt first looks the voucher key up in Visma before sending again.
    ``request_body`` holds the exact bytes sent, so a retry is identical. Only one transfer
    per run and target may be live; a re-send needs the previous one marked ``REVERSED`` by
    an admin (who, when and why are kept) and gets a new key (``generation`` + 1).
    """

    class Target(models.TextChoices):
        VISMA = "visma", _("Visma.Net Financials")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        UNCERTAIN = "uncertain", _("Answer lost (looked up before resending)")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        REVERSED = "reversed", _("Reversed in the target")

    CLAIMABLE = (Status.PENDING, Status.SENDING, Status.UNCERTAIN, Status.FAILED)

    payroll_run = models.ForeignKey(
        "payslips.PayrollRun",
        on_delete=models.PROTECT,
        related_name="ledger_transfers",
        verbose_name=_("payroll run"),
    )
    target = models.CharField(
        _("target"), max_length=10, choices=Target.choices, default=Target.VISMA
    )
    generation = models.PositiveSmallIntegerField(_("generation"), default=1)
    voucher_key = models.CharField(_("voucher key"), max_length=80)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    financial_period = models.CharField(_("financial period"), max_length=6)
    ledger_number = models.CharField(_("ledger"), max_length=10, blank=True)
    request_body = models.BinaryField(_("request"), editable=False, null=True)
    request_sha256 = models.CharField(_("request sha256"), max_length=64, blank=True)
    debit_total = models.DecimalField(_("debit total"), max_digits=16, decimal_places=2)
    batch_number = models.CharField(_("batch number"), max_length=40, blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    job = models.ForeignKey(
        "jobs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last job"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    resend_reason = models.TextField(_("re-send reason"), blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked reversed by"),
    )
    reversed_at = models.DateTimeField(_("marked reversed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger transfer")
        verbose_name_plural = _("ledger transfers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "target", "voucher_key"], name="ledger_transfer_key"
            ),
            models.UniqueConstraint(
                fields=["payroll_run", "target"],
                condition=~Q(status="reversed"),
                name="ledger_transfer_one_live_per_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_key} → {self.get_target_display()} ({self.get_status_display()})"
