"""REST API for jobs: read-only lists and details, the log, the result file, cancel, and the
self-test command."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status, viewsets
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
    may_download_file = serializers.SerializerMethodField()
    result_file_holds = serializers.ListField(child=serializers.CharField(), read_only=True)
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
            "result_file_holds",
            "may_download_file",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_has_file(self, job: Job) -> bool:
        return bool(job.result_file)

    def get_may_download_file(self, job: Job) -> bool:
        request = self.context.get("request")
        return selectors.job_file_may_download(user=getattr(request, "user", None), job=job)


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

    def get_permissions(self):
        if self.action == "cancel":
            # Not the model's add/change permission: the service checks the role's
            # "cancel a running job" and the job kind's permission in the job's company.
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

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
        """The file a job produced (an export, a print batch ...). A file holding personal
        data needs the capability for each kind it holds (``result_file_holds``): 403
        naming what is missing otherwise."""
        job = self.get_object()
        if not job.result_file:
            return Response(
                {"error": {"code": "not_found", "message": "This job has no file.", "fields": {}}},
                status=status.HTTP_404_NOT_FOUND,
            )
        missing = selectors.job_file_missing_permissions(user=request.user, job=job)
        if missing:
            raise exceptions.PermissionDenied(
                _("This file holds data your role may not see: %(what)s.")
                % {"what": ", ".join(missing)}
            )
        return selectors.job_file_response(job=job)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Ask the job to stop at its next item."""
        try:
            job = services.job_cancel(job=self.get_object(), user=request.user)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(JobSerializer(job, context=self.get_serializer_context()).data)


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
