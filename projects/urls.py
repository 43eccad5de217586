from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.project_tree, name="tree"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment-upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
]
