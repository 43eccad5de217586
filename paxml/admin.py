"""Admin: the PAXml registers and files, plus an upload page and an export page that start
jobs (the job page shows progress and the log)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from companies.scoping import CompanyScopedAdmin
from flexbridge.forms import form_add_refusal

from .codes import PROFILES
from .models import PaxmlFile, SalaryCode, SalaryTransaction, ScheduleDay
from .services import paxml_export_start, paxml_import_start

PROFILE_CHOICES = [(name, profile.label) for name, profile in PROFILES.items()]


class ImportForm(forms.Form):
    company = forms.ModelChoiceField(queryset=Company.objects.none(), label=capfirst(_("company")))
    file = forms.FileField(label=_("PAXml file"))
    dry_run = forms.BooleanField(label=_("Only check (dry run)"), required=False)
    profile = forms.ChoiceField(choices=PROFILE_CHOICES, label=capfirst(_("profile")))
    create_missing = forms.BooleanField(
        label=_("Create missing register entries, projects and cost centres"),
        required=False,
        help_text=_("Each one created is named in the job log."),
    )
    confirm_organisation_number = forms.BooleanField(
        label=_("Import even if the file names another organisation number"), required=False
    )
    source = forms.CharField(
        label=capfirst(_("source")),
        required=False,
        max_length=200,
        help_text=_("Whose rows this file may replace. Empty: the file's company id and program."),
    )


class ExportForm(forms.Form):
    company = forms.ModelChoiceField(queryset=Company.objects.none(), label=capfirst(_("company")))
    date_from = forms.DateField(
        label=capfirst(_("from")), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=capfirst(_("to")), widget=forms.DateInput(attrs={"type": "date"})
    )
    employees = forms.CharField(
        label=capfirst(_("employee numbers")),
        required=False,
        help_text=_("Comma-separated; empty = all."),
    )
    profile = forms.ChoiceField(choices=PROFILE_CHOICES, label=capfirst(_("profile")))
    encoding = forms.ChoiceField(
        choices=[("iso-8859-1", "ISO-8859-1"), ("utf-8", "UTF-8")], label=capfirst(_("encoding"))
    )
    personnel = forms.BooleanField(
        label=_("Include the personnel register"),
        required=False,
        help_text=_("Every field Fortnox Lön reads: address, salary, tax table …"),
    )


@admin.register(PaxmlFile)
class PaxmlFileAdmin(CompanyScopedAdmin):
    list_display = [
        "created_at",
        "company",
        "direction",
        "status",
        "name",
        "format",
        "source",
        "job",
    ]
    list_filter = ("direction", "status", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ["name", "fingerprint"]
    readonly_fields = [f.name for f in PaxmlFile._meta.fields]
    change_list_template = "paxml/paxmlfile_changelist.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="paxml_upload"),
            path("export/", self.admin_site.admin_view(self.export_view), name="paxml_export"),
            *super().get_urls(),
        ]

    def _form(self, form_class, request):
        form = form_class(request.POST or None, request.FILES or None)
        form.fields["company"].queryset = Company.objects.for_user(request.user)
        return form

    def _page(self, request, form, title):
        context = {**self.admin_site.each_context(request), "form": form, "title": title}
        return render(request, "paxml/admin_form.html", context)

    def _started(self, request, job):
        messages.success(request, _("Job #%(id)s started.") % {"id": job.pk})
        return redirect(reverse("jobs:detail", args=[job.pk]))

    def upload_view(self, request):
        form = self._form(ImportForm, request)
        if request.method == "POST" and form.is_valid():
            try:
                job = paxml_import_start(
                    user=request.user,
                    company=form.cleaned_data["company"],
                    upload=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                    profile=form.cleaned_data["profile"],
                    create_missing=form.cleaned_data["create_missing"],
                    confirm_organisation_number=form.cleaned_data["confirm_organisation_number"],
                    source_name=form.cleaned_data["source"],
                )
            except (PermissionDenied, ValidationError) as exc:
                form_add_refusal(form, exc)
            else:
                return self._started(request, job)
        return self._page(request, form, _("Import a PAXml file"))

    def export_view(self, request):
        form = self._form(ExportForm, request)
        if request.method == "POST" and form.is_valid():
            numbers = [n.strip() for n in form.cleaned_data["employees"].split(",") if n.strip()]
            try:
                job = paxml_export_start(
                    user=request.user,
                    company=form.cleaned_data["company"],
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    employees=numbers,
                    profile=form.cleaned_data["profile"],
                    encoding=form.cleaned_data["encoding"],
                    personnel=form.cleaned_data["personnel"],
                )
            except (PermissionDenied, ValidationError) as exc:
                form_add_refusal(form, exc)
            else:
                return self._started(request, job)
        return self._page(request, form, _("Export a PAXml file"))


@admin.register(SalaryCode)
class SalaryCodeAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "category", "salary_type", "is_expense", "active", "company"]
    list_filter = ("category", "active", ("company", admin.RelatedOnlyFieldListFilter))
    search_fields = ["code", "name", "salary_type"]


@admin.register(SalaryTransaction)
class SalaryTransactionAdmin(CompanyScopedAdmin):
    list_display = ["period_date", "employee", "salary_code", "salary_type", "quantity", "amount"]
    list_select_related = ["employee", "employee__company"]
    search_fields = ["employee__employee_number", "salary_code", "salary_type"]
    raw_id_fields = ["employee", "cost_center", "project", "source_file"]


@admin.register(ScheduleDay)
class ScheduleDayAdmin(CompanyScopedAdmin):
    list_display = ["date", "employee", "hours", "start_time", "end_time"]
    list_select_related = ["employee", "employee__company"]
    raw_id_fields = ["employee", "source_file"]
