"""Viewsets of the project register (``/api/v1/projects/``, ``cost-centers``,
``time-codes``, ``time-registrations``, ``home-accountings`` ...)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import django_filters
from django.apps import apps
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from companies.models import Company
from companies.scoping import CompanyScopedViewSetMixin
from companies.selectors import user_has_company_perm
from flexbridge.api import ETagViewSetMixin, error_body

from .. import selectors, services
from ..exports import billing_basis_csv_response, money
from ..models import (
    AccountingDimension,
    AccountingDimensionValue,
    CostCenter,
    ExpenseCode,
    HomeAccounting,
    Project,
    ProjectEvent,
    TimeCode,
    TimeRegistration,
    WorkSchedule,
)
from ..models.accounting import SIE_COST_CENTER
from . import serializers as s


class ProjectFilter(django_filters.FilterSet):
    participant = django_filters.NumberFilter(
        method="filter_participant", label="Employee id: projects the employee takes part in"
    )

    class Meta:
        model = Project
        fields = ["company", "status", "registrable", "parent", "level"]

    def filter_participant(self, queryset, name, value):
        employee = (
            apps.get_model("employees", "Employee")
            .objects.for_user(self.request.user)
            .filter(pk=value)
            .first()
        )
        if employee is None:
            return queryset.none()
        return queryset.filter(pk__in=selectors.projects_for_participant(employee=employee))


TRUE_VALUES = {"1", "true", "yes", "on"}


class ProjectViewSet(CompanyScopedViewSetMixin, ETagViewSetMixin, viewsets.ModelViewSet):
    """The project tree. ``parent``/``level``/``registrable`` describe a node's place.

    Where the project dimension is used for authorization, a user sees the branches a
    project authorization reaches. Where it says "by default show only projects I take
    part in", the list shows the projects of the user's employee; ``?all=true`` shows all.
    """

    queryset = Project.objects.select_related("parent").prefetch_related("places").order_by("path")
    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "path"]

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        queryset = queryset.filter(selectors.projects_visible_q(user=user))
        if self.action == "list" and (
            self.request.query_params.get("all", "").lower() not in TRUE_VALUES
        ):
            queryset = queryset.filter(selectors.projects_mine_q(user=user))
        return queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        parent = data.pop("parent", None)
        company = data.pop("company", None) or parent.company
        places = data.pop("places", None)
        self.check_company_permission(company=company, action="add")
        with transaction.atomic():
            project = services.project_create(company=company, parent=parent, **data)
            if places is not None:
                project.places.set(places)
        serializer.instance = project

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("company", None)
        places = data.pop("places", None)
        new_status = data.pop("status", None)
        project = serializer.instance
        with transaction.atomic():
            project = services.project_update(project=project, **data)
            if new_status and new_status != project.status:
                project = services.project_set_status(project=project, status=new_status)
            if places is not None:
                project.places.set(places)
        serializer.instance = project

    @extend_schema(request=s.ProjectCopySerializer, responses=s.ProjectSerializer)
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """Copy the project (``with_children``: its whole branch) under the same parent."""
        source = self.get_object()
        self.check_company_permission(company=source.company, action="add")
        payload = s.ProjectCopySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        copy = services.project_copy(project=source, **payload.validated_data)
        return Response(self.get_serializer(copy).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[s.StatusQuerySerializer],
        responses=inline_serializer(
            "ProjectStatus",
            {
                "worked_hours": serializers.DecimalField(12, 2),
                "released_hours": serializers.DecimalField(12, 2),
                "budget_hours": serializers.DecimalField(12, 2, allow_null=True),
                "color": serializers.CharField(),
                "per_employee": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=True, methods=["get"])
    def status(self, request, pk=None):
        """Worked, released and budget hours over the project and all its children."""
        project = self.get_object()
        query = s.StatusQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        result = selectors.project_status(project=project, **query.validated_data)
        rollup = result.rollup
        return Response(
            {
                "project": project.code,
                "worked_hours": money(rollup.worked_hours),
                "released_hours": money(rollup.released_hours),
                "budget_hours": money(rollup.budget_hours),
                "color": rollup.color,
                "per_employee": [
                    {
                        "employee": row.employee_id,
                        "name": str(row.employee),
                        "worked_hours": money(row.worked_hours),
                        "released_hours": money(row.released_hours),
                    }
                    for row in result.per_employee
                ],
            }
        )


class AccountingDimensionViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = AccountingDimension.objects.all()
    serializer_class = s.AccountingDimensionSerializer
    filterset_fields = ["company", "sie_number"]

    def perform_create(self, serializer):
        self.check_company_permission(company=serializer.validated_data["company"], action="add")
        serializer.save()


class DimensionValueViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = AccountingDimensionValue.objects.select_related("dimension")
    serializer_class = s.DimensionValueSerializer
    filterset_fields = ["company", "dimension", "dimension__sie_number", "code"]
    search_fields = ["code", "name"]

    def perform_create(self, serializer):
        dimension = serializer.validated_data["dimension"]
        self.check_company_permission(company=dimension.company, action="add")
        serializer.instance = services.dimension_value_create(**serializer.validated_data)


class CostCenterViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    """Cost centres: the values of each company's SIE 1 dimension."""

    queryset = CostCenter.objects.all()
    serializer_class = s.CostCenterSerializer
    filterset_fields = ["company", "code"]
    search_fields = ["code", "name"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        company = data.pop("company")
        self.check_company_permission(company=company, action="add")
        value = services.cost_center_create(company=company, **data)
        serializer.instance = CostCenter.objects.get(pk=value.pk)

    def perform_update(self, serializer):
        serializer.validated_data.pop("company", None)
        serializer.save(
            dimension=AccountingDimension.objects.get(
                company=serializer.instance.company, sie_number=SIE_COST_CENTER
            )
        )


class TimeCodeViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = TimeCode.objects.all()
    serializer_class = s.TimeCodeSerializer
    filterset_fields = ["company", "kind", "code"]
    search_fields = ["code", "name"]

    def perform_create(self, serializer):
        self.check_company_permission(company=serializer.validated_data["company"], action="add")
        serializer.save()


class ExpenseCodeViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    """Expense codes (utläggskoder) with their rule per dimension; ``validate`` lays out
    and checks the accounting of an expense with the code."""

    queryset = ExpenseCode.objects.prefetch_related("rules")
    serializer_class = s.ExpenseCodeSerializer
    filterset_fields = ["company", "code", "active"]
    search_fields = ["code", "name"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        rules = data.pop("rules", None)
        self.check_company_permission(company=data["company"], action="add")
        serializer.instance = services.expense_code_save(
            expense_code=ExpenseCode(**data), rules=self._rules(rules)
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        rules = data.pop("rules", None)
        data.pop("company", None)
        instance = serializer.instance
        for name, value in data.items():
            setattr(instance, name, value)
        serializer.instance = services.expense_code_save(
            expense_code=instance, rules=self._rules(rules)
        )

    @staticmethod
    def _rules(rows):
        return None if rows is None else {row["dimension"]: row["rule"] for row in rows}

    @extend_schema(
        request=s.AccountingCheckSerializer,
        responses=inline_serializer(
            "AccountingCheck",
            {
                "valid": serializers.BooleanField(),
                "project": serializers.IntegerField(allow_null=True),
                "values": serializers.ListField(child=serializers.IntegerField()),
                "findings": s.FindingSerializer(many=True),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        """Lay out and check the accounting of an expense with this code: the project's
        rule first, then the code's, then the dimension's general rule."""
        code = self.get_object()
        payload = s.AccountingCheckSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        draft = services.registration_accounting_validate(
            expense_code=code, user=request.user, **payload.validated_data
        )
        return Response(
            {
                "valid": not any(f.level == "error" for f in draft.findings),
                "project": draft.project.pk if draft.project else None,
                "values": sorted(v.pk for v in draft.values.values() if v is not None),
                "findings": [f.as_dict() for f in draft.findings],
            }
        )


class TimeRegistrationFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = TimeRegistration
        fields = [
            "company",
            "employee",
            "project",
            "time_code",
            "reviewed",
            "review_status",
            "billable",
            "released_for_billing",
        ]


class TimeRegistrationViewSet(
    CompanyScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Registrations are validated against the project register: a create answers the
    object with its ``warnings``; a rule that stops it answers 400 naming the rule."""

    queryset = TimeRegistration.objects.select_related("time_code", "project").prefetch_related(
        "dimension_values"
    )
    serializer_class = s.TimeRegistrationSerializer
    filterset_class = TimeRegistrationFilter
    ordering_fields = ["date", "created_at"]

    def get_queryset(self):
        """Without ``companies.view_others_time`` (the self-service and reviewer roles) a
        user sees their own registrations and those on the projects they review."""
        return (
            super()
            .get_queryset()
            .filter(selectors.time_registrations_visible_q(user=self.request.user))
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        self.check_company_permission(company=data["employee"].company, action="add")
        if data["employee"].user_id != request.user.pk and not user_has_company_perm(
            user=request.user,
            perm=selectors.PERM_REGISTER_FOR_OTHERS,
            company=data["employee"].company_id,
        ):
            raise PermissionDenied("You may register time only for yourself.")
        try:
            registration, warnings = services.time_registration_create(user=request.user, **data)
        except services.TimeRegistrationRejected as exc:
            first = exc.errors[0]
            body = error_body(
                code="registration_rejected",
                message=" ".join(e.message for e in exc.errors),
                fields={"rules": [e.as_dict() for e in exc.errors], "project": first.project},
            )
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        body = dict(self.get_serializer(registration).data)
        body["warnings"] = [w.as_dict() for w in warnings]
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        try:
            services.time_registration_delete(registration=instance)
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc

    @extend_schema(
        request=inline_serializer(
            "ReviewRequest",
            {
                "registrations": serializers.ListField(child=serializers.IntegerField()),
                "approve": serializers.BooleanField(),
            },
        ),
        responses=inline_serializer("ReviewResult", {"changed": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"])
    def review(self, request):
        """Approve or reject registrations (partial approval): only a reviewer of each
        registration's project (or an ancestor) may; approved ones are locked."""
        ids = request.data.get("registrations") or []
        approve = bool(request.data.get("approve", True))
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise ValidationError({"registrations": "Give a list of registration ids."})
        registrations = self.get_queryset().filter(pk__in=ids)
        if registrations.count() != len(set(ids)):
            raise ValidationError({"registrations": "Unknown registration ids."})
        try:
            changed = services.time_registrations_review(
                user=request.user, registrations=registrations, approve=approve
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise ValidationError({"registrations": exc.messages}) from exc
        return Response({"changed": changed})


class BillingBasisView(APIView):
    """``GET /api/v1/billing-basis/?company=&date_from=&date_to=[&output=csv]``: the time
    released for billing in the period (projects marked "never transfer to downstream
    system" left out). Needs ``companies.release_billing`` in the company."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("company", int, required=True),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        company = (
            Company.objects.for_user(request.user).filter(
                pk=request.query_params.get("company") or 0
            )
            if str(request.query_params.get("company", "")).isdigit()
            else Company.objects.none()
        ).first()
        if company is None:
            raise NotFound("Unknown company.")
        if not user_has_company_perm(
            user=request.user, perm=selectors.PERM_RELEASE_BILLING, company=company
        ):
            raise PermissionDenied("You may not read the billing basis.")
        dates = {}
        for name in ("date_from", "date_to"):
            value = request.query_params.get(name)
            if value:
                try:
                    dates[name] = dt.date.fromisoformat(value)
                except ValueError as exc:
                    raise ValidationError({name: "Give a date as YYYY-MM-DD."}) from exc
        lines = selectors.billing_basis(company=company, **dates)
        if request.query_params.get("output") == "csv":
            return billing_basis_csv_response(lines=lines, company=company, **dates)
        return Response(
            {
                "company": company.pk,
                "lines": [
                    {
                        "project": line.project.code,
                        "project_name": line.project.name,
                        "employee": line.employee.employee_number if line.employee else None,
                        "hours": money(line.hours),
                        "price": money(line.price),
                        "amount": money(line.amount),
                        "external_comment": line.external_comment,
                    }
                    for line in lines
                ],
                "total": money(sum((line.amount for line in lines), Decimal(0))),
            }
        )


class _EmployeeOwnedViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    def perform_create(self, serializer):
        employee = serializer.validated_data["employee"]
        self.check_company_permission(company=employee.company, action="add")
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)

    def _save(self, serializer):
        instance = serializer.instance or serializer.Meta.model()
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        serializer.instance = instance


class HomeAccountingViewSet(_EmployeeOwnedViewSet):
    """Employees' dated home accounting (cost centre, project)."""

    queryset = HomeAccounting.objects.select_related("employee", "cost_center", "project")
    serializer_class = s.HomeAccountingSerializer
    filterset_fields = ["employee", "valid_from"]


class WorkScheduleViewSet(_EmployeeOwnedViewSet):
    queryset = WorkSchedule.objects.select_related("employee")
    serializer_class = s.WorkScheduleSerializer
    filterset_fields = ["employee", "valid_from"]


class ProjectEventViewSet(CompanyScopedViewSetMixin, viewsets.ModelViewSet):
    """Events (Händelser) on projects: extra compensation for time on the project."""

    queryset = ProjectEvent.objects.select_related("project").prefetch_related("time_codes")
    serializer_class = s.ProjectEventSerializer
    filterset_fields = ["project", "kind", "salary_type_code"]

    def perform_create(self, serializer):
        project = serializer.validated_data["project"]
        self.check_company_permission(company=project.company, action="add")
        serializer.save()

    def perform_update(self, serializer):
        project = serializer.validated_data.get("project")
        if project is not None and project.company_id != serializer.instance.project.company_id:
            self.check_company_permission(company=project.company, action="add")
        serializer.save()
