from django.urls import path

from . import switchover_views

app_name = "switchover"
urlpatterns = [
    path("", switchover_views.switchover_page, name="page"),
    path(
        "<int:pk>/personnel-file/",
        switchover_views.personnel_file_download,
        name="personnel-file",
    ),
]
