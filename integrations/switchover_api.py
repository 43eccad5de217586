"""REST API of the switchover: ``/api/v1/switchovers/``.

Read: the company's switchovers with their step results. Commands: one action per step
(``POST /api/v1/switchovers/preflight/`` with ``{"company": id, ...}`` → 202 with the job),
and ``approve``, ``override``, ``abort`` on a switchover. A file-based payroll system's
personnel register is uploaded with ``POST /api/v1/switchovers/personnel-file/``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from companies.models import Company
from companies.scoping import CompanyScopedViewSetMixin, ScopedPrimaryKeyRelatedField
from jobs.api import JobSerializer, job_response

from . import switchover as sw
from .models import Switchover, SwitchoverEvent
from .switchover.messages import switchover_results_texts


class SwitchoverEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", default=None)

    class Meta:
        model = SwitchoverEvent
        fields = ["id", "kind", "step", "job", "user", "reason", "details", "created_at"]


class SwitchoverSerializer(serializers.ModelSerializer):
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    results = serializers.SerializerMethodField()
    events = SwitchoverEventSerializer(many=True, read_only=True)

    class Meta:
        model = Switchover
        fields = [
            "id",
            "company",
            "state",
            "state_display",
            "results",
            "created_at",
            "updated_at",
            "finished_at",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_results(self, obj: Switchover) -> dict:
        """The step results; the preflight's items in the reader's language."""
        return switchover_results_texts(obj.results)


class StepInputSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all())
    employee_number = serializers.CharField(required=False, max_length=20)
    template = serializers.CharField(required=False, max_length=20)
    selection = serializers.DictField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    transfer_employment_data = serializers.ChoiceField(choices=["all", "selection"], required=False)


class PersonnelFileSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all())
    file = serializers.FileField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# SwitchoverRefused is a DomainError (409 "conflict"): the API's exception handler answers it.
# Django's own exceptions keep their message here.
_DJANGO_REFUSALS = (DjangoPermissionDenied, DjangoValidationError)


def _translate(exc: Exception):
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    return exc


class SwitchoverViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Switchover.objects.select_related("company").prefetch_related("events__user")
    serializer_class = SwitchoverSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["company", "state"]

    def _start(self, request, step: str):
        data = StepInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        params = {k: v for k, v in data.validated_data.items() if k != "company"}
        try:
            job = sw.switchover_step_start(
                user=request.user,
                company=data.validated_data["company"],
                step=step,
                parameters=params,
            )
        except _DJANGO_REFUSALS as exc:
            raise _translate(exc) from exc
        return job_response(job)

    @extend_schema(request=StepInputSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"])
    def preflight(self, request):
        """Step 1: the preflight report (the checklist and the field diff)."""
        return self._start(request, "preflight")

    @extend_schema(request=StepInputSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="test-export")
    def test_export(self, request):
        """Step 2: export one employee (``employee_number``) from payroll into HR."""
        return self._start(request, "test_export")

    @extend_schema(request=StepInputSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="export-all")
    def export_all(self, request):
        """Step 3: export all employees (optional ``selection`` and ``template``)."""
        return self._start(request, "export_all")

    @extend_schema(request=StepInputSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="payroll-off")
    def payroll_off(self, request):
        """Step 4: turn payroll off as master."""
        return self._start(request, "payroll_off")

    @extend_schema(request=StepInputSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="hr-on")
    def hr_on(self, request):
        """Step 5: turn HR on as master (``transfer_employment_data``: all / selection)."""
        return self._start(request, "hr_on")

    @extend_schema(request=StepInputSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"])
    def verify(self, request):
        """Step 6: the verification round trip of an address change."""
        return self._start(request, "verify")

    @extend_schema(request=PersonnelFileSerializer, responses=SwitchoverSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="personnel-file",
        parser_classes=[MultiPartParser, FormParser],
    )
    def personnel_file(self, request):
        """A file-based payroll system: upload its personnel register (PAXml, multipart
        ``file`` with ``company``); the preflight and the exports read it. 400 when the file
        cannot be read or holds no employees."""
        data = PersonnelFileSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            switchover = sw.switchover_personnel_file_upload(
                user=request.user,
                company=data.validated_data["company"],
                content=upload.read(),
                name=upload.name,
            )
        except DjangoValidationError as exc:
            messages = (
                [m for ms in exc.message_dict.values() for m in ms]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            raise exceptions.ValidationError({"file": messages}) from exc
        except _DJANGO_REFUSALS as exc:
            raise _translate(exc) from exc
        switchover.refresh_from_db()
        return Response(SwitchoverSerializer(switchover).data)

    def _command(self, request, func, **kwargs):
        switchover = self.get_object()
        try:
            switchover = func(user=request.user, switchover=switchover, **kwargs)
        except _DJANGO_REFUSALS as exc:
            raise _translate(exc) from exc
        switchover.refresh_from_db()
        return Response(SwitchoverSerializer(switchover).data)

    @extend_schema(request=None, responses=SwitchoverSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the test export."""
        return self._command(request, sw.switchover_approve)

    @extend_schema(request=ReasonSerializer, responses=SwitchoverSerializer)
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        """Override the current failed step (a reason is required; it is logged)."""
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        switchover = self.get_object()
        step = sw.STEPS[min(sw.step_index(switchover.state) + 1, len(sw.STEPS) - 1)]
        return self._command(
            request, sw.switchover_override, step=step, reason=data.validated_data["reason"]
        )

    @extend_schema(request=ReasonSerializer, responses=SwitchoverSerializer)
    @action(detail=True, methods=["post"])
    def abort(self, request, pk=None):
        """Abort (only before HR is master); payroll's switches go back."""
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._command(request, sw.switchover_abort, reason=data.validated_data["reason"])
