from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from . import views

admin.site.site_header = _("flexbridge administration")
admin.site.site_title = _("flexbridge")
admin.site.index_title = _("Administration")
# The site's top bar and the admin index lead the way; without the sidebar the lists
# (employees: ten columns) fit the page instead of scrolling inside a box.
admin.site.enable_nav_sidebar = False

handler500 = "flexbridge.views.server_error"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jobs/", include("jobs.urls")),
    path("integrations/switchover/", include("integrations.switchover_urls")),
    path("payroll/accounting/", include("ledger.urls")),
    path("payslips/", include("payslips.urls")),
    path("projects/", include("projects.urls")),
    # The jobs' admin pages were under "integrations" until the jobs app had its own.
    re_path(
        r"^admin/integrations/job/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/jobs/job/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("flexbridge.api_urls")),
]
# No media URL, in any mode: job files, attachments and print batches hold personal data
# and are served only by permission-checked views.
