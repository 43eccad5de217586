"""Admin of the accounting registers, the project register and time registration.

Project writes go through the services (tree path, budget rules, locking); time
registrations are created through the validating service only, so the admin shows them
read-only apart from review and release.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from companies.scoping import CompanyScopedAdmin, CompanyScopedAdminMixin
from companies.selectors import user_has_company_perm
from employees.admin import ServiceSavedInlineMixin, employee_admin_inline_register
from flexbridge.errors import admin_error

from . import selectors, services
from .models import (
    AccountingDimension,
    AccountingDimensionValue,
    Competence,
    CompetenceGroup,
    CostCenter,
    EmployeeCompetence,
    ExpenseCode,
    ExpenseCodeDimensionRule,
    HomeAccounting,
    Place,
    Project,
    ProjectAccountingDefault,
    ProjectAttachment,
    ProjectAuthorization,
    ProjectCompetence,
    ProjectControl,
    ProjectEvent,
    ProjectParticipant,
    ProjectPrice,
    ProjectRegisterSettings,
    ProjectReviewer,
    ProjectShift,
    Shift,
    ShiftAssignment,
    TimeCode,
    TimeCodeDimensionRule,
    TimeRegistration,
    WorkSchedule,
)
from .models.accounting import SIE_COST_CENTER


class ScopedInline(CompanyScopedAdminMixin, admin.TabularInline):
    extra = 0


class AccountingDefaultInline(ScopedInline):
    model = ProjectAccountingDefault
    fields = ["dimension", "value", "leave_blank", "rule"]


class ControlInline(ScopedInline):
    model = ProjectControl
    fields = ["kind", "action", "threshold_percent", "threshold_amount"]


class EventInline(ScopedInline):
    """Events (Händelser): extra compensation for time on the project (see
    ``selectors.project_events_for_registrations``)."""

    model = ProjectEvent
    fields = [
        "name",
        "salary_type_code",
        "kind",
        "amount",
        "time_codes",
        "valid_from",
        "valid_to",
        "applies_to_sub_projects",
    ]


class PriceInline(ScopedInline):
    model = ProjectPrice
    fields = ["value", "hourly_price"]


class AttachmentInline(ScopedInline):
    model = ProjectAttachment
    fields = ["file", "description", "show_at_registration", "size", "uploaded_at"]
    readonly_fields = ["size", "uploaded_at"]


class ShiftInline(ScopedInline):
    model = ProjectShift
    fields = ["weekday", "start_time", "end_time", "people", "repeat_weeks", "comment"]


class CompetenceInline(ScopedInline):
    model = ProjectCompetence
    fields = ["competence", "level"]


class ParticipantInline(ScopedInline):
    model = ProjectParticipant
    fields = ["employee", "role"]
    autocomplete_fields: list = []


class ReviewerInline(ScopedInline):
    model = ProjectReviewer
    fields = ["user"]


class AuthorizationInline(ScopedInline):
    """Shown only with "view project authorization"; editable with "change"."""

    model = ProjectAuthorization
    fields = ["user", "role"]

    def _may(self, request, obj, action: str) -> bool:
        if obj is None:
            return False
        return user_has_company_perm(
            user=request.user, perm=f"companies.{action}_project_authorization", company=obj
        )

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj, "view") or self._may(request, obj, "change")

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, "change")

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


PROJECT_FIELDSETS = [
    (None, {"fields": ["company", "parent", "code", "name", "registrable"]}),
    (
        _("General"),
        {
            "fields": [
                "start_date",
                "end_date",
                "status",
                "budget_hours",
                "budget_amount",
                "internal_comment_required",
                "never_transfer",
                "time_code",
            ]
        },
    ),
    (_("Comments"), {"fields": ["internal_comment", "external_comment"]}),
    (
        _("Staffing"),
        {
            "fields": [
                "color",
                "text_color",
                "inherit_color",
                "followup_unit",
                "sales_value_per_hour",
                "staffing_comment",
            ]
        },
    ),
    (
        _("Competences and participants"),
        {
            "fields": [
                "inherit_competences",
                "all_employees_participate",
                "inherit_participants",
            ]
        },
    ),
    (_("Billing"), {"fields": ["billing", "hourly_price", "billing_model", "fixed_price"]}),
    (_("Places"), {"fields": ["places"]}),
]


class ProjectAdminForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = [name for _title, opts in PROJECT_FIELDSETS for name in opts["fields"]]

    def _post_clean(self):
        super()._post_clean()
        if self.errors or self.instance.pk:
            return
        try:
            services.project_check(project=self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(Project)
class ProjectAdmin(CompanyScopedAdmin):
    form = ProjectAdminForm
    list_display = ["code", "name", "level", "registrable", "status", "budget_hours", "swatch"]
    list_filter = ("status", "registrable", "level", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ["code", "name"]
    ordering = ["company", "path"]
    list_select_related = ["company"]
    filter_horizontal = ["places"]
    actions = ["copy_projects", "copy_branches"]
    fieldsets = PROJECT_FIELDSETS
    inlines = [
        AccountingDefaultInline,
        ControlInline,
        EventInline,
        AttachmentInline,
        ShiftInline,
        CompetenceInline,
        ParticipantInline,
        PriceInline,
        ReviewerInline,
        AuthorizationInline,
    ]

    @admin.display(description=_("colour"))
    def swatch(self, obj):
        color, text = selectors.project_effective_color(project=obj)
        if not color:
            return "–"
        return format_html(
            '<span style="background:{};color:{};padding:0 .5em">{}</span>', color, text, color
        )

    def save_model(self, request, obj, form, change):
        if not self._obj_perm(request, obj, "change" if change else "add"):
            raise PermissionDenied
        data = {
            name: form.cleaned_data[name]
            for name in (form.changed_data if change else form.cleaned_data)
            if name != "places"
        }
        if change:
            status = data.pop("status", None)
            saved = services.project_update(project=obj, **data) if data else obj
            if status:
                saved = services.project_set_status(project=saved, status=status)
        else:
            data.pop("company", None)
            data.pop("parent", None)
            saved = services.project_create(
                company=form.cleaned_data["company"],
                parent=form.cleaned_data.get("parent"),
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                **{k: v for k, v in data.items() if k not in ("code", "name")},
            )
        obj.pk, obj.path, obj.level, obj.code = saved.pk, saved.path, saved.level, saved.code
        obj._state.adding = False
        _warn_code_fit(request, saved.company, saved.code, _("project"))

    @admin.action(description=_("Copy the selected projects"))
    def copy_projects(self, request, queryset):
        self._copy(request, queryset, with_children=False)

    @admin.action(description=_("Copy the selected projects with their sub projects"))
    def copy_branches(self, request, queryset):
        self._copy(request, queryset, with_children=True)

    def _copy(self, request, queryset, *, with_children: bool) -> None:
        for project in queryset:
            try:
                copy = services.project_copy(
                    project=project,
                    code=f"{project.segment}-copy",
                    with_children=with_children,
                )
            except ValidationError as exc:
                admin_error(self, request, exc, prefix=f"{project.code}: ")
            else:
                self.message_user(request, _("Copied to %(code)s.") % {"code": copy.code})


@admin.register(AccountingDimension)
class AccountingDimensionAdmin(CompanyScopedAdmin):
    list_display = ["sie_number", "code", "name", "rule", "company"]
    ordering = ["company", "sie_number"]


@admin.register(AccountingDimensionValue)
class DimensionValueAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "dimension", "valid_from", "valid_to", "company"]
    list_filter = ("dimension__sie_number", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.dimension.sie_number == SIE_COST_CENTER:
            _warn_code_fit(request, obj.company, obj.code, _("cost centre"))


def _warn_code_fit(request, company, code: str, kind: str) -> None:
    """The register's word when a code is longer than PAXml carries (issue: codes that fit)."""
    warning = selectors.code_fit_warning(company=company, code=code, kind=kind)
    if warning:
        messages.warning(request, warning)


@admin.register(CostCenter)
class CostCenterAdmin(DimensionValueAdmin):
    list_filter = (("company", admin.RelatedOnlyFieldListFilter),)


class TimeCodeRuleInline(ScopedInline):
    model = TimeCodeDimensionRule
    fields = ["dimension", "rule"]


@admin.register(TimeCode)
class TimeCodeAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "kind", "paxml_code", "salary_type_code", "company"]
    list_filter = ("kind", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ["code", "name"]
    inlines = [TimeCodeRuleInline]


@admin.register(TimeRegistration)
class TimeRegistrationAdmin(CompanyScopedAdmin):
    list_display = [
        "date",
        "employee",
        "time_code",
        "hours",
        "project",
        "cost_center",
        "billable",
        "reviewed",
        "released_for_billing",
    ]
    list_filter = ("review_status", "billable", "released_for_billing", "time_code")
    list_select_related = ["employee", "time_code", "project", "cost_center"]
    date_hierarchy = "date"
    actions = ["mark_reviewed", "reject", "release"]
    readonly_fields = [f.name for f in TimeRegistration._meta.get_fields() if f.concrete]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(selectors.time_registrations_visible_q(user=request.user))
        )

    def delete_model(self, request, obj):
        services.time_registration_delete(registration=obj)

    def delete_queryset(self, request, queryset):
        for registration in queryset:
            services.time_registration_delete(registration=registration)

    def _review(self, request, queryset, *, approve: bool) -> None:
        try:
            count = services.time_registrations_review(
                user=request.user, registrations=queryset, approve=approve
            )
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request,
                " ".join(exc.messages if hasattr(exc, "messages") else [str(exc)]),
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                ngettext("%(n)s registration changed.", "%(n)s registrations changed.", count)
                % {"n": count},
            )

    @admin.action(description=_("Mark as reviewed"))
    def mark_reviewed(self, request, queryset):
        """Only reviewers of the registrations' projects may (the service checks)."""
        self._review(request, queryset, approve=True)

    @admin.action(description=_("Reject (not approved)"))
    def reject(self, request, queryset):
        self._review(request, queryset, approve=False)

    @admin.action(description=_("Release for billing"))
    def release(self, request, queryset):
        try:
            count = services.time_registrations_release(registrations=queryset, user=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except services.TimeRegistrationRejected as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                ngettext("%(n)s registration released.", "%(n)s registrations released.", count)
                % {"n": count},
            )


@admin.register(HomeAccounting)
class HomeAccountingAdmin(CompanyScopedAdmin):
    list_display = ["employee", "valid_from", "cost_center", "project"]
    list_filter = ()
    list_select_related = ["employee", "cost_center", "project"]
    search_fields = ["employee__employee_number", "employee__last_name"]

    def save_model(self, request, obj, form, change):
        if change and "valid_from" in form.changed_data:
            services.home_accounting_delete(row=HomeAccounting.objects.get(pk=obj.pk))
        saved = services.home_accounting_set(
            employee=obj.employee,
            valid_from=obj.valid_from,
            cost_center=obj.cost_center,
            project=obj.project,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.home_accounting_delete(row=obj)


class HomeAccountingInline(ServiceSavedInlineMixin, ScopedInline):
    """Home accounting on the employee page, written by ``home_accounting_set``."""

    model = HomeAccounting
    fields = ["valid_from", "cost_center", "project"]
    ordering = ["-valid_from"]

    def save_row(self, *, request, employee, obj, form) -> None:
        if obj.pk and "valid_from" in form.changed_data:
            services.home_accounting_delete(row=HomeAccounting.objects.get(pk=obj.pk))
        services.home_accounting_set(
            employee=employee,
            valid_from=obj.valid_from,
            cost_center=obj.cost_center,
            project=obj.project,
        )

    def delete_row(self, *, request, obj) -> None:
        services.home_accounting_delete(row=obj)


employee_admin_inline_register(HomeAccountingInline)


class ExpenseCodeRuleInline(ScopedInline):
    model = ExpenseCodeDimensionRule
    fields = ["dimension", "rule"]


@admin.register(ExpenseCode)
class ExpenseCodeAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "paxml_code", "salary_type_code", "active", "company"]
    list_filter = ("active", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ["code", "name"]
    inlines = [ExpenseCodeRuleInline]


@admin.register(WorkSchedule)
class WorkScheduleAdmin(CompanyScopedAdmin):
    list_display = ["employee", "valid_from", *WorkSchedule.WEEKDAYS]
    list_filter = ()
    list_select_related = ["employee"]


@admin.register(EmployeeCompetence)
class EmployeeCompetenceAdmin(CompanyScopedAdmin):
    list_display = ["employee", "competence", "level"]
    list_filter = ()


class CompetenceInlineOfGroup(ScopedInline):
    model = Competence
    fields = ["company", "code", "name"]


@admin.register(CompetenceGroup)
class CompetenceGroupAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "company"]
    inlines = [CompetenceInlineOfGroup]


@admin.register(Competence)
class CompetenceAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "group", "company"]


@admin.register(Place)
class PlaceAdmin(CompanyScopedAdmin):
    list_display = ["name", "address", "latitude", "longitude", "radius_m", "company"]
    search_fields = ["name", "address"]


@admin.register(ProjectRegisterSettings)
class ProjectRegisterSettingsAdmin(CompanyScopedAdmin):
    list_display = [
        "company",
        "default_place_radius_m",
        "normal_sales_value_per_hour",
        "billing_time",
        "billing_travel",
    ]
    filter_horizontal = ["billed_time_codes"]
    fieldsets = [
        (None, {"fields": ["company", "default_place_radius_m", "normal_sales_value_per_hour"]}),
        (_("Billing"), {"fields": ["billing_time", "billing_travel", "billed_time_codes"]}),
    ]


@admin.register(ProjectReviewer)
class ProjectReviewerAdmin(CompanyScopedAdmin):
    """Who reviews what (the user register's "accounting review"): one row per user and
    project; a reviewer of a project reviews its whole branch."""

    list_display = ["user", "project"]
    list_filter = (("project__company", admin.RelatedOnlyFieldListFilter), "user")
    list_select_related = ["user", "project"]
    search_fields = ["user__username", "project__code"]


class ShiftAssignmentInline(ScopedInline):
    model = ShiftAssignment
    fields = ["employee", "comment"]
    readonly_fields = ["employee"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False  # staffing goes through the staffing page (competences are checked)


@admin.register(Shift)
class ShiftAdmin(CompanyScopedAdmin):
    list_display = ["project", "date", "start_time", "end_time", "people", "comment"]
    list_filter = (("project__company", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ["project"]
    date_hierarchy = "date"
    inlines = [ShiftAssignmentInline]
