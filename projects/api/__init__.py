"""REST API of the project register."""

from .views import (
    AccountingDimensionViewSet,
    CostCenterViewSet,
    DimensionValueViewSet,
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
    "HomeAccountingViewSet",
    "ProjectViewSet",
    "TimeCodeViewSet",
    "TimeRegistrationViewSet",
    "WorkScheduleViewSet",
]
