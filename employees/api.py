"""REST API of the employee register: ``/api/v1/employees/`` and the four registers.

Serializers validate input and call a service; they hold no business rules. Personal
identity numbers and bank accounts are masked for users without the permission to see them;
updates honour ``If-Match`` (412 when the ETag is stale).
"""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from companies.models import Company
from companies.scoping import (
    CompanyScopedViewSetMixin,
    ScopedFilterBackend,
    ScopedPrimaryKeyRelatedField,
)
from companies.selectors import company_ids_for_user, user_has_company_perm
from flexbridge.api import ETagViewSetMixin
from flexbridge.masking import mask_bank_account

from . import field_groups, selectors, services
from .models import (
    Employee,
    EmploymentForm,
    EmploymentRate,
    EmploymentTemplate,
    HourlyWage,
    MonthlySalary,
    PersonnelCategory,
    Position,
)

# --- shared pieces --------------------------------------------------------------------------


class CompanyField(ScopedPrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Company.objects.all())
        super().__init__(**kwargs)


class RegisterSerializer(serializers.ModelSerializer):
    """Registers: ``company`` is set on create and fixed afterwards."""

    company = CompanyField()

    class Meta:
        validators: list = []

    def validate_company(self, company):
        if self.instance is not None and company.pk != self.instance.company_id:
            raise serializers.ValidationError(_("The company of a row cannot be changed."))
        return company

    def _save(self, instance):
        return services.register_save(obj=instance, user=self.context["request"].user)

    def create(self, validated_data):
        return self._save(self.Meta.model(**validated_data))

    def update(self, instance, validated_data):
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return self._save(instance)


class PersonnelCategorySerializer(RegisterSerializer):
    class Meta(RegisterSerializer.Meta):
        model = PersonnelCategory
        fields = ["id", "company", "code", "name", "updated_at"]
        read_only_fields = ["updated_at"]


class EmploymentFormSerializer(RegisterSerializer):
    class Meta(RegisterSerializer.Meta):
        model = EmploymentForm
        fields = [
            "id",
            "company",
            "code",
            "name",
            "counts_toward_las_days",
            "fixed_term_kind",
            "notice_period_employer_months",
            "notice_period_employee_months",
            "end_notice_days",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class PositionSerializer(RegisterSerializer):
    class Meta(RegisterSerializer.Meta):
        model = Position
        fields = ["id", "company", "code", "title", "updated_at"]
        read_only_fields = ["updated_at"]


class EmploymentTemplateSerializer(RegisterSerializer):
    personnel_category = ScopedPrimaryKeyRelatedField(
        queryset=PersonnelCategory.objects.all(), required=False, allow_null=True
    )
    employment_form = ScopedPrimaryKeyRelatedField(
        queryset=EmploymentForm.objects.all(), required=False, allow_null=True
    )
    position = ScopedPrimaryKeyRelatedField(
        queryset=Position.objects.all(), required=False, allow_null=True
    )

    class Meta(RegisterSerializer.Meta):
        model = EmploymentTemplate
        fields = [
            "id",
            "company",
            "code",
            "name",
            "is_default",
            "personnel_category",
            "employment_form",
            "position",
            "pay_form",
            "tax_table",
            "tax_column",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def _save(self, instance):
        return services.employment_template_save(
            template=instance, user=self.context["request"].user
        )


class RegisterViewSet(
    CompanyScopedViewSetMixin,
    ETagViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    filterset_fields = ["company", "code"]
    search_fields = ["code"]
    ordering_fields = ["code"]

    def perform_create(self, serializer):
        self.check_company_permission(company=serializer.validated_data["company"], action="add")
        serializer.save()


class PersonnelCategoryViewSet(RegisterViewSet):
    queryset = PersonnelCategory.objects.select_related("company").order_by("company_id", "code")
    serializer_class = PersonnelCategorySerializer
    search_fields = ["code", "name"]


class EmploymentFormViewSet(RegisterViewSet):
    queryset = EmploymentForm.objects.select_related("company").order_by("company_id", "code")
    serializer_class = EmploymentFormSerializer
    search_fields = ["code", "name"]


class PositionViewSet(RegisterViewSet):
    queryset = Position.objects.select_related("company").order_by("company_id", "code")
    serializer_class = PositionSerializer
    search_fields = ["code", "title"]


class EmploymentTemplateViewSet(RegisterViewSet):
    queryset = EmploymentTemplate.objects.select_related("company").order_by("company_id", "code")
    serializer_class = EmploymentTemplateSerializer
    filterset_fields = ["company", "code", "is_default"]
    search_fields = ["code", "name"]


# --- employees ------------------------------------------------------------------------------


class EmploymentRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmploymentRate
        fields = ["id", "valid_from", "rate_percent"]


class MonthlySalarySerializer(serializers.ModelSerializer):
    class Meta:
        model = MonthlySalary
        fields = ["id", "valid_from", "amount"]


class HourlyWageSerializer(serializers.ModelSerializer):
    class Meta:
        model = HourlyWage
        fields = ["id", "valid_from", "amount"]


class CompanyUserField(serializers.PrimaryKeyRelatedField):
    """A user who belongs to one of the requesting user's companies (the service checks
    that it is the employee's company)."""

    def get_queryset(self):
        request = self.context.get("request")
        users = get_user_model().objects.all()
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return users.none()
        return users.filter(memberships__company_id__in=company_ids_for_user(user=user)).distinct()


class EmployeeSerializer(serializers.ModelSerializer):
    """An employee. Without the permission to see them, the personal identity number is
    masked (``19800101-****``) and the account number shows its last four digits; writing
    either masked value back leaves the stored one as it is."""

    company = CompanyField()
    personal_identity_number = serializers.CharField(
        required=False, allow_blank=True, max_length=20
    )
    clearing_number = serializers.CharField(required=False, allow_blank=True, max_length=10)
    bank_account_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    personnel_category = ScopedPrimaryKeyRelatedField(
        queryset=PersonnelCategory.objects.all(), required=False
    )
    employment_form = ScopedPrimaryKeyRelatedField(
        queryset=EmploymentForm.objects.all(), required=False, allow_null=True
    )
    template = ScopedPrimaryKeyRelatedField(
        queryset=EmploymentTemplate.objects.all(), required=False, allow_null=True
    )
    position = ScopedPrimaryKeyRelatedField(
        queryset=Position.objects.all(), required=False, allow_null=True
    )
    user = CompanyUserField(required=False, allow_null=True)
    name = serializers.CharField(source="display_name", read_only=True)
    active = serializers.SerializerMethodField()
    current_employment_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, allow_null=True
    )
    current_monthly_salary = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    current_hourly_wage = serializers.DecimalField(
        max_digits=10, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = Employee
        fields = [
            "id",
            "company",
            *field_groups.IDENTITY,
            "name",
            *field_groups.CONTACT,
            *field_groups.EMPLOYMENT,
            "active",
            *field_groups.PAY,
            *field_groups.KIVRA,
            *field_groups.LOGIN,
            "current_employment_rate",
            "current_monthly_salary",
            "current_hourly_wage",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_coordination_number", "created_at", "updated_at"]
        validators: list = []

    # The permission answers are cached on the user; the print rule is cached per company.
    def _can(self, perm: str, company_id: int) -> bool:
        return user_has_company_perm(
            user=self.context["request"].user, perm=perm, company=company_id
        )

    def _print_available(self, company_id: int) -> bool:
        cache = self.context.setdefault("_print_available", {})
        if company_id not in cache:
            cache[company_id] = selectors.kivra_print_handling_available(company=company_id)
        return cache[company_id]

    def get_active(self, employee: Employee) -> bool:
        end = employee.employment_end_date
        return end is None or end >= selectors.today()

    def to_representation(self, employee: Employee) -> dict:
        data = super().to_representation(employee)
        if not self._can(services.PERM_VIEW_PIN, employee.company_id):
            data["personal_identity_number"] = employee.personal_identity_number_masked
        if not self._can(services.PERM_VIEW_BANK, employee.company_id):
            data["bank_account_number"] = mask_bank_account(employee.bank_account_number)
        if not self._print_available(employee.company_id):
            data.pop("kivra_allow_print", None)
        return data

    def validate_company(self, company):
        if self.instance is not None and company.pk != self.instance.company_id:
            raise serializers.ValidationError(_("The company of an employee cannot be changed."))
        return company

    def validate(self, attrs: dict) -> dict:
        employee = self.instance
        if employee is not None:
            # A masked value sent back unchanged (a PUT of what was read) changes nothing.
            pin = attrs.get("personal_identity_number")
            if pin is not None and pin == employee.personal_identity_number_masked and pin:
                attrs.pop("personal_identity_number")
            account = attrs.get("bank_account_number")
            if account and account == mask_bank_account(employee.bank_account_number):
                attrs.pop("bank_account_number")
        company = attrs.get("company") or getattr(employee, "company", None)
        if (
            "kivra_allow_print" in attrs
            and company is not None
            and not self._print_available(company.pk)
            and attrs["kivra_allow_print"] != getattr(employee, "kivra_allow_print", False)
        ):
            raise serializers.ValidationError(
                {
                    "kivra_allow_print": _(
                        "Kivra print handling is not switched on for this company."
                    )
                }
            )
        return attrs

    def create(self, validated_data: dict) -> Employee:
        company = validated_data.pop("company")
        number = validated_data.pop("employee_number")
        return services.employee_create(
            company=company,
            employee_number=number,
            user=self.context["request"].user,
            **validated_data,
        )

    def update(self, employee: Employee, validated_data: dict) -> Employee:
        validated_data.pop("company", None)
        return services.employee_update(
            employee=employee, data=validated_data, user=self.context["request"].user
        )


class EmployeeDetailSerializer(EmployeeSerializer):
    employment_rates = EmploymentRateSerializer(many=True, read_only=True)
    monthly_salaries = MonthlySalarySerializer(many=True, read_only=True)
    hourly_wages = HourlyWageSerializer(many=True, read_only=True)

    class Meta(EmployeeSerializer.Meta):
        fields = [
            *EmployeeSerializer.Meta.fields,
            "employment_rates",
            "monthly_salaries",
            "hourly_wages",
        ]


class EmployeeFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(field_name="employee_number")
    category = django_filters.CharFilter(field_name="personnel_category__code")
    employment_form = django_filters.CharFilter(field_name="employment_form__code")
    active = django_filters.BooleanFilter(method="filter_active")
    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = Employee
        fields = ["company", "pay_form"]

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(selectors.employees_active_q(active=value))

    def filter_search(self, queryset, name, value):
        if len(value.split()) > settings.API_SEARCH_MAX_TERMS:
            raise exceptions.ValidationError(
                {"search": [_("At most %(n)s words.") % {"n": settings.API_SEARCH_MAX_TERMS}]}
            )
        user = self.request.user
        return selectors.employees_search(
            queryset,
            term=value,
            full_pin_for_companies=selectors.companies_with_perm(
                user=user, perm=services.PERM_VIEW_PIN
            ),
        )


class ChangeNumberSerializer(serializers.Serializer):
    employee_number = serializers.CharField(max_length=20)


class EmployeeViewSet(
    CompanyScopedViewSetMixin,
    ETagViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Employees of the user's companies. Filters: ``number``, ``category`` (code),
    ``employment_form`` (code), ``active``, ``pay_form``, ``company``; ``search`` matches
    number, names and the date part of the personal identity number."""

    queryset = Employee.objects.all()
    filterset_class = EmployeeFilter
    filter_backends = [
        ScopedFilterBackend,
        OrderingFilter,
    ]
    ordering_fields = ["employee_number", "last_name", "employment_start_date"]
    ordering = ["company_id", "employee_number"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            # The page is cut from plain rows first (see list); the values in force are
            # computed only for the rows of the page.
            return queryset
        queryset = selectors.employees_with_values_in_force(queryset)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "employment_rates", "monthly_salaries", "hourly_wages"
            )
        return queryset

    def list(self, request, *args, **kwargs):
        """A page of employees in three queries whatever the page number: the count, the
        page's ids (an index scan), and those rows with registers and values in force.

        Annotating before paginating would make the database compute the values in force
        for every row skipped by the offset too.
        """
        queryset = self.filter_queryset(self.get_queryset())
        page_ids = self.paginate_queryset(queryset.values_list("pk", flat=True))
        rows = selectors.employees_with_values_in_force(Employee.objects.filter(pk__in=page_ids))
        by_id = {row.pk: row for row in rows}
        page = [by_id[pk] for pk in page_ids if pk in by_id]
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return EmployeeDetailSerializer
        return EmployeeSerializer

    def perform_create(self, serializer):
        self.check_company_permission(company=serializer.validated_data["company"], action="add")
        serializer.save()

    def _check_change(self, employee: Employee) -> None:
        if not user_has_company_perm(
            user=self.request.user, perm="employees.change_employee", company=employee.company_id
        ):
            raise exceptions.PermissionDenied()

    @extend_schema(request=ChangeNumberSerializer, responses=EmployeeSerializer)
    @action(detail=True, methods=["post"], url_path="change-number")
    def change_number(self, request, pk=None):
        """Change the employee number (first in payroll when it is master-linked)."""
        employee = self.get_object()
        self._check_change(employee)
        data = ChangeNumberSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        employee = services.employee_change_number(
            employee=employee, new_number=data.validated_data["employee_number"], user=request.user
        )
        employee = self.get_queryset().get(pk=employee.pk)
        return Response(EmployeeSerializer(employee, context=self.get_serializer_context()).data)

    def _dated(self, request, *, serializer_class, service, field: str, related: str):
        employee = self.get_object()
        if request.method == "GET":
            rows = getattr(employee, related).order_by("-valid_from")
            return Response(serializer_class(rows, many=True).data)
        self._check_change(employee)
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        row = service(
            employee=employee,
            valid_from=data.validated_data["valid_from"],
            user=request.user,
            **{field: data.validated_data[field]},
        )
        return Response(serializer_class(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=EmploymentRateSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=EmploymentRateSerializer,
        responses={201: EmploymentRateSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="employment-rates",
        pagination_class=None,
        filter_backends=[],
    )
    def employment_rates(self, request, pk=None):
        """The dated employment rates; POST sets one from ``valid_from``."""
        return self._dated(
            request,
            serializer_class=EmploymentRateSerializer,
            service=services.employment_rate_set,
            field="rate_percent",
            related="employment_rates",
        )

    @extend_schema(methods=["GET"], responses=MonthlySalarySerializer(many=True))
    @extend_schema(
        methods=["POST"], request=MonthlySalarySerializer, responses={201: MonthlySalarySerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="monthly-salaries",
        pagination_class=None,
        filter_backends=[],
    )
    def monthly_salaries(self, request, pk=None):
        return self._dated(
            request,
            serializer_class=MonthlySalarySerializer,
            service=services.monthly_salary_set,
            field="amount",
            related="monthly_salaries",
        )

    @extend_schema(methods=["GET"], responses=HourlyWageSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=HourlyWageSerializer, responses={201: HourlyWageSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="hourly-wages",
        pagination_class=None,
        filter_backends=[],
    )
    def hourly_wages(self, request, pk=None):
        return self._dated(
            request,
            serializer_class=HourlyWageSerializer,
            service=services.hourly_wage_set,
            field="amount",
            related="hourly_wages",
        )
