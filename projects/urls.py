from django.urls import path

from . import views
from .pages import billing, places, registration, review, staffing

app_name = "projects"
urlpatterns = [
    path("", views.project_tree, name="tree"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment-upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
    # Daily use (the pages/ package)
    path("<int:pk>/registration-info/", registration.registration_info, name="registration-info"),
    path("time/", registration.time_week, name="time-week"),
    path("time/<int:pk>/delete/", registration.time_delete, name="time-delete"),
    path("review/", review.review, name="review"),
    path("billing/", billing.billing, name="billing"),
    path("staffing/", staffing.staffing, name="staffing"),
    path("staffing/assign/", staffing.staffing_assign, name="staffing-assign"),
    path("<int:pk>/shifts/", staffing.staffing_shift_create, name="shift-create"),
    path(
        "staffing/assignments/<int:pk>/", staffing.staffing_assignment, name="staffing-assignment"
    ),
    path("my-schedule/", staffing.my_schedule, name="my-schedule"),
    path("places/", places.places, name="places"),
    path("places/new/", places.place_edit, name="place-new"),
    path("places/<int:pk>/", places.place_edit, name="place-edit"),
]
