"""Admin of the employee register.

The employee page is grouped like the HR system's tabs (personal data, employment, pay,
Kivra), with the dated values inline and the change history behind "History". Personal
identity numbers and bank accounts show masked to users without the permission to see them;
the Kivra flags are read-only without theirs, and the print flag shows only where
:func:`employees.selectors.kivra_print_handling_available` says so.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Value
from django.db.models.functions import LPad
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from companies.models import Company
from companies.scoping import CompanyScopedAdminMixin, ServiceRefusalAdminMixin
from companies.selectors import company_ids_for_user, user_has_company_perm
from flexbridge.errors import admin_error
from flexbridge.masking import mask_bank_account

from . import field_groups, selectors, services
from .models import (
    Employee,
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    HourlyWage,
    MonthlySalary,
    PersonnelCategory,
    Position,
)
from .validators import parse_personal_identity_number


def _has(request, perm: str, obj=None) -> bool:
    if obj is None or not getattr(obj, "company_id", None):
        return request.user.has_perm(perm)
    return user_has_company_perm(user=request.user, perm=perm, company=obj.company_id)


class RegisterAdmin(ServiceRefusalAdminMixin, CompanyScopedAdminMixin, SimpleHistoryAdmin):
    list_filter = (("company", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ["company"]

    def save_model(self, request, obj, form, change):
        if not self._obj_perm(request, obj, "change" if change else "add"):
            raise PermissionDenied
        services.register_save(obj=obj, user=request.user)


@admin.register(PersonnelCategory)
class PersonnelCategoryAdmin(RegisterAdmin):
    list_display = ["code", "name", "company"]
    search_fields = ["code", "name"]


@admin.register(EmploymentForm)
class EmploymentFormAdmin(RegisterAdmin):
    list_display = [
        "code",
        "name",
        "counts_toward_las_days",
        "fixed_term_kind",
        "notice_period_employer_months",
        "company",
    ]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["company", "code", "name"]}),
        (
            _("LAS / AVA"),
            {
                "fields": [
                    "counts_toward_las_days",
                    "fixed_term_kind",
                    "notice_period_employer_months",
                    "notice_period_employee_months",
                    "end_notice_days",
                ]
            },
        ),
    ]


@admin.register(Position)
class PositionAdmin(RegisterAdmin):
    list_display = ["code", "title", "company"]
    search_fields = ["code", "title"]


@admin.register(EmploymentTemplate)
class EmploymentTemplateAdmin(RegisterAdmin):
    list_display = ["code", "name", "is_default", "personnel_category", "pay_form", "company"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        if not self._obj_perm(request, obj, "change" if change else "add"):
            raise PermissionDenied
        try:
            services.employment_template_save(template=obj, user=request.user)
        except ValidationError as exc:
            admin_error(self, request, exc)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


# --- employees ------------------------------------------------------------------------------


class ServiceSavedInlineMixin:
    """An inline of the employee page whose rows are written by services, not by the
    formset: :meth:`EmployeeAdmin.save_formset` calls ``save_row`` for every new or changed
    row and ``delete_row`` for every deleted one."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.service_inline = self
        return formset

    def save_row(self, *, request, employee, obj, form) -> None:
        raise NotImplementedError

    def delete_row(self, *, request, obj) -> None:
        raise NotImplementedError


class DatedInline(ServiceSavedInlineMixin, CompanyScopedAdminMixin, admin.TabularInline):
    """A dated value: the service replaces the row of a day; moving a row to another day
    removes the old one."""

    extra = 0
    ordering = ["-valid_from"]
    value_field = "amount"

    def _set(self, **kwargs):
        raise NotImplementedError

    def save_row(self, *, request, employee, obj, form) -> None:
        if obj.pk and "valid_from" in form.changed_data:
            services.dated_value_delete(row=type(obj).objects.get(pk=obj.pk), user=request.user)
        self._set(
            employee=employee,
            valid_from=obj.valid_from,
            user=request.user,
            **{self.value_field: getattr(obj, self.value_field)},
        )

    def delete_row(self, *, request, obj) -> None:
        services.dated_value_delete(row=obj, user=request.user)


class EmploymentRateInline(DatedInline):
    model = EmploymentRate
    fields = ["valid_from", "rate_percent"]
    value_field = "rate_percent"

    def _set(self, **kwargs):
        return services.employment_rate_set(**kwargs)


class MonthlySalaryInline(DatedInline):
    model = MonthlySalary
    fields = ["valid_from", "amount"]

    def _set(self, **kwargs):
        return services.monthly_salary_set(**kwargs)


class HourlyWageInline(DatedInline):
    model = HourlyWage
    fields = ["valid_from", "amount"]

    def _set(self, **kwargs):
        return services.hourly_wage_set(**kwargs)


# Inlines other apps add to the employee page (e.g. home accounting from projects).
_extra_employee_inlines: list[type] = []


def employee_admin_inline_register(inline: type) -> type:
    """Add an inline to the employee page; use a :class:`ServiceSavedInlineMixin` inline
    so that its rows are written by the owning app's services."""
    if inline not in _extra_employee_inlines:
        _extra_employee_inlines.append(inline)
    return inline


class ActiveFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Active")), ("no", _("Ended"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(selectors.employees_active_q(active=self.value() == "yes"))
        return queryset


PERSONAL = list(field_groups.PERSONAL)
EMPLOYMENT = ["company", *field_groups.EMPLOYMENT]
PAY = list(field_groups.PAY)
KIVRA = list(field_groups.KIVRA)
LOGIN = list(field_groups.LOGIN)


class EmployeeForm(forms.ModelForm):
    """Accepts the usual written forms of a personnummer and of Swedbank clearing numbers."""

    personal_identity_number = forms.CharField(
        label=_("personal identity number"), max_length=20, required=False
    )
    clearing_number = forms.CharField(label=_("clearing number"), max_length=10, required=False)

    class Meta:
        model = Employee
        fields = [
            name
            for name in (*PERSONAL, *EMPLOYMENT, *PAY, *KIVRA, *LOGIN)
            if name != "is_coordination_number"
        ]

    def clean_personal_identity_number(self) -> str:
        value = (self.cleaned_data.get("personal_identity_number") or "").strip()
        return parse_personal_identity_number(value).number if value else ""

    def clean_clearing_number(self) -> str:
        return "".join(ch for ch in self.cleaned_data.get("clearing_number") or "" if ch.isdigit())


# Employee numbers sort as numbers (2 before 10): zero-padded for ordering only.
NUMBER_ORDER = LPad("employee_number", 20, Value("0"))


@admin.register(Employee)
class EmployeeAdmin(ServiceRefusalAdminMixin, CompanyScopedAdminMixin, SimpleHistoryAdmin):
    form = EmployeeForm
    list_display = [
        "number",
        "display_name",
        "masked_pin",
        "personnel_category",
        "employment_form",
        "pay_form",
        "employment_start_date",
        "employment_end_date",
        "company",
    ]
    list_display_links = ["number", "display_name"]
    list_filter = (
        ("company", admin.RelatedOnlyFieldListFilter),
        ("personnel_category", admin.RelatedOnlyFieldListFilter),
        ("employment_form", admin.RelatedOnlyFieldListFilter),
        ActiveFilter,
        "pay_form",
    )
    list_select_related = ["company", "personnel_category", "employment_form"]
    search_fields = ["employee_number", "first_name", "last_name"]
    search_help_text = _("Employee number, name, or the date part of the identity number.")
    inlines = [EmploymentRateInline, MonthlySalaryInline, HourlyWageInline]
    ordering = ["company", NUMBER_ORDER.asc()]

    def get_list_display(self, request):
        """The company column only for someone who sees more than one company."""
        columns = list(super().get_list_display(request))
        if Company.objects.for_user(request.user).count() <= 1:
            columns.remove("company")
        return columns

    @admin.display(description=_("employee number"), ordering=NUMBER_ORDER)
    def number(self, obj: Employee) -> str:
        return obj.employee_number

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *_extra_employee_inlines]

    def save_formset(self, request, form, formset, change):
        inline = getattr(formset, "service_inline", None)
        if inline is None:
            return super().save_formset(request, form, formset, change)
        employee = form.instance
        # What the admin's change message reads (ModelFormSet.save would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.deleted_forms:
            if row.instance.pk:
                inline.delete_row(request=request, obj=row.instance)
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            is_new = row.instance.pk is None
            inline.save_row(request=request, employee=employee, obj=row.instance, form=row)
            if is_new:
                formset.new_objects.append(row.instance)
            else:
                formset.changed_objects.append((row.instance, row.changed_data))
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(memberships__company_id__in=company_ids_for_user(user=request.user))
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("name"), ordering="last_name")
    def display_name(self, obj: Employee) -> str:
        return obj.display_name

    @admin.display(description=_("personal identity number"))
    def masked_pin(self, obj: Employee) -> str:
        return obj.personal_identity_number_masked

    @admin.display(description=_("personal identity number"))
    def pin_display(self, obj: Employee) -> str:
        return obj.personal_identity_number_masked if obj else ""

    @admin.display(description=_("bank account number"))
    def bank_account_display(self, obj: Employee) -> str:
        return mask_bank_account(obj.bank_account_number) if obj else ""

    # --- field-level access ---

    def _pin_editable(self, request, obj) -> bool:
        return _has(request, services.PERM_VIEW_PIN, obj) and _has(
            request, services.PERM_CHANGE_PIN, obj
        )

    def _bank_visible(self, request, obj) -> bool:
        return _has(request, services.PERM_VIEW_BANK, obj)

    def _print_shown(self, obj) -> bool:
        return obj is not None and selectors.kivra_print_handling_available(company=obj.company)

    def get_fieldsets(self, request, obj=None):
        personal = list(PERSONAL)
        pay = list(PAY)
        kivra = list(KIVRA)
        if not self._pin_editable(request, obj) and not _has(request, services.PERM_VIEW_PIN, obj):
            personal[personal.index("personal_identity_number")] = "pin_display"
        if not self._bank_visible(request, obj):
            pay[pay.index("bank_account_number")] = "bank_account_display"
        if not self._print_shown(obj):
            kivra.remove("kivra_allow_print")
        return [
            (_("Personal data"), {"fields": personal}),
            (_("Employment"), {"fields": EMPLOYMENT}),
            (_("Pay"), {"fields": pay}),
            (_("Kivra"), {"fields": kivra}),
            (_("Login"), {"fields": LOGIN}),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["is_coordination_number", "pin_display", "bank_account_display"]
        if obj is not None:
            readonly += ["employee_number", "company"]
        if not self._pin_editable(request, obj):
            readonly.append("personal_identity_number")
        if not self._bank_visible(request, obj):
            readonly += ["bank_account_number", "clearing_number"]
        if not _has(request, services.PERM_KIVRA_SEND, obj):
            readonly.append("kivra_send_payslips")
        if not _has(request, services.PERM_KIVRA_PRINT, obj) or not self._print_shown(obj):
            readonly.append("kivra_allow_print")
        return readonly

    def get_search_results(self, request, queryset, search_term):
        result = selectors.employees_search(
            queryset,
            term=search_term,
            full_pin_for_companies=selectors.companies_with_perm(
                user=request.user, perm=services.PERM_VIEW_PIN
            ),
        )
        return result, False

    def revert_disabled(self, request, obj=None):
        # The history holds the identity number masked only: a revert would wipe it.
        return True

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        hidden = ["updated_at"]
        if not self._bank_visible(request, historical_records[0] if historical_records else None):
            hidden.append("bank_account_number")
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current, excluded_fields=hidden, foreign_keys_are_objs=foreign_keys_are_objs
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def save_model(self, request, obj, form, change):
        if not self._obj_perm(request, obj, "change" if change else "add"):
            raise PermissionDenied
        data = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.EMPLOYEE_FIELDS and name in form.cleaned_data
        }
        if change:
            services.employee_update(employee=obj, data=data, user=request.user)
        else:
            created = services.employee_create(
                company=obj.company,
                employee_number=obj.employee_number,
                user=request.user,
                **data,
            )
            obj.pk = created.pk
            obj.__dict__.update(created.__dict__)
