"""REST commands: ``POST /api/v1/paxml/imports/`` and ``POST /api/v1/paxml/exports/``.

Both answer 202 with the job; the export's file is at ``/api/v1/jobs/{id}/file/``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.views import APIView

from companies.models import Company
from companies.scoping import ScopedPrimaryKeyRelatedField
from jobs.api import JobSerializer, job_response

from .codes import PROFILES
from .services import paxml_export_start, paxml_import_start


class ImportInputSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.select_related("license"))
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=False)
    profile = serializers.ChoiceField(choices=sorted(PROFILES), default="standard")
    create_missing = serializers.BooleanField(
        default=False,
        help_text="Create the register entries, projects and cost centres the file names.",
    )
    confirm_organisation_number = serializers.BooleanField(
        default=False, help_text="Import even if the header names another organisation number."
    )
    source = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The source whose rows the file may replace (default: header foretagid and "
        "program).",
    )


class ExportInputSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.select_related("license"))
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    employees = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, default=list
    )
    profile = serializers.ChoiceField(choices=sorted(PROFILES), default="standard")
    encoding = serializers.ChoiceField(choices=["iso-8859-1", "utf-8"], default="iso-8859-1")
    personnel = serializers.BooleanField(
        default=False, help_text="Also write the employees' register (every Fortnox Lön field)."
    )


class PaxmlImportView(APIView):
    """Upload a PAXml file (multipart ``file``) and import it as a job (``dry_run`` to check)."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ImportInputSerializer, responses={202: JobSerializer})
    def post(self, request):
        data = ImportInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            job = paxml_import_start(
                user=request.user,
                company=values["company"],
                upload=values["file"],
                dry_run=values["dry_run"],
                profile=values["profile"],
                create_missing=values["create_missing"],
                confirm_organisation_number=values["confirm_organisation_number"],
                source_name=values["source"],
            )
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        return job_response(job)


class PaxmlExportView(APIView):
    """Export a period as a PAXml file, as a job."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=ExportInputSerializer, responses={202: JobSerializer})
    def post(self, request):
        data = ExportInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            job = paxml_export_start(
                user=request.user,
                company=values["company"],
                date_from=values["date_from"],
                date_to=values["date_to"],
                employees=values["employees"],
                profile=values["profile"],
                encoding=values["encoding"],
                personnel=values["personnel"],
            )
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        return job_response(job)
