"""Admin: payroll runs (with their payslips), payslips (PDF download), the Kivra link (with
the "switch it for all employees too?" step) and the delivery outbox (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from companies.scoping import CompanyScopedAdmin, CompanyScopedAdminMixin, ProgramLinkAdminMixin
from flexbridge.admin_secrets import SecretsWriteOnlyAdminMixin
from flexbridge.errors import admin_error

from . import services
from .models import KivraLink, PayrollRun, Payslip, PayslipDelivery, PayslipLine

# The link's switches and the employee flag each one can be applied to.
APPLY_FIELDS = {
    "send_payslips": _("Send payslips via Kivra"),
    "print_handling": _("Allow print handling via Kivra"),
}
RETROACTIVE_HELP = _(
    "How long Kivra keeps a payslip for an employee who has no Kivra mailbox when it is sent; "
    "if the employee opens a mailbox within that time, the payslip is delivered. Kivra offers "
    "exactly two choices: 30 days covers the usual case of someone who joins Kivra after being "
    "told about it with this month's pay; 390 days (a year and a month) also covers the "
    "payslips of a whole year, e.g. for a new employee or someone on leave who joins Kivra "
    "later. A longer retention may cost more under your Kivra agreement."
)


def _read_only(model) -> list[str]:
    return [f.name for f in model._meta.fields]


class PayslipInline(CompanyScopedAdminMixin, admin.TabularInline):
    model = Payslip
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["employee", "gross_pay", "tax", "net_pay", "pdf_sha256"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("employee").defer("pdf")


@admin.register(PayrollRun)
class PayrollRunAdmin(CompanyScopedAdmin):
    list_display = ["payment_date", "status", "period_start", "period_end", "source", "company"]
    list_filter = ("status", "source", ("company", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "payment_date"
    search_fields = ["external_id", "description"]
    readonly_fields = ["company", "source", "external_id", "created_at"]
    fields = [
        "company",
        "payment_date",
        "period_start",
        "period_end",
        "status",
        "description",
        "external_id",
        "source",
        "created_at",
    ]
    inlines = [PayslipInline]

    def has_add_permission(self, request):
        # Runs come from the payroll system ("fetch payroll run") or POST /api/v1/payroll-runs/.
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.payslips.filter(deliveries__isnull=False).exists():
            return self.fields  # already (partly) sent: the run is history
        return self.readonly_fields


class PayslipLineInline(admin.TabularInline):
    model = PayslipLine
    extra = 0
    can_delete = False
    fields = ["line_number", "salary_type", "text", "kind", "quantity", "unit_price", "amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payslip)
class PayslipAdmin(CompanyScopedAdmin):
    list_display = ["employee", "payroll_run", "gross_pay", "tax", "net_pay", "pdf_link"]
    list_filter = ("payroll_run__status", ("company", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["employee", "payroll_run"]
    search_fields = ["employee__employee_number", "employee__last_name"]
    exclude = ["pdf"]
    inlines = [PayslipLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")

    def get_readonly_fields(self, request, obj=None):
        return [f for f in _read_only(Payslip) if f != "pdf"] + ["pdf_link"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("PDF"))
    def pdf_link(self, payslip):
        if payslip.pk is None:
            return "–"
        url = reverse("admin:payslips_payslip_pdf", args=[payslip.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the PDF"))

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="payslips_payslip_pdf",
            )
        ]
        return custom + super().get_urls()

    def pdf_view(self, request, pk: int):
        payslip = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, payslip):
            raise PermissionDenied
        content = services.payslip_render_pdf(payslip=payslip)
        response = HttpResponse(content, content_type="application/pdf")
        number, day = payslip.employee.employee_number, payslip.payroll_run.payment_date
        name = f"lonespecifikation-{number}-{day}"
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response


class KivraLinkForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("address override"),
        required=False,
        assume_scheme="https",
        help_text=KivraLink._meta.get_field("base_url").help_text,
    )
    client_secret = forms.CharField(
        label=_("client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current secret."),
    )

    class Meta:
        model = KivraLink
        fields = [
            "company",
            "tenant_key",
            "client_id",
            "client_secret",
            "environment",
            "has_test_account",
            "base_url",
            "is_sandbox",
            "retroactive_delivery_days",
            "send_payslips",
            "print_handling",
            "active",
            "employer_street_address",
            "employer_postal_code",
            "employer_city",
            "employer_email",
            "employer_telephone",
        ]
        help_texts = {"retroactive_delivery_days": RETROACTIVE_HELP}

    def clean_client_secret(self):
        secret = self.cleaned_data.get("client_secret") or (self.instance.client_secret or "")
        if not secret:
            raise forms.ValidationError(_("Enter the client secret Kivra gave you."))
        return secret


class ApplyToEmployeesForm(forms.Form):
    fields_to_apply = forms.MultipleChoiceField(
        label=_("Switch for all employees too"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields_to_apply"].choices = choices


@admin.register(KivraLink)
class KivraLinkAdmin(ProgramLinkAdminMixin, SecretsWriteOnlyAdminMixin, CompanyScopedAdmin):
    form = KivraLinkForm
    secret_fields = ("client_secret",)
    list_display = [
        "company",
        "tenant_key",
        "environment",
        "retroactive_delivery_days",
        "send_payslips",
        "print_handling",
        "active",
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The seed: switching "send payslips" or print handling asks whether to switch it for
        # every employee too. Remember what changed; the answer is the next page.
        switched = [f for f in APPLY_FIELDS if f in form.changed_data]
        if not change:
            switched = [f for f in switched if getattr(obj, f)]
        request._kivra_switched = switched

    def _after_save(self, request, obj, default):
        switched = getattr(request, "_kivra_switched", [])
        if switched and "_popup" not in request.POST:
            url = reverse("admin:payslips_kivralink_apply", args=[obj.pk])
            return HttpResponseRedirect(f"{url}?fields={','.join(switched)}")
        return default

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request, obj, super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self._after_save(request, obj, super().response_change(request, obj))

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/apply-to-employees/",
                self.admin_site.admin_view(self.apply_view),
                name="payslips_kivralink_apply",
            )
        ]
        return custom + super().get_urls()

    def apply_view(self, request, pk: int):
        link = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, link):
            raise PermissionDenied
        asked = [f for f in request.GET.get("fields", "").split(",") if f in APPLY_FIELDS]
        choices = [
            (
                f,
                (
                    _("%(flag)s: on for all employees")
                    if getattr(link, f)
                    else _("%(flag)s: off for all employees")
                )
                % {"flag": APPLY_FIELDS[f]},
            )
            for f in asked
        ]
        form = ApplyToEmployeesForm(
            request.POST or None, choices=choices, initial={"fields_to_apply": asked}
        )
        done_url = reverse("admin:payslips_kivralink_change", args=[link.pk])
        if request.method == "POST" and form.is_valid():
            for field in form.cleaned_data["fields_to_apply"]:
                value = bool(getattr(link, field))
                try:
                    count = services.kivra_link_apply_to_employees(
                        link=link, field=field, value=value, user=request.user
                    )
                except PermissionDenied as exc:
                    admin_error(self, request, exc, prefix=f"{APPLY_FIELDS[field]}: ")
                else:
                    messages.success(
                        request,
                        (
                            ngettext(
                                "%(flag)s switched on for %(count)s employee.",
                                "%(flag)s switched on for %(count)s employees.",
                                count,
                            )
                            if value
                            else ngettext(
                                "%(flag)s switched off for %(count)s employee.",
                                "%(flag)s switched off for %(count)s employees.",
                                count,
                            )
                        )
                        % {"flag": APPLY_FIELDS[field], "count": count},
                    )
            return HttpResponseRedirect(done_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "link": link,
            "form": form,
            "title": _("Switch it for all employees too?"),
            "done_url": done_url,
        }
        return TemplateResponse(request, "payslips/admin/kivralink_apply.html", context)


@admin.register(PayslipDelivery)
class PayslipDeliveryAdmin(CompanyScopedAdmin):
    list_display = [
        "payslip",
        "channel",
        "status",
        "attempts",
        "error_code",
        "kivra_objkey",
        "finished_at",
        "job",
    ]
    list_filter = ("status", "channel", ("company", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["payslip__employee", "payslip__payroll_run", "job"]
    search_fields = ["payslip__employee__employee_number", "kivra_objkey", "correlation_id"]
    exclude = ["request_body"]
    actions = ["confirm_delivered", "send_again"]

    def _resolve(self, request, queryset, *, delivered: bool) -> None:
        for delivery in queryset:
            try:
                resolved = services.payslip_delivery_resolve_unconfirmed(
                    delivery=delivery, user=request.user, delivered=delivered
                )
            except (PermissionDenied, ValidationError) as exc:
                text = " ".join(getattr(exc, "messages", [str(exc)]))
                messages.error(request, f"{delivery}: {text}")
            else:
                messages.success(request, f"{resolved}: {resolved.get_status_display()}")

    @admin.action(description=_("Not confirmed by Kivra: found in Kivra (mark as sent)"))
    def confirm_delivered(self, request, queryset):
        self._resolve(request, queryset, delivered=True)

    @admin.action(description=_("Not confirmed by Kivra: not in Kivra (send again)"))
    def send_again(self, request, queryset):
        self._resolve(request, queryset, delivered=False)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("request_body")

    def get_readonly_fields(self, request, obj=None):
        return [f for f in _read_only(PayslipDelivery) if f != "request_body"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
