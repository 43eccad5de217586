"""Serializers of the project register's REST API: explicit fields, scoped foreign keys,
validation only (the writes are services)."""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext as _
from rest_framework import serializers

from companies.models import Company
from companies.scoping import ScopedPrimaryKeyRelatedField

from ..models import (
    AccountingDimension,
    AccountingDimensionValue,
    AccountingRule,
    CostCenter,
    ExpenseCode,
    HomeAccounting,
    Place,
    Project,
    ProjectEvent,
    TimeCode,
    TimeRegistration,
    WorkSchedule,
)
from ..selectors import project_effective_color


def _employees():
    return apps.get_model("employees", "Employee").objects.all()


class CompanyField(ScopedPrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Company.objects.all(), **kwargs)


class AccountingDimensionSerializer(serializers.ModelSerializer):
    company = CompanyField()

    class Meta:
        model = AccountingDimension
        fields = [
            "id",
            "company",
            "code",
            "name",
            "sie_number",
            "rule",
            "lay_out_from_project_time",
            "lay_out_from_project_travel",
            "lay_out_from_project_pay",
            "use_deviating_time_codes",
            "only_participants_may_register",
            "show_only_my_projects",
            "used_for_authorization",
            "used_for_billing_price",
        ]


class DimensionValueSerializer(serializers.ModelSerializer):
    dimension = ScopedPrimaryKeyRelatedField(queryset=AccountingDimension.objects.all())

    class Meta:
        model = AccountingDimensionValue
        fields = ["id", "company", "dimension", "code", "name", "valid_from", "valid_to"]
        read_only_fields = ["company"]


class CostCenterSerializer(serializers.ModelSerializer):
    company = CompanyField()

    class Meta:
        model = CostCenter
        fields = ["id", "company", "code", "name", "valid_from", "valid_to"]


class TimeCodeSerializer(serializers.ModelSerializer):
    company = CompanyField()

    class Meta:
        model = TimeCode
        fields = [
            "id",
            "company",
            "code",
            "name",
            "kind",
            "paxml_code",
            "salary_type_code",
            "replaceable_by_accounting",
        ]


class ExpenseCodeRuleSerializer(serializers.Serializer):
    dimension = ScopedPrimaryKeyRelatedField(queryset=AccountingDimension.objects.all())
    rule = serializers.ChoiceField(choices=AccountingRule.choices)


class ExpenseCodeSerializer(serializers.ModelSerializer):
    """An expense code with its rule per dimension (``rules`` replaces them when sent)."""

    company = CompanyField()
    rules = ExpenseCodeRuleSerializer(many=True, required=False)

    class Meta:
        model = ExpenseCode
        fields = [
            "id",
            "company",
            "code",
            "name",
            "paxml_code",
            "salary_type_code",
            "active",
            "rules",
        ]
        validators = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["rules"] = [
            {"dimension": row.dimension_id, "rule": row.rule} for row in instance.rules.all()
        ]
        return data

    def validate_company(self, company):
        if self.instance is not None and company.pk != self.instance.company_id:
            raise serializers.ValidationError(
                _("The company of an expense code cannot be changed.")
            )
        return company


class AccountingCheckSerializer(serializers.Serializer):
    """A travel (expense) or pay registration's accounting, to be laid out and checked."""

    employee = ScopedPrimaryKeyRelatedField(queryset=_employees())
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=["travel", "pay"], default="travel")
    project = ScopedPrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )
    cost_center = ScopedPrimaryKeyRelatedField(
        queryset=AccountingDimensionValue.objects.all(), required=False, allow_null=True
    )
    dimension_values = ScopedPrimaryKeyRelatedField(
        queryset=AccountingDimensionValue.objects.all(), many=True, required=False
    )


PROJECT_WRITABLE = [
    "code",
    "name",
    "registrable",
    "start_date",
    "end_date",
    "status",
    "budget_hours",
    "budget_amount",
    "internal_comment_required",
    "never_transfer",
    "time_code",
    "internal_comment",
    "external_comment",
    "color",
    "text_color",
    "inherit_color",
    "followup_unit",
    "sales_value_per_hour",
    "staffing_comment",
    "inherit_competences",
    "all_employees_participate",
    "inherit_participants",
    "billing",
    "hourly_price",
    "billing_model",
    "fixed_price",
]


class ProjectSerializer(serializers.ModelSerializer):
    company = CompanyField(required=False)
    parent = ScopedPrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )
    time_code = ScopedPrimaryKeyRelatedField(
        queryset=TimeCode.objects.all(), required=False, allow_null=True
    )
    places = ScopedPrimaryKeyRelatedField(queryset=Place.objects.all(), many=True, required=False)
    effective_color = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "company",
            "parent",
            "level",
            *PROJECT_WRITABLE,
            "places",
            "effective_color",
            "updated_at",
        ]
        read_only_fields = ["level", "updated_at"]
        # Uniqueness of the full code is checked by the service (the code is joined there).
        validators = []

    def get_effective_color(self, project) -> dict:
        color, text = project_effective_color(project=project)
        return {"color": color, "text_color": text}

    def validate(self, attrs):
        if self.instance is None and not attrs.get("company") and not attrs.get("parent"):
            raise serializers.ValidationError({"company": "Give the company (or a parent)."})
        return attrs


class ProjectCopySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False)
    with_children = serializers.BooleanField(default=False)


class StatusQuerySerializer(serializers.Serializer):
    employee = ScopedPrimaryKeyRelatedField(queryset=_employees(), required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class TimeRegistrationSerializer(serializers.ModelSerializer):
    employee = ScopedPrimaryKeyRelatedField(queryset=_employees())
    time_code = ScopedPrimaryKeyRelatedField(queryset=TimeCode.objects.all())
    project = ScopedPrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )
    cost_center = ScopedPrimaryKeyRelatedField(
        queryset=AccountingDimensionValue.objects.all(), required=False, allow_null=True
    )
    dimension_values = ScopedPrimaryKeyRelatedField(
        queryset=AccountingDimensionValue.objects.all(), many=True, required=False
    )
    billable = serializers.BooleanField(required=False, allow_null=True, default=None)

    class Meta:
        model = TimeRegistration
        fields = [
            "id",
            "company",
            "employee",
            "date",
            "time_code",
            "hours",
            "project",
            "cost_center",
            "dimension_values",
            "internal_comment",
            "external_comment",
            "billable",
            "reviewed",
            "review_status",
            "reviewed_by",
            "reviewed_at",
            "released_for_billing",
            "billing_price",
            "created_at",
        ]
        read_only_fields = [
            "company",
            "review_status",
            "reviewed_by",
            "reviewed_at",
            "released_for_billing",
            "billing_price",
            "created_at",
        ]


class FindingSerializer(serializers.Serializer):
    level = serializers.CharField()
    rule = serializers.CharField()
    project = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class HomeAccountingSerializer(serializers.ModelSerializer):
    employee = ScopedPrimaryKeyRelatedField(queryset=_employees())
    cost_center = ScopedPrimaryKeyRelatedField(
        queryset=CostCenter.objects.all(), required=False, allow_null=True
    )
    project = ScopedPrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = HomeAccounting
        fields = ["id", "employee", "valid_from", "cost_center", "project"]


class WorkScheduleSerializer(serializers.ModelSerializer):
    employee = ScopedPrimaryKeyRelatedField(queryset=_employees())

    class Meta:
        model = WorkSchedule
        fields = ["id", "employee", "valid_from", *WorkSchedule.WEEKDAYS]


class ProjectEventSerializer(serializers.ModelSerializer):
    project = ScopedPrimaryKeyRelatedField(queryset=Project.objects.all())
    time_codes = ScopedPrimaryKeyRelatedField(
        queryset=TimeCode.objects.all(), many=True, required=False
    )

    class Meta:
        model = ProjectEvent
        fields = [
            "id",
            "project",
            "name",
            "salary_type_code",
            "kind",
            "amount",
            "time_codes",
            "valid_from",
            "valid_to",
            "applies_to_sub_projects",
        ]

    def validate(self, attrs):
        project = attrs.get("project") or getattr(self.instance, "project", None)
        codes = attrs.get("time_codes")
        if codes is None and self.instance is not None:
            codes = list(self.instance.time_codes.all())
        if project is not None and any(c.company_id != project.company_id for c in codes or ()):
            raise serializers.ValidationError(
                {"time_codes": _("The time codes must belong to the project's company.")}
            )
        valid_from = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        valid_to = attrs.get("valid_to", getattr(self.instance, "valid_to", None))
        if valid_from and valid_to and valid_to < valid_from:
            raise serializers.ValidationError(
                {"valid_to": _("The event must not end before it starts.")}
            )
        return attrs
