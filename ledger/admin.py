from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from companies.scoping import CompanyScopedAdmin, ProgramLinkAdminMixin
from flexbridge.admin_secrets import SecretsWriteOnlyAdminMixin
from flexbridge.errors import REFUSALS, admin_error

from . import services
from .models import Account, LedgerSettings, LedgerTransfer, SalaryTypeAccounting, VismaLink


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ["number", "name", "company"]
    search_fields = ["number", "name"]


@admin.register(SalaryTypeAccounting)
class SalaryTypeAccountingAdmin(CompanyScopedAdmin):
    list_display = [
        "salary_type_code",
        "name",
        "debit_account",
        "credit_account",
        "carries_cost_center",
        "carries_project",
        "carries_employee",
        "company",
    ]
    search_fields = ["salary_type_code", "name"]


@admin.register(LedgerSettings)
class LedgerSettingsAdmin(CompanyScopedAdmin):
    list_display = ["company", "net_pay_account", "tax_account", "contributions_account"]


@admin.register(VismaLink)
class VismaLinkAdmin(ProgramLinkAdminMixin, SecretsWriteOnlyAdminMixin, CompanyScopedAdmin):
    secret_fields = ("client_secret",)
    list_display = ["company", "tenant_id", "target_company_name", "base_url", "is_active"]
    fields = [
        "company",
        "tenant_id",
        "target_company_name",
        "client_id",
        "client_secret",
        "base_url",
        "token_url",
        "cost_center_segment",
        "project_segment",
        "is_sandbox",
        "release_after_post",
        "is_active",
    ]


@admin.register(LedgerTransfer)
class LedgerTransferAdmin(CompanyScopedAdmin):
    list_display = [
        "voucher_key",
        "payroll_run",
        "status",
        "batch_number",
        "debit_total",
        "attempts",
        "sent_at",
    ]
    list_filter = ("status", ("company", admin.RelatedOnlyFieldListFilter))
    readonly_fields = [
        f.name for f in LedgerTransfer._meta.fields if f.name not in ("request_body",)
    ]
    fields = readonly_fields
    actions = ["resend_after_reversal"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark reversed in Visma.Net and re-send"))
    def resend_after_reversal(self, request, queryset):
        reason = gettext("Re-sent from the admin after a reversal in Visma.Net.")
        for transfer in queryset:
            try:
                job = services.ledger_transfer_resend(
                    transfer=transfer, user=request.user, reason=reason
                )
            except REFUSALS as exc:
                admin_error(self, request, exc, prefix=f"{transfer.voucher_key}: ")
            else:
                messages.success(
                    request, gettext("Re-send started as job %(id)s.") % {"id": job.pk}
                )
