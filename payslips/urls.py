from django.urls import path

from . import views

app_name = "payslips"
urlpatterns = [path("kivra-dispatch/", views.kivra_dispatch, name="kivra-dispatch")]
