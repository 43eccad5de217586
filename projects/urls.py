from django.urls import path

from . import pages, views

app_name = "projects"
urlpatterns = [
    path("", views.project_tree, name="tree"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment-upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
    # Daily use (pages.py)
    path("<int:pk>/registration-info/", pages.registration_info, name="registration-info"),
    path("time/", pages.time_week, name="time-week"),
    path("time/<int:pk>/delete/", pages.time_delete, name="time-delete"),
    path("review/", pages.review, name="review"),
    path("billing/", pages.billing, name="billing"),
    path("staffing/", pages.staffing, name="staffing"),
    path("staffing/assign/", pages.staffing_assign, name="staffing-assign"),
    path("<int:pk>/shifts/", pages.staffing_shift_create, name="shift-create"),
    path("staffing/assignments/<int:pk>/", pages.staffing_assignment, name="staffing-assignment"),
    path("my-schedule/", pages.my_schedule, name="my-schedule"),
    path("places/", pages.places, name="places"),
    path("places/new/", pages.place_edit, name="place-new"),
    path("places/<int:pk>/", pages.place_edit, name="place-edit"),
]
