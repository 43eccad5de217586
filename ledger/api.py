"""REST commands of the ledger: create the SIE file, transfer to Visma.Net — each starts a
job and answers 202 with it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from companies.models import Company
from companies.scoping import ScopedPrimaryKeyRelatedField
from jobs.api import JobSerializer, job_response
from jobs.services import job_start
from payslips.models import PayrollRun


class SelectionSerializer(serializers.Serializer):
    """The same selection as the accounting file: a payroll run or a payment date."""

    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all())
    payroll_run = serializers.IntegerField(required=False, min_value=1)
    payment_date = serializers.DateField(required=False)

    def validate(self, attrs):
        if bool(attrs.get("payroll_run")) == bool(attrs.get("payment_date")):
            raise serializers.ValidationError(
                {"payroll_run": "Give either a payroll run or a payment date."}
            )
        runs = PayrollRun.objects.filter(company=attrs["company"])
        if attrs.get("payroll_run") and not runs.filter(pk=attrs["payroll_run"]).exists():
            raise serializers.ValidationError(
                {"payroll_run": "No such payroll run in this company."}
            )
        if (
            attrs.get("payment_date")
            and not runs.filter(payment_date=attrs["payment_date"]).exists()
        ):
            raise serializers.ValidationError(
                {"payment_date": "No payroll run of this company has that payment date."}
            )
        return attrs

    def parameters(self) -> dict:
        data = self.validated_data
        if data.get("payroll_run"):
            return {"payroll_run": data["payroll_run"]}
        return {"payment_date": data["payment_date"].isoformat()}


class _JobCommand(APIView):
    kind = ""

    def post(self, request):
        data = SelectionSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        job = job_start(
            user=request.user,
            company=data.validated_data["company"],
            kind=self.kind,
            parameters=data.parameters(),
        )
        return job_response(job)


class SieExportView(_JobCommand):
    """Create the accounting file (SIE 4I) of a payroll run or a payment date."""

    kind = "sie_export"

    @extend_schema(request=SelectionSerializer, responses={202: JobSerializer})
    def post(self, request):
        return super().post(request)


class VismaTransferView(_JobCommand):
    """Transfer the accounting of a payroll run or a payment date to Visma.Net."""

    kind = "visma_transfer"

    @extend_schema(request=SelectionSerializer, responses={202: JobSerializer})
    def post(self, request):
        return super().post(request)
