"""Payroll runs, payslips and their lines; the Kivra program link; the delivery outbox.

A payroll run arrives from the payroll system (its web service or ``POST
/api/v1/payroll-runs/``) with one payslip per employee. The payslip PDF is rendered once and
kept with its sha256, so a resend sends the same bytes. Every send of a payslip to Kivra or
to print is a :class:`PayslipDelivery` row — the outbox — whose status only the services in
``payslips.services`` move, under a row lock.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Abs, Cast, Round
from django.db.models.lookups import Exact, LessThan, LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from companies.models import CompanyOwned, CompanyScopedQuerySet
from flexbridge.fields import EncryptedTextField
from flexbridge.outbox import Outbox
from integrations.clients.outbound import private_addresses_allowed, url_problems

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")
# ``Payslip.contributions_rate_ppb`` is left empty when the employer contributions are more
# than this many times the gross pay (no gross lines worth following, see ledger).
MAX_CONTRIBUTIONS_RATE = 1000
# The kinds of a payslip line in the order ``PayslipLine.ledger_key`` stores them (append
# only: the index is kept in the database).
KIND_CODES = ("gross", "net", "benefit")


def ledger_key_unpack(key: int | None) -> tuple[int | None, str]:
    """``PayslipLine.ledger_key`` → (payslip id or None, kind)."""
    if key is None:
        return None, KIND_CODES[0]
    payslip_id, code = divmod(key, 4)
    return payslip_id, KIND_CODES[code]


class DimensionCode(models.Func):
    """The object id of one SIE dimension in a line's ``dimensions`` as text, ``''`` when
    the line has none (for a generated column). Written out per database because Django's
    JSON key transform reads a numeric key such as ``"1"`` as an array index."""

    output_field = models.TextField()

    def __init__(self, dimension: int, **extra) -> None:
        super().__init__(models.F("dimensions"), **extra)
        self.dimension = int(dimension)

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(json_extract({column}, '$.\"{self.dimension}\"'), '')", params

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(({column} ->> '{self.dimension}'), '')", params

    def deconstruct(self):
        return (f"{__name__}.DimensionCode", (self.dimension,), {})


class PayrollRun(CompanyOwned):
    """Lönekörning: one payroll calculation for a payment date."""

    class Status(models.TextChoices):
        PRELIMINARY = "preliminary", _("Preliminary")
        FINAL = "final", _("Final")

    class Source(models.TextChoices):
        API = "api", _("REST API")
        PAYROLL_SYSTEM = "payroll_system", _("Payroll system")
        DEMO = "demo", _("Demo data")

    payment_date = models.DateField(_("payment date"), db_index=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PRELIMINARY
    )
    external_id = models.CharField(
        _("payroll system id"),
        max_length=64,
        blank=True,
        help_text=_("The run's id in the payroll system; a run is imported once."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.API
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payroll run")
        verbose_name_plural = _("payroll runs")
        ordering = ["-payment_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"],
                condition=~Q(external_id=""),
                name="payrollrun_external_id",
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="payrollrun_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_date} ({self.get_status_display()})"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_start > self.period_end:
            raise ValidationError({"period_end": _("The period ends before it starts.")})


class Payslip(CompanyOwned):
    """Lönespecifikation: one employee's result of a payroll run.

    Totals: ``gross_pay`` is the sum of the ``GROSS`` lines; ``net_pay`` is
    ``gross_pay - tax + sum(NET lines)``. ``BENEFIT`` lines are taxable benefits that are
    shown but not paid out.
    """

    payroll_run = models.ForeignKey(
        PayrollRun, on_delete=models.CASCADE, related_name="payslips", verbose_name=_("payroll run")
    )
    employee = models.ForeignKey(
        "employees.Employee",
        on_delete=models.PROTECT,
        related_name="payslips",
        verbose_name=_("employee"),
    )
    gross_pay = models.DecimalField(_("gross pay"), **MONEY)
    tax = models.DecimalField(_("preliminary tax"), **MONEY, default=ZERO)
    net_pay = models.DecimalField(_("net pay"), **MONEY)
    employer_contributions = models.DecimalField(_("employer contributions"), **MONEY, default=ZERO)
    ytd_gross_pay = models.DecimalField(_("gross pay this year"), **MONEY, default=ZERO)
    ytd_tax = models.DecimalField(_("tax this year"), **MONEY, default=ZERO)
    vacation_days_paid = models.DecimalField(
        _("paid vacation days left"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    vacation_days_saved = models.DecimalField(
        _("saved vacation days"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    vacation_days_used = models.DecimalField(
        _("vacation days used this year"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    # The rendered document: written once by payslip_render_pdf, never re-rendered.
    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF sha256"), max_length=64, blank=True, editable=False)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Employer contributions per krona of gross pay in billionths, kept by the database so
    # the ledger can apportion the contributions over a run's lines in integer arithmetic
    # (one multiplication per line, no division); empty without gross pay or when the
    # contributions are more than MAX_CONTRIBUTIONS_RATE times it (the ledger then books
    # them on the employee's home accounting).
    contributions_rate_ppb = models.GeneratedField(
        expression=models.Case(
            models.When(
                LessThan(Value(0), Abs(models.F("gross_pay")))
                & LessThanOrEqual(
                    Abs(models.F("employer_contributions")),
                    Abs(models.F("gross_pay")) * MAX_CONTRIBUTIONS_RATE,
                ),
                then=Cast(
                    Round(
                        models.F("employer_contributions") * 1_000_000_000 / models.F("gross_pay")
                    ),
                    models.BigIntegerField(),
                ),
            ),
            default=None,
            output_field=models.BigIntegerField(),
        ),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
        verbose_name=_("employer contributions per krona (billionths)"),
    )

    class Meta:
        verbose_name = _("payslip")
        verbose_name_plural = _("payslips")
        ordering = ["payroll_run", "employee__employee_number"]
        constraints = [
            models.UniqueConstraint(fields=["payroll_run", "employee"], name="payslip_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.employee.employee_number} {self.payroll_run.payment_date}"

    # A bulk read (the Kivra dispatch) attaches the lines and deliveries as plain lists with
    # ``Prefetch(..., to_attr=...)``: Django then builds no queryset per payslip, which cost
    # the dispatch a sixth of its CPU. Without them, a query as usual.
    def salary_lines(self) -> list[PayslipLine]:
        """The lines in order."""
        attached = self.__dict__.get("attached_lines")
        return attached if attached is not None else list(self.lines.all())

    def delivery_list(self) -> list[PayslipDelivery]:
        """The deliveries (Kivra, Kivra print, local print)."""
        attached = self.__dict__.get("attached_deliveries")
        return attached if attached is not None else list(self.deliveries.all())


class PayslipLine(models.Model):
    """One salary line (löneart) of a payslip, with its accounting dimensions.

    ``dimensions`` maps the SIE dimension number to an object id, e.g.
    ``{"1": "100", "6": "P-12"}`` (1 = cost centre, 6 = project), as the ledger needs it.
    """

    class Kind(models.TextChoices):
        GROSS = "gross", _("Gross pay")
        NET = "net", _("After tax (deduction or reimbursement)")
        BENEFIT = "benefit", _("Taxable benefit")

    payslip = models.ForeignKey(
        Payslip, on_delete=models.CASCADE, related_name="lines", verbose_name=_("payslip")
    )
    line_number = models.PositiveIntegerField(_("line"))
    salary_type = models.CharField(_("salary type"), max_length=20)
    text = models.CharField(_("text"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.GROSS)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY, null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    account = models.CharField(_("account"), max_length=10, blank=True)
    dimensions = models.JSONField(_("accounting dimensions"), default=dict, blank=True)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    # Kept by the database for the ledger's one pass over a run's lines: the amount in öre
    # (exact integer sums) and the cost centre (SIE 1) and project (SIE 6) of ``dimensions``.
    amount_ore = models.GeneratedField(
        expression=Cast(Round(models.F("amount") * 100), models.BigIntegerField()),
        output_field=models.BigIntegerField(),
        db_persist=True,
        verbose_name=_("amount in öre"),
    )
    cost_center_code = models.GeneratedField(
        expression=DimensionCode(1),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("cost centre"),
    )
    project_code = models.GeneratedField(
        expression=DimensionCode(6),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("project"),
    )
    # How the ledger groups the line: empty for gross pay with both a cost centre and a
    # project (summed over the run's payslips), else the payslip and the kind packed into
    # one integer, payslip id × 4 + KIND_CODES index (see ledger_key_unpack).
    ledger_key = models.GeneratedField(
        expression=models.Case(
            models.When(
                Q(kind="gross")
                & ~Q(Exact(DimensionCode(1), Value("")))
                & ~Q(Exact(DimensionCode(6), Value(""))),
                then=Value(None),
            ),
            default=models.F("payslip_id") * 4
            + models.Case(
                *(models.When(kind=kind, then=code) for code, kind in enumerate(KIND_CODES)),
                default=0,
            ),
            output_field=models.BigIntegerField(),
        ),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
        verbose_name=_("ledger grouping key"),
    )

    objects = CompanyScopedQuerySet.as_manager()
    company_path = "payslip__company"

    class Meta:
        verbose_name = _("payslip line")
        verbose_name_plural = _("payslip lines")
        ordering = ["payslip", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["payslip", "line_number"], name="payslipline_number")
        ]

    def __str__(self) -> str:
        return f"{self.salary_type} {self.text} {self.amount}"


class KivraLink(CompanyOwned):
    """The company's program link to Kivra (Administration > Settings > Program links).

    Sending needs the company's Kivra license, ``active`` and ``send_payslips``. The
    employer's contact details are part of Kivra's structured ``salaryslip`` object.
    """

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        TEST = "test", _("Test environment")

    class RetroactiveDelivery(models.IntegerChoices):
        DAYS_30 = 30, _("30 days")
        DAYS_390 = 390, _("390 days (a year and a month)")

    BASE_URLS = {
        Environment.PRODUCTION: "https://sender.api.kivra.com",
        Environment.TEST: "https://sender.sandbox-api.kivra.com",
    }

    company = models.OneToOneField(
        "companies.Company",
        on_delete=models.PROTECT,
        related_name="kivra_link",
        verbose_name=_("company"),
    )
    tenant_key = models.CharField(
        _("sender identity (tenant key)"),
        max_length=64,
        help_text=_("The unique key Kivra gave your company; it makes you the sender."),
    )
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret = EncryptedTextField(_("client secret"))
    environment = models.CharField(
        _("send to"),
        max_length=12,
        choices=Environment.choices,
        default=Environment.PRODUCTION,
        help_text=_("The test environment can only be used with a test account from Kivra."),
    )
    has_test_account = models.BooleanField(_("we have a Kivra test account"), default=False)
    base_url = models.URLField(
        _("address override"),
        blank=True,
        help_text=_("Leave empty for Kivra's own address; set it to point at a sandbox."),
    )
    is_sandbox = models.BooleanField(
        _("sandbox link"),
        default=False,
        help_text=_(
            "A link to a local sandbox or test system: its address may be a private one, "
            "and Kivra's duplicate control is not relied on."
        ),
    )
    retroactive_delivery_days = models.PositiveSmallIntegerField(
        _("retroactive delivery"),
        choices=RetroactiveDelivery.choices,
        default=RetroactiveDelivery.DAYS_30,
        help_text=_(
            "How long Kivra keeps a payslip for an employee who has no Kivra mailbox when it "
            "is sent. If the employee opens a mailbox within this time, the payslip is "
            "delivered. Kivra accepts 30 or 390 days."
        ),
    )
    send_payslips = models.BooleanField(
        _("send payslips"), default=False, help_text=_("Must be on to send payslips to Kivra.")
    )
    print_handling = models.BooleanField(
        _("print handling"),
        default=False,
        help_text=_(
            "Post a paper copy to employees without a Kivra mailbox (needs print handling "
            "in your Kivra agreement)."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    employer_street_address = models.CharField(_("employer street address"), max_length=200)
    employer_postal_code = models.CharField(_("employer postal code"), max_length=10)
    employer_city = models.CharField(_("employer city"), max_length=100)
    employer_email = models.EmailField(_("employer e-mail"))
    employer_telephone = models.CharField(_("employer telephone"), max_length=30)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["client_secret"])

    class Meta:
        verbose_name = _("Kivra link")
        verbose_name_plural = _("Kivra links")

    def __str__(self) -> str:
        return f"Kivra {self.tenant_key} ({self.get_environment_display()})"

    def clean(self) -> None:
        if self.environment == self.Environment.TEST and not self.has_test_account:
            raise ValidationError(
                {
                    "environment": _(
                        "The test environment can only be used with a test account from Kivra."
                    )
                }
            )
        problems = url_problems(self.base_url, allow_private=private_addresses_allowed(link=self))
        if problems:
            raise ValidationError({"base_url": problems})

    @property
    def url(self) -> str:
        return self.base_url or self.BASE_URLS[self.environment]

    @property
    def relies_on_duplicate_control(self) -> bool:
        """Only Kivra's production has duplicate control (an identical payload is delivered
        once): only there may an unconfirmed content be sent again with the same bytes."""
        return self.environment == self.Environment.PRODUCTION and not self.is_sandbox


class PayslipDelivery(CompanyOwned, Outbox):
    """The outbox row of one payslip on one channel (Kivra or print).

    ``READY → SENDING → SENT | RETAINED | KIVRA_PRINTING | RETAIN_REFUSED | PRINTED |
    FAILED``. ``request_body`` holds the exact bytes sent; a resend after a lost answer or
    a killed worker sends them again where Kivra's duplicate control delivers an identical
    payload only once (production), and never elsewhere. The unique constraint on (payslip,
    channel) is what stops a second delivery. ``RETAIN_REFUSED`` is final for the Kivra
    channel: the payslip goes on to print handling (``KIVRA_PRINT`` with Kivra's add-on,
    else ``PRINT``) and is never rebuilt for Kivra.
    """

    class Channel(models.TextChoices):
        KIVRA = "kivra", _("Kivra")
        # Kivra's print add-on: sent to Kivra, marked for print; Kivra posts it.
        KIVRA_PRINT = "kivra_print", _("Kivra print handling")
        # A local print batch: the employer posts it (links without Kivra's add-on).
        PRINT = "print", _("Print")

    class Status(models.TextChoices):
        READY = "ready", _("Ready")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        RETAINED = "retained", _("Retained by Kivra")
        PRINTED = "printed", _("In a print batch")
        KIVRA_PRINTING = "kivra_printing", _("Sent to Kivra for printing")
        # Final for the Kivra channel: Kivra would not keep it as retained content (422).
        RETAIN_REFUSED = "retain_refused", _("Refused as retained content by Kivra")
        FAILED = "failed", _("Failed")

    DONE = (Status.SENT, Status.RETAINED, Status.PRINTED, Status.KIVRA_PRINTING)
    CLAIMABLE = (Status.READY, Status.SENDING)
    SENT_AT_FIELD = "finished_at"

    payslip = models.ForeignKey(
        Payslip, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("payslip")
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.READY, db_index=True
    )
    request_sha256 = models.CharField(_("request sha256"), max_length=64, editable=False)
    retain = models.BooleanField(_("retain for non-users"), default=False)
    job = models.ForeignKey(
        "jobs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last job"),
    )
    kivra_objkey = models.CharField(_("Kivra object key"), max_length=100, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=100, blank=True)
    error_code = models.CharField(_("error code"), max_length=20, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payslip delivery")
        verbose_name_plural = _("payslip deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["payslip", "channel"], name="payslipdelivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.payslip} → {self.get_channel_display()}: {self.get_status_display()}"

    @property
    def is_done(self) -> bool:
        return self.status in self.DONE


__all__ = [
    "KivraLink",
    "PayrollRun",
    "Payslip",
    "PayslipDelivery",
    "PayslipLine",
]
