from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from companies.scoping import CompanyScopedAdmin, ProgramLinkAdminMixin
from flexbridge.admin_secrets import SecretsWriteOnlyAdminMixin

from .models import (
    PayrollLink,
    PayrollSyncChange,
    PayrollSyncDelivery,
    Switchover,
    SwitchoverEvent,
)
from .payroll_links import ACCOUNTING_WARNING
from .payroll_sync import payroll_sync_schedule


class PayrollLinkForm(forms.ModelForm):
    base_url = forms.URLField(label=_("base URL"), required=False, assume_scheme="https")
    api_token = forms.CharField(
        label=_("API token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current token."),
    )
    acknowledge_accounting_warning = forms.BooleanField(
        label=_("I have read the warning about accountings"),
        required=False,
        help_text=ACCOUNTING_WARNING,
    )

    class Meta:
        model = PayrollLink
        fields = [
            "company",
            "variant",
            "base_url",
            "is_sandbox",
            "api_token",
            "integration_username",
            "transfer_employment_data",
            "selection",
            "send_home_accounting",
        ]

    def clean_api_token(self):
        return self.cleaned_data.get("api_token") or (self.instance.api_token or "")

    def clean(self):
        data = super().clean()
        turning_on = data.get("send_home_accounting") and not (
            self.instance.pk and self.instance.send_home_accounting
        )
        if turning_on and not data.get("acknowledge_accounting_warning"):
            raise ValidationError({"acknowledge_accounting_warning": ACCOUNTING_WARNING})
        return data


@admin.register(PayrollLink)
class PayrollLinkAdmin(ProgramLinkAdminMixin, SecretsWriteOnlyAdminMixin, CompanyScopedAdmin):
    form = PayrollLinkForm
    secret_fields = ("api_token",)
    list_display = ["company", "variant", "base_url", "master", "transfer_employment_data"]
    readonly_fields = [
        "master",
        "accounting_warning_acknowledged_at",
        "accounting_warning_acknowledged_by",
    ]

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("acknowledge_accounting_warning") and obj.send_home_accounting:
            obj.accounting_warning_acknowledged_at = timezone.now()
            obj.accounting_warning_acknowledged_by = request.user
        super().save_model(request, obj, form, change)


class SwitchoverEventInline(admin.TabularInline):
    model = SwitchoverEvent
    fields = ["created_at", "kind", "step", "job", "user", "reason"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Switchover)
class SwitchoverAdmin(CompanyScopedAdmin):
    list_display = ["id", "company", "state", "created_at", "finished_at"]
    list_filter = ["state"]
    readonly_fields = [
        "company",
        "state",
        "results",
        "payroll_settings_before",
        "link_before",
        "started_by",
        "finished_at",
        "personnel_file_download",
    ]
    exclude = ["personnel_file"]  # no media URL: downloaded through the checked view
    inlines = [SwitchoverEventInline]

    @admin.display(description=_("Personnel file"))
    def personnel_file_download(self, obj):
        if not obj.personnel_file:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("switchover:personnel-file", args=[obj.pk]),
            obj.personnel_file.name.rsplit("/", 1)[-1],
        )

    def has_add_permission(self, request):
        return False


@admin.register(PayrollSyncDelivery)
class PayrollSyncDeliveryAdmin(CompanyScopedAdmin):
    list_display = [
        "id",
        "company",
        "kind",
        "employee_number",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["employee_number"]
    readonly_fields = [
        "company",
        "kind",
        "employee",
        "employee_number",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "error_message",
        "notices",
        "job",
        "sent_at",
    ]
    exclude = ["request_body"]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        count = queryset.filter(status__in=["failed", "rejected"]).update(
            status="failed", next_attempt_at=None
        )
        for company_id in set(queryset.values_list("company_id", flat=True)):
            payroll_sync_schedule(company_id=company_id)
        self.message_user(
            request,
            ngettext("%(n)s delivery will be retried.", "%(n)s deliveries will be retried.", count)
            % {"n": count},
        )


@admin.register(PayrollSyncChange)
class PayrollSyncChangeAdmin(CompanyScopedAdmin):
    list_display = ["id", "company", "employee", "fields", "delivery", "created_at"]
    readonly_fields = ["company", "employee", "fields", "delivery"]

    def has_add_permission(self, request):
        return False
