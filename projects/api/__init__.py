"""REST API of the project register."""

from .views import (
    AccountingDimensionViewSet,
    BillingBasisView,
    CostCenterViewSet,
    DimensionValueViewSet,
    ExpenseCodeViewSet,
    HomeAccountingViewSet,
    ProjectEventViewSet,
    ProjectViewSet,
    TimeCodeViewSet,
    TimeRegistrationViewSet,
    WorkScheduleViewSet,
)

__all__ = [
    "AccountingDimensionViewSet",
    "BillingBasisView",
    "CostCenterViewSet",
    "DimensionValueViewSet",
    "ExpenseCodeViewSet",
    "HomeAccountingViewSet",
    "ProjectEventViewSet",
    "ProjectViewSet",
    "TimeCodeViewSet",
    "TimeRegistrationViewSet",
    "WorkScheduleViewSet",
]
