"""``/api/v1/``: every app's API in one router, plus the schema and its docs page."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from companies.api import CompanyViewSet
from integrations.api import JobViewSet, SelftestView

router = DefaultRouter()
router.register("companies", CompanyViewSet, basename="company")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("jobs/selftest/", SelftestView.as_view(), name="job-selftest"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
urlpatterns += router.urls
