"""``/api/v1/``: every app's API in one router, plus the schema and its docs page."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from companies.api import CompanyViewSet
from employees.api import (
    EmployeeViewSet,
    EmploymentFormViewSet,
    EmploymentTemplateViewSet,
    PersonnelCategoryViewSet,
    PositionViewSet,
)
from flexbridge.api import api_not_found
from integrations.switchover_api import SwitchoverViewSet
from jobs.api import JobViewSet, SelftestView
from ledger.api import SieExportView, VismaTransferView
from paxml.api import PaxmlExportView, PaxmlImportView
from payslips.api import KivraDispatchView, PayrollRunViewSet, PayslipViewSet
from projects.api import (
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

router = DefaultRouter()
router.register("companies", CompanyViewSet, basename="company")
router.register("jobs", JobViewSet, basename="job")
router.register("switchovers", SwitchoverViewSet, basename="switchover")
router.register("employees", EmployeeViewSet, basename="employee")
router.register("personnel-categories", PersonnelCategoryViewSet, basename="personnel-category")
router.register("employment-forms", EmploymentFormViewSet, basename="employment-form")
router.register("employment-templates", EmploymentTemplateViewSet, basename="employment-template")
router.register("positions", PositionViewSet, basename="position")
router.register("projects", ProjectViewSet, basename="project")
router.register("project-events", ProjectEventViewSet, basename="project-event")
router.register("accounting-dimensions", AccountingDimensionViewSet, basename="dimension")
router.register("dimension-values", DimensionValueViewSet, basename="dimension-value")
router.register("cost-centers", CostCenterViewSet, basename="cost-center")
router.register("time-codes", TimeCodeViewSet, basename="time-code")
router.register("expense-codes", ExpenseCodeViewSet, basename="expense-code")
router.register("time-registrations", TimeRegistrationViewSet, basename="time-registration")
router.register("home-accountings", HomeAccountingViewSet, basename="home-accounting")
router.register("work-schedules", WorkScheduleViewSet, basename="work-schedule")
router.register("payroll-runs", PayrollRunViewSet, basename="payroll-run")
router.register("payslips", PayslipViewSet, basename="payslip")

urlpatterns = [
    path("jobs/selftest/", SelftestView.as_view(), name="job-selftest"),
    path("ledger/exports/", SieExportView.as_view(), name="ledger-export"),
    path("ledger/transfers/", VismaTransferView.as_view(), name="ledger-transfer"),
    path("paxml/imports/", PaxmlImportView.as_view(), name="paxml-import"),
    path("billing-basis/", BillingBasisView.as_view(), name="billing-basis"),
    path("paxml/exports/", PaxmlExportView.as_view(), name="paxml-export"),
    path("payslips/kivra-dispatches/", KivraDispatchView.as_view(), name="kivra-dispatch"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
urlpatterns += router.urls
# Last: whatever matched no route answers JSON 404 in the error shape.
urlpatterns += [re_path(r"^.*$", api_not_found, name="api-not-found")]
