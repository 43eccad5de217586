from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/log.csv", views.job_log_download, name="log-csv"),
    path("<int:pk>/file/", views.job_file_download, name="file"),
]
