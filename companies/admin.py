from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Company, CompanyLicense, Membership, Role, Task
from .scoping import CompanyScopedAdmin, CompanyScopedAdminMixin, ServiceRefusalAdminMixin
from .services import company_setup_defaults


class CompanyLicenseInline(CompanyScopedAdminMixin, admin.StackedInline):
    """The paid add-ons: only a system owner (superuser) switches them; company
    administrators see them read-only."""

    model = CompanyLicense
    can_delete = False
    verbose_name_plural = _("License")

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(CompanyScopedAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(ServiceRefusalAdminMixin, CompanyScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "name", "organisation_number", "name_order"]
    search_fields = ["code", "name", "organisation_number"]
    inlines = [CompanyLicenseInline, MembershipInline]

    def has_add_permission(self, request):
        # A new company is a new tenant: only platform administrators create them.
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            company_setup_defaults(company=obj)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    filter_horizontal = ["permissions"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(CompanyScopedAdmin):
    list_display = ["user", "company", "role", "created_at"]
    list_filter = (("company", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ["user__username", "company__name"]
    autocomplete_fields = ["user"]


@admin.register(Task)
class TaskAdmin(CompanyScopedAdmin):
    list_display = ["title", "company", "reference", "due_date", "done_at", "created_at"]
    list_filter = (("company", admin.RelatedOnlyFieldListFilter), "kind", "done_at")
    search_fields = ["title", "reference"]
