"""REST API of the project register."""

from .views import (
    AccountingDimensionViewSet,
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
