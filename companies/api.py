from rest_framework import serializers, viewsets

from .models import Company, CompanyLicense
from .scoping import CompanyScopedViewSetMixin


class CompanyLicenseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompanyLicense
        fields = ["kivra_payslips", "visma_net_transfer", "paxml", "payroll_sync"]


class CompanySerializer(serializers.ModelSerializer):
    license = CompanyLicenseSerializer(read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ["id", "code", "name", "organisation_number", "name_order", "license", "role"]
        read_only_fields = fields

    def get_role(self, company) -> str | None:
        user = self.context["request"].user
        membership = next((m for m in company.memberships.all() if m.user_id == user.pk), None)
        return membership.role.code if membership else None


class CompanyViewSet(CompanyScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The companies the user belongs to, with their licences and the user's role."""

    serializer_class = CompanySerializer
    queryset = Company.objects.select_related("license").prefetch_related("memberships__role")
    search_fields = ["name", "code", "organisation_number"]
