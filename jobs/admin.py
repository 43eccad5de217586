"""The jobs in the admin: read-only, with their log, chunks, file and a cancel action."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from companies.scoping import CompanyScopedAdmin

from . import selectors, services
from .models import Job, JobChunk, JobLogLine
from .registry import job_kinds


class JobLogLineInline(admin.TabularInline):
    model = JobLogLine
    fields = ["created_at", "level", "item", "text"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("pk")


def _labelled(rows) -> str:
    if not rows:
        return "–"
    return format_html_join(mark_safe("<br>"), "{}: {}", rows)


class KindFilter(admin.SimpleListFilter):
    """The job kinds by their names, not their codes."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(
            ((kind.kind, str(kind.label)) for kind in job_kinds()), key=lambda item: item[1]
        )

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class JobChunkInline(admin.TabularInline):
    """A fanned-out job's parts: which worker ran which, attempts, heartbeats (read-only)."""

    model = JobChunk
    fields = ["number", "status", "attempts", "worker", "heartbeat_at", "done", "errors", "message"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.register(Job)
class JobAdmin(CompanyScopedAdmin):
    list_display = ["id", "kind_label", "company", "status", "progress", "started_by", "created_at"]
    list_filter = (KindFilter, "status", ("company", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["company", "started_by"]
    search_fields = ["=id", "kind", "message"]
    readonly_fields = [
        "company",
        "kind",
        "started_by",
        "selection",
        "status",
        "progress",
        "summary_display",
        "message_text",
        "cancel_requested",
        "attempts",
        "result_file_link",
        "result_file_holds",
        "created_at",
        "started_at",
        "finished_at",
        "log_download",
    ]
    fields = readonly_fields
    inlines = [JobChunkInline, JobLogLineInline]
    actions = ["cancel_jobs"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, job):
        return job.get_kind_display()

    @admin.display(description=_("selection"))
    def selection(self, job):
        return _labelled(selectors.job_parameters_display(job=job))

    @admin.display(description=_("summary"))
    def summary_display(self, job):
        return _labelled(selectors.job_summary_display(job=job))

    @admin.display(description=_("message"))
    def message_text(self, job):
        return job.message_text or "–"

    @admin.display(description=_("progress"))
    def progress(self, job):
        return format_html("{}", render_to_string("jobs/_job_progress.html", {"job": job}))

    @admin.display(description=_("log"))
    def log_download(self, job):
        url = reverse("admin:jobs_job_log", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the log (CSV)"))

    @admin.display(description=_("result file"))
    def result_file_link(self, job):
        """Through the permission-checked download (``file_view``), never a media URL."""
        if not job.result_file:
            return "-"
        url = reverse("admin:jobs_job_file", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, job.result_file.name.rsplit("/", 1)[-1])

    @admin.action(description=_("Cancel the selected jobs"))
    def cancel_jobs(self, request, queryset):
        refused = []
        for job in queryset:
            try:
                services.job_cancel(job=job, user=request.user)
            except PermissionDenied:
                refused.append(str(job))
        if refused:
            messages.error(
                request,
                _("Your role may not cancel: %(jobs)s.") % {"jobs": ", ".join(refused)},
            )
        if len(refused) < len(queryset):
            messages.success(request, _("Cancel requested."))

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/log.csv",
                self.admin_site.admin_view(self.log_view),
                name="jobs_job_log",
            ),
            path(
                "<int:pk>/file",
                self.admin_site.admin_view(self.file_view),
                name="jobs_job_file",
            ),
        ]
        return custom + super().get_urls()

    def log_view(self, request, pk: int):
        job = get_object_or_404(self.get_queryset(request), pk=pk)
        response = HttpResponse(
            selectors.job_log_csv(job=job), content_type="text/csv; charset=utf-8"
        )
        name = selectors.job_download_name(job=job, suffix="log.csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def file_view(self, request, pk: int):
        job = get_object_or_404(self.get_queryset(request), pk=pk)
        if not job.result_file:
            raise Http404
        if selectors.job_file_missing_permissions(user=request.user, job=job):
            raise PermissionDenied
        return selectors.job_file_response(job=job)

    class Media:
        css = {"all": ["flexbridge/site.css"]}
        js = ["flexbridge/jobs.js"]
