"""REST API: payroll runs (list, detail, create), payslips (list, detail, PDF) and the
"send payslips to Kivra" command."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.views import APIView

from companies.models import Company
from companies.scoping import CompanyScopedViewSetMixin, ScopedPrimaryKeyRelatedField
from employees.models import Employee
from jobs.api import JobSerializer, job_response

from . import selectors, services
from .models import PayrollRun, Payslip, PayslipLine

MONEY = {"max_digits": 14, "decimal_places": 2}


class PayslipLineSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PayslipLine.Kind.choices, default="gross")
    dimensions = serializers.DictField(child=serializers.CharField(), required=False)

    class Meta:
        model = PayslipLine
        fields = [
            "line_number",
            "salary_type",
            "text",
            "kind",
            "quantity",
            "unit",
            "unit_price",
            "amount",
            "account",
            "dimensions",
            "period_start",
            "period_end",
        ]
        read_only_fields = ["line_number"]


class PayslipSerializer(serializers.ModelSerializer):
    employee_number = serializers.CharField(source="employee.employee_number", read_only=True)
    payment_date = serializers.DateField(source="payroll_run.payment_date", read_only=True)
    lines = PayslipLineSerializer(many=True, read_only=True)

    class Meta:
        model = Payslip
        fields = [
            "id",
            "company",
            "payroll_run",
            "employee",
            "employee_number",
            "payment_date",
            "gross_pay",
            "tax",
            "net_pay",
            "employer_contributions",
            "ytd_gross_pay",
            "ytd_tax",
            "vacation_days_paid",
            "vacation_days_saved",
            "vacation_days_used",
            "pdf_sha256",
            "lines",
        ]
        read_only_fields = fields


class PayslipInputSerializer(serializers.Serializer):
    employee_number = serializers.CharField(max_length=20)
    gross_pay = serializers.DecimalField(**MONEY)
    tax = serializers.DecimalField(**MONEY, default=0)
    net_pay = serializers.DecimalField(**MONEY)
    employer_contributions = serializers.DecimalField(**MONEY, default=0)
    ytd_gross_pay = serializers.DecimalField(**MONEY, default=0)
    ytd_tax = serializers.DecimalField(**MONEY, default=0)
    vacation_days_paid = serializers.DecimalField(6, 2, required=False, allow_null=True)
    vacation_days_saved = serializers.DecimalField(6, 2, required=False, allow_null=True)
    vacation_days_used = serializers.DecimalField(6, 2, required=False, allow_null=True)
    lines = PayslipLineSerializer(many=True, required=False)


class PayrollRunSerializer(serializers.ModelSerializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all())
    payslips = PayslipInputSerializer(many=True, write_only=True)
    payslip_count = serializers.IntegerField(source="payslips.count", read_only=True)

    class Meta:
        model = PayrollRun
        fields = [
            "id",
            "company",
            "payment_date",
            "period_start",
            "period_end",
            "status",
            "external_id",
            "description",
            "source",
            "payslip_count",
            "payslips",
            "created_at",
        ]
        read_only_fields = ["source", "created_at"]


class PayrollRunViewSet(
    CompanyScopedViewSetMixin,
    mixins.CreateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Payroll runs. ``POST`` imports a run with its payslips; every employee must be known
    and every payslip's totals must add up, or nothing is stored."""

    queryset = PayrollRun.objects.select_related("company")
    serializer_class = PayrollRunSerializer
    filterset_fields = ["company", "payment_date", "status"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.check_company_permission(company=data["company"], action="add")
        payslips = []
        for slip in data["payslips"]:
            slip = dict(slip)
            slip["lines"] = [dict(line) for line in slip.get("lines", [])]
            payslips.append(slip)
        try:
            serializer.instance = services.payroll_run_create(
                company=data["company"],
                payment_date=data["payment_date"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                status=data.get("status", PayrollRun.Status.PRELIMINARY),
                external_id=data.get("external_id", ""),
                description=data.get("description", ""),
                payslips=payslips,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc


class PayslipViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = (
        Payslip.objects.select_related("payroll_run", "employee")
        .prefetch_related("lines")
        .defer("pdf")
    )
    serializer_class = PayslipSerializer
    filterset_fields = ["company", "payroll_run", "employee", "payroll_run__payment_date"]

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The payslip PDF: rendered the first time, the same bytes ever after."""
        payslip = self.get_object()
        content = services.payslip_render_pdf(payslip=payslip)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="payslip-{payslip.payroll_run.payment_date}-'
            f'{payslip.employee.employee_number}.pdf"'
        )
        response["ETag"] = f'"{payslip.pdf_sha256}"'
        return response


class KivraDispatchInputSerializer(serializers.Serializer):
    company = ScopedPrimaryKeyRelatedField(queryset=Company.objects.all())
    payment_date = serializers.DateField()
    status = serializers.ChoiceField(choices=selectors.DISPATCH_STATUSES, default="final")
    employees = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=True
    )

    def validate(self, attrs):
        wanted = set(attrs.get("employees") or [])
        if wanted:
            found = set(
                Employee.objects.filter(company=attrs["company"], pk__in=wanted).values_list(
                    "pk", flat=True
                )
            )
            if wanted - found:
                raise serializers.ValidationError(
                    {"employees": f"Unknown employees: {sorted(wanted - found)}"}
                )
        return attrs


class KivraDispatchView(APIView):
    """Send payslips to Kivra for a selection: starts the job and answers 202 with it."""

    @extend_schema(request=KivraDispatchInputSerializer, responses={202: JobSerializer})
    def post(self, request):
        data = KivraDispatchInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            job = services.kivra_dispatch_start(
                user=request.user,
                company=values["company"],
                payment_date=values["payment_date"],
                status=values["status"],
                employee_ids=values.get("employees") or None,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"company": exc.messages}) from exc
        return job_response(job)
