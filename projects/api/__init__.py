"""REST API of the project register."""

from .views import (
    AccountingDimensionViewSet,
    CostCenterViewSet,
    DimensionValueViewSet,
    ExpenseCodeViewSet,
    HomeAccountingViewSet,
    ProjectViewSet,
    TimeCodeViewSet,
    TimeRegistrationViewSet,
    WorkScheduleViewSet,
)

__all__ = [
    "AccountingDimensionViewSet",
    "CostCenterViewSet",
    "DimensionValueViewSet",
    "ExpenseCodeViewSet",
    "HomeAccountingViewSet",
    "ProjectViewSet",
    "TimeCodeViewSet",
    "TimeRegistrationViewSet",
    "WorkScheduleViewSet",
]
