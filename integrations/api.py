"""REST API for jobs: read-only lists and details, the log, the result file, cancel, and the
self-test command."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from companies.models import Company
from companies.scoping import CompanyScopedViewSetMixin, ScopedPrimaryKeyRelatedField
from flexbridge.api import Pagination

from . import selectors, services
from .models import Job, JobLogLine


class JobLogLineSerializer(serializers.ModelSerializer):
    # Stored as a message id with parameters where the writer gave one: in the reader's
    # language (Accept-Language), like the pages.
    message = serializers.CharField(source="text", read_only=True)

    class Meta:
        model = JobLogLine
        fields = ["id", "created_at", "level", "item", "message"]


class JobSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    started_by = serializers.CharField(source="started_by.username", default=None)
    has_file = serializers.SerializerMethodField()
    message = serializers.CharField(source="message_text", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "company",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "parameters",
            "progress_done",
            "progress_total",
            "progress_percent",
            "summary",
            "message",
            "cancel_requested",
            "attempts",
            "started_by",
            "has_file",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_has_file(self, job: Job) -> bool:
        return bool(job.result_file)


class JobDetailSerializer(JobSerializer):
    log = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "log"]

    @extend_schema(responses=JobLogLineSerializer(many=True))
    def get_log(self, job: Job) -> list:
        lines = selectors.job_log_lines(job=job)[:500]
        return JobLogLineSerializer(lines, many=True).data


class JobViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Job.objects.select_related("company", "started_by")
    filterset_fields = ["kind", "status", "company"]
    ordering_fields = ["created_at", "finished_at"]

    def get_serializer_class(self):
        return JobDetailSerializer if self.action == "retrieve" else JobSerializer

    @extend_schema(responses=JobLogLineSerializer(many=True))
    @action(detail=True, methods=["get"])
    def log(self, request, pk=None):
        """The job's log lines, paginated (``?download=csv`` for the whole log as a file)."""
        job = self.get_object()
        if request.query_params.get("download") == "csv":
            response = HttpResponse(
                selectors.job_log_csv(job=job), content_type="text/csv; charset=utf-8"
            )
            name = selectors.job_download_name(job=job, suffix="log.csv")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.job_log_lines(job=job), request, view=self)
        return paginator.get_paginated_response(JobLogLineSerializer(page, many=True).data)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The file a job produced (an export, a print batch ...)."""
        job = self.get_object()
        if not job.result_file:
            return Response(
                {"error": {"code": "not_found", "message": "This job has no file.", "fields": {}}},
                status=status.HTTP_404_NOT_FOUND,
            )
        return FileResponse(
            job.result_file.open("rb"),
            as_attachment=True,
            filename=selectors.job_download_name(
                job=job, suffix="." + job.result_file.name.rsplit(".", 1)[-1]
            ),
        )

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Ask the job to stop at its next item."""
        job = services.job_cancel(job=self.get_object(), user=request.user)
        return Response(JobSerializer(job).data)


class SelftestInputSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all())
    items = serializers.IntegerField(min_value=1, max_value=100_000, default=10)
    delay = serializers.FloatField(min_value=0, max_value=10, default=0)
    fail_at = serializers.IntegerField(min_value=1, required=False)


class SelftestView(APIView):
    """Start the system self-test job: it counts through items and logs each one."""

    @extend_schema(request=SelftestInputSerializer, responses={202: JobSerializer})
    def post(self, request):
        data = SelftestInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        params = {k: v for k, v in data.validated_data.items() if k != "company"}
        job = services.job_start(
            user=request.user,
            company=data.validated_data["company"],
            kind="selftest",
            parameters=params,
        )
        return job_response(job)


def job_response(job: Job) -> Response:
    """The 202 answer every command endpoint gives: the job it started."""
    job.refresh_from_db()
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
