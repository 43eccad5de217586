from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from companies.scoping import CompanyScopedAdmin

from . import selectors, services
from .models import Job, JobLogLine


class JobLogLineInline(admin.TabularInline):
    model = JobLogLine
    fields = ["created_at", "level", "item", "message"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("pk")


@admin.register(Job)
class JobAdmin(CompanyScopedAdmin):
    list_display = ["id", "kind_label", "company", "status", "progress", "started_by", "created_at"]
    list_filter = ("kind", "status", ("company", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["company", "started_by"]
    search_fields = ["=id", "kind", "message"]
    readonly_fields = [
        "company",
        "kind",
        "started_by",
        "parameters",
        "status",
        "progress",
        "summary",
        "message",
        "cancel_requested",
        "attempts",
        "result_file",
        "created_at",
        "started_at",
        "finished_at",
        "log_download",
    ]
    fields = readonly_fields
    inlines = [JobLogLineInline]
    actions = ["cancel_jobs"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, job):
        return job.get_kind_display()

    @admin.display(description=_("progress"))
    def progress(self, job):
        return format_html("{}", render_to_string("integrations/_job_progress.html", {"job": job}))

    @admin.display(description=_("log"))
    def log_download(self, job):
        url = reverse("admin:integrations_job_log", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the log (CSV)"))

    @admin.action(description=_("Cancel the selected jobs"))
    def cancel_jobs(self, request, queryset):
        for job in queryset:
            services.job_cancel(job=job, user=request.user)
        messages.success(request, _("Cancel requested."))

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/log.csv",
                self.admin_site.admin_view(self.log_view),
                name="integrations_job_log",
            )
        ]
        return custom + super().get_urls()

    def log_view(self, request, pk: int):
        job = get_object_or_404(self.get_queryset(request), pk=pk)
        response = HttpResponse(
            selectors.job_log_csv(job=job), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-log.csv"'
        return response

    class Media:
        css = {"all": ["flexbridge/site.css"]}
        js = ["flexbridge/jobs.js"]
